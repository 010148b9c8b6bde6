//! Traces, as an operator gets them: the real binary, the OpenTelemetry variables, and an
//! OTLP/HTTP receiver in the test (`tests/shared/otlp.rs`) playing the collector.
//!
//! Spans are sent in batches on a schedule; these tests set the schedule to a minute, so
//! what arrives after SIGTERM arrived because shutdown flushed it.

use super::*;
use crate::otlp::{Collector, Span};
use crate::provider::{AUDIENCE, ISSUER, IdentityProvider, TestKey, claims, token};
use app_data::Backend;
use app_data::all_backends;
use app_data::rstest_reuse::apply;
use app_data::testing::Target;
use app_web::auth::AuthSettings;

/// The caller's trace and span, as a W3C `traceparent` carries them.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn traceparent() -> String {
    format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01")
}

/// The environment of a service on `db` with `backend`, exporting to `endpoint`.
fn traced_env(db: &TestDatabase, backend: &str, endpoint: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("DATABASE_URL".to_owned(), db.url.clone()),
        ("DATA_BACKEND".to_owned(), backend.to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), endpoint.to_owned()),
        // Nothing is sent on the schedule during a test: what arrives, shutdown sent.
        ("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "60000".to_owned()),
    ];
    if let Some(direct) = db.migration_url() {
        env.push(("DB_POOLER".to_owned(), "transaction".to_owned()));
        env.push(("DATABASE_MIGRATION_URL".to_owned(), direct));
    }
    env
}

fn start(env: &[(String, String)]) -> Service {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Service::start(&pairs)
}

fn server_span<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans.iter().find(|span| span.name == name && span.kind == 2).unwrap_or_else(|| panic!("{name}: {spans:#?}"))
}

/// The whole path of a request: the caller's trace continued, the request's SERVER span
/// with the semantic conventions' name and attributes, each statement and the wait for a
/// connection as its children, the ids in the JSON log lines; sent at SIGTERM, exit 0.
#[apply(all_backends)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_traced_from_the_callers_span_to_its_statements(backend: Backend, target: Target) {
    let Some(db) = TestDatabase::create(target).await else { return };
    let collector = Collector::start().await;
    let mut env = traced_env(&db, &backend.to_string(), &collector.endpoint);
    env.push(("LOG_FORMAT".to_owned(), "json".to_owned()));
    let mut service = start(&env);
    service.wait_until_healthy().await;

    let body = r#"{"order": [{"product": "secret-latte", "size": "small"}]}"#;
    let headers = [("traceparent", traceparent()), ("X-Request-Id", "traced-1".to_owned())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, placed) = request(service.port, "POST /orders", &headers, body).await.unwrap();
    assert_eq!(status, 201, "{placed}");
    let id = serde_json::from_str::<serde_json::Value>(&placed).unwrap()["id"].as_str().unwrap().to_owned();
    let (status, _) = request(service.port, &format!("GET /orders/{id}"), &[], "").await.unwrap();
    assert_eq!(status, 200);
    assert!(collector.spans().is_empty(), "nothing is sent before the schedule or shutdown");

    service.terminate();
    assert!(service.exit_status().await.success(), "exit code 0");
    let spans = collector
        .wait_for("both requests", |spans| {
            spans.iter().any(|s| s.name == "POST /orders") && spans.iter().any(|s| s.name == "GET /orders/{order_id}")
        })
        .await;

    let post = server_span(&spans, "POST /orders");
    assert_eq!(post.trace_id, CALLER_TRACE, "the caller's trace goes on");
    assert_eq!(post.parent_span_id, CALLER_SPAN, "the caller's span is the parent");
    assert_eq!(post.service, env!("CARGO_PKG_NAME"));
    for (key, value) in [
        ("http.request.method", "POST"),
        ("http.route", "/orders"),
        ("url.path", "/orders"),
        ("http.response.status_code", "201"),
        ("server.address", "localhost"),
    ] {
        assert_eq!(post.attribute(key), Some(value), "{key} of {post:#?}");
    }
    assert_ne!(post.status, 2, "a 201 is no error");

    let get = server_span(&spans, "GET /orders/{order_id}");
    assert_ne!(get.trace_id, CALLER_TRACE, "without traceparent, a new trace");
    assert!(get.parent_span_id.is_empty(), "a root span: {get:#?}");
    assert_eq!(get.attribute("http.route"), Some("/orders/{order_id}"));
    assert_eq!(get.attribute("url.path"), Some(format!("/orders/{id}").as_str()));

    let system = match target.kind() {
        app_data::DatabaseKind::Sqlite => "sqlite",
        app_data::DatabaseKind::Postgres => "postgresql",
    };
    let children = |parent: &Span| -> Vec<Span> {
        spans.iter().filter(|s| s.parent_span_id == parent.span_id && s.trace_id == parent.trace_id).cloned().collect()
    };
    let under_post = children(post);
    let insert = under_post
        .iter()
        .find(|s| s.attribute("db.operation.name") == Some("INSERT"))
        .unwrap_or_else(|| panic!("an INSERT under the request's span: {under_post:#?}"));
    assert_eq!(insert.kind, 3, "a CLIENT span");
    assert_eq!(insert.attribute("db.system.name"), Some(system));
    let sql = insert.attribute("db.query.text").unwrap();
    assert!(sql.contains("INSERT INTO"), "{sql}");
    assert!(spans.iter().all(|s| !s.attributes.iter().any(|(_, v)| v.contains("secret-latte"))), "no values");
    assert!(under_post.iter().any(|s| s.name == "acquire connection"), "the wait for a connection: {under_post:#?}");
    let under_get = children(get);
    assert!(under_get.iter().any(|s| s.attribute("db.operation.name") == Some("SELECT")), "{under_get:#?}");

    let logged = service.stdout();
    let line = logged.iter().find(|l| l.contains("traced-1")).expect("a line of the request");
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["span"]["trace_id"], CALLER_TRACE, "{line}");
    assert_eq!(line["span"]["span_id"], post.span_id.as_str(), "{line}");
    assert_eq!(line["span"]["request_id"], "traced-1", "the request id stays");
}

