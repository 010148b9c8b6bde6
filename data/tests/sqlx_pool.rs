//! sqlx's connections in the pool (`sqlx_backend/pool.rs`). A connection goes back to the
//! pool as it is, with no round trip, only when its user finished with it. One left
//! half-way (a write transaction dropped, a statement cancelled in flight) is closed, so
//! nothing it left open (a transaction, its locks, a response still coming) reaches the
//! next user.
#![cfg(feature = "sqlx")]

use app_data::sqlx_backend::{self, Dialect, SqlxDatabase};
use app_data::testing::{Target, TestDatabase};
use app_data::{DatabaseKind, PoolSettings};
use app_service::PoolStats;
use rstest::rstest;
use sqlx::{Executor, raw_sql};
use std::time::Duration;

/// How long a lock left behind may hold the next writer up before the test fails: the
/// pool's and statement timeouts, and a bound on the whole check for PgBouncer, where
/// the statement timeout is the role's.
const PATIENCE: Duration = Duration::from_secs(2);

/// A statement that runs for a second or more on either database.
const SLOW: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) \
                    SELECT count(*) FROM c";

/// Runs the generic check `$check` on a sqlx database at `$target`, typed by its database.
macro_rules! on_sqlx_database {
    ($target:expr, $check:ident) => {{
        let target: Target = $target;
        let Some(test_db) = TestDatabase::create(target).await else { return };
        let settings =
            PoolSettings { acquire_timeout: PATIENCE, statement_timeout: PATIENCE, ..test_db.pool_settings() };
        match target.kind() {
            #[cfg(feature = "sqlite")]
            DatabaseKind::Sqlite => bounded($check(sqlx_backend::sqlite(&test_db.url, &settings).unwrap())).await,
            #[cfg(feature = "postgres")]
            DatabaseKind::Postgres => bounded($check(sqlx_backend::postgres(&test_db.url, &settings).unwrap())).await,
            #[allow(unreachable_patterns)]
            kind => panic!("{kind} is not compiled in"),
        }
    }};
}

/// Runs `check`, failing if a lock left behind holds it up (PgBouncer has no statement
/// timeout of ours to end the wait).
async fn bounded(check: impl Future<Output = ()>) {
    tokio::time::timeout(4 * PATIENCE, check).await.expect("the check was held up by a lock left behind");
}

/// How many rows `sql` returns, on a session of its own.
async fn count<DB>(db: &SqlxDatabase<DB>, sql: &'static str) -> usize
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut session = db.session().await.unwrap();
    let rows = session.conn().fetch_all(raw_sql(sql)).await.unwrap();
    session.finish();
    rows.len()
}

#[rstest]
#[cfg_attr(feature = "sqlite", case::sqlite(Target::Sqlite))]
#[cfg_attr(feature = "postgres", case::postgres(Target::Postgres))]
#[cfg_attr(feature = "postgres", case::pgbouncer(Target::PgBouncer))]
#[tokio::test]
async fn a_write_dropped_half_way_is_undone_and_holds_up_no_one(#[case] target: Target) {
    on_sqlx_database!(target, dropped_write);
}

async fn dropped_write<DB>(db: SqlxDatabase<DB>)
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut tx = db.begin_write().await.unwrap();
    tx.conn().execute(raw_sql("CREATE TABLE probe (n INTEGER)")).await.unwrap();
    tx.conn().execute(raw_sql("INSERT INTO probe VALUES (1)")).await.unwrap();
    tx.commit().await.unwrap();

    // A writer that takes its locks (SQLite's write lock, Postgres' row lock), changes
    // the row, and is dropped before it commits.
    let mut tx = db.begin_write().await.unwrap();
    tx.conn().execute(raw_sql("UPDATE probe SET n = 10")).await.unwrap();
    drop(tx);
    assert_eq!(db.pool_stats().open, 0, "its connection was closed, not pooled");

    // The next writer is not held up, and sees the row as it was.
    let mut tx = db.begin_write().await.unwrap();
    tx.conn().execute(raw_sql("UPDATE probe SET n = n + 1")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&db, "SELECT n FROM probe WHERE n = 2").await, 1, "the dropped update was undone");
    assert_eq!(db.pool_stats(), PoolStats { open: 1, idle: 1 }, "finished users' connections are pooled");
}

#[rstest]
#[cfg_attr(feature = "sqlite", case::sqlite(Target::Sqlite))]
#[cfg_attr(feature = "postgres", case::postgres(Target::Postgres))]
#[cfg_attr(feature = "postgres", case::pgbouncer(Target::PgBouncer))]
#[tokio::test]
async fn a_statement_cancelled_in_flight_takes_its_connection_with_it(#[case] target: Target) {
    on_sqlx_database!(target, cancelled_read);
}

async fn cancelled_read<DB>(db: SqlxDatabase<DB>)
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    assert_eq!(count(&db, "SELECT 1").await, 1);
    assert_eq!(db.pool_stats(), PoolStats { open: 1, idle: 1 });

    // A request that goes away while its statement runs: the statement's future is
    // dropped half-way, and then the session.
    let mut session = db.session().await.unwrap();
    let cancelled = tokio::time::timeout(Duration::from_millis(100), session.conn().fetch_all(raw_sql(SLOW))).await;
    assert!(cancelled.is_err(), "the slow statement was still running");
    drop(session);
    assert_eq!(db.pool_stats().open, 0, "its connection was closed, not pooled");

    // The next user gets a new connection and its own answer, not the rest of the last one.
    assert_eq!(count(&db, "SELECT 1 UNION ALL SELECT 2").await, 2);
    assert_eq!(db.pool_stats(), PoolStats { open: 1, idle: 1 });
}
