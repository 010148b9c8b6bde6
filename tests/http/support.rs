//! Building the app on a fresh database, and calling it.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test;
use data::testing::TestDatabase;
use data::{Backend, DatabaseKind, PoolSettings};
use orders_api::config::{Config, LogFormat, ServerSettings};
use rstest_reuse::template;
use serde_json::{Value, json};
use std::time::Duration;
use web::HttpSettings;

/// Every test applying this runs four times: each backend on each database.
#[template]
#[rstest]
#[case::sqlx_sqlite(Backend::Sqlx, DatabaseKind::Sqlite)]
#[case::sqlx_postgres(Backend::Sqlx, DatabaseKind::Postgres)]
#[case::diesel_sqlite(Backend::Diesel, DatabaseKind::Sqlite)]
#[case::diesel_postgres(Backend::Diesel, DatabaseKind::Postgres)]
pub fn all_backends(#[case] backend: Backend, #[case] kind: DatabaseKind) {}

/// The app's state on a fresh database, built by the binary's own wiring. `None` when
/// the test must skip (no Postgres outside CI).
pub async fn state(backend: Backend, kind: DatabaseKind, hi_delay: Duration) -> Option<(web::AppState, TestDatabase)> {
    let db = TestDatabase::create(kind).await?;
    let mut config = config(&db.url, backend);
    config.http.hi_delay = hi_delay;
    let state = orders_api::build_state(&config).await.expect("build the app state");
    Some((state, db))
}

/// The configuration the tests run with: defaults, no greeting delay, a small pool.
pub fn config(database_url: &str, backend: Backend) -> Config {
    Config {
        database_url: database_url.to_owned(),
        backend,
        pool: PoolSettings { max_connections: 5, ..PoolSettings::default() },
        startup_timeout: Duration::ZERO,
        http: HttpSettings { hi_delay: Duration::ZERO, ..HttpSettings::default() },
        server: ServerSettings {
            host: "127.0.0.1".into(),
            port: 0,
            workers: None,
            max_connections: 100,
            keep_alive: Duration::from_secs(5),
            client_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(5),
        },
        log_format: LogFormat::Text,
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub body: Value,
}

impl Reply {
    /// A header's value; empty if absent.
    pub fn header(&self, name: actix_web::http::header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

/// Sends `req` and reads the reply; the body is parsed as JSON when there is one.
pub async fn send<S, B>(app: &S, req: Request) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, req).await;
    let status = response.status();
    let headers = response.headers().clone();
    let raw = test::read_body(response).await.to_vec();
    let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).unwrap_or(Value::Null) };
    Reply { status, headers, raw, body }
}

/// `GET uri`.
pub fn get(uri: &str) -> Request {
    test::TestRequest::get().uri(uri).to_request()
}

/// `POST uri` with a JSON body.
pub fn post_json(uri: &str, body: &Value) -> Request {
    test::TestRequest::post().uri(uri).set_json(body).to_request()
}

/// `PUT uri` with a JSON body.
pub fn put_json(uri: &str, body: &Value) -> Request {
    test::TestRequest::put().uri(uri).set_json(body).to_request()
}

/// `POST uri` with no body.
pub fn post(uri: &str) -> Request {
    test::TestRequest::post().uri(uri).to_request()
}

/// `DELETE uri`.
pub fn delete(uri: &str) -> Request {
    test::TestRequest::delete().uri(uri).to_request()
}

/// A valid order body.
pub fn latte() -> Value {
    json!({"order": [{"product": "latte", "size": "big", "quantity": 2}]})
}

/// Places a valid order and returns its id.
pub async fn place_order<S, B>(app: &S) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let reply = send(app, post_json("/orders", &latte())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_str().expect("an id").to_owned()
}
