//! {% capture rust %}[`Database`]: the one handle a process opens on its database.

use crate::{Backend, ConnectError, DatabaseKind, PoolSettings, migrate};
use app_service::{IdempotencyRepository, OrdersRepository, PoolStats, RepositoryError, StorageHealth};
use async_trait::async_trait;
use std::sync::Arc;

//~ {%- if backend != "sqlx" %}
#[cfg(feature = "diesel")]
use crate::diesel_backend::{self, DieselDatabase};
//~ {%- endif %}{% if backend != "diesel" %}
#[cfg(feature = "sqlx")]
use crate::sqlx_backend::{self, SqlxDatabase};
//~ {%- endif %}

/// The process's database: the connection pool of the chosen backend, and on SQLite the
/// queue its writers share. Made once at start-up; cheap to clone (clones share the
/// pool). Repositories are made from it — [`Database::orders`] — and borrow its pool, so
/// however many resources the service has, it holds one pool and one writer queue.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
}

//~ {%- if one_pool %}
//+ /// The pool of the service's backend on its database.
//+ type Pool = {{ pool_type }};
//+
//+ /// Runs `$body` with `$db` bound to the pool.
//+ macro_rules! with_pool {
//+     ($pool:expr, $db:ident => $body:expr) => {
//+         match $pool {
//+             $db => $body,
//+         }
//+     };
//+ }
//~ {%- else %}
/// The pool of each backend on each database, as far as they are compiled in.
#[derive(Clone)]
enum Pool {
    //~ {%- if backend != "diesel" and database != "sqlite" %}
    #[cfg(all(feature = "sqlx", feature = "postgres"))]
    SqlxPostgres(SqlxDatabase<sqlx::Postgres>),
    //~ {%- endif %}{% if backend != "diesel" and database != "postgres" %}
    #[cfg(all(feature = "sqlx", feature = "sqlite"))]
    SqlxSqlite(SqlxDatabase<sqlx::Sqlite>),
    //~ {%- endif %}{% if backend != "sqlx" and database != "sqlite" %}
    #[cfg(all(feature = "diesel", feature = "postgres"))]
    DieselPostgres(DieselDatabase<diesel::PgConnection>),
    //~ {%- endif %}{% if backend != "sqlx" and database != "postgres" %}
    #[cfg(all(feature = "diesel", feature = "sqlite"))]
    DieselSqlite(DieselDatabase<diesel::SqliteConnection>),
    //~ {%- endif %}
}

/// Runs `$body` with `$db` bound to whichever handle `$pool` holds.
macro_rules! with_pool {
    ($pool:expr, $db:ident => $body:expr) => {
        match $pool {
            //~ {%- if backend != "diesel" and database != "sqlite" %}
            #[cfg(all(feature = "sqlx", feature = "postgres"))]
            Pool::SqlxPostgres($db) => $body,
            //~ {%- endif %}{% if backend != "diesel" and database != "postgres" %}
            #[cfg(all(feature = "sqlx", feature = "sqlite"))]
            Pool::SqlxSqlite($db) => $body,
            //~ {%- endif %}{% if backend != "sqlx" and database != "sqlite" %}
            #[cfg(all(feature = "diesel", feature = "postgres"))]
            Pool::DieselPostgres($db) => $body,
            //~ {%- endif %}{% if backend != "sqlx" and database != "postgres" %}
            #[cfg(all(feature = "diesel", feature = "sqlite"))]
            Pool::DieselSqlite($db) => $body,
            //~ {%- endif %}
        }
    };
}
//~ {%- endif %}{% if backend == "both" %}