/// Text log lines carry the ids too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_carry_the_trace_id() {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let collector = Collector::start().await;
    let backend = if cfg!(feature = "sqlx") { "sqlx" } else { "diesel" };
    let mut env = traced_env(&db, backend, &collector.endpoint);
    env.push(("OTEL_EXPORTER_OTLP_HEADERS".to_owned(), "x-collector-key=k1".to_owned()));
    let mut service = start(&env);
    service.wait_until_healthy().await;
    let headers = [("traceparent", traceparent())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(request(service.port, "GET /orders", &headers, "").await.unwrap().0, 200);
    // (The text format colours names and values apart: `trace_id`, `=`, the id.)
    let line = service.line_containing(CALLER_TRACE).await;
    assert!(line.contains("trace_id") && line.contains("span_id"), "{line}");
    service.terminate();
    assert!(service.exit_status().await.success());
    // The base endpoint gets `/v1/traces`, with the configured headers.
    collector.wait_for("the request", |spans| spans.iter().any(|s| s.name == "GET /orders")).await;
    let head = collector.heads().concat().to_ascii_lowercase();
    assert!(head.starts_with("post /v1/traces http/1.1"), "{head}");
    assert!(head.contains("x-collector-key: k1") && head.contains("content-type: application/x-protobuf"), "{head}");
}

/// The default sampler follows the caller: a request whose `traceparent` says "not
/// sampled" is not exported, one without a `traceparent` is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_sampling_decision_is_kept() {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let collector = Collector::start().await;
    let backend = if cfg!(feature = "sqlx") { "sqlx" } else { "diesel" };
    let mut service = start(&traced_env(&db, backend, &collector.endpoint));
    service.wait_until_healthy().await;
    let unsampled = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-00");
    assert_eq!(request(service.port, "GET /orders", &[("traceparent", unsampled.as_str())], "").await.unwrap().0, 200);
    assert_eq!(request(service.port, "GET /orders?limit=1", &[], "").await.unwrap().0, 200);
    service.terminate();
    assert!(service.exit_status().await.success());
    let spans = collector.wait_for("the sampled request", |spans| spans.iter().any(|s| s.name == "GET /orders")).await;
    assert!(spans.iter().all(|s| s.trace_id != CALLER_TRACE), "{spans:#?}");
    assert_eq!(spans.iter().filter(|s| s.name == "GET /orders" && s.kind == 2).count(), 1, "{spans:#?}");
}

