//! The `Idempotency-Key` records on every backend and database: a keyed write stores its
//! record in the same transaction as its effect, or neither; records are their owner's,
//! expire, and are purged a batch at a time.

use app_data::testing::{Target, TestDatabase};
use app_data::{Backend, Database, PoolSettings, all_backends};
use app_service::model::{FIRST_VERSION, now};
use app_service::{
    GuardedWrite, IdempotencyRepository, KeyRecord, Order, OrderItem, OrdersRepository, Owner, Precondition,
    RepositoryError, Size, Status, StoredResponse,
};
use chrono::{DateTime, TimeDelta, Utc};
use rstest::rstest;
use rstest_reuse::apply;
use std::sync::Arc;
use uuid::Uuid;

struct Repositories {
    orders: Arc<dyn OrdersRepository>,
    keys: Arc<dyn IdempotencyRepository>,
    _db: TestDatabase,
}

async fn repositories(backend: Backend, target: Target) -> Option<Repositories> {
    let db = TestDatabase::create(target).await?;
    app_data::migrate::run(&db.direct_url, &PoolSettings::default()).await.expect("migrate");
    let database = Database::open(&db.url, backend, &db.pool_settings()).expect("open");
    Some(Repositories { orders: database.orders(), keys: database.idempotency_keys(), _db: db })
}

fn alice() -> Owner {
    Owner::new("alice")
}

fn new_order() -> Order {
    let at = now();
    let items = vec![OrderItem { product: "latte".into(), size: Size::Big, quantity: 2 }];
    Order { id: Uuid::new_v4(), created: at, updated: at, status: Status::Created, items, version: FIRST_VERSION }
}

/// A record of `key` made at `at`, living for `ttl`, answering `body`.
fn record(key: &str, body: &str, at: DateTime<Utc>, ttl: TimeDelta) -> KeyRecord {
    let response = StoredResponse {
        status: 201,
        body: body.into(),
        location: Some("/orders/x".into()),
        etag: Some("\"x-1\"".into()),
    };
    KeyRecord { key: key.into(), fingerprint: "f".into(), response, created: at, expires: at + ttl }
}

fn day() -> TimeDelta {
    TimeDelta::days(1)
}

#[apply(all_backends)]
#[tokio::test]
async fn a_keyed_insert_stores_its_record_with_the_order_or_neither(backend: Backend, target: Target) {
    let Some(repos) = repositories(backend, target).await else { return };
    let (orders, keys) = (&repos.orders, &repos.keys);
    let order = new_order();
    let first = record("k", "first", now(), day());
    orders.insert(&alice(), &order, Some(&first)).await.unwrap();
    assert_eq!(keys.find(&alice(), "k", now()).await.unwrap(), Some(first.clone()), "read back exactly");
    assert!(keys.find(&Owner::new("bob"), "k", now()).await.unwrap().is_none(), "keys are their owner's");

    // The key in use: nothing written.
    let repeat = new_order();
    let taken = orders.insert(&alice(), &repeat, Some(&record("k", "second", now(), day()))).await;
    assert!(matches!(taken, Err(RepositoryError::KeyInUse)), "{taken:?}");
    assert!(orders.get(&alice(), repeat.id).await.unwrap().is_none(), "no order without its key");
    assert_eq!(keys.find(&alice(), "k", now()).await.unwrap(), Some(first), "the first record stays");

    // The order cannot be stored (its id is taken): no key without its order.
    let failed = orders.insert(&alice(), &order, Some(&record("k2", "dup", now(), day()))).await;
    assert!(matches!(failed, Err(RepositoryError::Internal(_))), "{failed:?}");
    assert!(keys.find(&alice(), "k2", now()).await.unwrap().is_none(), "no key without its order");
    // Another owner's same key is another key.
    orders.insert(&Owner::new("bob"), &new_order(), Some(&record("k", "bob's", now(), day()))).await.unwrap();
}

#[apply(all_backends)]
#[tokio::test]
async fn a_keyed_status_change_stores_its_record_only_if_it_applies(backend: Backend, target: Target) {
    let Some(repos) = repositories(backend, target).await else { return };
    let (orders, keys) = (&repos.orders, &repos.keys);
    let order = new_order();
    orders.insert(&alice(), &order, None).await.unwrap();
    let any = &Precondition::Unconditional;
    let pay = |key| {
        let record = record(key, "paid", now(), day());
        async move {
            orders.set_status(&alice(), order.id, Status::Paid, &[Status::Created], any, now(), Some(&record)).await
        }
    };
    assert!(matches!(pay("p1").await.unwrap(), GuardedWrite::Applied(_)));
    assert!(keys.find(&alice(), "p1", now()).await.unwrap().is_some());
    assert!(matches!(pay("p1").await, Err(RepositoryError::KeyInUse)), "the key first, then the status");
    assert!(matches!(pay("p2").await.unwrap(), GuardedWrite::Refused { status: Status::Paid, .. }));
    assert!(keys.find(&alice(), "p2", now()).await.unwrap().is_none(), "refused: no record");
    assert_eq!(orders.get(&alice(), order.id).await.unwrap().unwrap().version, FIRST_VERSION + 1);
}

