//! The async backend: sqlx queries awaited directly on the server's async workers.
//!
//! sqlx talks to the database without blocking a thread, so nothing here needs a
//! threadpool. [`SqlxDatabase`] is this backend's side of the [`Database`](crate::Database)
//! handle: the pool and the writer queue, shared by every repository. [`SqlxOrders`]
//! (`orders.rs`) is the orders repository; a new resource's repository is written the
//! same way beside it. How values are encoded per database is in `codec.rs`; how
//! connections are pooled (deadpool, not sqlx's own pool, and why) in `pool.rs`.

mod codec;
mod orders;
mod pool;

use crate::PoolSettings;
use crate::connection::sqlx_options;
use crate::write_gate::{Turn, WriteGate};
use app_service::{PoolStats, RepositoryError};
use deadpool::managed::PoolError;
use sqlx::{Connection, Executor};
use std::sync::Arc;

pub use orders::SqlxOrders;
use pool::{ConnectionManager, Lease, Pool};

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

impl<DB: sqlx::Database> std::fmt::Debug for SqlxDatabase<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlxDatabase").field("pool", &self.pool.status()).field("prepared", &self.prepared).finish()
    }
}

/// Runs one of the transaction statements (`BEGIN`, `COMMIT`, `ROLLBACK`) on `conn`.
async fn run<DB>(conn: &mut DB::Connection, statement: &'static str) -> Result<(), RepositoryError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    conn.execute(sqlx::raw_sql(statement)).await.map(drop).map_err(classify)
}

/// Runs `closing` (the end of a transaction), if there is one, then gives the connection
/// back to the pool. If `closing` fails, the lease is dropped, so the connection is closed.
async fn release<DB>(mut lease: Lease<DB>, closing: Option<&'static str>) -> Result<(), RepositoryError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    if let Some(statement) = closing {
        run(lease.conn(), statement).await?;
    }
    lease.release();
    Ok(())
}

/// A connection for reads and single-statement writes: a pooled connection as it is, or,
/// behind a transaction pooler, a transaction on one (see [`Pooler`](crate::Pooler)).
pub struct Session<DB: sqlx::Database> {
    lease: Lease<DB>,
    /// Behind a transaction pooler: a transaction is open, so that a statement's two
    /// round trips reach one server connection.
    in_transaction: bool,
}

impl<DB: sqlx::Database> Session<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut DB::Connection {
        self.lease.conn()
    }

    /// Ends the session: commits the transaction, if there is one, and gives the
    /// connection back. A session dropped without `finish` closes its connection.
    pub async fn finish(self) -> Result<(), RepositoryError> {
        release(self.lease, self.in_transaction.then_some("COMMIT")).await
    }
}

/// A write transaction that holds the writer's turn until it ends or is dropped.
/// Dropped without [`commit`](Self::commit) or [`rollback`](Self::rollback), it closes
/// its connection, and the database rolls the transaction back.
pub struct WriteTransaction<'db, DB: sqlx::Database> {
    lease: Lease<DB>,
    _turn: Turn<'db>,
}

impl<DB: sqlx::Database> WriteTransaction<'_, DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut DB::Connection {
        self.lease.conn()
    }

    /// Commits, then gives the turn to the next writer.
    pub async fn commit(self) -> Result<(), RepositoryError> {
        release(self.lease, Some("COMMIT")).await
    }

    /// Rolls back what the transaction did (for a write that turned out not to apply),
    /// then gives the turn to the next writer.
    pub async fn rollback(self) -> Result<(), RepositoryError> {
        release(self.lease, Some("ROLLBACK")).await
    }
}

impl<DB: Dialect> SqlxDatabase<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Whether statements are prepared once and cached by name: `false` behind a
    /// transaction pooler, where every query says `.persistent(false)`.
    pub fn prepared(&self) -> bool {
        self.prepared
    }

    /// A pooled connection, waiting for one up to the pool's timeout.
    async fn lease(&self) -> Result<Lease<DB>, RepositoryError> {
        match self.pool.get().await {
            Ok(object) => Ok(Lease::new(object)),
            Err(PoolError::Backend(error)) => Err(classify(error)),
            Err(error) => Err(RepositoryError::Unavailable(error.into())),
        }
    }

    /// A connection for reads and single-statement writes (see [`Session`]).
    pub async fn session(&self) -> Result<Session<DB>, RepositoryError> {
        let mut lease = self.lease().await?;
        if !self.prepared {
            run(lease.conn(), "BEGIN").await?;
        }
        Ok(Session { lease, in_transaction: !self.prepared })
    }

    /// Waits for a writer's turn (see [`WriteGate`]); hold it across a single write.
    pub async fn turn(&self) -> Result<Turn<'_>, RepositoryError> {
        self.writers.enter().await
    }

    /// Waits for a writer's turn, then opens a write transaction.
    pub async fn begin_write(&self) -> Result<WriteTransaction<'_, DB>, RepositoryError> {
        let turn = self.turn().await?;
        let mut lease = self.lease().await?;
        run(lease.conn(), DB::BEGIN_WRITE).await?;
        Ok(WriteTransaction { lease, _turn: turn })
    }

    /// One round trip, for readiness.
    pub async fn ping(&self) -> Result<(), RepositoryError> {
        let mut lease = self.lease().await?;
        lease.conn().ping().await.map_err(classify)?;
        release(lease, None).await
    }

    /// Connections open and idle.
    pub fn pool_stats(&self) -> PoolStats {
        crate::pool::stats(&self.pool)
    }

    /// Closes the pool: idle connections are closed now (politely, so the database logs
    /// nothing), connections in use as they come back.
    pub async fn close(&self) {
        let idle = self.pool.retain(|_, _| false).removed;
        self.pool.close();
        for connection in idle {
            let _ = connection.close().await;
        }
    }

    /// Connections are opened on demand, so the pool outlives database outages: a
    /// request during one fails after the timeout.
    fn new(
        options: <DB::Connection as Connection>::Options,
        settings: &PoolSettings,
        writers: WriteGate,
    ) -> Result<Self, crate::ConnectError> {
        let pool = crate::pool::build(ConnectionManager::new(options), settings)?;
        Ok(Self { pool, writers: Arc::new(writers), prepared: settings.prepared_statements() })
    }
}

/// The pool for a Postgres URL.
#[cfg(feature = "postgres")]
pub fn postgres(url: &str, settings: &PoolSettings) -> Result<SqlxDatabase<sqlx::Postgres>, crate::ConnectError> {
    let writers = WriteGate::new(crate::DatabaseKind::Postgres, settings.acquire_timeout);
    SqlxDatabase::new(sqlx_options::postgres(url, settings)?, settings, writers)
}

/// The pool for a SQLite URL. Writers queue in the [`WriteGate`], then wait for SQLite's
/// lock up to the busy timeout.
#[cfg(feature = "sqlite")]
pub fn sqlite(url: &str, settings: &PoolSettings) -> Result<SqlxDatabase<sqlx::Sqlite>, crate::ConnectError> {
    let writers = WriteGate::new(crate::DatabaseKind::Sqlite, settings.acquire_timeout);
    SqlxDatabase::new(sqlx_options::sqlite(url, settings)?, settings, writers)
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
