//! What the binary chooses: the backend, the database, and the pool's size and patience.

use crate::ConnectError;
use std::time::Duration;
use strum::{Display, EnumString, VariantNames};

/// Which library talks to the database. Both variants always exist, so that a
/// configuration naming one that is not compiled in gets a clear error, not a parse error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Display, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum Backend {
    /// Async sqlx, awaited directly (feature `sqlx`).
    Sqlx,
    /// Blocking diesel, run on a threadpool (feature `diesel`).
    Diesel,
}

impl Backend {
    /// Whether this backend is compiled in.
    pub const fn is_compiled(self) -> bool {
        match self {
            Self::Sqlx => cfg!(feature = "sqlx"),
            Self::Diesel => cfg!(feature = "diesel"),
        }
    }
}

impl Default for Backend {
    /// sqlx when it is compiled in, else diesel.
    fn default() -> Self {
        if cfg!(feature = "sqlx") { Self::Sqlx } else { Self::Diesel }
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Display)]
#[strum(serialize_all = "lowercase")]
pub enum DatabaseKind {
    /// `postgres://` or `postgresql://` (feature `postgres`).
    Postgres,
    /// `sqlite://path` or `sqlite:path`; the file is created if missing (feature
    /// `sqlite`). In-memory databases are refused: each pooled connection would see a
    /// database of its own.
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

    /// Whether this database's driver is compiled in.
    pub const fn is_compiled(self) -> bool {
        match self {
            Self::Postgres => cfg!(feature = "postgres"),
            Self::Sqlite => cfg!(feature = "sqlite"),
        }
    }
}

/// What stands between the service and Postgres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Display, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum Pooler {
    /// Direct connections: statements are prepared once per connection and cached, and
    /// the statement timeout is set on each connection as it opens.
    #[default]
    None,
    /// A pooler in transaction mode (PgBouncer's `pool_mode = transaction`), which hands
    /// each transaction to whichever server connection is free. Nothing may outlive a
    /// transaction: no statement a client prepared, no session settings, no session
    /// locks. So diesel sends statements unnamed (libpq parses, binds and executes in one
    /// flight); sqlx writes the values into the statement as literals and sends it as one
    /// simple query, which prepares it on the server connection under a name made from
    /// its text where that connection has not met it yet (see `sqlx_backend/pooled.rs`);
    /// the statement timeout is the database role's own setting, and migrations need a
    /// direct connection. Postgres only.
    Transaction,
}

/// Size and patience of the connection pool: one pool per process.
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
    /// What stands between the service and Postgres.
    pub pooler: Pooler,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            pooler: Pooler::None,
        }
    }
}

impl PoolSettings {
    /// These settings for a direct connection to the same server (for migrations).
    pub fn direct(&self) -> Self {
        Self { pooler: Pooler::None, ..*self }
    }

    /// Whether statements may be prepared once per connection and cached by name.
    pub fn prepared_statements(&self) -> bool {
        self.pooler == Pooler::None
    }
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
    fn backends_have_one_name_each() {
        for backend in [Backend::Sqlx, Backend::Diesel] {
            assert_eq!(backend.to_string().parse::<Backend>().unwrap(), backend);
        }
        assert_eq!(Backend::VARIANTS, ["sqlx", "diesel"]);
    }
}
