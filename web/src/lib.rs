//! # app-web: the HTTP face of the service
//!
//! The outer layer above the service (**web** → service ← data). It turns HTTP requests
//! into service calls and service results into HTTP responses, and nothing else: no
//! business rule and no SQL lives here, and this crate does not depend on `data`.
//!
//! - [`handlers`]: one function per operation, each documented for OpenAPI.
//! - [`schemas`]: the JSON shapes of requests and responses; [`fields`]: how a scaffolded
//!   resource's fields are read and documented.
//! - [`extract`]: request extractors that report bad input as 422 like FastAPI.
//! - [`conditional`]: an order's `ETag`, and `If-Match`/`If-None-Match`.
//! - [`idempotency`]: `Idempotency-Key`: a retried `POST` answers as the first did.
//! - [`error`]: the one place where errors become status codes and `{"detail": …}`.
//! - [`responses`]: the error responses operations share, documented once; [`headers`]:
//!   the request headers they share, as the document describes them.
//! - [`docs`]: the OpenAPI document, Swagger UI, and 404/405 for unknown routes.
//! - [`telemetry`]: request ids, log spans, metrics; [`trace_context`]: W3C trace context in and out.
//! - [`redoc`]: Redoc at `/redoc`, from the vendored bundle; [`site`]: both UIs as static files.
//!
//! [`app`] assembles these into an actix-web `App`; the binary serves it.

pub mod auth;
pub mod conditional;
pub mod docs;
pub mod error;
pub mod extract;
pub mod fields;
pub mod handlers;
pub mod headers;
pub mod idempotency;
pub mod redoc;
pub mod responses;
pub mod schemas;
pub mod site;
pub mod telemetry;
pub mod trace_context;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Condition, DefaultHeaders, from_fn};
use actix_web::{App, web};
use app_service::{Idempotency, IdempotencyRepository, OrdersService, StorageHealth};
use std::sync::Arc;
use std::time::Duration;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

/// Limits and policies of the HTTP layer; the binary reads them from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Largest accepted request body in bytes; larger ones get 413.
    pub body_limit: usize,
    /// Origins allowed to call the API from a browser; empty: CORS off.
    pub cors_origins: Vec<String>,
    /// How long `/hi` and `/hi/blocking` wait before answering.
    pub hi_delay: Duration,
    /// How callers of the orders operations are authenticated.
    pub auth: auth::AuthSettings,
    /// Whether writes to an order (`PUT`, `DELETE`, pay, cancel) must carry `If-Match`
    /// (428 without it).
    pub require_if_match: bool,
    /// How long an `Idempotency-Key` answers its first response (then it may be reused).
    pub idempotency_ttl: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            cors_origins: Vec::new(),
            hi_delay: Duration::from_secs(1),
            auth: auth::AuthSettings::Open,
            require_if_match: false,
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// The use cases of every resource, one service each, made by the binary
/// (`app_state` in `src/lib.rs`) from the resource's repository. Handlers take only the
/// service they use, as `web::Data<…>`: [`Services::register`] puts each in the app.
#[derive(Clone)]
pub struct Services {
    /// The orders use cases.
    pub orders: OrdersService,
    // xtask scaffold: services
}

impl Services {
    /// Gives each service to the handlers, as `web::Data` of its own type.
    fn register(&self, config: &mut web::ServiceConfig) {
        config.app_data(web::Data::new(self.orders.clone()));
        // xtask scaffold: register
    }
}

/// What every worker's app shares; built once per process.
#[derive(Clone)]
pub struct AppState {
    /// The use cases of every resource.
    pub services: Services,
    /// The `Idempotency-Key` records of every resource.
    pub keys: Idempotency,
    /// The database as a whole, for readiness and pool gauges.
    pub health: Arc<dyn StorageHealth>,
    /// Limits and policies.
    pub http: Arc<HttpSettings>,
    /// The OpenAPI document and the route table derived from it.
    pub api: Arc<docs::Api>,
    /// Request and pool metrics.
    pub metrics: telemetry::Metrics,
    /// How callers are authenticated (and the identity provider's cached keys).
    pub auth: Arc<auth::Auth>,
}

impl AppState {
    /// State for an app over `services` (and the records of keyed requests in `keys`) on
    /// the database `health` reports on: builds the OpenAPI document (for `http.auth`) and
    /// the metrics.
    pub fn new(
        services: Services,
        keys: Arc<dyn IdempotencyRepository>,
        health: Arc<dyn StorageHealth>,
        http: HttpSettings,
    ) -> Result<Self, prometheus::Error> {
        let keys = Idempotency::new(keys, http.idempotency_ttl);
        let metrics = telemetry::Metrics::new()?;
        let auth = Arc::new(auth::Auth::new(&http.auth));
        let api = Arc::new(docs::Api::new(&http.auth));
        Ok(Self { services, keys, health, http: Arc::new(http), api, metrics, auth })
    }
}

/// The whole application: routes, docs, extractor settings, middleware and fallbacks.
///
/// Middleware, outermost first: request span and id (tracing-actix-web), metrics and the
/// echoed id ([`telemetry::track`]), JSON error bodies, CORS (only with `cors_origins`), security headers.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let swagger = docs::swagger_ui(&state.api);
    let metrics = Arc::new(state.metrics.clone());
    let track = move |request, next| telemetry::track(Arc::clone(&metrics), request, next);
    App::new()
        .into_utoipa_app()
        .configure(handlers::routes)
        .into_app()
        // Handlers take only what they use: a resource's handlers its service (and
        // `Data<Idempotency>`), the rest `Data<AppState>`.
        .configure(|config| state.services.register(config))
        .app_data(web::Data::new(state.keys.clone()))
        .app_data(web::PayloadConfig::new(state.http.body_limit))
        .app_data(extract::path_config())
        .service(swagger)
        .service(docs::docs_redirect)
        .configure(redoc::routes(&state.api))
        .default_service(web::to(docs::fallback))
        // `wrap` puts each middleware outside the previous ones: the last runs first.
        .wrap(security_headers())
        .wrap(Condition::new(!state.http.cors_origins.is_empty(), cors(&state.http.cors_origins)))
        .wrap(error::json_errors())
        .wrap(from_fn(track))
        .wrap(TracingLogger::<telemetry::RequestSpan>::new())
        .app_data(web::Data::new(state))
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            idempotency::IDEMPOTENCY_KEY,
            telemetry::REQUEST_ID,
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::WWW_AUTHENTICATE,
            header::RETRY_AFTER,
            idempotency::IDEMPOTENT_REPLAYED,
            telemetry::REQUEST_ID,
        ])
        .max_age(3600)
}
