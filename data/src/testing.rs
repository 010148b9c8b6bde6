//! Fresh, throw-away databases for tests (feature `testing`).
//!
//! SQLite: a file in a temporary directory. Postgres: a new database on the server at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped
//! when the [`TestDatabase`] is dropped, even if the test panicked. Where no Postgres is
//! reachable, [`TestDatabase::create`] returns `None` with a loud message so the test can
//! skip — unless `CI` is set, where it panics: CI must run every test.

use crate::DatabaseKind;
use sqlx::{Connection, PgConnection};

/// Server used for Postgres tests unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
pub struct TestDatabase {
    /// Its URL, for `data::connect` or `DATABASE_URL`.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new empty database of `kind`, or `None` if Postgres is unreachable outside CI.
    pub async fn create(kind: DatabaseKind) -> Option<Self> {
        match kind {
            DatabaseKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("orders.db").display());
                Some(Self { url, cleanup: Cleanup::Sqlite(dir) })
            }
            DatabaseKind::Postgres => Self::create_postgres().await,
        }
    }

    async fn create_postgres() -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
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
        let name = format!("orders_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(Self { url: url.into(), cleanup: Cleanup::Postgres { admin_url, name } })
    }

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
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else { return };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop may run inside an async runtime; a thread of its own may block freely.
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
            eprintln!("warning: could not drop test database {}", self.url);
        }
    }
}
