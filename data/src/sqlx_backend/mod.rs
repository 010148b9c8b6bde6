//! The async backend: sqlx queries awaited directly on the server's async workers.
//!
//! sqlx talks to the database without blocking a thread, so nothing here needs a
//! threadpool. One body of queries ([`repository.rs`](self)) is compiled once per
//! database; the only per-database lines are the two modules at the bottom of this file
//! and the value encodings in [`types`].

mod types;

use crate::storage::{self, ItemRow, OrderRow, WriteGate};
use crate::{IDLE_CHECK, PoolSettings};
use service::{Order, RepositoryError};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Database, Pool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Orders stored through sqlx in database `DB` (Postgres or SQLite).
#[derive(Debug, Clone)]
pub struct SqlxOrders<DB: Database> {
    pool: Pool<DB>,
    writers: Arc<WriteGate>,
}

impl<DB: Database> SqlxOrders<DB> {
    /// A repository over an existing pool; its writes pass `writers`.
    pub fn new(pool: Pool<DB>, writers: WriteGate) -> Self {
        Self { pool, writers: Arc::new(writers) }
    }

    /// The pool, e.g. to run migrations or to close it at shutdown.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

/// Connection options for a Postgres URL, with the statement timeout of `settings`.
pub fn postgres_options(url: &str, settings: &PoolSettings) -> Result<PgConnectOptions, sqlx::Error> {
    let timeout = settings.statement_timeout.as_millis().to_string();
    Ok(PgConnectOptions::from_str(url)?.options([("statement_timeout", timeout.as_str())]))
}

/// Connection options for a SQLite URL; the file is created if missing.
pub fn sqlite_options(url: &str, busy_timeout: Duration) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        // WAL lets readers go on while one writer writes; NORMAL sync is safe with WAL.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(busy_timeout))
}

/// A Postgres pool sized and timed by `settings`. Connections are opened on demand, so
/// the pool outlives database outages: a request during one fails after the timeout.
pub fn postgres_pool(url: &str, settings: &PoolSettings) -> Result<Pool<sqlx::Postgres>, sqlx::Error> {
    Ok(pool_options(settings).connect_lazy_with(postgres_options(url, settings)?))
}

/// A SQLite pool sized and timed by `settings`. Writers wait for each other up to the
/// pool's timeout (SQLite's busy timeout), then fail as "unavailable".
pub fn sqlite_pool(url: &str, settings: &PoolSettings) -> Result<Pool<sqlx::Sqlite>, sqlx::Error> {
    Ok(pool_options(settings).connect_lazy_with(sqlite_options(url, settings.acquire_timeout)?))
}

fn pool_options<DB: Database>(settings: &PoolSettings) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // sqlx pings a connection when it returns to the pool, so a busy connection needs
        // no second ping before use; one that sat idle (maybe through an outage) gets one.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_CHECK {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// One row of `orders LEFT JOIN order_items`.
#[derive(sqlx::FromRow)]
struct JoinedRow {
    #[sqlx(flatten)]
    order: OrderRow,
    product: Option<String>,
    size: Option<String>,
    quantity: Option<i64>,
}

fn orders_from(rows: Vec<JoinedRow>) -> Result<Vec<Order>, RepositoryError> {
    let rows = rows.into_iter().map(|row| {
        let item = match (row.product, row.size, row.quantity) {
            (Some(product), Some(size), Some(quantity)) => Some(ItemRow { product, size, quantity }),
            _ => None,
        };
        (row.order, item)
    });
    storage::assemble(rows).map_err(|e| RepositoryError::Internal(e.into()))
}

fn corrupt(error: storage::CorruptRow) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

/// Sorts sqlx errors into "try again later" and "bug": the web layer answers 503 for
/// the first and 500 for the second.
fn classify(error: sqlx::Error) -> RepositoryError {
    use sqlx::Error::*;
    let unavailable = match &error {
        PoolTimedOut | PoolClosed | Io(_) | Tls(_) | Protocol(_) | WorkerCrashed => true,
        Database(db) => db.code().is_some_and(|code| {
            if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
                crate::is_transient_sqlstate(&code)
            } else {
                crate::is_transient_sqlite_code(&code)
            }
        }),
        _ => false,
    };
    if unavailable { RepositoryError::Unavailable(Box::new(error)) } else { RepositoryError::Internal(Box::new(error)) }
}

/// The queries for Postgres.
mod postgres {
    type Db = sqlx::Postgres;
    /// Postgres takes row locks as it writes, so a plain BEGIN is enough.
    const BEGIN_WRITE: &str = "BEGIN";
    include!("repository.rs");
}

/// The queries for SQLite.
mod sqlite {
    type Db = sqlx::Sqlite;
    /// Take the write lock up front: a deferred transaction that reads first and then
    /// writes can fail at once with SQLITE_BUSY instead of waiting its turn.
    const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
    include!("repository.rs");
}
