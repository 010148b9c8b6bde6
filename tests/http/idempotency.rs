//! Safe retries: `Idempotency-Key` on the `POST`s that change something, on every backend
//! and database (PgBouncer in transaction mode included).

use crate::support::*;
use actix_web::http::{StatusCode, header};
use actix_web::test;
use app_data::rstest_reuse::apply;
use rstest::rstest;
use serde_json::json;

const KEY: &str = "Idempotency-Key";

/// `POST uri` with `body` (if any) and `Idempotency-Key: key`.
fn keyed(uri: &str, body: Option<&serde_json::Value>, key: &str) -> actix_http::Request {
    let request = test::TestRequest::post().uri(uri).insert_header((KEY, key));
    match body {
        Some(body) => request.set_json(body).to_request(),
        None => request.to_request(),
    }
}

fn replayed(reply: &Reply) -> bool {
    reply.headers.get("idempotent-replayed").is_some_and(|value| value == "true")
}

/// How many orders the caller has.
async fn orders(app: &TestApp) -> usize {
    app.get("/orders?limit=100").await.body["orders"].as_array().map_or(0, Vec::len)
}

#[apply(all_backends)]
#[actix_web::test]
async fn a_retried_create_answers_the_first_response_and_places_one_order(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let first = app.send(keyed("/orders", Some(&latte()), "create-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert!(!replayed(&first));
    // The same request, sent again; then with the key quoted as the draft writes it, and
    // with the body spaced and ordered differently: the same request as parsed.
    let spaced = br#"{ "order" : [ { "quantity": 2, "size": "big", "product": "latte" } ] }"#;
    let requests = [
        keyed("/orders", Some(&latte()), "create-1"),
        keyed("/orders", Some(&latte()), r#""create-1""#),
        test::TestRequest::post()
            .uri("/orders")
            .insert_header((KEY, "create-1"))
            .insert_header(header::ContentType::json())
            .set_payload(spaced.as_slice())
            .to_request(),
    ];
    for request in requests {
        let again = app.send(request).await;
        assert_eq!((again.status, &again.raw), (first.status, &first.raw), "same status and body");
        for name in [header::LOCATION, header::ETAG] {
            assert_eq!(again.header(name.clone()), first.header(name), "same headers");
        }
        assert!(replayed(&again));
    }
    assert_eq!(orders(&app).await, 1);

    // The same key with another request is refused; another key is another order.
    let other = json!({"order": [{"product": "tea", "size": "small"}]});
    let misused = app.send(keyed("/orders", Some(&other), "create-1")).await;
    assert_eq!(misused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", misused.body);
    assert_eq!(misused.body["detail"][0]["loc"], json!(["header", KEY]));
    assert_eq!(app.send(keyed("/orders", Some(&latte()), "create-2")).await.status, StatusCode::CREATED);
    assert_eq!(orders(&app).await, 2);
}

#[apply(all_backends)]
#[actix_web::test]
async fn a_retried_pay_answers_its_200_not_409_and_4xx_answers_are_kept_too(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    let pay = format!("/orders/{id}/pay");
    let paid = app.send(keyed(&pay, None, "pay-1")).await;
    assert_eq!(paid.status, StatusCode::OK, "{:?}", paid.body);
    let retried = app.send(keyed(&pay, None, "pay-1")).await;
    assert_eq!((retried.status, &retried.raw), (StatusCode::OK, &paid.raw), "the success, not 409");
    assert!(replayed(&retried));
    assert_eq!(app.pay(&id).await.status, StatusCode::CONFLICT, "without the key: already paid");

    // A 4xx is kept: the key answers it again even once the order could be paid.
    let other = app.place_order().await;
    let cancel = format!("/orders/{other}/cancel");
    assert_eq!(app.send(keyed(&cancel, None, "cancel-1")).await.status, StatusCode::OK);
    let refused = app.send(keyed(&format!("/orders/{other}/pay"), None, "pay-2")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(!replayed(&refused));
    let again = app.send(keyed(&format!("/orders/{other}/pay"), None, "pay-2")).await;
    assert_eq!((again.status, &again.raw), (StatusCode::CONFLICT, &refused.raw));
    assert!(replayed(&again));
    // The key belongs to its first request: on another order's path it is another request.
    let elsewhere = app.send(keyed(&cancel, None, "pay-2")).await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", elsewhere.body);
}

#[apply(all_backends)]
#[actix_web::test]
async fn a_malformed_key_is_400_and_changes_nothing(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let long = "k".repeat(256);
    for bad in ["", "two words", r#""unclosed"#, r#""""#, long.as_str()] {
        let reply = app.send(keyed("/orders", Some(&latte()), bad)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad:?}: {:?}", reply.body);
        assert!(reply.body["detail"].as_str().unwrap().contains(KEY), "{:?}", reply.body);
    }
    assert_eq!(orders(&app).await, 0);
}

/// 50 concurrent requests with one key, half through one instance and half through
/// another on the same database: one order; every answer is that order's 201.
#[apply(all_backends)]
#[actix_web::test]
async fn concurrent_requests_with_one_key_place_one_order_across_instances(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let config = config(&app.db, backend);
    let other = handler(app::app_state(&app::connect(&config).await.unwrap(), &config).unwrap()).await;
    let (first, other) = (&app, &other);
    let requests = (0..50).map(|i| {
        let request = keyed("/orders", Some(&latte()), "the-one");
        async move { if i % 2 == 0 { first.send(request).await } else { send(other, request).await } }
    });
    let replies = futures::future::join_all(requests).await;
    assert_eq!(orders(&app).await, 1, "one order");
    let placed = app.send(keyed("/orders", Some(&latte()), "the-one")).await;
    for reply in &replies {
        // Every other request waited for the first and answered its response (409 would
        // also keep the guarantee; the database's lock makes the wait short).
        assert!(matches!(reply.status, StatusCode::CREATED | StatusCode::CONFLICT), "{:?}", reply.body);
        if reply.status == StatusCode::CREATED {
            assert_eq!(reply.raw, placed.raw, "the one order");
        }
    }
    let fresh = replies.iter().filter(|reply| reply.status == StatusCode::CREATED && !replayed(reply)).count();
    assert_eq!(fresh, 1, "one request placed it");
}

/// On Postgres a repeat that comes while the first request with its key is still in its
/// transaction does not wait for it: 409 with `Retry-After`, nothing written; once the
/// first is over, the key works as usual. (The first is played by another client holding
/// the lock the claim takes: `data/src/sql.rs`, `CLAIM_KEY_POSTGRES`.)
#[cfg(feature = "postgres")]
#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx_postgres(Backend::Sqlx, Target::Postgres))]
#[cfg_attr(feature = "sqlx", case::sqlx_pgbouncer(Backend::Sqlx, Target::PgBouncer))]
#[cfg_attr(feature = "diesel", case::diesel_postgres(Backend::Diesel, Target::Postgres))]
#[cfg_attr(feature = "diesel", case::diesel_pgbouncer(Backend::Diesel, Target::PgBouncer))]
#[actix_web::test]
async fn a_repeat_while_the_first_is_in_flight_is_409_with_retry_after(
    #[case] backend: Backend,
    #[case] target: Target,
) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let first = app.db.hold("SELECT pg_advisory_xact_lock(hashtextextended('anonymous busy', 0))").await;
    let reply = app.send(keyed("/orders", Some(&latte()), "busy")).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
    assert_eq!(reply.header(header::RETRY_AFTER), "1");
    assert!(reply.body["detail"].as_str().unwrap().contains(KEY), "{:?}", reply.body);
    assert_eq!(orders(&app).await, 0, "nothing written");
    first.release().await;
    let placed = app.send(keyed("/orders", Some(&latte()), "busy")).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    assert!(!replayed(&placed));
}
