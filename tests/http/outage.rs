//! Database outages, for real: a TCP proxy between the app and Postgres is cut and
//! restored, and a pool is exhausted by a lock held elsewhere.

use crate::proxy::Proxy;
use crate::support::*;
use actix_web::http::StatusCode;
use app_data::PoolSettings;
use rstest::rstest;

#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx_postgres(Backend::Sqlx, Target::Postgres))]
#[cfg_attr(feature = "sqlx", case::sqlx_pgbouncer(Backend::Sqlx, Target::PgBouncer))]
#[cfg_attr(feature = "diesel", case::diesel_postgres(Backend::Diesel, Target::Postgres))]
#[cfg_attr(feature = "diesel", case::diesel_pgbouncer(Backend::Diesel, Target::PgBouncer))]
#[actix_web::test]
async fn orders_fail_fast_while_postgres_is_away_and_recover_by_themselves(
    #[case] backend: Backend,
    #[case] target: Target,
) {
    let Some(db) = TestDatabase::create(target).await else { return };
    let proxy = Proxy::start(db.server_address()).await;
    // The proxy stands where the service connects: in front of Postgres, or of PgBouncer.
    let mut config = config(&db, backend);
    config.database_url = db.url_through(proxy.address);
    // Fail fast while the proxy is cut.
    config.pool.acquire_timeout = std::time::Duration::from_millis(500);
    let app = TestApp::on(db, &config).await;
    let mut acknowledged = vec![app.place_order().await];

    proxy.cut().await;
    let replies = [
        app.post_json("/orders", &latte()).await,
        app.get("/orders").await,
        app.get("/ready").await,
        app.order(&acknowledged[0]).await,
    ];
    for reply in replies {
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", reply.body);
        assert!(reply.body["detail"].is_string());
    }
    assert_eq!(app.get("/health").await.status, StatusCode::OK, "alive while the database is away");

    proxy.restore().await;
    // Each attempt returns within the pool timeout; a bounded number of them must do.
    let mut ready = false;
    for _ in 0..40 {
        if app.get("/ready").await.status == StatusCode::OK {
            ready = true;
            break;
        }
    }
    assert!(ready, "the service recovers with no restart");
    acknowledged.push(app.place_order().await);
    for id in &acknowledged {
        assert_eq!(app.order(id).await.status, StatusCode::OK, "order {id} kept");
    }
    let listed = app.get("/orders").await;
    assert_eq!(listed.body["orders"].as_array().unwrap().len(), acknowledged.len(), "503s wrote nothing");
}

/// With every pooled connection busy, a request fails after the pool timeout with 503
/// instead of waiting forever; the busy one still completes.
#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx_postgres(Backend::Sqlx, Target::Postgres))]
#[cfg_attr(feature = "sqlx", case::sqlx_pgbouncer(Backend::Sqlx, Target::PgBouncer))]
#[cfg_attr(feature = "diesel", case::diesel_postgres(Backend::Diesel, Target::Postgres))]
#[cfg_attr(feature = "diesel", case::diesel_pgbouncer(Backend::Diesel, Target::PgBouncer))]
#[actix_web::test]
async fn an_exhausted_pool_answers_503_within_its_timeout(#[case] backend: Backend, #[case] target: Target) {
    let Some(db) = TestDatabase::create(target).await else { return };
    let mut config = config(&db, backend);
    config.pool = PoolSettings {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_millis(300),
        ..db.pool_settings()
    };
    let app = TestApp::on(db, &config).await;
    // Open the pool's connection now, so that connecting is not what the timeout measures.
    assert_eq!(app.get("/orders").await.status, StatusCode::OK);

    // Another client locks the table: the pool's only connection will wait on it.
    let lock = app.db.lock_table("orders").await;

    let blocked = app.get("/orders");
    let refused = async {
        let reply = app.get("/orders").await;
        lock.release().await;
        reply
    };
    let (blocked, refused) = futures::join!(blocked, refused);
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(blocked.status, StatusCode::OK);
}

/// A statement stuck behind a lock on a live Postgres is cancelled after the statement
/// timeout: 503, not a request hanging as long as the lock is held. Directly, the service
/// sets the timeout on its connections; through a transaction pooler it is the database's
/// own setting, as the README tells operators to configure it.
#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx_postgres(Backend::Sqlx, Target::Postgres))]
#[cfg_attr(feature = "sqlx", case::sqlx_pgbouncer(Backend::Sqlx, Target::PgBouncer))]
#[cfg_attr(feature = "diesel", case::diesel_postgres(Backend::Diesel, Target::Postgres))]
#[cfg_attr(feature = "diesel", case::diesel_pgbouncer(Backend::Diesel, Target::PgBouncer))]
#[actix_web::test]
async fn a_stuck_statement_is_cancelled_with_503(#[case] backend: Backend, #[case] target: Target) {
    let Some(db) = TestDatabase::create(target).await else { return };
    let mut config = config(&db, backend);
    config.pool.statement_timeout = std::time::Duration::from_millis(200);
    if target == Target::PgBouncer {
        db.set_database_setting("statement_timeout", "200ms").await;
    }
    let app = TestApp::on(db, &config).await;
    let id = app.place_order().await;

    let lock = app.db.lock_table("orders").await;
    let stuck = app.pay(&id).await;
    assert_eq!(stuck.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", stuck.body);
    lock.release().await;

    let paid = app.pay(&id).await;
    assert_eq!(paid.status, StatusCode::OK, "the cancelled payment changed nothing: {:?}", paid.body);
}
