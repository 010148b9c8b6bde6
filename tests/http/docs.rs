//! The OpenAPI document describes every route, as the service is configured (with or
//! without an identity provider), and Swagger UI is served from the binary.

use crate::provider::{IdentityProvider, TestKey};
use crate::support::*;
use actix_web::http::{Method, StatusCode, header};
use actix_web::test;
use app_web::auth::AuthSettings;
use rstest::rstest;
use serde_json::{Value, json};
use std::time::Duration;

const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

/// The app in open mode (`false`), or requiring tokens from a provider (`true`, which
/// must be kept alive as long as the app).
async fn app_with_provider(with_provider: bool) -> Option<(TestApp, Option<IdentityProvider>)> {
    if !with_provider {
        return Some((TestApp::spawn_default().await?, None));
    }
    let provider = IdentityProvider::start(&[TestKey::Rsa1]).await;
    let auth = provider.settings(Duration::from_secs(60));
    let app = TestApp::spawn_with(Backend::default(), default_kind(), move |config| config.http.auth = auth).await?;
    Some((app, Some(provider)))
}

/// Every documented operation is routed, and on a documented path every undocumented
/// method is refused (405): the router offers nothing the document does not describe.
/// (Handlers can only be registered through `web::handlers::routes`, which documents them.)
/// Every status a request without a token gets is documented, in either mode.
#[rstest]
#[case::open(false)]
#[case::with_a_provider(true)]
#[actix_web::test]
async fn the_document_and_the_router_agree(#[case] with_provider: bool) {
    let Some((app, _provider)) = app_with_provider(with_provider).await else { return };
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.body["paths"].as_object().expect("paths");
    let expected = [
        "/health",
        "/ready",
        "/metrics",
        "/hi",
        "/hi/blocking",
        "/orders",
        "/orders/{order_id}",
        "/orders/{order_id}/pay",
        "/orders/{order_id}/cancel",
    ];
    // (and those of any resource added since, which the loop below checks the same way)
    for path in expected {
        assert!(paths.contains_key(path), "{path} is documented");
    }

    for (path, item) in paths {
        let id = uuid::Uuid::new_v4().to_string();
        let uri: Vec<&str> = path.split('/').map(|s| if s.starts_with('{') { id.as_str() } else { s }).collect();
        let uri = uri.join("/");
        for method in METHODS {
            let operation = &item[method.as_str().to_lowercase()];
            let reply = app.send(test::TestRequest::default().method(method.clone()).uri(&uri).to_request()).await;
            if operation.is_object() {
                assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                let documented = operation["responses"].as_object().unwrap();
                let status = reply.status.as_u16().to_string();
                assert!(documented.contains_key(&status), "{method} {path} answered {status}, not documented");
            } else {
                assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            }
        }
    }
    for schema in ["GetOrderSchema", "CreateOrderSchema", "OrderItemSchema", "ErrorBody", "ValidationErrorBody"] {
        assert!(doc.body["components"]["schemas"][schema].is_object(), "{schema}");
    }
    assert!(doc.body["components"]["schemas"]["CreateOrderSchema"]["example"].is_object());
}

#[actix_web::test]
async fn swagger_ui_is_served_without_network() {
    let Some(app) = TestApp::spawn_default().await else { return };
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.header(header::LOCATION), "/docs/");
    let page = app.get("/docs/").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.raw).unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(!html.contains("https://"), "the page loads nothing from elsewhere");
    let init = app.get("/docs/swagger-initializer.js").await;
    let script = String::from_utf8(init.raw).unwrap();
    assert!(script.contains("/openapi.json"), "{script}");
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
    assert_eq!(app.get("/docs/swagger-ui-bundle.js").await.status, StatusCode::OK);
    let missing = app.get("/docs/no-such-file.js").await;
    assert_eq!((missing.status, missing.body), (StatusCode::NOT_FOUND, serde_json::json!({"detail": "Not Found"})));
}

