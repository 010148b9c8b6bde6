//! W3C trace context in and out: the request's span joins the caller's trace
//! (`traceparent`, `tracestate`) and is named and described as the OpenTelemetry semantic
//! conventions say; outgoing requests (the JWKS fetch) carry the trace on.
//!
//! All of it happens only once the binary has installed a trace exporter and said so with
//! [`enable`]: without one, a request's span and its log line are what they always were,
//! and the request pays one relaxed atomic load for it.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Says that spans are exported: from now on requests join their caller's trace and
/// their spans carry the semantic conventions' attributes. The binary calls it once it
/// has installed the exporter and the W3C propagator.
pub fn enable() {
    EXPORTING.store(true, Ordering::Relaxed);
}

/// Whether spans are exported (see [`enable`]).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Describes `span`, a request's span made with these fields empty, for traces: its name
/// (`METHOD route`, the route's template, never the raw path), kind and attributes; its
/// parent, the caller's span from `traceparent`; and, for the log lines written inside it,
/// its `trace_id` and `span_id`.
pub(crate) fn join(span: &Span, request: &ServiceRequest, route: Option<&str>) {
    let method = request.method().as_str();
    let name = match route {
        Some(route) => format!("{method} {route}"),
        // Unmatched paths are not templates: the method alone keeps names few.
        None => method.to_owned(),
    };
    span.record("otel.name", name);
    span.record("otel.kind", "server");
    // Attributes for the trace alone, not fields: the log line does not repeat them.
    span.set_attribute("http.request.method", method.to_owned());
    if let Some(route) = route {
        span.set_attribute("http.route", route.to_owned());
    }
    span.set_attribute("url.path", request.path().to_owned());
    let info = request.connection_info();
    let (host, port) = split_port(info.host());
    span.set_attribute("server.address", host.to_owned());
    if let Some(port) = port {
        span.set_attribute("server.port", i64::from(port));
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&Headers(request.headers())));
    // Fails only if the span is already started or not traced; either way it stays a root.
    let _ = span.set_parent(parent);
    let context = span.context();
    let ids = context.span().span_context().clone();
    if ids.is_valid() {
        span.record("trace_id", tracing::field::display(ids.trace_id()));
        span.record("span_id", tracing::field::display(ids.span_id()));
    }
}

/// Gives the request's span its response's status, `http.response.status_code`.
pub(crate) fn set_status(span: &Span, status: u16) {
    span.set_attribute("http.response.status_code", i64::from(status));
}

/// `host[:port]` of the `Host` header (or the forwarded host) as host and port.
fn split_port(host: &str) -> (&str, Option<u16>) {
    match host.rsplit_once(':') {
        // `[::1]` alone has colons but no port; `[::1]:80` ends in one after the `]`.
        Some((name, port)) if !port.contains(']') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (host, None),
        },
        _ => (host, None),
    }
}

/// Writes the trace context of `span` (`traceparent`, `tracestate`) into `headers` of an
/// outgoing request. Nothing when spans are not exported.
pub(crate) fn inject(span: &Span, headers: &mut reqwest::header::HeaderMap) {
    if !exporting() {
        return;
    }
    let context = span.context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut Outgoing(headers));
    });
}

/// An incoming request's headers, as the propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(actix_web::http::header::HeaderName::as_str).collect()
    }
}

/// An outgoing request's headers, as the propagator writes them.
struct Outgoing<'a>(&'a mut reqwest::header::HeaderMap);

impl Injector for Outgoing<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) =
            (reqwest::header::HeaderName::try_from(key), reqwest::header::HeaderValue::try_from(value))
        {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_port;

    #[test]
    fn the_port_is_split_off_the_host() {
        assert_eq!(split_port("localhost:8000"), ("localhost", Some(8000)));
        assert_eq!(split_port("example.com"), ("example.com", None));
        assert_eq!(split_port("[::1]:8000"), ("[::1]", Some(8000)));
        assert_eq!(split_port("[::1]"), ("[::1]", None));
    }
}
