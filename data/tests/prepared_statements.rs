//! On a direct connection to Postgres, a statement is parsed and planned once per
//! connection and then only executed. Behind a transaction pooler, sqlx prepares it once
//! per server connection under a name made from its text (`sqlx_backend/pooled.rs`),
//! whichever client runs it, and finds it again if it goes missing; diesel keeps none
//! there. Checked on the new-order statement, the one written as SQL rather than a
//! library's query builder, through each backend's repository, counting the server
//! connection's own `pg_prepared_statements`.
#![cfg(feature = "postgres")]

use app_data::PoolSettings;
use app_data::testing::{Target, TestDatabase};
use app_service::{Order, OrderItem, OrdersRepository, Owner, Size, Status};
use rstest::rstest;
use uuid::Uuid;

/// Counts the new-order statements prepared on the connection it runs on (sent alone, or
/// in a `PREPARE`), not counting itself.
const COUNT_PREPARED: &str = "SELECT count(*) FROM pg_prepared_statements \
     WHERE position('WITH o AS (INSERT' IN statement) > 0 AND position('pg_prepared' IN statement) = 0";

/// A fresh migrated database, and pool settings with room for one connection, so that
/// every statement of a test runs on the same one (through PgBouncer, on the same server
/// connection too: with one client at a time it hands out the one it was last given back).
async fn database(target: Target) -> Option<(TestDatabase, PoolSettings)> {
    let db = TestDatabase::create(target).await?;
    app_data::migrate::run(&db.direct_url, &PoolSettings::default()).await.expect("migrate");
    let settings = PoolSettings { max_connections: 1, ..db.pool_settings() };
    Some((db, settings))
}

/// Places three orders through `repo`.
async fn place_orders(repo: &dyn OrdersRepository) {
    let owner = Owner::new("alice");
    for quantity in 1..=3 {
        let item = OrderItem { product: "latte".into(), size: Size::Big, quantity };
        let now = app_service::model::now();
        let order = Order {
            id: Uuid::new_v4(),
            created: now,
            updated: now,
            status: Status::Created,
            items: vec![item],
            version: app_service::model::FIRST_VERSION,
        };
        repo.insert(&owner, &order, None).await.unwrap();
    }
}

#[cfg(feature = "sqlx")]
#[rstest]
#[case::postgres(Target::Postgres)]
#[case::pgbouncer(Target::PgBouncer)]
#[tokio::test]
async fn sqlx_prepares_a_new_order_once_per_connection(#[case] target: Target) {
    let Some((db, settings)) = database(target).await else { return };
    let pool = app_data::sqlx_backend::postgres(&db.url, &settings).unwrap();
    let orders = app_data::sqlx_backend::SqlxOrders::new(pool.clone());
    place_orders(&orders).await;
    let count = || async { pool.fetch_all::<(i64,)>(pool.statement(COUNT_PREPARED)).await.unwrap() };
    assert_eq!(count().await, [(1,)]);

    // Gone from the server connection (a pooler's reset, another client's `DEALLOCATE
    // ALL`), it is prepared again, and the orders are placed all the same.
    if target == Target::PgBouncer {
        pool.execute(pool.statement("DEALLOCATE ALL")).await.unwrap();
        assert_eq!(count().await, [(0,)]);
        place_orders(&orders).await;
        assert_eq!(count().await, [(1,)]);
    }
}

#[cfg(feature = "diesel")]
#[rstest]
#[case::postgres(Target::Postgres)]
#[case::pgbouncer(Target::PgBouncer)]
#[tokio::test]
async fn diesel_prepares_a_new_order_once_per_direct_connection(#[case] target: Target) {
    use diesel::RunQueryDsl;
    let Some((db, settings)) = database(target).await else { return };
    let pool = app_data::diesel_backend::postgres(&db.url, &settings).unwrap();
    place_orders(&app_data::diesel_backend::DieselOrders::new(pool.clone())).await;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let prepared = pool.read(|conn| diesel::sql_query(COUNT_PREPARED).get_result::<Count>(conn)).await.unwrap();
    // libpq sends statements unnamed behind the pooler.
    assert_eq!(prepared.count, if target == Target::PgBouncer { 0 } else { 1 });
}

/// A table that changes shape under a prepared statement (a migration while instances
/// run): the server refuses the old plan, and the statement is prepared again.
#[cfg(feature = "sqlx")]
#[tokio::test]
async fn sqlx_prepares_a_statement_again_when_its_table_changes_shape_behind_the_pooler() {
    let Some((db, settings)) = database(Target::PgBouncer).await else { return };
    let pool = app_data::sqlx_backend::postgres(&db.url, &settings).unwrap();
    const SELECT: &str = "SELECT * FROM notes WHERE id = $1";
    pool.execute(pool.statement("CREATE TABLE notes (id int4)")).await.unwrap();
    pool.execute(pool.statement("INSERT INTO notes VALUES ($1)").bind(7_i32)).await.unwrap();
    let before: Vec<(i32,)> = pool.fetch_all(pool.statement(SELECT).bind(7_i32)).await.unwrap();
    assert_eq!(before, [(7,)]);

    pool.execute(pool.statement("ALTER TABLE notes ADD COLUMN body text DEFAULT 'new'")).await.unwrap();
    let after: Vec<(i32, String)> = pool.fetch_all(pool.statement(SELECT).bind(7_i32)).await.unwrap();
    assert_eq!(after, [(7, "new".to_owned())]);

    // Prepared again under its name, not sent as plain text from then on.
    const COUNT: &str = "SELECT count(*) FROM pg_prepared_statements \
         WHERE position('AS SELECT * FROM notes' IN statement) > 0 AND position('pg_prepared' IN statement) = 0";
    let prepared: Vec<(i64,)> = pool.fetch_all(pool.statement(COUNT)).await.unwrap();
    assert_eq!(prepared, [(1,)]);
}