/// A collector that is down, or answers errors: requests are served all the same, and
/// the spans it did not take are counted in `/metrics`.
#[rstest]
#[case::down(None)]
#[case::failing(Some(500))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_or_failing_costs_no_request(#[case] answer: Option<u16>) {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let collector = Collector::start().await;
    let endpoint = match answer {
        Some(status) => {
            collector.answer_with(status);
            collector.endpoint.clone()
        }
        // A port that was free a moment ago, and that nothing listens on.
        None => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        }
    };
    let backend = if cfg!(feature = "sqlx") { "sqlx" } else { "diesel" };
    let mut env = traced_env(&db, backend, &endpoint);
    env.push(("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "1".to_owned()));
    let mut service = start(&env);
    service.wait_until_healthy().await;
    let failed = dropped_until(service.port, "export_failed", |count| count > 0).await;
    assert!(failed > 0, "the collector's failures are counted");
    service.terminate();
    assert!(service.exit_status().await.success());
}

/// A collector that takes a batch and never answers: the queue fills, later spans are
/// dropped and counted, requests are served, and shutdown gives up on the flush after
/// `SHUTDOWN_TIMEOUT_S` and still exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_collector_fills_the_queue_and_costs_no_request() {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let collector = Collector::start().await;
    collector.hang();
    let backend = if cfg!(feature = "sqlx") { "sqlx" } else { "diesel" };
    let mut env = traced_env(&db, backend, &collector.endpoint);
    for (name, value) in
        [("OTEL_BSP_SCHEDULE_DELAY", "1"), ("OTEL_BSP_MAX_QUEUE_SIZE", "4"), ("SHUTDOWN_TIMEOUT_S", "1")]
    {
        env.push((name.to_owned(), value.to_owned()));
    }
    let mut service = start(&env);
    service.wait_until_healthy().await;
    dropped_until(service.port, "queue_full", |count| count > 0).await;
    service.terminate();
    assert!(service.exit_status().await.success());
}

/// Without an endpoint nothing is installed and nothing sent, not even to the default
/// `localhost:4318` (listened on here when it is free), whatever else is set; the log
/// lines carry no trace id and `/metrics` has no trace series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_nothing_is_exported() {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let default_port = Collector::start_on("127.0.0.1:4318").await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_BSP_SCHEDULE_DELAY", "1"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
    ];
    let mut service = Service::start(&env);
    service.wait_until_healthy().await;
    let traceparent = traceparent();
    let headers = [("traceparent", traceparent.as_str()), ("X-Request-Id", "untraced-1")];
    assert_eq!(request(service.port, "GET /orders", &headers, "").await.unwrap().0, 200);
    let (_, metrics) = request(service.port, "GET /metrics", &[], "").await.unwrap();
    assert!(!metrics.contains("otel_"), "{metrics}");
    service.terminate();
    assert!(service.exit_status().await.success());
    let logged = service.stdout().join("\n");
    assert!(logged.contains("untraced-1"), "{logged}");
    assert!(!logged.contains("trace_id") && !logged.contains(CALLER_TRACE), "{logged}");
    if let Some(default_port) = default_port {
        assert_eq!(default_port.requests(), 0, "nothing was sent to localhost:4318");
    }
}

/// A 5xx marks the request's span as failed; a 2xx does not. (The database behind a
/// proxy that is cut makes `/ready` answer 503.)
#[cfg(feature = "postgres")]
#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx("sqlx"))]
#[cfg_attr(feature = "diesel", case::diesel("diesel"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_marks_the_request_span_as_failed(#[case] backend: &str) {
    let Some(db) = TestDatabase::create(DatabaseKind::Postgres).await else { return };
    let proxy = Proxy::start(db.server_address()).await;
    let collector = Collector::start().await;
    let mut env = traced_env(&db, backend, &collector.endpoint);
    // The later value of a variable wins.
    env.push(("DATABASE_URL".to_owned(), db.url_through(proxy.address)));
    env.push(("DB_POOL_TIMEOUT_MS".to_owned(), "1000".to_owned()));
    let mut service = start(&env);
    service.wait_until_healthy().await;
    assert_eq!(request(service.port, "GET /ready", &[], "").await.unwrap().0, 200);
    proxy.cut().await;
    assert_eq!(request(service.port, "GET /ready", &[], "").await.unwrap().0, 503);
    service.terminate();
    assert!(service.exit_status().await.success());

    let answered = |status: &'static str| {
        move |s: &Span| s.name == "GET /ready" && s.attribute("http.response.status_code") == Some(status)
    };
    let spans = collector
        .wait_for("both", |spans| spans.iter().any(answered("200")) && spans.iter().any(answered("503")))
        .await;
    assert_eq!(spans.iter().find(|s| answered("503")(s)).unwrap().status, 2, "ERROR");
    assert_ne!(spans.iter().find(|s| answered("200")(s)).unwrap().status, 2);
}

