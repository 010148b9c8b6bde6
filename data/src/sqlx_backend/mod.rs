//! The async backend: sqlx queries awaited directly on the server's async workers.
//!
//! sqlx talks to the database without blocking a thread, so nothing here needs a
//! threadpool. [`SqlxDatabase`] is this backend's side of the [`Database`](crate::Database)
//! handle: the pool and the writer queue, shared by every repository. [`SqlxOrders`]
//! (`orders.rs`) is the orders repository; a new resource's repository is written the
//! same way beside it. How values are encoded per database is in `codec.rs`.

mod codec;
mod orders;

use crate::PoolSettings;
use crate::connection::sqlx_options;
use crate::write_gate::{Turn, WriteGate};
use app_service::{PoolStats, RepositoryError};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Pool, Transaction};
use std::sync::Arc;
use std::time::Duration;

pub use orders::SqlxOrders;

/// A pooled connection idle for longer than this is checked with a round trip before
/// use; busier ones are trusted (sqlx pings each connection as it returns to the pool).
const IDLE_CHECK: Duration = Duration::from_secs(10);

/// What differs between the databases for this backend's repositories.
pub trait Dialect: sqlx::Database {
    /// The statement that opens a write transaction.
    const BEGIN_WRITE: &'static str;
}

#[cfg(feature = "postgres")]
impl Dialect for sqlx::Postgres {
    /// Postgres takes row locks as it writes, so a plain BEGIN is enough.
    const BEGIN_WRITE: &'static str = "BEGIN";
}

#[cfg(feature = "sqlite")]
impl Dialect for sqlx::Sqlite {
    /// Take the write lock up front: a deferred transaction that reads first and then
    /// writes can fail at once with `SQLITE_BUSY` instead of waiting its turn.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
}

/// The pool of database `DB` and its writer queue. Cheap to clone: clones share both.
#[derive(Debug)]
pub struct SqlxDatabase<DB: sqlx::Database> {
    pool: Pool<DB>,
    writers: Arc<WriteGate>,
    prepared: bool,
}

impl<DB: sqlx::Database> Clone for SqlxDatabase<DB> {
    fn clone(&self) -> Self {
        Self { pool: self.pool.clone(), writers: Arc::clone(&self.writers), prepared: self.prepared }
    }
}

/// A connection for reads and single-statement writes: a pooled connection as it is, or,
/// behind a transaction pooler, a transaction on one (see [`Pooler`](crate::Pooler)).
pub enum Session<DB: sqlx::Database> {
    /// A pooled connection.
    Direct(PoolConnection<DB>),
    /// A transaction, so that a statement's two round trips reach one server connection.
    Pooled(Transaction<'static, DB>),
}

impl<DB: sqlx::Database> Session<DB> {
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut DB::Connection {
        match self {
            Self::Direct(connection) => connection,
            Self::Pooled(transaction) => transaction,
        }
    }

    /// Ends the session: commits the transaction, if there is one.
    pub async fn finish(self) -> Result<(), RepositoryError> {
        match self {
            Self::Direct(_) => Ok(()),
            Self::Pooled(transaction) => transaction.commit().await.map_err(classify),
        }
    }
}

/// A write transaction that holds the writer's turn until it commits or is dropped.
pub struct WriteTransaction<'db, DB: sqlx::Database> {
    transaction: Transaction<'static, DB>,
    _turn: Turn<'db>,
}

impl<DB: sqlx::Database> WriteTransaction<'_, DB> {
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut DB::Connection {
        &mut self.transaction
    }

    /// Commits, then gives the turn to the next writer.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.transaction.commit().await
    }
}

impl<DB: Dialect> SqlxDatabase<DB> {
    /// The pool, for reads and single-statement writes.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Whether statements are prepared once and cached by name: `false` behind a
    /// transaction pooler, where every query says `.persistent(false)`.
    pub fn prepared(&self) -> bool {
        self.prepared
    }

