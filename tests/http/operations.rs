//! What operators rely on: liveness and readiness, 503 when the database is away,
//! request ids, metrics, security headers, CORS.

use crate::support::*;
use actix_web::http::{Method, StatusCode, header};
use actix_web::test;
use app::config::Config;
use app_data::rstest_reuse::apply;
use rstest::rstest;
use serde_json::json;

/// An app whose database never answers: nothing listens on port 9.
#[cfg(feature = "postgres")]
async fn unreachable_app(
    backend: Backend,
) -> impl Fn(actix_http::Request) -> futures::future::LocalBoxFuture<'static, Reply> {
    let mut config =
        Config { database_url: "postgres://postgres:secret@127.0.0.1:9/orders".into(), backend, ..Config::default() };
    config.pool.acquire_timeout = std::time::Duration::from_millis(500);
    let database = app_data::Database::open(&config.database_url, backend, &config.pool).expect("open lazily");
    let handler = std::rc::Rc::new(handler(app::app_state(&database, &config).expect("state")).await);
    move |request| {
        let handler = std::rc::Rc::clone(&handler);
        Box::pin(async move { send(&handler, request).await })
    }
}

#[cfg(feature = "postgres")]
#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx_postgres(Backend::Sqlx))]
#[cfg_attr(feature = "diesel", case::diesel_postgres(Backend::Diesel))]
#[actix_web::test]
async fn without_a_database_orders_get_503_and_the_service_is_not_ready(#[case] backend: Backend) {
    let app = unreachable_app(backend).await;
    let health = app(get("/health")).await;
    assert_eq!((health.status, health.body), (StatusCode::OK, json!({"status": "ok"})));

    for request in [get("/ready"), get("/orders"), post_json("/orders", &latte())] {
        let reply = app(request).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.body, json!({"detail": "the database is unavailable"}));
        assert!(!reply.raw.windows(9).any(|w| w == b"127.0.0.1"), "no connection details leak");
        assert_eq!(reply.header(header::RETRY_AFTER), "1");
    }
}

#[apply(all_backends)]
#[actix_web::test]
async fn ready_when_the_database_answers(#[case] backend: Backend, #[case] target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let ready = app.get("/ready").await;
    assert_eq!((ready.status, ready.body), (StatusCode::OK, json!({"status": "ok"})));
}

#[actix_web::test]
async fn request_ids_are_taken_when_sane_and_made_otherwise() {
    let Some(app) = TestApp::spawn_default().await else { return };
    let with_id = |id: &str| test::TestRequest::get().uri("/health").insert_header(("X-Request-Id", id)).to_request();

    let given = app.send(with_id("abc-123_x.y")).await;
    assert_eq!(given.header(header::HeaderName::from_static("x-request-id")), "abc-123_x.y");
    for insane in ["has space", "semi;colon", &"x".repeat(65)] {
        let reply = app.send(with_id(insane)).await;
        let echoed = reply.header(header::HeaderName::from_static("x-request-id")).to_owned();
        assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "{insane:?} replaced by a fresh id, got {echoed:?}");
    }
    let first = app.get("/nowhere").await;
    let second = app.get("/nowhere").await;
    let id = |r: &Reply| r.header(header::HeaderName::from_static("x-request-id")).to_owned();
    assert!(uuid::Uuid::parse_str(&id(&first)).is_ok(), "errors carry an id too");
    assert_ne!(id(&first), id(&second));
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let Some(app) = TestApp::spawn_default().await else { return };
    for request in
        [get("/orders"), get("/nowhere"), get("/orders/bad"), post_json("/orders", &json!({})), get("/docs/")]
    {
        let reply = app.send(request).await;
        assert_eq!(reply.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(reply.header(header::X_FRAME_OPTIONS), "DENY");
        assert_eq!(reply.header(header::REFERRER_POLICY), "no-referrer");
        assert_eq!(reply.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "", "CORS is off by default");
    }
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_show_the_pool() {
    let Some(app) = TestApp::spawn_default().await else { return };
    let id = app.place_order().await;
    app.order(&id).await;
    app.get(&format!("/orders/{}", uuid::Uuid::new_v4())).await;
    app.get("/no/such/path").await;

    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.header(header::CONTENT_TYPE).starts_with("text/plain"));
    let text = String::from_utf8(metrics.raw).unwrap();
    // A line that starts with the metric's name and has every other piece.
    let line = |needle: &[&str]| text.lines().any(|l| l.starts_with(needle[0]) && needle.iter().all(|n| l.contains(n)));
    assert!(line(&["http_requests_total{", "endpoint=\"/orders\"", "method=\"POST\"", "status=\"201\"} 1"]), "{text}");
    assert!(line(&["http_requests_total{", "endpoint=\"/orders/{order_id}\"", "status=\"200\"} 1"]), "{text}");
    assert!(line(&["http_requests_total{", "endpoint=\"/orders/{order_id}\"", "status=\"404\"} 1"]), "{text}");
    assert!(line(&["http_requests_total{", "endpoint=\"UNMATCHED\""]), "unknown paths share one series: {text}");
    assert!(line(&["http_request_duration_seconds_bucket{"]), "{text}");
    assert!(line(&["http_requests_in_flight 1"]), "the scrape itself is in flight: {text}");
    // sqlx hands a connection back to its pool in a task of its own, so right after a
    // request it may still count as in use; together they are the connections open.
    let gauge = |state: &str| -> i64 {
        let prefix = format!("db_pool_connections{{state=\"{state}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).and_then(|n| n.trim().parse().ok()).expect(state)
    };
    let open = gauge("idle") + gauge("in_use");
    assert!((1..=5).contains(&open), "the pool opened connections, within its size: {text}");
}

#[actix_web::test]
async fn cors_allows_the_configured_origins_only() {
    let cors = |config: &mut Config| config.http.cors_origins = vec!["https://shop.example".into()];
    let Some(app) = TestApp::spawn_with(Backend::default(), default_kind(), cors).await else { return };
    let preflight = |origin: &str| {
        test::TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/orders")
            .insert_header((header::ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type"))
            .to_request()
    };
    let allowed = app.send(preflight("https://shop.example")).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "https://shop.example");
    assert!(allowed.header(header::ACCESS_CONTROL_ALLOW_METHODS).contains("POST"));

    let refused = app.send(preflight("https://evil.example")).await;
    assert_eq!(refused.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "");
    assert!(refused.status.is_client_error());
    assert!(refused.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "a JSON error: {:?}", refused.raw);

    let simple = test::TestRequest::get().uri("/orders").insert_header((header::ORIGIN, "https://shop.example"));
    let reply = app.send(simple.to_request()).await;
    assert_eq!(reply.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "https://shop.example");
    let exposed = reply.header(header::ACCESS_CONTROL_EXPOSE_HEADERS).to_lowercase();
    assert!(exposed.contains("location") && exposed.contains("etag"), "{exposed}");
}

#[actix_web::test]
async fn the_body_limit_is_configurable() {
    let small = |config: &mut Config| config.http.body_limit = 100;
    let Some(app) = TestApp::spawn_with(Backend::default(), default_kind(), small).await else { return };
    let long = json!({"order": [{"product": "x".repeat(100), "size": "small"}]});
    let reply = app.post_json("/orders", &long).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body, json!({"detail": "Request body is larger than 100 bytes"}));
    assert_eq!(app.post_json("/orders", &latte()).await.status, StatusCode::CREATED);
}
