//! The test language: a [`TestApp`] is the whole app, wired by the binary's own code, on
//! a fresh database; tests talk to it in HTTP terms (`app.get(..)`, `app.place_order()`).

// Builds with fewer features use fewer of these helpers.
#![allow(dead_code)]

use actix_http::Request;
use actix_service::ServiceExt;
use actix_service::boxed::{self, BoxService};
use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::test;
use app::config::Config;
pub use app_data::testing::{Target, TestDatabase};
pub use app_data::{Backend, all_backends};
use serde_json::{Value, json};

/// The app as a test sees it: requests in, responses out.
type Handler = BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// The whole app on a fresh database of its own.
pub struct TestApp {
    handler: Handler,
    /// The app's state, to build variants of the app over the same database.
    pub state: app_web::AppState,
    /// The database, dropped (and, on Postgres, deleted) with the app.
    pub db: TestDatabase,
}

impl TestApp {
    /// The app with the test configuration ([`config`]) on `backend` and a fresh database
    /// of `kind`; `None` when the test must skip (no Postgres outside CI).
    pub async fn spawn(backend: Backend, target: Target) -> Option<Self> {
        Self::spawn_with(backend, target, |_| {}).await
    }

    /// The app on the default backend and the first database compiled in, for tests
    /// of what does not depend on them.
    pub async fn spawn_default() -> Option<Self> {
        Self::spawn(Backend::default(), default_kind()).await
    }

    /// [`spawn`](Self::spawn), with the configuration changed by `adjust` first.
    pub async fn spawn_with(backend: Backend, target: Target, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        let db = TestDatabase::create(target).await?;
        let mut config = config(&db, backend);
        adjust(&mut config);
        Some(Self::on(db, &config).await)
    }

    /// The app with `config` on the existing test database `db`.
    pub async fn on(db: TestDatabase, config: &Config) -> Self {
        let database = app::connect(config).await.expect("connect to the test database");
        let state = app::app_state(&database, config).expect("build the app state");
        Self { handler: handler(state.clone()).await, state, db }
    }

    /// The same app over the same database, with its HTTP settings changed by `adjust`.
    pub async fn variant(&self, adjust: impl FnOnce(&mut app_web::HttpSettings)) -> Handler {
        let mut http = (*self.state.http).clone();
        adjust(&mut http);
        handler(app_web::AppState { http: std::sync::Arc::new(http), ..self.state.clone() }).await
    }

    /// Sends `request` and reads the whole reply.
    pub async fn send(&self, request: Request) -> Reply {
        send(&self.handler, request).await
    }

    /// `GET uri`.
    pub async fn get(&self, uri: &str) -> Reply {
        self.send(test::TestRequest::get().uri(uri).to_request()).await
    }

    /// `POST uri` with a JSON body.
    pub async fn post_json(&self, uri: &str, body: &Value) -> Reply {
        self.send(test::TestRequest::post().uri(uri).set_json(body).to_request()).await
    }

    /// `PUT uri` with a JSON body.
    pub async fn put_json(&self, uri: &str, body: &Value) -> Reply {
        self.send(test::TestRequest::put().uri(uri).set_json(body).to_request()).await
    }

    /// `POST uri` with no body.
    pub async fn post(&self, uri: &str) -> Reply {
        self.send(test::TestRequest::post().uri(uri).to_request()).await
    }

    /// `DELETE uri`.
    pub async fn delete(&self, uri: &str) -> Reply {
        self.send(test::TestRequest::delete().uri(uri).to_request()).await
    }

    /// Places [`latte`] and returns the new order's id.
    pub async fn place_order(&self) -> String {
        let reply = self.post_json("/orders", &latte()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["id"].as_str().expect("an id").to_owned()
    }

    /// `GET /orders/{id}`.
    pub async fn order(&self, id: &str) -> Reply {
        self.get(&format!("/orders/{id}")).await
    }

    /// `POST /orders/{id}/pay`.
    pub async fn pay(&self, id: &str) -> Reply {
        self.post(&format!("/orders/{id}/pay")).await
    }

    /// `POST /orders/{id}/cancel`.
    pub async fn cancel(&self, id: &str) -> Reply {
        self.post(&format!("/orders/{id}/cancel")).await
    }
}

/// SQLite where it is compiled in, else Postgres.
pub fn default_kind() -> Target {
    if cfg!(feature = "sqlite") { Target::Sqlite } else { Target::Postgres }
}

/// The app over `state`, boxed so tests can hold it.
pub async fn handler(state: app_web::AppState) -> Handler {
    let app = test::init_service(app_web::app(state)).await;
    boxed::service(app.map(ServiceResponse::map_into_boxed_body))
}

/// Sends `request` to `handler` and reads the whole reply.
pub async fn send(handler: &Handler, request: Request) -> Reply {
    let response = handler.call(request).await.expect("the app answers");
    let status = response.status();
    let headers = response.headers().clone();
    let raw = test::read_body(response).await.to_vec();
    let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).unwrap_or(Value::Null) };
    Reply { status, headers, raw, body }
}

/// The configuration the tests run with on `db`: the defaults, with no greeting delay
/// and a small pool.
pub fn config(db: &TestDatabase, backend: Backend) -> Config {
    let mut config = Config {
        database_url: db.url.clone(),
        database_migration_url: db.migration_url(),
        backend,
        pool: db.pool_settings(),
        ..Config::default()
    };
    config.pool.max_connections = 5;
    config.startup_timeout = std::time::Duration::ZERO;
    config.http.hi_delay = std::time::Duration::ZERO;
    config
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
    pub fn header(&self, name: HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

/// A valid order body.
pub fn latte() -> Value {
    json!({"order": [{"product": "latte", "size": "big", "quantity": 2}]})
}

/// `request` with `Authorization: Bearer <token>`.
pub fn bearer(mut request: Request, token: &str) -> Request {
    let value = actix_web::http::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("a header value");
    request.headers_mut().insert(actix_web::http::header::AUTHORIZATION, value);
    request
}

/// `GET uri`, for [`TestApp::send`] where a test needs the request as a value.
pub fn get(uri: &str) -> Request {
    test::TestRequest::get().uri(uri).to_request()
}

/// `POST uri` with a JSON body, as a value.
pub fn post_json(uri: &str, body: &Value) -> Request {
    test::TestRequest::post().uri(uri).set_json(body).to_request()
}

/// `PUT uri` with a JSON body, as a value.
pub fn put_json(uri: &str, body: &Value) -> Request {
    test::TestRequest::put().uri(uri).set_json(body).to_request()
}

/// `POST uri` with no body, as a value.
pub fn post(uri: &str) -> Request {
    test::TestRequest::post().uri(uri).to_request()
}

/// `DELETE uri`, as a value.
pub fn delete(uri: &str) -> Request {
    test::TestRequest::delete().uri(uri).to_request()
}
