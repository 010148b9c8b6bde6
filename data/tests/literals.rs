//! Behind a transaction pooler, sqlx statements carry their values written into the SQL
//! text as literals (`sqlx_backend/literal.rs`). Here arbitrary strings — quotes,
//! backslashes, `$n`, dollar quotes, comments, non-BMP characters, any code point Postgres
//! text accepts — go through that encoder to the real server, through PgBouncer, and come
//! back byte for byte, exactly as they do through bound parameters on a direct connection.
//! A server that reads backslashes as escapes is refused at connect.
#![cfg(all(feature = "sqlx", feature = "postgres"))]

use app_data::PoolSettings;
use app_data::sqlx_backend::{SqlxDatabase, postgres};
use app_data::testing::{Target, TestDatabase};
use app_service::RepositoryError;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A pool through PgBouncer (values as literals) and one direct (values bound), on one
/// fresh database; `None` where a server is missing (skipped loudly, or failed under CI).
async fn pools() -> Option<(TestDatabase, TestDatabase, SqlxDatabase<sqlx::Postgres>, SqlxDatabase<sqlx::Postgres>)> {
    let bounced = TestDatabase::create(Target::PgBouncer).await?;
    let direct = TestDatabase::create(Target::Postgres).await?;
    let inline = postgres(&bounced.url, &bounced.pool_settings()).unwrap();
    let bound = postgres(&direct.url, &PoolSettings { max_connections: 2, ..direct.pool_settings() }).unwrap();
    Some((bounced, direct, inline, bound))
}

/// `value` sent to the server and read back, as text and as one element of an array, by
/// a constant statement (behind the pooler: `EXECUTE` with the values as literals) and by
/// one built per request (the values written into the text).
async fn echo(db: &SqlxDatabase<sqlx::Postgres>, value: &str) -> Result<Vec<(String, String)>, RepositoryError> {
    let constant = db.statement("SELECT $1, ($2)[1]").bind(value).bind(vec![value]);
    let mut built = db.building("SELECT ");
    built.push_bind(value).push(", (").push_bind(vec![value]).push(")[1]");
    let mut rows = db.fetch_all(constant).await?;
    rows.extend(db.fetch_all::<(String, String)>(built).await?);
    Ok(rows)
}

/// Text with what could break out of a literal, mixed with any other character but NUL.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("'".to_owned()),
        Just("''".to_owned()),
        Just("\\".to_owned()),
        Just("\\'".to_owned()),
        Just("$1".to_owned()),
        Just("$$".to_owned()),
        Just("$tag$".to_owned()),
        Just("--".to_owned()),
        Just("/*".to_owned()),
        Just("*/".to_owned()),
        Just(";".to_owned()),
        Just("E'".to_owned()),
        Just("\u{1F600}".to_owned()),
        Just("\u{10FFFF}".to_owned()),
        any::<char>().prop_filter("no NUL in Postgres text", |c| *c != '\0').prop_map(String::from),
        "[^\u{0}]{0,8}",
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|pieces| pieces.concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_text_comes_back_byte_for_byte_as_a_literal_and_as_a_parameter() {
    let Some((_bounced, _direct, inline, bound)) = pools().await else { return };
    let pooled = inline.clone();
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config { cases: 512, ..Config::default() });
    let outcome = tokio::task::spawn_blocking(move || {
        runner.run(&hostile_text(), |value| {
            let expected = vec![(value.clone(), value.clone()); 2];
            let through_literals =
                handle.block_on(echo(&inline, &value)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let through_parameters =
                handle.block_on(echo(&bound, &value)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&through_literals, &expected);
            prop_assert_eq!(&through_parameters, &expected);
            Ok(())
        })
    })
    .await
    .expect("the property ran");
    if let Err(failure) = outcome {
        panic!("{failure}");
    }

    // The constant statement went by name (`EXECUTE`), not as plain text.
    const COUNT: &str = "SELECT count(*) FROM pg_prepared_statements \
         WHERE position('AS SELECT $1, ($2)[1]' IN statement) > 0 AND position('pg_prepared' IN statement) = 0";
    let prepared: Vec<(i64,)> = pooled.fetch_all(pooled.statement(COUNT)).await.unwrap();
    assert_eq!(prepared, [(1,)]);
}

#[tokio::test]
async fn text_with_a_nul_is_refused_before_it_reaches_the_server() {
    let Some((_bounced, _direct, inline, _)) = pools().await else { return };
    let refused = echo(&inline, "a\0b").await;
    assert!(matches!(refused, Err(RepositoryError::Internal(_))), "{refused:?}");
    assert_eq!(echo(&inline, "a b").await.unwrap(), vec![("a b".to_owned(), "a b".to_owned()); 2]);
}

#[tokio::test]
async fn a_server_reading_backslashes_as_escapes_is_refused_at_connect() {
    let Some((bounced, _direct, _, _)) = pools().await else { return };
    bounced.set_database_setting("standard_conforming_strings", "off").await;
    let refusing = postgres(&bounced.url, &bounced.pool_settings()).unwrap();
    let refused = echo(&refusing, "a").await;
    assert!(
        matches!(&refused, Err(RepositoryError::Internal(e)) if e.to_string().contains("standard_conforming_strings")),
        "{refused:?}"
    );
}
