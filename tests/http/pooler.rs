//! Many instances on one Postgres through PgBouncer in transaction mode: what only
//! shows with more than one instance, and migrations that must not go through the pooler.
//! (The whole contract suite runs through PgBouncer too: the `*_pgbouncer` cases.)

use crate::support::*;
use actix_web::http::StatusCode;
use rstest::rstest;

/// Two instances, each with its own pool, share one database through the pooler; 50
/// concurrent payments of one order, spread over both, pay it once.
#[rstest]
#[cfg_attr(feature = "sqlx", case::sqlx(Backend::Sqlx))]
#[cfg_attr(feature = "diesel", case::diesel(Backend::Diesel))]
#[actix_web::test]
async fn two_instances_behind_pgbouncer_pay_an_order_once(#[case] backend: Backend) {
    let Some(db) = TestDatabase::create(Target::PgBouncer).await else { return };
    let config = config(&db, backend);
    let instances = [app::connect(&config).await.unwrap(), app::connect(&config).await.unwrap()];
    let mut handlers = Vec::new();
    for database in &instances {
        handlers.push(handler(app::app_state(database, &config).unwrap()).await);
    }
    let placed = send(&handlers[0], post_json("/orders", &latte())).await;
    assert_eq!(placed.status, StatusCode::CREATED);
    let pay = format!("/orders/{}/pay", placed.body["id"].as_str().unwrap());

    let payments = (0..50).map(|i| send(&handlers[i % 2], post(&pay)));
    let replies = futures::future::join_all(payments).await;
    let count = |status| replies.iter().filter(|r| r.status == status).count();
    assert_eq!((count(StatusCode::OK), count(StatusCode::CONFLICT)), (1, 49), "{:?}", replies.last());
}

/// Ten instances starting at once on a new database: each migrates over the direct
/// connection under sqlx's migration lock, and all of them come up.
#[actix_web::test]
async fn ten_instances_starting_at_once_migrate_without_racing() {
    let Some(db) = TestDatabase::create(Target::PgBouncer).await else { return };
    let config = config(&db, Backend::default());
    let starts = (0..10).map(|_| app::connect(&config));
    for started in futures::future::join_all(starts).await {
        let database = started.expect("every instance starts");
        let app = handler(app::app_state(&database, &config).unwrap()).await;
        assert_eq!(send(&app, post_json("/orders", &latte())).await.status, StatusCode::CREATED);
    }
}

/// Behind a transaction pooler with no direct URL, `serve` does not migrate (the
/// migrator needs a session the pooler cannot give), and `migrate` refuses.
#[actix_web::test]
async fn without_a_direct_url_nothing_migrates_through_the_pooler() {
    let Some(db) = TestDatabase::create(Target::PgBouncer).await else { return };
    let mut config = config(&db, Backend::default());
    config.database_migration_url = None;
    app::connect(&config).await.expect("starts without migrating");
    assert!(!db.has_table("_sqlx_migrations").await, "nothing was migrated");
    let refused = app::migrate(&config).await.unwrap_err();
    assert!(refused.to_string().contains("set DATABASE_MIGRATION_URL"), "{refused}");

    config.database_migration_url = Some(db.direct_url.clone());
    app::migrate(&config).await.expect("migrates over the direct URL");
    assert!(db.has_table("orders").await);
}
