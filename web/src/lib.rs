//! # web: the HTTP face of the service
//!
//! The outer layer above the service (**web** → service ← data). It turns HTTP requests
//! into service calls and service results into HTTP responses, and nothing else: no
//! business rule and no SQL lives here, and this crate does not depend on `data`.
//!
//! - [`handlers`]: one function per operation, each documented for OpenAPI.
//! - [`schemas`]: the JSON shapes of requests and responses.
//! - [`extract`]: request extractors that report bad input as 422 like FastAPI.
//! - [`error`]: the one place where errors become status codes and `{"detail": …}`.
//! - [`docs`]: the OpenAPI document, Swagger UI, and 404/405 for unknown routes.
//!
//! [`app`] assembles these into an actix-web `App`; the binary serves it.

pub mod docs;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod schemas;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use service::OrdersService;
use std::sync::Arc;
use std::time::Duration;
use utoipa_actix_web::AppExt;

/// Largest accepted request body; larger ones get 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every worker's app shares.
#[derive(Clone)]
pub struct AppState {
    /// The orders use cases.
    pub orders: OrdersService,
    /// How long `/hi` and `/hi/blocking` wait before answering.
    pub hi_delay: Duration,
    /// The OpenAPI document and the route table derived from it, built once.
    pub api: Arc<docs::Api>,
}

impl AppState {
    /// State for an app over `orders`, with the OpenAPI document built.
    pub fn new(orders: OrdersService, hi_delay: Duration) -> Self {
        Self { orders, hi_delay, api: Arc::new(docs::Api::new()) }
    }
}

/// The whole application: routes, docs, extractor settings and fallbacks.
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
    App::new()
        .into_utoipa_app()
        .configure(handlers::routes)
        .into_app()
        .app_data(web::Data::new(state.orders.clone()))
        .app_data(web::Data::new(state.clone()))
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(extract::path_config())
        .service(swagger)
        .service(docs::docs_redirect)
        .default_service(web::to(docs::fallback))
}
