//! {% capture rust %}The async backend: sqlx queries awaited directly on the server's async
//! workers.
//!
//! sqlx talks to the database without blocking a thread, so nothing here needs a
//! threadpool. [`SqlxDatabase`] is this backend's side of the [`Database`](crate::Database)
//! handle: the pool and the writer queue, shared by every repository. [`SqlxOrders`]
//! (`orders.rs`) is the orders repository; a new resource's repository is written the
//! same way beside it. [`SqlxKeys`] (`keys.rs`) keeps the `Idempotency-Key` records. How
//! values are encoded is in `codec.rs`; how connections are pooled and leased (deadpool,
//! not sqlx's own pool, and why) in `lease.rs`; how a repository runs its statements in
//! `session.rs`, and behind a transaction pooler in `pooled.rs`.

mod codec;
mod keys;
mod lease;
mod literal;
mod orders;
mod pooled;
mod session;
mod statement;
// xtask scaffold: modules

use crate::PoolSettings;
use crate::connection::sqlx_options;
use crate::write_gate::WriteGate;
use app_service::{PoolStats, RepositoryError};
use deadpool::managed::PoolError;
//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
pub use literal::check_standard_strings;
//~ {%- endif %}
use sqlx::{Connection, Executor, FromRow};
use std::marker::PhantomData;
use std::sync::Arc;

pub use keys::SqlxKeys;
use lease::{ConnectionManager, Lease, Pool};
pub use orders::SqlxOrders;
// xtask scaffold: repositories
pub use session::{Session, WriteTransaction};
pub use statement::{Statement, admit};

/// What differs between the databases for this backend's repositories.
pub trait Dialect: sqlx::Database<Arguments: sqlx::IntoArguments<Self> + Default> {
    /// The statement that opens a write transaction.
    const BEGIN_WRITE: &'static str;
}
//~ {%- if database != "sqlite" %}

#[cfg(feature = "postgres")]
impl Dialect for sqlx::Postgres {
    /// Postgres takes row locks as it writes, so a plain BEGIN is enough.
    const BEGIN_WRITE: &'static str = "BEGIN";
}
//~ {%- endif %}{% if database != "postgres" %}

#[cfg(feature = "sqlite")]
impl Dialect for sqlx::Sqlite {
    /// Take the write lock up front: a deferred transaction that reads first and then
    /// writes can fail at once with `SQLITE_BUSY` instead of waiting its turn.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
}
//~ {%- endif %}

/// The repository of resources with fields `F` (see `app_service::resources`) in
/// database `DB`, on the shared [`SqlxDatabase`]: a scaffolded resource's repository is
/// one (`type SqlxCustomers<DB> = SqlxResources<DB, CustomerFields>`), with its own
/// `impl ResourceRepository`.
pub struct SqlxResources<DB: sqlx::Database, F> {
    #[allow(dead_code, reason = "read by the repositories `cargo xtask scaffold` writes")]
    db: SqlxDatabase<DB>,
    fields: PhantomData<fn() -> F>,
}

impl<DB: sqlx::Database, F> SqlxResources<DB, F> {
    /// The repository on `db`'s pool and writer queue.
    pub fn new(db: SqlxDatabase<DB>) -> Self {
        Self { db, fields: PhantomData }
    }
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

impl<DB: Dialect> SqlxDatabase<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// A pooled connection, waiting for one up to the pool's timeout.
    async fn lease(&self) -> Result<Lease<DB>, RepositoryError> {
        let wait = crate::trace::pool_wait(session::system::<DB>());
        crate::trace::traced(wait, async {
            match self.pool.get().await {
                Ok(object) => Ok(Lease::new(object)),
                Err(PoolError::Backend(error)) => Err(classify(error)),
                Err(error) => Err(RepositoryError::Unavailable(error.into())),
            }
        })
        .await
    }

    /// A connection for reads and single-statement writes (see [`Session`]).
    pub async fn session(&self) -> Result<Session<DB>, RepositoryError> {
        Ok(Session::new(self.lease().await?))
    }

    /// `sql`, with its own `$1`, `$2`… placeholders, as a statement to
    /// [`bind`](Statement::bind) values to and run.
    pub fn statement(&self, sql: &'static str) -> Statement<DB> {
        if self.prepared { Statement::bound(sql) } else { Statement::inline(sql) }
    }

