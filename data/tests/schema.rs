//! diesel's `table!` definitions must match the tables that the migrations create, on
//! both databases. (Column types are exercised by the contract suite, which reads and
//! writes every column through diesel.)

use data::diesel_backend::schema;
use data::testing::TestDatabase;
use data::{DatabaseKind, PoolSettings};
use diesel::QueryDsl;
use rstest::rstest;
use sqlx::Connection;
use std::collections::BTreeSet;

/// Column names in the SQL that diesel writes for a query selecting a whole table.
fn columns_in(sql: &str) -> BTreeSet<String> {
    let select = sql.split(" FROM ").next().unwrap_or_default().trim_start_matches("SELECT ");
    select.split(", ").map(|c| c.rsplit('.').next().unwrap_or(c).trim_matches(['"', '`']).to_owned()).collect()
}

/// diesel's columns of `orders` and `order_items` for database `kind`.
fn diesel_columns(kind: DatabaseKind) -> [(&'static str, BTreeSet<String>); 2] {
    macro_rules! sql_of {
        ($backend:ty, $table:path, $columns:path) => {
            columns_in(&diesel::debug_query::<$backend, _>(&$table.select($columns)).to_string())
        };
    }
    match kind {
        DatabaseKind::Postgres => {
            use schema::postgres::{order_items, orders};
            [
                ("orders", sql_of!(diesel::pg::Pg, orders::table, orders::all_columns)),
                ("order_items", sql_of!(diesel::pg::Pg, order_items::table, order_items::all_columns)),
            ]
        }
        DatabaseKind::Sqlite => {
            use schema::sqlite::{order_items, orders};
            [
                ("orders", sql_of!(diesel::sqlite::Sqlite, orders::table, orders::all_columns)),
                ("order_items", sql_of!(diesel::sqlite::Sqlite, order_items::table, order_items::all_columns)),
            ]
        }
    }
}

async fn database_columns(kind: DatabaseKind, url: &str, table: &str) -> BTreeSet<String> {
    match kind {
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
    }
}

#[rstest]
#[case::sqlite(DatabaseKind::Sqlite)]
#[case::postgres(DatabaseKind::Postgres)]
#[tokio::test]
async fn diesel_tables_match_the_migrations(#[case] kind: DatabaseKind) {
    let Some(db) = TestDatabase::create(kind).await else { return };
    data::migrate::run(&db.url, kind, &PoolSettings::default()).await.unwrap();
    for (table, columns) in diesel_columns(kind) {
        assert!(columns.len() >= 4, "parsed diesel's columns of {table}: {columns:?}");
        assert_eq!(database_columns(kind, &db.url, table).await, columns, "columns of {table}");
    }
}