#[apply(all_backends)]
#[tokio::test]
async fn expired_records_are_gone_replaced_and_purged_a_batch_at_a_time(backend: Backend, target: Target) {
    let Some(repos) = repositories(backend, target).await else { return };
    let keys = &repos.keys;
    let (earlier, at) = (now() - TimeDelta::hours(2), now());
    for i in 0..5 {
        assert!(keys.save(&alice(), &record(&format!("old-{i}"), "old", earlier, TimeDelta::hours(1))).await.unwrap());
    }
    assert!(keys.save(&alice(), &record("live", "live", earlier, day())).await.unwrap());
    assert!(keys.find(&alice(), "old-0", at).await.unwrap().is_none(), "expired: gone");
    assert!(!keys.save(&alice(), &record("live", "again", at, day())).await.unwrap(), "live: in use");
    let reused = record("old-0", "new", at, day());
    assert!(keys.save(&alice(), &reused).await.unwrap(), "expired: the key may be used again");
    assert_eq!(keys.find(&alice(), "old-0", at).await.unwrap(), Some(reused));

    assert_eq!(keys.purge_expired(at, 3).await.unwrap(), 3, "a batch");
    assert_eq!(keys.purge_expired(at, 3).await.unwrap(), 1, "the rest");
    assert_eq!(keys.purge_expired(at, 3).await.unwrap(), 0);
    assert!(keys.find(&alice(), "live", at).await.unwrap().is_some(), "live records stay");
}

/// 50 concurrent keyed inserts of one key, from two handles on the database (two
/// instances): exactly one order, and the other 49 write nothing.
#[apply(all_backends)]
#[tokio::test]
async fn concurrent_inserts_with_one_key_store_one_order(backend: Backend, target: Target) {
    let Some(repos) = repositories(backend, target).await else { return };
    let second = Database::open(&repos._db.url, backend, &repos._db.pool_settings()).unwrap().orders();
    let at = now();
    let inserts = (0..50).map(|i| {
        let orders = if i % 2 == 0 { Arc::clone(&repos.orders) } else { Arc::clone(&second) };
        let record = record("one", &format!("order {i}"), at, day());
        async move { orders.insert(&alice(), &new_order(), Some(&record)).await }
    });
    let results = futures::future::join_all(inserts).await;
    let stored = results.iter().filter(|result| result.is_ok()).count();
    let in_use = results.iter().filter(|result| matches!(result, Err(RepositoryError::KeyInUse))).count();
    assert_eq!((stored, in_use), (1, 49), "{results:?}");
    let page = app_service::OrderFilter { cancelled: None, limit: 100, offset: 0 };
    assert_eq!(repos.orders.list(&alice(), page).await.unwrap().len(), 1);
}

/// A keyed insert dropped part-way (a client gone, a request timed out), after each number
/// of polls in turn: its order and its key are both stored or neither, for good.
#[apply(all_backends)]
#[tokio::test]
async fn a_cancelled_keyed_insert_leaves_its_order_and_its_key_together(backend: Backend, target: Target) {
    let Some(repos) = repositories(backend, target).await else { return };
    let (orders, keys, owner) = (&repos.orders, &repos.keys, alice());
    let mut attempts = Vec::new();
    for polls in 0..30 {
        let (order, key) = (new_order(), format!("cancelled-{polls}"));
        let record = record(&key, "x", now(), day());
        let mut insert = std::pin::pin!(orders.insert(&owner, &order, Some(&record)));
        for _ in 0..polls {
            if futures::poll!(insert.as_mut()).is_ready() {
                break;
            }
            tokio::task::yield_now().await;
        }
        attempts.push((order.id, key));
    }
    // A write handed to a query thread may still finish after its future is dropped, and
    // the two reads below are two moments: wait (bounded) for them to agree. A real tear
    // (an order without its key, or the reverse) never would.
    let patience = std::time::Duration::from_secs(30);
    for (id, key) in attempts {
        let agree = async {
            loop {
                let order = orders.get(&alice(), id).await.unwrap().is_some();
                let record = keys.find(&alice(), &key, now()).await.unwrap().is_some();
                if order == record {
                    break;
                }
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(patience, agree).await.unwrap_or_else(|_| panic!("{key}: order and key disagree"));
    }
}