/// The repository of one resource on whichever backend `$pool` holds, made from the pool
/// by the backend's repository type (`$sqlx` in `sqlx_backend`, `$diesel` in
/// `diesel_backend`) and its `new`. A backend that is not compiled in is not named.
macro_rules! repository {
    ($pool:expr, $sqlx:ident, $diesel:ident) => {
        match $pool {
            //~ {%- if database != "sqlite" %}
            #[cfg(all(feature = "sqlx", feature = "postgres"))]
            Pool::SqlxPostgres(db) => Arc::new(sqlx_backend::$sqlx::new(db.clone())),
            //~ {%- endif %}{% if database != "postgres" %}
            #[cfg(all(feature = "sqlx", feature = "sqlite"))]
            Pool::SqlxSqlite(db) => Arc::new(sqlx_backend::$sqlx::new(db.clone())),
            //~ {%- endif %}{% if database != "sqlite" %}
            #[cfg(all(feature = "diesel", feature = "postgres"))]
            Pool::DieselPostgres(db) => Arc::new(diesel_backend::$diesel::new(db.clone())),
            //~ {%- endif %}{% if database != "postgres" %}
            #[cfg(all(feature = "diesel", feature = "sqlite"))]
            Pool::DieselSqlite(db) => Arc::new(diesel_backend::$diesel::new(db.clone())),
            //~ {%- endif %}
        }
    };
}
//~ {%- else %}
//+
//+ /// The repository of one resource, made from the pool by its repository type in
//+ /// `{{ backend_module }}` and its `new`.
//+ macro_rules! repository {
//+     ($pool:expr, $repository:ident) => {
//+         with_pool!($pool, db => Arc::new({{ backend_module }}::$repository::new(db.clone())))
//+     };
//+ }
//~ {%- endif %}

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
        //~ {%- if database != "postgres" %}
        if kind == DatabaseKind::Sqlite && settings.pooler != crate::Pooler::None {
            return Err(ConnectError::Pool("SQLite takes no connection pooler".into()));
        }
        //~ {%- endif %}
        //~ {%- if one_pool %}
        //+ let pool = {{ backend_module }}::{{ database }}(url, settings)?;
        //~ {%- else %}
        let pool = match (backend, kind) {
            //~ {%- if backend != "diesel" and database != "sqlite" %}
            #[cfg(all(feature = "sqlx", feature = "postgres"))]
            (Backend::Sqlx, DatabaseKind::Postgres) => Pool::SqlxPostgres(sqlx_backend::postgres(url, settings)?),
            //~ {%- endif %}{% if backend != "diesel" and database != "postgres" %}
            #[cfg(all(feature = "sqlx", feature = "sqlite"))]
            (Backend::Sqlx, DatabaseKind::Sqlite) => Pool::SqlxSqlite(sqlx_backend::sqlite(url, settings)?),
            //~ {%- endif %}{% if backend != "sqlx" and database != "sqlite" %}
            #[cfg(all(feature = "diesel", feature = "postgres"))]
            (Backend::Diesel, DatabaseKind::Postgres) => Pool::DieselPostgres(diesel_backend::postgres(url, settings)?),
            //~ {%- endif %}{% if backend != "sqlx" and database != "postgres" %}
            #[cfg(all(feature = "diesel", feature = "sqlite"))]
            (Backend::Diesel, DatabaseKind::Sqlite) => Pool::DieselSqlite(diesel_backend::sqlite(url, settings)?),
            //~ {%- endif %}
            // Only combinations ruled out above reach this arm.
            #[allow(unreachable_patterns)]
            (backend, _) => return Err(ConnectError::BackendNotCompiled(backend)),
        };
        //~ {%- endif %}
        Ok(Self { pool })
    }

    /// The orders repository on this database.
    ///
    /// A new resource adds a method like this one, naming its repository on each backend.
    pub fn orders(&self) -> Arc<dyn OrdersRepository> {
        //~ {%- if backend == "both" %}
        repository!(&self.pool, SqlxOrders, DieselOrders)
        //~ {%- else %}
        //+ repository!(&self.pool, {{ backend_prefix }}Orders)
        //~ {%- endif %}
    }

    // xtask scaffold: repositories

    /// The `Idempotency-Key` records of every resource on this database.
    pub fn idempotency_keys(&self) -> Arc<dyn IdempotencyRepository> {
        //~ {%- if backend == "both" %}
        repository!(&self.pool, SqlxKeys, DieselKeys)
        //~ {%- else %}
        //+ repository!(&self.pool, {{ backend_prefix }}Keys)
        //~ {%- endif %}
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
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