    /// A connection for reads and single-statement writes (see [`Session`]).
    pub async fn session(&self) -> Result<Session<DB>, RepositoryError> {
        Ok(if self.prepared {
            Session::Direct(self.pool.acquire().await.map_err(classify)?)
        } else {
            Session::Pooled(self.pool.begin().await.map_err(classify)?)
        })
    }

    /// Waits for a writer's turn (see [`WriteGate`]); hold it across a single write.
    pub async fn turn(&self) -> Result<Turn<'_>, RepositoryError> {
        self.writers.enter().await
    }

    /// Waits for a writer's turn, then opens a write transaction.
    pub async fn begin_write(&self) -> Result<WriteTransaction<'_, DB>, RepositoryError> {
        let turn = self.turn().await?;
        let transaction = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(classify)?;
        Ok(WriteTransaction { transaction, _turn: turn })
    }

    /// One round trip, for readiness.
    pub async fn ping(&self) -> Result<(), RepositoryError> {
        self.pool.acquire().await.map_err(classify)?.ping().await.map_err(classify)
    }

    /// Connections open and idle.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats { open: self.pool.size(), idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX) }
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn new(options: <DB::Connection as Connection>::Options, settings: &PoolSettings, writers: WriteGate) -> Self {
        let pool = sqlx::pool::PoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            // sqlx pings a connection when it returns to the pool, so a busy connection
            // needs no second ping before use; one that sat idle (maybe through an
            // outage) gets one.
            .test_before_acquire(false)
            .before_acquire(|conn: &mut DB::Connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > IDLE_CHECK {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            // Connections are opened on demand, so the pool outlives database outages:
            // a request during one fails after the timeout.
            .connect_lazy_with(options);
        Self { pool, writers: Arc::new(writers), prepared: settings.prepared_statements() }
    }
}

/// The pool for a Postgres URL.
#[cfg(feature = "postgres")]
pub fn postgres(url: &str, settings: &PoolSettings) -> Result<SqlxDatabase<sqlx::Postgres>, crate::ConnectError> {
    let writers = WriteGate::new(crate::DatabaseKind::Postgres, settings.acquire_timeout);
    Ok(SqlxDatabase::new(sqlx_options::postgres(url, settings)?, settings, writers))
}

/// The pool for a SQLite URL. Writers queue in the [`WriteGate`], then wait for SQLite's
/// lock up to the busy timeout.
#[cfg(feature = "sqlite")]
pub fn sqlite(url: &str, settings: &PoolSettings) -> Result<SqlxDatabase<sqlx::Sqlite>, crate::ConnectError> {
    let writers = WriteGate::new(crate::DatabaseKind::Sqlite, settings.acquire_timeout);
    Ok(SqlxDatabase::new(sqlx_options::sqlite(url, settings)?, settings, writers))
}

/// Sorts sqlx errors into "try again later" and "bug": the web layer answers 503 for
/// the first and 500 for the second.
pub fn classify(error: sqlx::Error) -> RepositoryError {
    use sqlx::Error::{Database, Io, PoolClosed, PoolTimedOut, Protocol, Tls, WorkerCrashed};
    let unavailable = match &error {
        PoolTimedOut | PoolClosed | Io(_) | Tls(_) | Protocol(_) | WorkerCrashed => true,
        Database(db) => db.code().is_some_and(|code| is_transient(db.as_ref(), &code)),
        _ => false,
    };
    if unavailable { RepositoryError::Unavailable(Box::new(error)) } else { RepositoryError::Internal(Box::new(error)) }
}

/// Whether a database's own error code means "try again later".
fn is_transient(error: &dyn sqlx::error::DatabaseError, code: &str) -> bool {
    #[cfg(feature = "postgres")]
    if error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
        return crate::error::is_transient_sqlstate(code);
    }
    #[cfg(feature = "sqlite")]
    if error.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return crate::error::is_transient_sqlite_code(code);
    }
    false
}
