//! Both backends connect to Postgres as the URL's `sslmode` says, checked from the server's
//! side (`pg_stat_ssl`) on the pool's own connections: `require` encrypts, `disable` does
//! not, and `verify-ca` encrypts only to a server whose certificate chains to the URL's
//! `sslrootcert` (here the server's own certificate, which Debian generates self-signed),
//! and refuses one it cannot check. sqlx brings rustls for it, diesel libpq's OpenSSL.
//! The machine's Postgres must offer TLS and its certificate file must be readable here
//! (`ssl_cert_file`); where not, the test skips loudly, or fails under `CI`.
#![cfg(feature = "postgres")]

use app_data::testing::{Target, TestDatabase, skip};
use app_data::{Backend, Database};
use app_service::{RepositoryError, StorageHealth};
use rstest::rstest;
use sqlx::{Connection, PgConnection};

/// What a pool must do with a URL.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Connect, encrypted.
    Encrypted,
    /// Connect, in the clear.
    Clear,
    /// Not connect: the server's certificate cannot be checked.
    Refused,
}

/// The test's database and the URL to reach it with `sslmode` (and the server's own
/// certificate as the root to check it against, with `root`), if its server offers TLS.
async fn database(sslmode: &str, root: bool) -> Option<(TestDatabase, String)> {
    let db = TestDatabase::create(Target::Postgres).await?;
    let mut admin = PgConnection::connect(&db.direct_url).await.expect("connect");
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&mut admin).await.expect("SHOW ssl");
    let certificate: String =
        sqlx::query_scalar("SHOW ssl_cert_file").fetch_one(&mut admin).await.expect("SHOW ssl_cert_file");
    let _ = admin.close().await;
    if ssl != "on" {
        return skip(format_args!("the Postgres at {} does not offer TLS (ssl = {ssl})", db.direct_url));
    }
    let mut url = url::Url::parse(&db.url).expect("a URL");
    url.query_pairs_mut().append_pair("sslmode", sslmode);
    if root {
        if std::fs::metadata(&certificate).is_err() {
            return skip(format_args!("the server's certificate {certificate} is not readable here"));
        }
        url.query_pairs_mut().append_pair("sslrootcert", &certificate);
    }
    Some((db, url.into()))
}

/// The other clients' connections to `db`: how many, and how many of them encrypted.
async fn connections(db: &TestDatabase) -> (i64, i64) {
    let mut admin = PgConnection::connect(&db.direct_url).await.expect("connect");
    let counts = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .expect("count connections");
    let _ = admin.close().await;
    counts
}

/// Checks what a pool's first round trip (`ping`) did against `expect`.
async fn check(db: &TestDatabase, ping: Result<(), RepositoryError>, expect: Expect) {
    if expect == Expect::Refused {
        // A connection that cannot be had is "try again later" (503), like an outage.
        assert!(matches!(ping, Err(RepositoryError::Unavailable(_))), "{ping:?}");
        assert_eq!(connections(db).await.0, 0, "no connection is left open");
        return;
    }
    ping.unwrap();
    let (open, encrypted) = connections(db).await;
    assert!(open >= 1, "the pool keeps its connection open");
    let want = if expect == Expect::Encrypted { open } else { 0 };
    assert_eq!(encrypted, want, "{encrypted} of {open} connections encrypted");
}

/// One case per backend compiled in and `sslmode`, through the handle the service uses.
#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx_require(Backend::Sqlx, "require", false, Expect::Encrypted))]
#[cfg_attr(feature = "sqlx", case::sqlx_disable(Backend::Sqlx, "disable", false, Expect::Clear))]
#[cfg_attr(feature = "sqlx", case::sqlx_verify_ca(Backend::Sqlx, "verify-ca", true, Expect::Encrypted))]
#[cfg_attr(feature = "sqlx", case::sqlx_verify_ca_without_a_root(Backend::Sqlx, "verify-ca", false, Expect::Refused))]
#[cfg_attr(feature = "diesel", case::diesel_require(Backend::Diesel, "require", false, Expect::Encrypted))]
#[cfg_attr(feature = "diesel", case::diesel_disable(Backend::Diesel, "disable", false, Expect::Clear))]
#[cfg_attr(feature = "diesel", case::diesel_verify_ca(Backend::Diesel, "verify-ca", true, Expect::Encrypted))]
#[cfg_attr(
    feature = "diesel",
    case::diesel_verify_ca_without_a_root(Backend::Diesel, "verify-ca", false, Expect::Refused)
)]
#[tokio::test]
async fn connects_as_the_urls_sslmode_says(
    #[case] backend: Backend,
    #[case] sslmode: &str,
    #[case] root: bool,
    #[case] expect: Expect,
) {
    let Some((db, url)) = database(sslmode, root).await else { return };
    let pool = Database::open(&url, backend, &db.pool_settings()).unwrap();
    check(&db, pool.ping().await, expect).await;
    pool.close().await;
}