    /// A statement that starts with `start` and is built in pieces
    /// ([`push`](Statement::push), [`push_bind`](Statement::push_bind)).
    pub fn building(&self, start: &'static str) -> Statement<DB> {
        if self.prepared { Statement::built(start) } else { Statement::inline(start) }
    }

    /// Every row of `statement`, on a session of its own.
    pub async fn fetch_all<O>(&self, statement: Statement<DB>) -> Result<Vec<O>, RepositoryError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    {
        let mut session = self.session().await?;
        let rows = session.fetch_all(statement).await?;
        session.finish();
        Ok(rows)
    }

    /// The row of `statement`, if it has one, on a session of its own.
    pub async fn fetch_optional<O>(&self, statement: Statement<DB>) -> Result<Option<O>, RepositoryError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    {
        let mut session = self.session().await?;
        let row = session.fetch_optional(statement).await?;
        session.finish();
        Ok(row)
    }

    /// [`execute`](Self::execute) for a write that returns what it wrote (`… RETURNING …`):
    /// its row, if it wrote one.
    pub async fn write_returning<O>(&self, statement: Statement<DB>) -> Result<Option<O>, RepositoryError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    {
        let _turn = self.writers.enter().await?;
        self.fetch_optional(statement).await
    }

    /// Runs `statement`, a write that is atomic by itself, on a session of its own once it
    /// is this writer's turn (see [`WriteGate`]); what the database reports of it.
    pub async fn execute(&self, statement: Statement<DB>) -> Result<DB::QueryResult, RepositoryError> {
        let _turn = self.writers.enter().await?;
        let mut session = self.session().await?;
        let done = session.execute(statement).await?;
        session.finish();
        Ok(done)
    }

    /// Waits for a writer's turn (see [`WriteGate`]), then opens a write transaction.
    pub async fn begin_write(&self) -> Result<WriteTransaction<'_, DB>, RepositoryError> {
        let turn = self.writers.enter().await?;
        WriteTransaction::begin(self.lease().await?, DB::BEGIN_WRITE, turn).await
    }

    /// One round trip, for readiness.
    pub async fn ping(&self) -> Result<(), RepositoryError> {
        let mut lease = self.lease().await?;
        lease.conn().ping().await.map_err(classify)?;
        lease.release();
        Ok(())
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
        check: Option<lease::Check<DB>>,
    ) -> Result<Self, crate::ConnectError> {
        let pool = crate::pool::build(ConnectionManager::new(options, check), settings)?;
        Ok(Self { pool, writers: Arc::new(writers), prepared: settings.prepared_statements() })
    }
}
//~ {%- if database != "sqlite" %}

/// The pool for a Postgres URL.
#[cfg(feature = "postgres")]
pub fn postgres(url: &str, settings: &PoolSettings) -> Result<SqlxDatabase<sqlx::Postgres>, crate::ConnectError> {
    let writers = WriteGate::new(crate::DatabaseKind::Postgres, settings.acquire_timeout);
    // Behind a transaction pooler, statements carry their values as literals (see
    // `statement.rs`), which are exact only with standard strings.
    let check: Option<lease::Check<sqlx::Postgres>> =
        (!settings.prepared_statements()).then_some(|conn| Box::pin(check_standard_strings(conn)));
    SqlxDatabase::new(sqlx_options::postgres(url, settings)?, settings, writers, check)
}
//~ {%- endif %}{% if database != "postgres" %}

/// The pool for a SQLite URL. Writers queue in the [`WriteGate`], then wait for SQLite's
/// lock up to the busy timeout.
#[cfg(feature = "sqlite")]
pub fn sqlite(url: &str, settings: &PoolSettings) -> Result<SqlxDatabase<sqlx::Sqlite>, crate::ConnectError> {
    let writers = WriteGate::new(crate::DatabaseKind::Sqlite, settings.acquire_timeout);
    SqlxDatabase::new(sqlx_options::sqlite(url, settings)?, settings, writers, None)
}
//~ {%- endif %}

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
    //~ {%- if database != "sqlite" %}
    #[cfg(feature = "postgres")]
    if error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
        return crate::error::is_transient_sqlstate(code);
    }
    //~ {%- endif %}{% if database != "postgres" %}
    #[cfg(feature = "sqlite")]
    if error.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return crate::error::is_transient_sqlite_code(code);
    }
    //~ {%- endif %}
    false
}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
