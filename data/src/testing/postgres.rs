//! Postgres test databases: one new database per test on the server at
//! `TEST_DATABASE_URL`, reached directly or through a PgBouncer of the test's own.

use super::pgbouncer::PgBouncer;
use super::{Cleanup, DEFAULT_POSTGRES, TestDatabase, skip};
use crate::Pooler;
use sqlx::{Connection, PgConnection};

/// The server's URL for tests.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// A new database; with `pgbouncer`, the service reaches it through a PgBouncer started
/// for the test.
pub async fn create(pgbouncer: bool) -> Option<TestDatabase> {
    let admin_url = admin_url();
    let mut admin = match PgConnection::connect(&admin_url).await {
        Ok(connection) => connection,
        Err(error) => return skip(format_args!("Postgres at {admin_url} is unreachable ({error})")),
    };
    let name = format!("app_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let _ = admin.close().await;
    let mut direct = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
    direct.set_path(&name);
    let direct_url = String::from(direct);
    let (url, pooler, bouncer) = if pgbouncer {
        let server = address_of(&direct_url);
        let Some(bouncer) = PgBouncer::start(&server).await else {
            // The database exists already: drop it with the skip.
            drop_database(admin_url, name, &direct_url);
            return None;
        };
        (with_address(&direct_url, bouncer.address), Pooler::Transaction, Some(Box::new(bouncer)))
    } else {
        (direct_url.clone(), Pooler::None, None)
    };
    Some(TestDatabase { url, direct_url, pooler, cleanup: Cleanup::Postgres { admin_url, name, _pgbouncer: bouncer } })
}

/// The `host:port` of a Postgres URL.
fn address_of(url: &str) -> String {
    let url = url::Url::parse(url).expect("a URL");
    format!("{}:{}", url.host_str().unwrap_or("127.0.0.1"), url.port().unwrap_or(5432))
}

/// `url` with its server replaced by `address`.
fn with_address(url: &str, address: std::net::SocketAddr) -> String {
    let mut url = url::Url::parse(url).expect("a URL");
    url.set_ip_host(address.ip()).expect("a URL with a host");
    url.set_port(Some(address.port())).expect("a URL with a port");
    url.into()
}

impl TestDatabase {
    /// The `host:port` the service connects to: Postgres', or the pooler's.
    pub fn server_address(&self) -> String {
        address_of(&self.url)
    }

    /// The service's URL with its server replaced by `address` (e.g. a proxy's).
    pub fn url_through(&self, address: std::net::SocketAddr) -> String {
        with_address(&self.url, address)
    }

    /// Sets a server setting for every new session on this database, as an operator would
    /// with `ALTER DATABASE … SET` (or `ALTER ROLE … SET`).
    pub async fn set_database_setting(&self, name: &str, value: &str) {
        let mut conn = PgConnection::connect(&self.direct_url).await.expect("connect to alter");
        let database: String =
            sqlx::query_scalar("SELECT current_database()").fetch_one(&mut conn).await.expect("database name");
        let alter = format!("ALTER DATABASE {database} SET {name} = '{value}'");
        sqlx::raw_sql(sqlx::AssertSqlSafe(alter)).execute(&mut conn).await.expect("alter the database");
    }

    /// Whether `table` exists in this database.
    pub async fn has_table(&self, table: &str) -> bool {
        let mut conn = PgConnection::connect(&self.direct_url).await.expect("connect to look");
        sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(table).fetch_one(&mut conn).await.expect("look")
    }

    /// Another client takes an exclusive lock on `table` and holds it until the
    /// returned guard's `release`: the service's statements on it wait meanwhile.
    pub async fn lock_table(&self, table: &str) -> TableLock {
        self.hold(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).await
    }

    /// Another client runs `statement` in a transaction and holds what it locks until the
    /// returned guard's `release`.
    pub async fn hold(&self, statement: &str) -> TableLock {
        let mut conn = PgConnection::connect(&self.direct_url).await.expect("connect to lock");
        let lock = format!("BEGIN; {statement}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(lock)).execute(&mut conn).await.expect("take the lock");
        TableLock { conn }
    }
}

/// A lock held by another client; see [`TestDatabase::lock_table`] and [`TestDatabase::hold`].
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
