//! What makes each request traceable and countable: a request id on its log span and
//! response, Prometheus metrics, and the gauges read at scrape time.
//!
//! Two middleware do it, both on the hot path of every request, so both do only what
//! they must: tracing-actix-web's `TracingLogger` (with [`RequestSpan`]) gives the
//! request its id and span (and, when spans are exported, its place in the caller's trace:
//! `trace_context.rs`); [`track`] counts it in flight, then counts and times it by
//! route, method and status, and echoes its id.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use app_service::PoolStats;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::Arc;
use std::time::Instant;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route label of requests that matched no route: clients cannot grow the series.
const UNMATCHED: &str = "UNMATCHED";

/// The id of the request being served, as logged and echoed.
#[derive(Debug, Clone)]
pub struct TraceId(pub HeaderValue);

/// Builds each request's log span around its id: the client's `X-Request-Id` when it is
/// sane (1–64 characters of `A-Z a-z 0-9 - _ .`), a fresh UUID otherwise.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.headers().get(REQUEST_ID).filter(|value| is_sane(value.as_bytes())).cloned().or_else(|| {
            let generated = request.extensions().get::<RequestId>().copied()?;
            let mut text = uuid::Uuid::encode_buffer();
            HeaderValue::from_str(generated.hyphenated().encode_lower(&mut text)).ok()
        });
        // The fields are computed only when the span is enabled (`RUST_LOG=info` and
        // finer): at `warn`, a request costs no route lookup and no copies for the log.
        let span = tracing::info_span!(
            "request",
            request_id = id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default(),
            method = %request.method(),
            route = request.match_pattern().as_deref().unwrap_or(UNMATCHED),
            status = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            // Recorded only while spans are exported (trace_context.rs, which gives the
            // other attributes to the trace alone): without an exporter the log line stays
            // as it was; with one it gains the trace's ids.
            otel.name = tracing::field::Empty,
            otel.kind = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            span_id = tracing::field::Empty,
        );
        if crate::trace_context::exporting() && !span.is_disabled() {
            crate::trace_context::join(&span, request, request.match_pattern().as_deref());
        }
        if let Some(id) = id {
            request.extensions_mut().insert(TraceId(id));
        }
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if let Ok(response) = outcome {
            span.record("status", response.status().as_u16());
        }
        if !crate::trace_context::exporting() {
            DefaultRootSpanBuilder::on_request_end(span, outcome);
            return;
        }
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        crate::trace_context::set_status(&span, status.as_u16());
        DefaultRootSpanBuilder::on_request_end(span.clone(), outcome);
        // The default marks errors by the `Error` a response carries; a 5xx made without
        // one (a handler's own 500) is a server error all the same.
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
    }
}

fn is_sane(id: &[u8]) -> bool {
    (1..=64).contains(&id.len()) && id.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
}

/// Middleware: counts the request in flight while it is served; then counts and times
/// it by route pattern, method and status, and echoes its id in `X-Request-Id`.
///
/// One middleware for the three, so a request pays for one layer and one route lookup.
/// The time is to the response's head; bodies here are small and already in memory.
pub async fn track(
    metrics: Arc<Metrics>,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let in_flight = metrics.start_request();
    let outcome = next.call(request).await;
    drop(in_flight);
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(mut response) => {
            let route = response.request().match_pattern();
            metrics.observe(route.as_deref().unwrap_or(UNMATCHED), &method, response.status(), seconds);
            let id = response.request().extensions().get::<TraceId>().map(|id| id.0.clone());
            if let Some(id) = id {
                response.headers_mut().insert(REQUEST_ID, id);
            }
            Ok(response)
        }
        Err(error) => {
            // Rendered by the server further out; counted here all the same.
            metrics.observe(UNMATCHED, &method, error.as_response_error().status_code(), seconds);
            Err(error)
        }
    }
}

/// The process's metrics: requests by route, method and status (count and latency),
/// requests in flight, and the database pool's connections.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    in_flight: IntGauge,
    pool: IntGaugeVec,
}

impl Metrics {
    /// Registers every metric in a registry of its own.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let labels = ["endpoint", "method", "status"];
        let requests = IntCounterVec::new(Opts::new("http_requests_total", "HTTP requests served"), &labels)?;
        let durations = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request duration in seconds"),
            &labels,
        )?;
        let in_flight = IntGauge::new("http_requests_in_flight", "HTTP requests being served")?;
        let pool =
            IntGaugeVec::new(Opts::new("db_pool_connections", "Database pool connections by state"), &["state"])?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(durations.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Self { registry, requests, durations, in_flight, pool })
    }

    /// Adds `collector`'s metrics to the exposition: the binary's own, such as the trace
    /// exporter's dropped spans.
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// Counts a request in flight until the returned guard is dropped.
    pub fn start_request(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Counts one finished request and its duration.
    fn observe(
        &self,
        route: &str,
        method: &actix_web::http::Method,
        status: actix_web::http::StatusCode,
        seconds: f64,
    ) {
        let labels = [route, method.as_str(), status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.durations.with_label_values(&labels).observe(seconds);
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
