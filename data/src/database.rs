//! [`Database`]: the one handle a process opens on its database.

use crate::{Backend, ConnectError, DatabaseKind, PoolSettings, migrate};
use app_service::{IdempotencyRepository, OrdersRepository, PoolStats, RepositoryError, StorageHealth};
use async_trait::async_trait;
use std::sync::Arc;

#[cfg(feature = "diesel")]
use crate::diesel_backend::{self, DieselDatabase};
#[cfg(feature = "sqlx")]
use crate::sqlx_backend::{self, SqlxDatabase};

/// The process's database: the connection pool of the chosen backend, and on SQLite the
/// queue its writers share. Made once at start-up; cheap to clone (clones share the
/// pool). Repositories are made from it — [`Database::orders`] — and borrow its pool, so
/// however many resources the service has, it holds one pool and one writer queue.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
}

/// The pool of each backend on each database, as far as they are compiled in.
#[derive(Clone)]
enum Pool {
    #[cfg(all(feature = "sqlx", feature = "postgres"))]
    SqlxPostgres(SqlxDatabase<sqlx::Postgres>),
    #[cfg(all(feature = "sqlx", feature = "sqlite"))]
    SqlxSqlite(SqlxDatabase<sqlx::Sqlite>),
    #[cfg(all(feature = "diesel", feature = "postgres"))]
    DieselPostgres(DieselDatabase<diesel::PgConnection>),
    #[cfg(all(feature = "diesel", feature = "sqlite"))]
    DieselSqlite(DieselDatabase<diesel::SqliteConnection>),
}

/// Runs `$body` with `$db` bound to whichever backend's handle `$pool` holds.
macro_rules! with_pool {
    ($pool:expr, $db:ident => $body:expr) => {
        match $pool {
            #[cfg(all(feature = "sqlx", feature = "postgres"))]
            Pool::SqlxPostgres($db) => $body,
            #[cfg(all(feature = "sqlx", feature = "sqlite"))]
            Pool::SqlxSqlite($db) => $body,
            #[cfg(all(feature = "diesel", feature = "postgres"))]
            Pool::DieselPostgres($db) => $body,
            #[cfg(all(feature = "diesel", feature = "sqlite"))]
            Pool::DieselSqlite($db) => $body,
        }
    };
}

/// The repository of one resource on whichever backend `$pool` holds, made from the pool
/// by the backend's repository type (`$sqlx` in `sqlx_backend`, `$diesel` in
/// `diesel_backend`) and its `new`. A backend that is not compiled in is not named.
macro_rules! repository {
    ($pool:expr, $sqlx:ident, $diesel:ident) => {
        match $pool {
            #[cfg(all(feature = "sqlx", feature = "postgres"))]
            Pool::SqlxPostgres(db) => Arc::new(sqlx_backend::$sqlx::new(db.clone())),
            #[cfg(all(feature = "sqlx", feature = "sqlite"))]
            Pool::SqlxSqlite(db) => Arc::new(sqlx_backend::$sqlx::new(db.clone())),
            #[cfg(all(feature = "diesel", feature = "postgres"))]
            Pool::DieselPostgres(db) => Arc::new(diesel_backend::$diesel::new(db.clone())),
            #[cfg(all(feature = "diesel", feature = "sqlite"))]
            Pool::DieselSqlite(db) => Arc::new(diesel_backend::$diesel::new(db.clone())),
        }
    };
}

impl Database {
    /// Applies the migrations to `url`'s database, then opens the pool on it.
    pub async fn connect(url: &str, backend: Backend, settings: &PoolSettings) -> Result<Self, ConnectError> {
        let database = Self::open(url, backend, settings)?;
        migrate::run(url, settings).await?;
        Ok(database)
    }

    /// Opens the pool on `url`'s database without touching it: connections are made on
    /// demand, so this succeeds while the database is down.
    pub fn open(url: &str, backend: Backend, settings: &PoolSettings) -> Result<Self, ConnectError> {
        let kind = DatabaseKind::of(url)?;
        if !backend.is_compiled() {
            return Err(ConnectError::BackendNotCompiled(backend));
        }
        if !kind.is_compiled() {
            return Err(ConnectError::DatabaseNotCompiled(kind));
        }
        if kind == DatabaseKind::Sqlite && settings.pooler != crate::Pooler::None {
            return Err(ConnectError::Pool("a connection pooler applies to Postgres only".into()));
        }
        let pool = match (backend, kind) {
            #[cfg(all(feature = "sqlx", feature = "postgres"))]
            (Backend::Sqlx, DatabaseKind::Postgres) => Pool::SqlxPostgres(sqlx_backend::postgres(url, settings)?),
            #[cfg(all(feature = "sqlx", feature = "sqlite"))]
            (Backend::Sqlx, DatabaseKind::Sqlite) => Pool::SqlxSqlite(sqlx_backend::sqlite(url, settings)?),
            #[cfg(all(feature = "diesel", feature = "postgres"))]
            (Backend::Diesel, DatabaseKind::Postgres) => Pool::DieselPostgres(diesel_backend::postgres(url, settings)?),
            #[cfg(all(feature = "diesel", feature = "sqlite"))]
            (Backend::Diesel, DatabaseKind::Sqlite) => Pool::DieselSqlite(diesel_backend::sqlite(url, settings)?),
            // Only combinations ruled out above reach this arm.
            #[allow(unreachable_patterns)]
            (backend, _) => return Err(ConnectError::BackendNotCompiled(backend)),
        };
        Ok(Self { pool })
    }

    /// The orders repository on this database.
    ///
    /// A new resource adds a method like this one, naming its repository on each backend.
    pub fn orders(&self) -> Arc<dyn OrdersRepository> {
        repository!(&self.pool, SqlxOrders, DieselOrders)
    }

    // xtask scaffold: repositories

    /// The `Idempotency-Key` records of every resource on this database.
    pub fn idempotency_keys(&self) -> Arc<dyn IdempotencyRepository> {
        repository!(&self.pool, SqlxKeys, DieselKeys)
    }

    /// Closes the pool; call once, at shutdown, after in-flight requests have finished.
    pub async fn close(&self) {
        with_pool!(&self.pool, db => db.close().await);
    }
}

#[async_trait]
impl StorageHealth for Database {
    async fn ping(&self) -> Result<(), RepositoryError> {
        with_pool!(&self.pool, db => db.ping().await)
    }

    fn pool_stats(&self) -> PoolStats {
        with_pool!(&self.pool, db => db.pool_stats())
    }
}
