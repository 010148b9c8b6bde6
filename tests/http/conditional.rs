//! Conditional requests: every order response's `ETag`, `If-None-Match` on reads and
//! `If-Match` on writes (RFC 9110 §13), on every backend and database.

use crate::support::*;
use actix_web::http::{StatusCode, header};
use actix_web::test;
use app_data::rstest_reuse::apply;
use rstest::rstest;
use serde_json::json;

/// `request` with `name: value`.
fn with(request: test::TestRequest, name: header::HeaderName, value: &str) -> actix_http::Request {
    request.insert_header((name, value)).to_request()
}

fn mocha() -> serde_json::Value {
    json!({"order": [{"product": "mocha", "size": "small"}]})
}

#[apply(all_backends)]
#[actix_web::test]
async fn every_order_response_has_an_etag_that_changes_with_the_order_only(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let created = app.post_json("/orders", &latte()).await;
    let (id, placed) = (created.body["id"].as_str().unwrap().to_owned(), created.header(header::ETAG).to_owned());
    assert!(placed.starts_with('"') && placed.ends_with('"') && placed.len() > 2, "a strong tag: {placed}");
    assert_eq!(app.order(&id).await.header(header::ETAG), placed, "a read is the same state");
    assert_eq!(app.order(&id).await.header(header::ETAG), placed);
    let other = app.place_order().await;
    assert_ne!(app.order(&other).await.header(header::ETAG), placed, "another order, another tag");

    let mut seen = vec![placed];
    for write in ["put", "pay", "cancel"] {
        let reply = match write {
            "put" => app.put_json(&format!("/orders/{id}"), &mocha()).await,
            "pay" => app.pay(&id).await,
            _ => app.cancel(&id).await,
        };
        assert_eq!(reply.status, StatusCode::OK, "{write}: {:?}", reply.body);
        let tag = reply.header(header::ETAG).to_owned();
        assert!(!seen.contains(&tag), "every write is a new tag: {tag} after {seen:?}");
        assert_eq!(app.order(&id).await.header(header::ETAG), tag, "the write's tag is the read's");
        seen.push(tag);
    }
    assert_eq!(app.cancel(&id).await.status, StatusCode::CONFLICT);
    assert_eq!(app.order(&id).await.header(header::ETAG), seen[3], "a refused write is no new state");
}

#[apply(all_backends)]
#[actix_web::test]
async fn a_current_if_none_match_is_304_without_a_body(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    let uri = format!("/orders/{id}");
    let tag = app.order(&id).await.header(header::ETAG).to_owned();

    for current in [tag.as_str(), "*", &format!("\"x\", W/{tag}")] {
        let reply = app.send(with(test::TestRequest::get().uri(&uri), header::IF_NONE_MATCH, current)).await;
        assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "If-None-Match: {current}");
        assert_eq!(reply.header(header::ETAG), tag);
        assert!(reply.raw.is_empty(), "no body: {:?}", reply.raw);
    }
    app.pay(&id).await;
    let stale = app.send(with(test::TestRequest::get().uri(&uri), header::IF_NONE_MATCH, &tag)).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body["status"], "paid");
    let malformed = app.send(with(test::TestRequest::get().uri(&uri), header::IF_NONE_MATCH, "no-quotes")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.body["detail"].as_str().unwrap().contains("if-none-match"), "{:?}", malformed.body);
}

