//! An OTLP/HTTP trace receiver for tests: what a collector (Jaeger, Tempo, the
//! OpenTelemetry Collector) sees of the service's traces, decoded with the protocol's own
//! message types (`opentelemetry-proto`). It can also answer errors, or take a request and
//! never answer, to play a collector that fails or hangs.
//!
//! HTTP/1.1 by hand on a Tokio listener — a request head, a `Content-Length` body, one
//! reply, keep-alive — because that is all an OTLP exporter sends, and so the receiver
//! runs inside any test's runtime.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long a test waits for spans that should arrive.
const PATIENCE: Duration = Duration::from_secs(30);

/// A status the receiver never sends: it reads the request and keeps the connection open.
const HANG: u16 = 0;

/// A span as received, flattened: ids in lowercase hex, attributes as text.
#[derive(Debug, Clone)]
pub struct Span {
    /// The trace's id (32 hex digits).
    pub trace_id: String,
    /// The span's id (16 hex digits).
    pub span_id: String,
    /// The parent's id; empty for a root span.
    pub parent_span_id: String,
    /// The span's name.
    pub name: String,
    /// OTLP's span kind: 1 internal, 2 server, 3 client.
    pub kind: i32,
    /// OTLP's status code: 0 unset, 1 ok, 2 error.
    pub status: i32,
    /// The span's attributes.
    pub attributes: Vec<(String, String)>,
    /// The `service.name` of the resource that sent it.
    pub service: String,
}

impl Span {
    /// The attribute `key`, as text.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The receiver: listening on a local port until dropped.
pub struct Collector {
    /// Its base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT` (traces go to `/v1/traces`).
    pub endpoint: String,
    spans: Arc<Mutex<Vec<Span>>>,
    received: watch::Receiver<usize>,
    status: Arc<AtomicU16>,
    requests: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Collector {
    /// A receiver that takes every export (200), on a port of the system's choosing.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await.expect("a free port")
    }

    /// A receiver on `address`, or `None` if that is taken.
    pub async fn start_on(address: &str) -> Option<Self> {
        let listener = TcpListener::bind(address).await.ok()?;
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let spans = Arc::new(Mutex::new(Vec::new()));
        let (tx, received) = watch::channel(0);
        let status = Arc::new(AtomicU16::new(200));
        let requests = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = Seen {
            spans: Arc::clone(&spans),
            received: Arc::new(tx),
            requests: Arc::clone(&requests),
            heads: Arc::clone(&heads),
        };
        let answer = Arc::clone(&status);
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, answer) = (seen.clone(), Arc::clone(&answer));
                tokio::spawn(async move {
                    let _ = serve(stream, &seen, &answer).await;
                });
            }
        });
        Some(Self { endpoint, spans, received, status, requests, heads, accept })
    }

    /// The request line and headers of each export that arrived.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// How many export requests arrived, answered or not.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// From now on, answers every export with `status` (and drops what it carried).
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// From now on, reads every export and never answers it.
    pub fn hang(&self) {
        self.status.store(HANG, Ordering::SeqCst);
    }

    /// Every span taken so far.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }

    /// Waits, as exports arrive, until `done` holds for the spans taken; panics after
    /// [`PATIENCE`] with what did arrive.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let mut received = self.received.clone();
        let arrived = tokio::time::timeout(PATIENCE, async {
            loop {
                let spans = self.spans();
                if done(&spans) {
                    return spans;
                }
                if received.changed().await.is_err() {
                    return spans;
                }
            }
        });
        match arrived.await {
            Ok(spans) if done(&spans) => spans,
            _ => panic!("{what}: not received in {PATIENCE:?}; received {:#?}", self.spans()),
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// What the receiver keeps of what it was sent, shared by its connections.
#[derive(Clone)]
struct Seen {
    spans: Arc<Mutex<Vec<Span>>>,
    received: Arc<watch::Sender<usize>>,
    requests: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
}

/// Serves one connection: requests one after the other, each answered with the status of
/// the moment.
async fn serve(stream: TcpStream, seen: &Seen, status: &AtomicU16) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let mut length = 0;
        let mut line = String::new();
        let mut head = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Ok(()); // the exporter closed the connection
            }
            head.push_str(&line);
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        seen.heads.lock().unwrap().push(head);
        seen.requests.fetch_add(1, Ordering::SeqCst);
        let answer = status.load(Ordering::SeqCst);
        if answer == HANG {
            // Holds the connection until the exporter gives up on it.
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
            return Ok(());
        }
        if answer == 200 {
            let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("an OTLP trace export");
            let total = {
                let mut spans = seen.spans.lock().unwrap();
                spans.extend(flatten(request));
                spans.len()
            };
            seen.received.send_replace(total);
        }
        let reply = format!(
            "HTTP/1.1 {answer} {}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
            if answer == 200 { "OK" } else { "Error" }
        );
        stream.get_mut().write_all(reply.as_bytes()).await?;
    }
}

fn flatten(request: ExportTraceServiceRequest) -> Vec<Span> {
    let mut spans = Vec::new();
    for resource in request.resource_spans {
        let attributes = resource.resource.map(|r| r.attributes).unwrap_or_default();
        let service = text_attributes(attributes)
            .into_iter()
            .find(|(key, _)| key == "service.name")
            .map(|(_, value)| value)
            .unwrap_or_default();
        for scope in resource.scope_spans {
            for span in scope.spans {
                spans.push(Span {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    name: span.name,
                    kind: span.kind,
                    status: span.status.map_or(0, |status| status.code),
                    attributes: text_attributes(span.attributes),
                    service: service.clone(),
                });
            }
        }
    }
    spans
}

fn text_attributes(attributes: Vec<KeyValue>) -> Vec<(String, String)> {
    attributes.into_iter().map(|kv| (kv.key, kv.value.map(text).unwrap_or_default())).collect()
}

fn text(value: AnyValue) -> String {
    match value.value {
        Some(any_value::Value::StringValue(s)) => s,
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