/// Redoc is served from the binary, under a policy that lets the page reach only this
/// service; the script is cached for a year under a versioned URL.
#[actix_web::test]
async fn redoc_is_served_without_network() {
    let Some(app) = TestApp::spawn_default().await else { return };
    let page = app.get("/redoc").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    let policy = page.header(header::CONTENT_SECURITY_POLICY);
    assert!(policy.starts_with("default-src 'none'; script-src 'self';"), "{policy}");
    assert!(!policy.contains("http"), "{policy}");
    let html = String::from_utf8(page.raw).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "the page loads nothing from elsewhere");
    let scripts: Vec<&str> = html.split("<script src=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert_eq!(scripts, ["/redoc/2.5.4/redoc.standalone.js", "/redoc/init.js"]);

    let bundle = app.get(scripts[0]).await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert_eq!(bundle.header(header::CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert_eq!(bundle.header(header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(bundle.raw, app_web::redoc::REDOC_JS);
    let init = app.get(scripts[1]).await;
    assert_eq!(init.header(header::CACHE_CONTROL), "no-cache");
    let script = String::from_utf8(init.raw).unwrap();
    assert!(script.starts_with(r#"Redoc.init("/openapi.json", "#), "{script}");
    for licence in ["/redoc/2.5.4/redoc.standalone.js.LICENSE.txt", "/redoc/2.5.4/LICENSE"] {
        assert_eq!(app.get(licence).await.status, StatusCode::OK, "{licence}");
    }

    let head = app.send(test::TestRequest::default().method(Method::HEAD).uri("/redoc").to_request()).await;
    assert_eq!(head.status, StatusCode::OK);
    let post = app.post("/redoc").await;
    assert_eq!((post.status, post.body), (StatusCode::NOT_FOUND, serde_json::json!({"detail": "Not Found"})));
}

/// The orders operations with their security requirements, in the served document.
fn security_by_operation(doc: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            found.push((format!("{method} {path}"), operation["security"].clone()));
        }
    }
    found
}

/// In open mode no token is asked for or looked at, and the document says so: no
/// operation requires one or answers 401, and there is no scheme to authorize with, so
/// Swagger UI shows no lock. That is the document Swagger UI and Redoc load and the
/// snapshot below holds.
#[actix_web::test]
async fn in_open_mode_the_document_asks_for_no_token() {
    let Some(app) = TestApp::spawn_default().await else { return };
    let doc = app.get("/openapi.json").await.body;
    for (operation, security) in security_by_operation(&doc) {
        assert_eq!(security, Value::Null, "{operation}");
    }
    assert_eq!(doc["components"]["securitySchemes"], Value::Null);
    assert!(!doc.to_string().contains("\"401\""), "no operation answers 401");
    assert_eq!(doc, serde_json::to_value(app_web::docs::Api::new(&AuthSettings::Open).doc).unwrap());
}

/// With an identity provider, every operation on a resource (the 7 of the orders, and
/// those of any resource added since) requires a bearer token and documents the 401
/// without one; the rest (health, readiness, metrics, greeting) stay open. Apart from
/// that, the document is the open-mode one.
#[actix_web::test]
async fn with_a_provider_the_orders_operations_require_a_bearer_token() {
    let Some((app, _provider)) = app_with_provider(true).await else { return };
    let mut doc = app.get("/openapi.json").await.body;
    let secured = security_by_operation(&doc);
    assert_eq!(secured.iter().filter(|(operation, _)| operation.contains(" /orders")).count(), 7);
    for (operation, security) in secured {
        let open = [" /hi", " /health", " /ready", " /metrics"].iter().any(|path| operation.contains(path));
        let expected = if open { Value::Null } else { json!([{"bearerAuth": []}]) };
        assert_eq!(security, expected, "{operation}");
    }
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"], &scheme["bearerFormat"]),
        (&json!("http"), &json!("bearer"), &json!("JWT"))
    );

    for item in doc["paths"].as_object_mut().unwrap().values_mut() {
        for operation in item.as_object_mut().unwrap().values_mut() {
            let operation = operation.as_object_mut().unwrap();
            if operation.remove("security").is_some() {
                let unauthenticated = operation["responses"].as_object_mut().unwrap().remove("401");
                assert!(unauthenticated.is_some(), "{operation:?} documents 401");
            }
        }
    }
    doc["components"].as_object_mut().unwrap().remove("securitySchemes");
    assert_eq!(doc, serde_json::to_value(app_web::docs::Api::new(&AuthSettings::Open).doc).unwrap());
}

/// The document as reviewed (open mode, the default; the provider's additions are checked
/// above): any change to the API shows up in review as a diff of
/// `tests/http/snapshots/http__docs__openapi.snap`, and CI fails until it is committed.
/// To accept a change: `INSTA_UPDATE=always cargo nextest run --test http openapi`, or
/// `cargo insta test --review`.
#[actix_web::test]
async fn the_openapi_document_is_the_reviewed_one() {
    insta::assert_json_snapshot!("openapi", app_web::docs::Api::new(&AuthSettings::Open).doc);
}