#[apply(all_backends)]
#[actix_web::test]
async fn a_write_with_a_stale_if_match_is_412_and_changes_nothing(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    let uri = format!("/orders/{id}");
    let stale = app.order(&id).await.header(header::ETAG).to_owned();
    let current = app.put_json(&uri, &mocha()).await.header(header::ETAG).to_owned();
    let before = app.order(&id).await.body;

    let writes = || {
        [
            test::TestRequest::put().uri(&uri).set_json(latte()),
            test::TestRequest::delete().uri(&uri),
            test::TestRequest::post().uri(&format!("{uri}/pay")),
            test::TestRequest::post().uri(&format!("{uri}/cancel")),
        ]
    };
    let other_orders_tag = app.order(&app.place_order().await).await.header(header::ETAG).to_owned();
    for tag in [stale.as_str(), &other_orders_tag, &format!("W/{current}"), "\"not-a-tag-of-ours\""] {
        for write in writes() {
            let reply = app.send(with(write, header::IF_MATCH, tag)).await;
            assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED, "If-Match: {tag}: {:?}", reply.body);
            assert!(reply.body["detail"].as_str().unwrap().contains("If-Match"), "{:?}", reply.body);
        }
    }
    assert_eq!(app.order(&id).await.body, before, "nothing changed");

    let malformed = app.send(with(test::TestRequest::post().uri(&format!("{uri}/pay")), header::IF_MATCH, "x")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.body["detail"].as_str().unwrap().contains("if-match"), "{:?}", malformed.body);

    // The current tag, among others, applies; the status is checked after the version.
    let pay =
        with(test::TestRequest::post().uri(&format!("{uri}/pay")), header::IF_MATCH, &format!("{stale}, {current}"));
    let paid = app.send(pay).await;
    assert_eq!(paid.status, StatusCode::OK, "{:?}", paid.body);
    let again = with(test::TestRequest::post().uri(&format!("{uri}/pay")), header::IF_MATCH, paid.header(header::ETAG));
    assert_eq!(app.send(again).await.status, StatusCode::CONFLICT);
    let cancel = with(test::TestRequest::post().uri(&format!("{uri}/cancel")), header::IF_MATCH, "*");
    assert_eq!(app.send(cancel).await.status, StatusCode::OK, "`*`: any existing order");

    let tag = app.order(&id).await.header(header::ETAG).to_owned();
    assert_eq!(
        app.send(with(test::TestRequest::delete().uri(&uri), header::IF_MATCH, &tag)).await.status,
        StatusCode::NO_CONTENT
    );
    for gone in [tag.as_str(), "*"] {
        let reply =
            app.send(with(test::TestRequest::post().uri(&format!("{uri}/cancel")), header::IF_MATCH, gone)).await;
        assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED, "a gone order, If-Match: {gone}");
    }
    assert_eq!(app.cancel(&id).await.status, StatusCode::NOT_FOUND, "without If-Match, as before");
}

/// The version check and the write are one step: 20 concurrent `PUT`s that all send the
/// tag they read give one 200 and 19 × 412.
#[apply(all_backends)]
#[actix_web::test]
async fn concurrent_puts_with_one_if_match_apply_once(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    let uri = format!("/orders/{id}");
    let tag = app.order(&id).await.header(header::ETAG).to_owned();
    let puts = (0..20).map(|i| {
        let body = json!({"order": [{"product": format!("#{i}"), "size": "small"}]});
        app.send(with(test::TestRequest::put().uri(&uri).set_json(body), header::IF_MATCH, &tag))
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(puts).await.into_iter().map(|r| r.status).collect();
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!((count(StatusCode::OK), count(StatusCode::PRECONDITION_FAILED)), (1, 19), "{statuses:?}");
}

#[apply(all_backends)]
#[actix_web::test]
async fn require_if_match_makes_a_write_without_it_428(backend: Backend, target: Target) {
    let require = |config: &mut app::config::Config| config.http.require_if_match = true;
    let Some(app) = TestApp::spawn_with(backend, target, require).await else { return };
    let id = app.place_order().await;
    let uri = format!("/orders/{id}");
    for reply in [app.put_json(&uri, &mocha()).await, app.pay(&id).await, app.cancel(&id).await, app.delete(&uri).await]
    {
        assert_eq!(reply.status, StatusCode::PRECONDITION_REQUIRED, "{:?}", reply.body);
        assert!(reply.body["detail"].as_str().unwrap().contains("If-Match"), "{:?}", reply.body);
    }
    let read = app.order(&id).await;
    assert_eq!(read.body["order"], latte()["order"], "nothing changed");
    let pay = with(test::TestRequest::post().uri(&format!("{uri}/pay")), header::IF_MATCH, read.header(header::ETAG));
    assert_eq!(app.send(pay).await.status, StatusCode::OK);
}
