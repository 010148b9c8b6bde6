//! # data: where orders are stored
//!
//! The outer layer under the service (web → service ← **data**). It implements the
//! service's [`OrdersRepository`] twice, to show both ways of reaching a database from an
//! async server:
//!
//! - [`sqlx_backend`]: async queries, awaited directly on the async workers.
//! - [`diesel_backend`]: blocking queries, plain synchronous functions, run on a
//!   threadpool through deadpool-diesel's `interact` so they never stall a worker.
//!
//! Each works on Postgres and SQLite. What both share — how ids and times are stored and
//! how rows become orders — is in `storage`; the schema is in `migrations/` at the top of
//! the workspace, applied by [`migrate`]. The binary picks a backend with [`connect`].

pub mod diesel_backend;
pub mod migrate;
pub mod sqlx_backend;
mod storage;
#[cfg(feature = "testing")]
pub mod testing;

use service::OrdersRepository;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
pub use storage::WriteGate;

/// Which library talks to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Async sqlx, awaited directly.
    Sqlx,
    /// Blocking diesel, run on a threadpool.
    Diesel,
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sqlx" => Ok(Self::Sqlx),
            "diesel" => Ok(Self::Diesel),
            _ => Err(format!("expected `sqlx` or `diesel`, got `{s}`")),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlx => "sqlx",
            Self::Diesel => "diesel",
        })
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite:` and a file path; the file is created if missing. In-memory databases
    /// are refused: each pooled connection would see a database of its own.
    Sqlite,
}

impl DatabaseKind {
    /// The kind named by `url`'s scheme.
    pub fn of(url: &str) -> Result<Self, ConnectError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") && !url.contains(":memory:") && !url.contains("mode=memory") {
            Ok(Self::Sqlite)
        } else {
            Err(ConnectError::UnsupportedUrl)
        }
    }
}

/// Size and patience of a connection pool. One pool per process and database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a request waits for a connection (and, on SQLite, for a lock; on
    /// Postgres with diesel, for a new connection) before failing with "unavailable".
    pub acquire_timeout: Duration,
    /// Longest a Postgres statement may run, lock waits included, before it is
    /// cancelled and the request fails with "unavailable".
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// A pooled connection idle for longer than this is checked with a round trip before
/// use; busier ones are trusted, and dropped when a query fails on them.
const IDLE_CHECK: Duration = Duration::from_secs(10);

/// Whether a Postgres SQLSTATE means "try again later" rather than "bug": connection
/// exceptions (08), authorization (28, a password rotated under us), insufficient
/// resources (53), shutdown (57P0x), the statement timeout (57014), serialization
/// failures and deadlocks (40001, 40P01), read-only after a failover (25006).
fn is_transient_sqlstate(code: &str) -> bool {
    ["08", "28", "53", "57P0"].iter().any(|class| code.starts_with(class))
        || ["40001", "40P01", "25006", "57014"].contains(&code)
}

/// Whether a SQLite result code (extended codes included) means "try again later":
/// busy or locked past the busy timeout.
fn is_transient_sqlite_code(code: &str) -> bool {
    code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Why the data layer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL names no supported database.
    #[error("unsupported database URL: expected postgres://… or sqlite://path (not in-memory)")]
    UnsupportedUrl,
    /// The URL or its options are malformed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The pool could not be built from the settings.
    #[error("invalid pool settings: {0}")]
    Pool(String),
    /// Migrations could not be applied.
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database could not be reached; it may come up later.
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
}

impl ConnectError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }
}

/// Applies the migrations to `url`'s database, then opens a pooled repository on it.
pub async fn connect(
    url: &str,
    backend: Backend,
    settings: &PoolSettings,
) -> Result<Arc<dyn OrdersRepository>, ConnectError> {
    migrate::run(url, DatabaseKind::of(url)?, settings).await?;
    open(url, backend, settings)
}

/// Opens a pooled repository on `url`'s database without touching it: connections are
/// made on demand, so this succeeds while the database is down.
pub fn open(url: &str, backend: Backend, settings: &PoolSettings) -> Result<Arc<dyn OrdersRepository>, ConnectError> {
    Ok(match (backend, DatabaseKind::of(url)?) {
        (Backend::Sqlx, DatabaseKind::Postgres) => {
            let pool = sqlx_backend::postgres_pool(url, settings).map_err(invalid_url)?;
            Arc::new(sqlx_backend::SqlxOrders::new(
                pool,
                WriteGate::new(DatabaseKind::Postgres, settings.acquire_timeout),
            ))
        }
        (Backend::Sqlx, DatabaseKind::Sqlite) => {
            let pool = sqlx_backend::sqlite_pool(url, settings).map_err(invalid_url)?;
            Arc::new(sqlx_backend::SqlxOrders::new(
                pool,
                WriteGate::new(DatabaseKind::Sqlite, settings.acquire_timeout),
            ))
        }
        (Backend::Diesel, DatabaseKind::Postgres) => Arc::new(diesel_backend::postgres(url, settings)?),
        (Backend::Diesel, DatabaseKind::Sqlite) => Arc::new(diesel_backend::sqlite(url, settings)?),
    })
}

fn invalid_url(error: sqlx::Error) -> ConnectError {
    ConnectError::InvalidUrl(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_database() {
        assert_eq!(DatabaseKind::of("postgres://u@h/db").unwrap(), DatabaseKind::Postgres);
        assert_eq!(DatabaseKind::of("postgresql://u@h/db").unwrap(), DatabaseKind::Postgres);
        assert_eq!(DatabaseKind::of("sqlite://orders.db").unwrap(), DatabaseKind::Sqlite);
        for refused in ["sqlite::memory:", "sqlite://file?mode=memory", "mysql://h/db", "orders.db"] {
            assert!(DatabaseKind::of(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn transient_codes_are_told_from_bugs() {
        for code in ["08006", "57P01", "57014", "40001", "40P01", "53300", "28P01", "25006"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "22021", "42P01", "40002", "42501"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
        for code in ["5", "517", "6", "262"] {
            assert!(is_transient_sqlite_code(code), "{code}");
        }
        for code in ["19", "2067", "1", "14"] {
            assert!(!is_transient_sqlite_code(code), "{code}");
        }
    }
}
