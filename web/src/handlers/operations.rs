//! Endpoints for operators and orchestrators: liveness, readiness, metrics.

use crate::AppState;
use crate::error::ApiError;
use crate::responses::StorageErrors;
use crate::schemas::HealthSchema;
use actix_web::{HttpResponse, get, web};

/// Liveness: the process answers. Touches no database, so a database outage does not
/// get healthy instances restarted.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = HealthSchema)))]
#[get("/health")]
pub async fn health() -> web::Json<HealthSchema> {
    web::Json(HealthSchema { status: "ok" })
}

/// Readiness: one database round trip succeeds. Load balancers send traffic only to
/// ready instances.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = HealthSchema),
        StorageErrors,
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<HealthSchema>, ApiError> {
    state.health.ping().await?;
    Ok(web::Json(HealthSchema { status: "ok" }))
}

/// Prometheus metrics: requests by route and status, latencies, requests in flight,
/// database pool connections.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state.metrics.render(state.health.pool_stats())
}
