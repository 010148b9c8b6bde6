//! Fresh, throw-away databases for tests, and the template that runs a test on every
//! backend and database compiled in (feature `testing`).
//!
//! SQLite: a file in a temporary directory. Postgres: a new database on the server at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped
//! when the [`TestDatabase`] is dropped, even if the test panicked. Where no Postgres is
//! reachable, [`TestDatabase::create`] returns `None` with a loud message so the test can
//! skip — unless `CI` is set, where it panics: CI must run every test.

// The code under test returns errors; a test that cannot set itself up should panic.
#![allow(clippy::missing_panics_doc)]
// The template is a macro for other crates.
#![allow(unused_macros)]

use crate::DatabaseKind;

/// Runs a test once for each backend on each database, as far as they are compiled in
/// (cases are named `sqlx_sqlite`, `sqlx_postgres`, `diesel_sqlite`, `diesel_postgres`).
/// Use with `#[rstest_reuse::apply(all_backends)]` on a test taking
/// `backend: Backend, kind: DatabaseKind`; the using crate has features of the same
/// names as this one's (the root package forwards them).
#[rstest_reuse::template]
#[export]
#[hidden]
#[rstest]
#[cfg_attr(
    all(feature = "sqlx", feature = "sqlite"),
    case::sqlx_sqlite(app_data::Backend::Sqlx, app_data::DatabaseKind::Sqlite)
)]
#[cfg_attr(
    all(feature = "sqlx", feature = "postgres"),
    case::sqlx_postgres(app_data::Backend::Sqlx, app_data::DatabaseKind::Postgres)
)]
#[cfg_attr(
    all(feature = "diesel", feature = "sqlite"),
    case::diesel_sqlite(app_data::Backend::Diesel, app_data::DatabaseKind::Sqlite)
)]
#[cfg_attr(
    all(feature = "diesel", feature = "postgres"),
    case::diesel_postgres(app_data::Backend::Diesel, app_data::DatabaseKind::Postgres)
)]
pub fn all_backends(#[case] backend: app_data::Backend, #[case] kind: app_data::DatabaseKind) {}

/// Server used for Postgres tests unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
pub struct TestDatabase {
    /// Its URL, for `Database::connect` or `DATABASE_URL`.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    #[cfg(feature = "sqlite")]
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    #[cfg(feature = "postgres")]
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new empty database of `kind`, or `None` if Postgres is unreachable outside CI.
    pub async fn create(kind: DatabaseKind) -> Option<Self> {
        match kind {
            #[cfg(feature = "sqlite")]
            DatabaseKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("app.db").display());
                Some(Self { url, cleanup: Cleanup::Sqlite(dir) })
            }
            #[cfg(feature = "postgres")]
            DatabaseKind::Postgres => postgres::create().await,
            #[allow(unreachable_patterns)]
            kind => panic!("{kind} is not compiled in"),
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::{Cleanup, DEFAULT_POSTGRES, TestDatabase};
    use sqlx::{Connection, PgConnection};

    /// The server's URL for tests.
    pub fn admin_url() -> String {
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
    }

    pub async fn create() -> Option<TestDatabase> {
        let admin_url = admin_url();
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(connection) => connection,
            Err(error) if std::env::var_os("CI").is_some() => {
                panic!("CI is set but Postgres at {admin_url} is unreachable: {error}")
            }
            Err(error) => {
                eprintln!("\n*** SKIPPED: Postgres at {admin_url} is unreachable ({error}). ***\n");
                return None;
            }
        };
        let name = format!("app_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(TestDatabase { url: url.into(), cleanup: Cleanup::Postgres { admin_url, name } })
    }

    impl TestDatabase {
        /// The `host:port` of a Postgres test database's server.
        pub fn server_address(&self) -> String {
            let url = url::Url::parse(&self.url).expect("a URL");
            format!("{}:{}", url.host_str().unwrap_or("127.0.0.1"), url.port().unwrap_or(5432))
        }

        /// This database's URL with its server replaced by `address` (e.g. a proxy's).
        pub fn url_through(&self, address: std::net::SocketAddr) -> String {
            let mut url = url::Url::parse(&self.url).expect("a URL");
            url.set_ip_host(address.ip()).expect("a URL with a host");
            url.set_port(Some(address.port())).expect("a URL with a port");
            url.into()
        }

        /// Another client takes an exclusive lock on `table` and holds it until the
        /// returned guard's `release`: the service's statements on it wait meanwhile.
        pub async fn lock_table(&self, table: &str) -> TableLock {
            let mut conn = PgConnection::connect(&self.url).await.expect("connect to lock");
            let lock = format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(lock)).execute(&mut conn).await.expect("lock the table");
            TableLock { conn }
        }
    }

    /// A lock held by another client; see [`TestDatabase::lock_table`].
    pub struct TableLock {
        conn: PgConnection,
    }

    impl TableLock {
        /// Ends the locking transaction.
        pub async fn release(mut self) {
            sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await.expect("release the lock");
        }
    }

    /// Drops the database from a thread of its own: `Drop` may run inside an async
    /// runtime, where blocking on another is not allowed.
    pub fn drop_database(admin_url: String, name: String, url: &str) {
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {url}");
        }
    }
}

#[cfg(feature = "postgres")]
pub use postgres::TableLock;

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            #[cfg(feature = "sqlite")]
            Cleanup::Sqlite(_) => {}
            #[cfg(feature = "postgres")]
            Cleanup::Postgres { admin_url, name } => {
                postgres::drop_database(admin_url.clone(), name.clone(), &self.url);
            }
        }
    }
}
