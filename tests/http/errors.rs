//! Bad input: each gets a 4xx JSON body naming the problem, never a 500, and stores nothing.

use crate::support::*;
use actix_web::http::{StatusCode, header};
use actix_web::test;
use app_data::rstest_reuse::apply;
use rstest::rstest;
use serde_json::{Value, json};

/// Bodies that must be refused, with the `loc` and `type` of the first problem.
fn bad_bodies() -> Vec<(&'static str, Value, Value, &'static str)> {
    let item =
        |product: Value, size: Value, quantity: Value| json!({"product": product, "size": size, "quantity": quantity});
    vec![
        ("no items", json!({"order": []}), json!(["body", "order"]), "too_short"),
        (
            "51 items",
            json!({"order": vec![item(json!("tea"), json!("small"), json!(1)); 51]}),
            json!(["body", "order"]),
            "too_long",
        ),
        ("missing list", json!({}), json!(["body", "order"]), "missing"),
        ("missing product", json!({"order": [{"size": "small"}]}), json!(["body", "order", 0, "product"]), "missing"),
        ("unknown field", json!({"order": [], "coupon": "free"}), json!(["body", "coupon"]), "extra_forbidden"),
        (
            "unknown item field",
            json!({"order": [{"product": "tea", "size": "small", "sugar": 2}]}),
            json!(["body", "order", 0, "sugar"]),
            "extra_forbidden",
        ),
        (
            "bad size",
            json!({"order": [item(json!("tea"), json!("huge"), json!(1))]}),
            json!(["body", "order", 0, "size"]),
            "enum",
        ),
        (
            "quantity as text",
            json!({"order": [item(json!("tea"), json!("small"), json!("two"))]}),
            json!(["body", "order", 0, "quantity"]),
            "type_error",
        ),
        (
            "quantity 0",
            json!({"order": [item(json!("tea"), json!("small"), json!(0))]}),
            json!(["body", "order", 0, "quantity"]),
            "greater_than_equal",
        ),
        (
            "quantity 1001",
            json!({"order": [item(json!("tea"), json!("small"), json!(1001))]}),
            json!(["body", "order", 0, "quantity"]),
            "less_than_equal",
        ),
        (
            "huge quantity",
            json!({"order": [item(json!("tea"), json!("small"), json!(1e30))]}),
            json!(["body", "order", 0, "quantity"]),
            "type_error",
        ),
        (
            "empty product",
            json!({"order": [item(json!(""), json!("small"), json!(1))]}),
            json!(["body", "order", 0, "product"]),
            "string_blank",
        ),
        (
            "blank product",
            json!({"order": [item(json!("   "), json!("small"), json!(1))]}),
            json!(["body", "order", 0, "product"]),
            "string_blank",
        ),
        (
            "NUL in product",
            json!({"order": [item(json!("a\u{0}b"), json!("small"), json!(1))]}),
            json!(["body", "order", 0, "product"]),
            "string_control_characters",
        ),
        (
            "101 characters",
            json!({"order": [item(json!("é".repeat(101)), json!("small"), json!(1))]}),
            json!(["body", "order", 0, "product"]),
            "string_too_long",
        ),
        ("body is a string", json!("latte"), json!(["body"]), "type_error"),
        (
            "second item bad",
            json!({"order": [item(json!("tea"), json!("small"), json!(1)), item(json!("tea"), json!("small"), json!(-1))]}),
            json!(["body", "order", 1, "quantity"]),
            "greater_than_equal",
        ),
    ]
}

#[apply(all_backends)]
#[actix_web::test]
async fn bad_bodies_get_422_naming_the_problem_and_store_nothing(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    for (case, body, loc, kind) in bad_bodies() {
        for request in [post_json("/orders", &body), put_json(&format!("/orders/{id}"), &body)] {
            let reply = app.send(request).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {:?}", reply.body);
            let first = &reply.body["detail"][0];
            assert_eq!((&first["loc"], first["type"].as_str()), (&loc, Some(kind)), "{case}: {:?}", reply.body);
            assert!(first["msg"].as_str().is_some_and(|m| !m.is_empty()), "{case}");
        }
    }
    let listing = app.get("/orders").await;
    assert_eq!(listing.body["orders"].as_array().unwrap().len(), 1, "only the valid order exists");
    assert_eq!(listing.body["orders"][0]["order"], latte()["order"], "refused updates changed nothing");
}

#[apply(all_backends)]
#[actix_web::test]
async fn the_limits_themselves_are_accepted(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let item = json!({"product": "☕".repeat(100), "size": "big", "quantity": 1000});
    let reply = app.post_json("/orders", &json!({"order": vec![item; 50]})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let id = reply.body["id"].as_str().unwrap();
    assert_eq!(app.order(id).await.body, reply.body);
}

#[apply(all_backends)]
#[actix_web::test]
async fn malformed_requests_get_4xx_json(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };

    let raw = |body: &'static str| {
        test::TestRequest::post()
            .uri("/orders")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body)
            .to_request()
    };
    for (case, body) in
        [("truncated", "{\"order\": ["), ("not json", "order=1"), ("trailing", "{\"order\": []} x"), ("empty", "")]
    {
        let reply = app.send(raw(body)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{case}");
        assert_eq!(reply.body["detail"][0]["type"], "json_invalid", "{case}: {:?}", reply.body);
    }

    let text =
        test::TestRequest::post().uri("/orders").insert_header((header::CONTENT_TYPE, "text/plain")).set_payload("{}");
    assert_eq!(app.send(text.to_request()).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let big = json!({"order": [{"product": "x".repeat(70 * 1024), "size": "small"}]});
    let reply = app.post_json("/orders", &big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.body["detail"].is_string());

    for (uri, loc) in [
        ("/orders/not-a-uuid", json!(["path", "order_id"])),
        ("/orders?limit=abc", json!(["query", "limit"])),
        ("/orders?limit=0", json!(["query", "limit"])),
        ("/orders?limit=101", json!(["query", "limit"])),
        ("/orders?offset=-1", json!(["query", "offset"])),
        ("/orders?cancelled=maybe", json!(["query", "cancelled"])),
    ] {
        let reply = app.get(uri).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(reply.body["detail"][0]["loc"], loc, "{uri}: {:?}", reply.body);
    }
    for request in
        [post("/orders/123/pay"), post("/orders/123/cancel"), delete("/orders/123"), put_json("/orders/123", &latte())]
    {
        assert_eq!(app.send(request).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let unknown = app.get("/nowhere").await;
    assert_eq!((unknown.status, unknown.body.clone()), (StatusCode::NOT_FOUND, json!({"detail": "Not Found"})));
    let wrong_method = app.send(test::TestRequest::patch().uri("/orders").to_request()).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.header(header::ALLOW), "GET, POST");
    let on_item =
        app.send(test::TestRequest::post().uri(&format!("/orders/{}", uuid::Uuid::new_v4())).to_request()).await;
    assert_eq!(on_item.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(on_item.header(header::ALLOW), "GET, PUT, DELETE");
}

#[apply(all_backends)]
#[actix_web::test]
async fn whole_numbers_written_as_floats_are_integers(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let body = json!({"order": [{"product": "tea", "size": "small", "quantity": 3.0}]});
    let reply = app.post_json("/orders", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["order"][0]["quantity"], 3);
    let fraction = json!({"order": [{"product": "tea", "size": "small", "quantity": 2.5}]});
    let refused = app.post_json("/orders", &fraction).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["detail"][0]["loc"], json!(["body", "order", 0, "quantity"]));
}
