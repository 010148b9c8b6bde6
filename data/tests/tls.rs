//! Both backends encrypt their Postgres connections when the URL asks for it
//! (`sslmode=require`), and neither does with `sslmode=disable`: checked from the server's
//! side, in `pg_stat_ssl`, on the pool's own connections. sqlx brings rustls for it,
//! diesel libpq's OpenSSL. The machine's Postgres must offer TLS (Debian's does); where it
//! does not, the test skips loudly, or fails under `CI`.
#![cfg(feature = "postgres")]

use app_data::testing::{Target, TestDatabase, skip};
use rstest::rstest;
use sqlx::{Connection, PgConnection};

/// The test's database, if its server offers TLS.
async fn database() -> Option<TestDatabase> {
    let db = TestDatabase::create(Target::Postgres).await?;
    let mut admin = PgConnection::connect(&db.direct_url).await.expect("connect");
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&mut admin).await.expect("SHOW ssl");
    let _ = admin.close().await;
    if ssl != "on" {
        return skip(format_args!("the Postgres at {} does not offer TLS (ssl = {ssl})", db.direct_url));
    }
    Some(db)
}

/// `url` asking for `sslmode`.
fn with_sslmode(url: &str, sslmode: &str) -> String {
    let mut url = url::Url::parse(url).expect("a URL");
    url.query_pairs_mut().append_pair("sslmode", sslmode);
    url.into()
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

/// What `connections` must find after the pool opened its connection(s).
fn assert_encrypted(counts: (i64, i64), encrypted: bool) {
    let (open, with_tls) = counts;
    assert!(open >= 1, "the pool keeps its connection open");
    assert_eq!(with_tls, if encrypted { open } else { 0 }, "{with_tls} of {open} connections encrypted");
}

#[cfg(feature = "sqlx")]
#[rstest]
#[case::require("require", true)]
#[case::disable("disable", false)]
#[tokio::test]
async fn sqlx_connects_with_the_urls_sslmode(#[case] sslmode: &str, #[case] encrypted: bool) {
    let Some(db) = database().await else { return };
    let pool = app_data::sqlx_backend::postgres(&with_sslmode(&db.url, sslmode), &db.pool_settings()).unwrap();
    pool.ping().await.unwrap();
    assert_encrypted(connections(&db).await, encrypted);
    pool.close().await;
}

#[cfg(feature = "diesel")]
#[rstest]
#[case::require("require", true)]
#[case::disable("disable", false)]
#[tokio::test]
async fn diesel_connects_with_the_urls_sslmode(#[case] sslmode: &str, #[case] encrypted: bool) {
    let Some(db) = database().await else { return };
    let pool = app_data::diesel_backend::postgres(&with_sslmode(&db.url, sslmode), &db.pool_settings()).unwrap();
    pool.ping().await.unwrap();
    assert_encrypted(connections(&db).await, encrypted);
    pool.close().await;
}