/// The JWKS fetch a token sets off is a CLIENT span under the request's, and the
/// identity provider gets its `traceparent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_fetch_is_a_client_span_that_passes_the_trace_on() {
    let Some(db) = TestDatabase::create(local_kind()).await else { return };
    let collector = Collector::start().await;
    let provider = IdentityProvider::start(&[TestKey::Rsa1]).await;
    let AuthSettings::Provider(settings) = provider.settings(Duration::from_secs(60)) else { unreachable!() };
    let backend = if cfg!(feature = "sqlx") { "sqlx" } else { "diesel" };
    // The signal's own endpoint is used as it is, and the service may be named.
    let mut env = traced_env(&db, backend, &collector.endpoint);
    env.retain(|(name, _)| name != "OTEL_EXPORTER_OTLP_ENDPOINT");
    for (name, value) in [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", format!("{}/custom/path", collector.endpoint)),
        ("OTEL_SERVICE_NAME", "shop".to_owned()),
        ("AUTH_JWKS_URL", settings.jwks_url),
        ("AUTH_ISSUER", ISSUER.into()),
        ("AUTH_AUDIENCE", AUDIENCE.into()),
    ] {
        env.push((name.to_owned(), value));
    }
    let mut service = start(&env);
    service.wait_until_healthy().await;
    let authorization = format!("Bearer {}", token(TestKey::Rsa1, &claims("alice")));
    let traceparent = traceparent();
    let headers = [("Authorization", authorization.as_str()), ("traceparent", traceparent.as_str())];
    assert_eq!(request(service.port, "GET /orders", &headers, "").await.unwrap().0, 200);
    service.terminate();
    assert!(service.exit_status().await.success());

    let spans = collector
        .wait_for("the fetch", |spans| spans.iter().any(|s| s.kind == 3 && s.attribute("url.full").is_some()))
        .await;
    let request = server_span(&spans, "GET /orders");
    let fetch = spans.iter().find(|s| s.kind == 3 && s.attribute("url.full").is_some()).unwrap();
    assert_eq!((fetch.trace_id.as_str(), fetch.parent_span_id.as_str()), (CALLER_TRACE, request.span_id.as_str()));
    assert_eq!(fetch.attribute("http.response.status_code"), Some("200"));
    assert_eq!(fetch.service, "shop");
    assert!(collector.heads().iter().all(|head| head.starts_with("POST /custom/path ")), "{:?}", collector.heads());
    let sent = format!("traceparent: 00-{CALLER_TRACE}-{}-01", fetch.span_id);
    assert!(
        provider.heads().iter().any(|head| head.to_ascii_lowercase().contains(&sent)),
        "{sent} in {:?}",
        provider.heads()
    );
}

/// Scrapes `/metrics` until `otel_spans_dropped_total{reason}` satisfies `done`, each
/// scrape a request that is itself traced; the count of scrapes bounds the wait.
async fn dropped_until(port: u16, reason: &str, done: impl Fn(u64) -> bool) -> u64 {
    let series = format!("otel_spans_dropped_total{{reason=\"{reason}\"}} ");
    let mut last = 0;
    for _ in 0..5000 {
        let (status, metrics) = request(port, "GET /metrics", &[], "").await.unwrap();
        assert_eq!(status, 200, "requests are served");
        last = metrics.lines().find_map(|l| l.strip_prefix(&series)).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        if done(last) {
            return last;
        }
    }
    panic!("{series}stayed at {last}");
}
