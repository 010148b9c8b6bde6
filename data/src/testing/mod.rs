//! Fresh, throw-away databases for tests, and the template that runs a test on every
//! backend and database compiled in (feature `testing`).
//!
//! SQLite: a file in a temporary directory. Postgres: a new database on the server at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped
//! when the [`TestDatabase`] is dropped, even if the test panicked; optionally reached
//! through a PgBouncer of the test's own in transaction mode. Where no Postgres is
//! reachable or no PgBouncer can be started, [`TestDatabase::create`] returns `None` with
//! a loud message so the test can skip — unless `CI` is set, where it panics: CI must
//! run every test.

// The code under test returns errors; a test that cannot set itself up should panic.
#![allow(clippy::missing_panics_doc)]
// The template is a macro for other crates.
#![allow(unused_macros)]

#[cfg(feature = "postgres")]
mod pgbouncer;
#[cfg(feature = "postgres")]
mod postgres;

use crate::{DatabaseKind, PoolSettings, Pooler};
#[cfg(feature = "postgres")]
pub use postgres::TableLock;

/// Runs a test once for each backend on each database, as far as they are compiled in:
/// cases `sqlx_sqlite`, `sqlx_postgres`, `sqlx_pgbouncer`, `diesel_sqlite`,
/// `diesel_postgres`, `diesel_pgbouncer`. Use with `#[apply(all_backends)]` on a test
/// taking `backend: Backend, target: Target`; the using crate has features of the same
/// names as this one's (the root package forwards them).
#[rstest_reuse::template]
#[export]
#[hidden]
#[rstest]
#[cfg_attr(
    all(feature = "sqlx", feature = "sqlite"),
    case::sqlx_sqlite(app_data::Backend::Sqlx, app_data::testing::Target::Sqlite)
)]
#[cfg_attr(
    all(feature = "sqlx", feature = "postgres"),
    case::sqlx_postgres(app_data::Backend::Sqlx, app_data::testing::Target::Postgres)
)]
#[cfg_attr(
    all(feature = "sqlx", feature = "postgres"),
    case::sqlx_pgbouncer(app_data::Backend::Sqlx, app_data::testing::Target::PgBouncer)
)]
#[cfg_attr(
    all(feature = "diesel", feature = "sqlite"),
    case::diesel_sqlite(app_data::Backend::Diesel, app_data::testing::Target::Sqlite)
)]
#[cfg_attr(
    all(feature = "diesel", feature = "postgres"),
    case::diesel_postgres(app_data::Backend::Diesel, app_data::testing::Target::Postgres)
)]
#[cfg_attr(
    all(feature = "diesel", feature = "postgres"),
    case::diesel_pgbouncer(app_data::Backend::Diesel, app_data::testing::Target::PgBouncer)
)]
pub fn all_backends(#[case] backend: app_data::Backend, #[case] target: app_data::testing::Target) {}

/// Where a test's database lives and how the service reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file.
    Sqlite,
    /// A Postgres database, connected to directly.
    Postgres,
    /// A Postgres database behind PgBouncer in transaction mode (`DB_POOLER=transaction`);
    /// migrations go to Postgres directly.
    PgBouncer,
}

impl Target {
    /// The database behind the target.
    pub fn kind(self) -> DatabaseKind {
        match self {
            Self::Sqlite => DatabaseKind::Sqlite,
            Self::Postgres | Self::PgBouncer => DatabaseKind::Postgres,
        }
    }
}

/// Server used for Postgres tests unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
pub struct TestDatabase {
    /// Its URL, for the service's `DATABASE_URL`: through the pooler, if there is one.
    pub url: String,
    /// A direct URL, for migrations (`DATABASE_MIGRATION_URL`) and for the test itself.
    pub direct_url: String,
    /// What stands between the service and the database.
    pub pooler: Pooler,
    cleanup: Cleanup,
}

enum Cleanup {
    #[cfg(feature = "sqlite")]
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    #[cfg(feature = "postgres")]
    Postgres { admin_url: String, name: String, _pgbouncer: Option<Box<pgbouncer::PgBouncer>> },
}

impl TestDatabase {
    /// A new empty database at `target`, or `None` if it cannot be had outside CI.
    pub async fn create(target: impl Into<Target>) -> Option<Self> {
        match target.into() {
            #[cfg(feature = "sqlite")]
            Target::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("app.db").display());
                Some(Self { direct_url: url.clone(), url, pooler: Pooler::None, cleanup: Cleanup::Sqlite(dir) })
            }
            #[cfg(feature = "postgres")]
            Target::Postgres => postgres::create(false).await,
            #[cfg(feature = "postgres")]
            Target::PgBouncer => postgres::create(true).await,
            #[allow(unreachable_patterns)]
            target => panic!("{:?} is not compiled in", target.kind()),
        }
    }

    /// Pool settings for this database: the defaults, with its pooler.
    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings { pooler: self.pooler, ..PoolSettings::default() }
    }

    /// The migration URL the service needs besides [`url`](Self::url): the direct one
    /// when the service goes through a pooler.
    pub fn migration_url(&self) -> Option<String> {
        (self.pooler != Pooler::None).then(|| self.direct_url.clone())
    }
}

impl From<DatabaseKind> for Target {
    fn from(kind: DatabaseKind) -> Self {
        match kind {
            DatabaseKind::Sqlite => Self::Sqlite,
            DatabaseKind::Postgres => Self::Postgres,
        }
    }
}

#[cfg(feature = "postgres")]
/// Skips a test loudly (`None`), or fails it under `CI`, which must run every test.
pub fn skip<T>(why: std::fmt::Arguments<'_>) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("CI is set, so this test may not skip: {why}");
    }
    eprintln!("\n*** SKIPPED: {why} ***\n");
    None
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            #[cfg(feature = "sqlite")]
            Cleanup::Sqlite(_) => {}
            #[cfg(feature = "postgres")]
            Cleanup::Postgres { admin_url, name, .. } => {
                postgres::drop_database(admin_url.clone(), name.clone(), &self.direct_url);
            }
        }
    }
}
