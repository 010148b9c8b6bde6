//! Database outages, for real: a TCP proxy between the app and Postgres is cut and
//! restored, and a pool is exhausted by a lock held elsewhere.

use crate::proxy::Proxy;
use crate::support::*;
use actix_web::http::StatusCode;
use actix_web::test;
use data::testing::TestDatabase;
use data::{Backend, DatabaseKind, PoolSettings};
use rstest::rstest;
use sqlx::Connection;

#[rstest]
#[case::sqlx_postgres(Backend::Sqlx)]
#[case::diesel_postgres(Backend::Diesel)]
#[actix_web::test]
async fn orders_fail_fast_while_postgres_is_away_and_recover_by_themselves(#[case] backend: Backend) {
    let Some(db) = TestDatabase::create(DatabaseKind::Postgres).await else { return };
    let proxy = Proxy::start(db.server_address()).await;
    let mut config = config(&db.url_through(proxy.address), backend);
    // Fail fast while the proxy is cut.
    config.pool.acquire_timeout = std::time::Duration::from_millis(500);
    let state = orders_api::build_state(&config).await.expect("start through the proxy");
    let app = test::init_service(web::app(state)).await;
    let mut acknowledged = vec![place_order(&app).await];

    proxy.cut().await;
    for request in
        [post_json("/orders", &latte()), get("/orders"), get("/ready"), get(&format!("/orders/{}", acknowledged[0]))]
    {
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", reply.body);
        assert!(reply.body["detail"].is_string());
    }
    assert_eq!(send(&app, get("/health")).await.status, StatusCode::OK, "alive while the database is away");

    proxy.restore().await;
    // Each attempt returns within the pool timeout; a bounded number of them must do.
    let mut ready = false;
    for _ in 0..40 {
        if send(&app, get("/ready")).await.status == StatusCode::OK {
            ready = true;
            break;
        }
    }
    assert!(ready, "the service recovers with no restart");
    acknowledged.push(place_order(&app).await);
    for id in &acknowledged {
        assert_eq!(send(&app, get(&format!("/orders/{id}"))).await.status, StatusCode::OK, "order {id} kept");
    }
    let listed = send(&app, get("/orders")).await;
    assert_eq!(listed.body["orders"].as_array().unwrap().len(), acknowledged.len(), "503s wrote nothing");
}

/// With every pooled connection busy, a request fails after the pool timeout with 503
/// instead of waiting forever; the busy one still completes.
#[rstest]
#[case::sqlx_postgres(Backend::Sqlx)]
#[case::diesel_postgres(Backend::Diesel)]
#[actix_web::test]
async fn an_exhausted_pool_answers_503_within_its_timeout(#[case] backend: Backend) {
    let Some(db) = TestDatabase::create(DatabaseKind::Postgres).await else { return };
    let mut config = config(&db.url, backend);
    config.pool = PoolSettings {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_millis(300),
        ..PoolSettings::default()
    };
    let state = orders_api::build_state(&config).await.unwrap();
    let app = test::init_service(web::app(state)).await;
    // Open the pool's connection now, so that connecting is not what the timeout measures.
    assert_eq!(send(&app, get("/orders")).await.status, StatusCode::OK);

    // Another client locks the table: the pool's only connection will wait on it.
    let mut locker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();

    let blocked = send(&app, get("/orders"));
    let refused = async {
        let reply = send(&app, get("/orders")).await;
        lock.commit().await.unwrap();
        reply
    };
    let (blocked, refused) = futures::join!(blocked, refused);
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(blocked.status, StatusCode::OK);
}

/// A statement stuck behind a lock on a live Postgres is cancelled after the statement
/// timeout: 503, not a request hanging as long as the lock is held.
#[rstest]
#[case::sqlx_postgres(Backend::Sqlx)]
#[case::diesel_postgres(Backend::Diesel)]
#[actix_web::test]
async fn a_stuck_statement_is_cancelled_with_503(#[case] backend: Backend) {
    let Some(db) = TestDatabase::create(DatabaseKind::Postgres).await else { return };
    let mut config = config(&db.url, backend);
    config.pool.statement_timeout = std::time::Duration::from_millis(200);
    let state = orders_api::build_state(&config).await.unwrap();
    let app = test::init_service(web::app(state)).await;
    let id = place_order(&app).await;

    let mut locker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let stuck = send(&app, post(&format!("/orders/{id}/pay"))).await;
    assert_eq!(stuck.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", stuck.body);
    lock.rollback().await.unwrap();

    let paid = send(&app, post(&format!("/orders/{id}/pay"))).await;
    assert_eq!(paid.status, StatusCode::OK, "the cancelled payment changed nothing: {:?}", paid.body);
}
