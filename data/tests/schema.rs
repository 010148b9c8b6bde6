//! diesel's `table!` definitions must match the tables that the migrations create, on
//! both databases. (Column types are exercised by the contract suite, which reads and
//! writes every column through diesel.)
#![cfg(feature = "diesel")]

use app_data::diesel_backend::schema::{order_items, orders};
use app_data::testing::TestDatabase;
use app_data::{DatabaseKind, PoolSettings};
use diesel::QueryDsl;
use rstest::rstest;
use sqlx::Connection;
use std::collections::BTreeSet;

/// Column names in the SQL that diesel writes for a query selecting a whole table.
fn columns_in(sql: &str) -> BTreeSet<String> {
    let select = sql.split(" FROM ").next().unwrap_or_default().trim_start_matches("SELECT ");
    select.split(", ").map(|c| c.rsplit('.').next().unwrap_or(c).trim_matches(['"', '`']).to_owned()).collect()
}

/// diesel's columns of `orders` and `order_items`, as it writes them for database `kind`.
fn diesel_columns(kind: DatabaseKind) -> [(&'static str, BTreeSet<String>); 2] {
    macro_rules! sql {
        ($backend:ty, $query:expr) => {
            columns_in(&diesel::debug_query::<$backend, _>(&$query).to_string())
        };
    }
    let (orders, items) =
        (orders::table.select(orders::all_columns), order_items::table.select(order_items::all_columns));
    match kind {
        #[cfg(feature = "postgres")]
        DatabaseKind::Postgres => {
            [("orders", sql!(diesel::pg::Pg, orders)), ("order_items", sql!(diesel::pg::Pg, items))]
        }
        #[cfg(feature = "sqlite")]
        DatabaseKind::Sqlite => {
            [("orders", sql!(diesel::sqlite::Sqlite, orders)), ("order_items", sql!(diesel::sqlite::Sqlite, items))]
        }
        #[allow(unreachable_patterns)]
        kind => panic!("{kind} is not compiled in"),
    }
}

async fn database_columns(kind: DatabaseKind, url: &str, table: &str) -> BTreeSet<String> {
    match kind {
        #[cfg(feature = "postgres")]
        DatabaseKind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar("SELECT column_name::text FROM information_schema.columns WHERE table_name = $1")
                .bind(table)
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .into_iter()
                .collect()
        }
        #[cfg(feature = "sqlite")]
        DatabaseKind::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .into_iter()
                .collect()
        }
        #[allow(unreachable_patterns)]
        kind => panic!("{kind} is not compiled in"),
    }
}

#[rstest]
#[cfg_attr(feature = "sqlite", case::sqlite(DatabaseKind::Sqlite))]
#[cfg_attr(feature = "postgres", case::postgres(DatabaseKind::Postgres))]
#[tokio::test]
async fn diesel_tables_match_the_migrations(#[case] kind: DatabaseKind) {
    let Some(db) = TestDatabase::create(kind).await else { return };
    app_data::migrate::run(&db.url, &PoolSettings::default()).await.unwrap();
    for (table, columns) in diesel_columns(kind) {
        assert!(columns.len() >= 4, "parsed diesel's columns of {table}: {columns:?}");
        assert_eq!(database_columns(kind, &db.url, table).await, columns, "columns of {table}");
    }
}
