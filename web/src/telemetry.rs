//! What makes each request traceable and countable: a request id on its log span and
//! response, Prometheus metrics, and the gauges read at scrape time.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use app_service::PoolStats;
use prometheus::{Encoder, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, as logged and echoed.
#[derive(Debug, Clone)]
pub struct TraceId(pub HeaderValue);

/// Builds each request's log span around its id: the client's `X-Request-Id` when it is
/// sane (1–64 characters of `A-Z a-z 0-9 - _ .`), a fresh UUID otherwise.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.headers().get(REQUEST_ID).filter(|value| is_sane(value.as_bytes())).cloned().or_else(|| {
            let generated = request.extensions().get::<RequestId>().map(ToString::to_string)?;
            HeaderValue::from_str(&generated).ok()
        });
        let shown = id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        if let Some(id) = id {
            request.extensions_mut().insert(TraceId(id));
        }
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".into());
        tracing::info_span!(
            "request",
            request_id = %shown,
            method = %request.method(),
            route = %route,
            status = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if let Ok(response) = outcome {
            span.record("status", response.status().as_u16());
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

fn is_sane(id: &[u8]) -> bool {
    (1..=64).contains(&id.len()) && id.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
}

/// Middleware: echoes the request's id in the response's `X-Request-Id`.
pub async fn echo_request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(request).await?;
    let id = response.request().extensions().get::<TraceId>().map(|id| id.0.clone());
    if let Some(id) = id {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    Ok(response)
}

/// The process's metrics: per-route request counts and latencies (actix-web-prom),
/// requests in flight, and the database pool's connections.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// The middleware that counts and times requests by route pattern and status.
    pub requests: PrometheusMetrics,
    in_flight: IntGauge,
    pool: IntGaugeVec,
}

impl Metrics {
    /// Registers every metric in a registry of its own.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = PrometheusMetricsBuilder::new("orders")
            .registry(registry.clone())
            // Unknown paths share one label value: clients cannot grow the series.
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| prometheus::Error::Msg(e.to_string()))?;
        let in_flight = IntGauge::new("orders_http_requests_in_flight", "Requests being served")?;
        let pool = IntGaugeVec::new(
            Opts::new("orders_db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Self { registry, requests, in_flight, pool })
    }

    /// Counts a request in flight until the returned guard is dropped.
    pub fn start_request(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// The Prometheus text exposition, with the pool gauges read now.
    pub fn render(&self, pool: PoolStats) -> HttpResponse {
        self.pool.with_label_values(&["in_use"]).set(i64::from(pool.open.saturating_sub(pool.idle)));
        self.pool.with_label_values(&["idle"]).set(i64::from(pool.idle));
        let mut text = Vec::new();
        let encoder = TextEncoder::new();
        match encoder.encode(&self.registry.gather(), &mut text) {
            Ok(()) => HttpResponse::Ok().content_type(encoder.format_type()).body(text),
            Err(error) => {
                tracing::error!(%error, "metrics encoding failed");
                HttpResponse::InternalServerError().finish()
            }
        }
    }
}

/// A request counted in flight; dropping it (on completion or cancellation) uncounts it.
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}
