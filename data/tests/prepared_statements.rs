//! On a direct connection to Postgres, a statement is parsed and planned once per
//! connection and then only executed; behind a transaction pooler none is kept, since a
//! named statement would outlive its transaction (see `Pooler`). Checked on the new-order
//! statement, the one written as SQL rather than a library's query builder, through
//! each backend's repository, counting the connection's own `pg_prepared_statements`.
#![cfg(feature = "postgres")]

use app_data::PoolSettings;
use app_data::testing::{Target, TestDatabase};
use app_service::{Order, OrderItem, OrdersRepository, Owner, Size, Status};
use rstest::rstest;
use uuid::Uuid;

/// Counts the new-order statements prepared on the connection it runs on.
const COUNT_PREPARED: &str = "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH o AS (INSERT%'";

/// A fresh migrated database, and pool settings with room for one connection, so that
/// every statement of a test runs on the same one.
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

/// One prepared statement on a direct connection however many orders, none behind the pooler.
fn expected(target: Target) -> i64 {
    if target == Target::PgBouncer { 0 } else { 1 }
}

#[cfg(feature = "sqlx")]
#[rstest]
#[case::postgres(Target::Postgres)]
#[case::pgbouncer(Target::PgBouncer)]
#[tokio::test]
async fn sqlx_prepares_a_new_order_once_per_direct_connection(#[case] target: Target) {
    let Some((db, settings)) = database(target).await else { return };
    let pool = app_data::sqlx_backend::postgres(&db.url, &settings).unwrap();
    place_orders(&app_data::sqlx_backend::SqlxOrders::new(pool.clone())).await;

    let counted: Vec<(i64,)> = pool.fetch_all(pool.statement(COUNT_PREPARED)).await.unwrap();
    assert_eq!(counted, [(expected(target),)]);
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
    assert_eq!(prepared.count, expected(target));
}
