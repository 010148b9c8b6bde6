//! Traces over OTLP/HTTP (protobuf), configured by the OpenTelemetry standard variables.
//!
//! [`Export::from_env`] decides whether there is anything to do: only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and
//! `OTEL_SDK_DISABLED` is not `true`). Otherwise no exporter, no layer, no propagator is
//! installed and nothing is ever sent — not even to the SDK's default `localhost:4318`.
//! The rest of the variables (`…_HEADERS`, `…_TIMEOUT`, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_BSP_*`) are read by the
//! SDK itself; this module reads only what it must decide on.
//!
//! Export never holds up a request: spans go to the SDK's batch processor, whose thread of
//! its own does the (blocking) HTTP. Its queue is bounded; the SDK drops spans when it is
//! full but does not say how many, so `Bounded` keeps the count itself — it lets a span
//! into the queue only while fewer than the queue's size are waiting or being sent (the
//! processor's queue then can never overflow) and counts the rest, and `Counted` counts
//! the spans of batches the collector did not take: both in `otel_spans_dropped_total`.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, Key};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, Span, SpanData, SpanExporter, SpanProcessor,
};
use prometheus::IntCounterVec;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// The queue's size when `OTEL_BSP_MAX_QUEUE_SIZE` is not set: the SDK's default.
const DEFAULT_QUEUE: usize = 2048;

/// The trace pipeline, when the environment asks for one: the provider (batch processor
/// and OTLP exporter) and the count of spans it dropped.
pub struct Export {
    provider: SdkTracerProvider,
    dropped: IntCounterVec,
}

impl Export {
    /// The pipeline the standard variables describe, or `None` when they name no endpoint
    /// or disable the SDK. An invalid endpoint or header is an error.
    pub fn from_env() -> Result<Option<Self>, String> {
        if !wanted(|name| std::env::var(name).ok()) {
            return Ok(None);
        }
        // The blocking client speaks TLS with rustls and ring, as the JWKS client does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| format!("OTEL_EXPORTER_OTLP_*: {e}"))?;
        let capacity = queue_size(std::env::var("OTEL_BSP_MAX_QUEUE_SIZE").ok().as_deref());
        let dropped = IntCounterVec::new(
            prometheus::Opts::new(
                "otel_spans_dropped_total",
                "Spans not exported: the export queue was full, or the collector did not take them",
            ),
            &["reason"],
        )
        .map_err(|e| e.to_string())?;
        // Both series exist from the start, at 0: an alert can compare them with a rate.
        for reason in ["queue_full", "export_failed"] {
            dropped.with_label_values(&[reason]);
        }
        let pending = Arc::new(AtomicUsize::new(0));
        let exporter = Counted {
            inner: exporter,
            pending: Arc::clone(&pending),
            dropped: dropped.clone(),
            failing: AtomicBool::new(false),
        };
        let batches = BatchSpanProcessor::builder(exporter)
            .with_batch_config(BatchConfigBuilder::default().with_max_queue_size(capacity).build())
            .build();
        let processor = Bounded { inner: batches, pending, capacity, dropped: dropped.clone() };
        let provider = SdkTracerProvider::builder().with_span_processor(processor).with_resource(resource()).build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        Ok(Some(Self { provider, dropped }))
    }

    /// The layer that turns the service's spans into OpenTelemetry spans: the request's
    /// (`app_web`) and the ones made for traces alone (target `otel`), nothing else — in
    /// particular not the HTTP client's own, which would trace the export itself.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.provider.tracer(env!("CARGO_PKG_NAME"));
        let wanted = Targets::new()
            .with_target("app_web", tracing::Level::INFO)
            .with_target(app_data::trace::TARGET, tracing::Level::INFO);
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_tracked_inactivity(false)
            .with_threads(false)
            .with_location(false)
            .with_target(false)
            .with_filter(wanted)
    }

    /// The count of dropped spans, for `/metrics`.
    pub fn dropped(&self) -> IntCounterVec {
        self.dropped.clone()
    }

    /// Sends what is pending and stops, waiting at most `timeout` (on a thread of the
    /// blocking pool: the SDK's shutdown blocks).
    pub async fn shutdown(self, timeout: Duration) {
        let provider = self.provider;
        let done = tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(timeout)).await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "traces: not all pending spans were sent before exit"),
            Err(error) => tracing::warn!(%error, "traces: the exporter's shutdown failed"),
        }
    }
}

/// Whether the variables read by `var` ask for export: an endpoint, and the SDK not disabled.
fn wanted(var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|value| !value.trim().is_empty());
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// The queue size the SDK reads from `OTEL_BSP_MAX_QUEUE_SIZE`, read the same way.
fn queue_size(value: Option<&str>) -> usize {
    value.and_then(|v| v.trim().parse().ok()).filter(|&size| size > 0).unwrap_or(DEFAULT_QUEUE)
}

/// What the SDK detects (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), named after the
/// package when neither names the service: the template's name becomes a generated
/// service's own.
fn resource() -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    if named { detected } else { Resource::builder().with_service_name(env!("CARGO_PKG_NAME")).build() }
}

/// The batch processor behind a gate that counts what it turns away (see the module's
/// header): at most `capacity` spans queued or being sent at once.
#[derive(Debug)]
struct Bounded {
    inner: BatchSpanProcessor,
    pending: Arc<AtomicUsize>,
    capacity: usize,
    dropped: IntCounterVec,
}

impl SpanProcessor for Bounded {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        // Unsampled spans never enter the processor's queue; it discards them itself.
        if span.span_context.is_sampled() && self.pending.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            self.dropped.with_label_values(&["queue_full"]).inc();
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The exporter, counting the spans of batches that failed and letting the gate know
/// when a batch is done with. Says once when the collector starts failing and once when
/// it takes spans again, rather than once per batch.
#[derive(Debug)]
struct Counted<E> {
    inner: E,
    pending: Arc<AtomicUsize>,
    dropped: IntCounterVec,
    failing: AtomicBool,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        let spans = batch.len();
        let sent = self.inner.export(batch);
        async move {
            let result = sent.await;
            self.pending.fetch_sub(spans, Ordering::AcqRel);
            match &result {
                Ok(()) => {
                    if self.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!("traces: the collector takes spans again");
                    }
                }
                Err(error) => {
                    self.dropped.with_label_values(&["export_failed"]).inc_by(spans as u64);
                    if !self.failing.swap(true, Ordering::Relaxed) {
                        tracing::warn!(%error, "traces: the collector did not take spans; dropping them (counted)");
                    }
                }
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
    }

    #[test]
    fn export_needs_an_endpoint_and_the_sdk_enabled() {
        assert!(!wanted(env(&[])));
        assert!(!wanted(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])));
        assert!(!wanted(env(&[("OTEL_SERVICE_NAME", "shop"), ("OTEL_TRACES_SAMPLER", "always_on")])));
        assert!(wanted(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")])));
        assert!(wanted(env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces")])));
        assert!(!wanted(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "TRUE")])));
        assert!(wanted(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "false")])));
    }

    #[test]
    fn the_queue_size_is_the_sdks() {
        assert_eq!(queue_size(None), DEFAULT_QUEUE);
        assert_eq!(queue_size(Some("100")), 100);
        assert_eq!(queue_size(Some("0")), DEFAULT_QUEUE);
        assert_eq!(queue_size(Some("many")), DEFAULT_QUEUE);
    }
}
