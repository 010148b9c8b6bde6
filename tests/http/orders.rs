//! Every operation of the Orders API and each of its success and refusal statuses.

use crate::support::*;
use actix_web::http::{StatusCode, header};
use app_data::rstest_reuse::apply;
use rstest::rstest;
use serde_json::json;

#[apply(all_backends)]
#[actix_web::test]
async fn a_placed_order_is_created_and_can_be_read(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let body = json!({"order": [{"product": "cappuccino", "size": "medium"}, {"product": "tea", "size": "small", "quantity": 3}]});

    let created = app.post_json("/orders", &body).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(created.header(header::LOCATION), format!("/orders/{id}").as_str());
    assert_eq!(created.body["status"], "created");
    assert_eq!(
        created.body["order"],
        json!([{"product": "cappuccino", "size": "medium", "quantity": 1}, {"product": "tea", "size": "small", "quantity": 3}])
    );
    assert!(chrono::DateTime::parse_from_rfc3339(created.body["created"].as_str().unwrap()).is_ok());

    let read = app.order(id).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);
}

#[apply(all_backends)]
#[actix_web::test]
async fn the_listing_is_newest_first_filtered_and_paged(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(app.place_order().await);
    }
    ids.reverse();
    let cancelled = app.post(&format!("/orders/{}/cancel", ids[1])).await;
    assert_eq!(cancelled.status, StatusCode::OK);

    let listed = |reply: Reply| -> Vec<String> {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(listed(app.get("/orders").await), ids);
    assert_eq!(listed(app.get("/orders?limit=2&offset=1").await), ids[1..3]);
    assert_eq!(listed(app.get("/orders?cancelled=true").await), vec![ids[1].clone()]);
    let others = [ids[0].clone(), ids[2].clone(), ids[3].clone()];
    assert_eq!(listed(app.get("/orders?cancelled=false").await), others);
    let page = app.get("/orders").await;
    assert_eq!(page.body["orders"][0]["order"], latte()["order"], "items come with each order");
}

#[apply(all_backends)]
#[actix_web::test]
async fn items_can_be_replaced_until_the_order_is_paid(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    let uri = format!("/orders/{id}");
    let mocha = json!({"order": [{"product": "mocha", "size": "small", "quantity": 5}]});

    let replaced = app.put_json(&uri, &mocha).await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(replaced.body["order"], mocha["order"]);
    assert_eq!(app.get(&uri).await.body["order"], mocha["order"]);

    assert_eq!(app.post(&format!("{uri}/pay")).await.status, StatusCode::OK);
    let refused = app.put_json(&uri, &latte()).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body["detail"].as_str().unwrap().contains("paid"));
    assert_eq!(app.get(&uri).await.body["order"], mocha["order"], "a refused update changes nothing");

    let missing = app.put_json(&format!("/orders/{}", uuid::Uuid::new_v4()), &latte()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[apply(all_backends)]
#[actix_web::test]
async fn deleting_answers_204_with_no_body_then_404(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    let uri = format!("/orders/{id}");

    let deleted = app.delete(&uri).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.raw.is_empty());
    let gone = app.get(&uri).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body, json!({"detail": format!("Order with ID {id} not found")}));
    assert_eq!(app.delete(&uri).await.status, StatusCode::NOT_FOUND);
}

#[apply(all_backends)]
#[actix_web::test]
async fn pay_and_cancel_follow_the_status_rules(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;

    let paid = app.pay(&id).await;
    assert_eq!((paid.status, paid.body["status"].as_str()), (StatusCode::OK, Some("paid")));
    assert_eq!(app.pay(&id).await.status, StatusCode::CONFLICT);
    let cancelled = app.cancel(&id).await;
    assert_eq!((cancelled.status, cancelled.body["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    let again = app.cancel(&id).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(app.pay(&id).await.status, StatusCode::CONFLICT);

    let unknown = uuid::Uuid::new_v4();
    assert_eq!(app.post(&format!("/orders/{unknown}/pay")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post(&format!("/orders/{unknown}/cancel")).await.status, StatusCode::NOT_FOUND);
}

#[apply(all_backends)]
#[actix_web::test]
async fn fifty_concurrent_payments_give_one_success(backend: Backend, target: Target) {
    let Some(app) = TestApp::spawn(backend, target).await else { return };
    let id = app.place_order().await;
    let uri = format!("/orders/{id}/pay");

    let replies = futures::future::join_all((0..50).map(|_| app.post(&uri))).await;
    let count = |status| replies.iter().filter(|r| r.status == status).count();
    assert_eq!((count(StatusCode::OK), count(StatusCode::CONFLICT)), (1, 49));
}
