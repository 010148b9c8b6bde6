//! The repository contract: every backend on every database must pass these, through
//! the service's `OrdersRepository` trait only. One suite, run on all four combinations
//! by the `all_backends` template.

use app_data::testing::{Target, TestDatabase};
use app_data::{Backend, Database, PoolSettings, all_backends};
use app_service::model::FIRST_VERSION;
use app_service::{
    GuardedWrite, Order, OrderFilter, OrderItem, OrdersRepository, Owner, Precondition, Size, Status, StorageHealth,
};
use chrono::{DateTime, TimeDelta, Utc};
use rstest::rstest;
use rstest_reuse::apply;
use std::sync::Arc;
use uuid::Uuid;

/// A repository on a fresh database; `None` when the test must skip (no Postgres).
async fn repository(backend: Backend, target: Target) -> Option<(Arc<dyn OrdersRepository>, TestDatabase)> {
    let db = TestDatabase::create(target).await?;
    let database = connect(&db, backend, db.pool_settings()).await;
    Some((database.orders(), db))
}

/// The database of `db`: migrated over its direct URL, the pool on the service's URL
/// (through the pooler, if there is one).
async fn connect(db: &TestDatabase, backend: Backend, settings: PoolSettings) -> Database {
    app_data::migrate::run(&db.direct_url, &PoolSettings::default()).await.expect("migrate");
    Database::open(&db.url, backend, &settings).expect("open")
}

/// A write with no precondition, as the service makes one without `If-Match`.
const ANY: &Precondition = &Precondition::Unconditional;

fn alice() -> Owner {
    Owner::new("alice")
}

fn item(product: &str, size: Size, quantity: i64) -> OrderItem {
    OrderItem { product: product.into(), size, quantity }
}

fn order_at(created: DateTime<Utc>, items: Vec<OrderItem>) -> Order {
    Order { id: Uuid::new_v4(), created, updated: created, status: Status::Created, items, version: FIRST_VERSION }
}

fn new_order() -> Order {
    order_at(app_service::model::now(), vec![item("latte", Size::Big, 2), item("tea", Size::Small, 1)])
}

fn all(cancelled: Option<bool>) -> OrderFilter {
    OrderFilter { cancelled, limit: 100, offset: 0 }
}

#[apply(all_backends)]
#[tokio::test]
async fn an_inserted_order_reads_back_exactly(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let items = (0..50).map(|i| item(&format!("product {i} ☕"), Size::Medium, i + 1)).collect();
    let order = order_at(app_service::model::now(), items);
    repo.insert(&alice(), &order, None).await.unwrap();
    assert_eq!(repo.get(&alice(), order.id).await.unwrap(), Some(order));
}

#[apply(all_backends)]
#[tokio::test]
async fn an_unknown_id_is_none(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    repo.insert(&alice(), &new_order(), None).await.unwrap();
    assert_eq!(repo.get(&alice(), Uuid::new_v4()).await.unwrap(), None);
}

#[apply(all_backends)]
#[tokio::test]
async fn a_listing_is_newest_first_to_the_millisecond_and_paged(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let start = app_service::model::now();
    let mut orders = Vec::new();
    for i in 0..5 {
        let order = order_at(start + TimeDelta::milliseconds(i), vec![item(&format!("#{i}"), Size::Small, 1)]);
        repo.insert(&alice(), &order, None).await.unwrap();
        orders.push(order);
    }
    orders.reverse();
    assert_eq!(repo.list(&alice(), all(None)).await.unwrap(), orders);
    let page = repo.list(&alice(), OrderFilter { cancelled: None, limit: 2, offset: 1 }).await.unwrap();
    assert_eq!(page, orders[1..3]);
    let beyond = repo.list(&alice(), OrderFilter { cancelled: None, limit: 2, offset: 5 }).await.unwrap();
    assert!(beyond.is_empty());
}

#[apply(all_backends)]
#[tokio::test]
async fn a_listing_filters_on_cancelled(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let (kept, cancelled) = (new_order(), new_order());
    repo.insert(&alice(), &kept, None).await.unwrap();
    repo.insert(&alice(), &cancelled, None).await.unwrap();
    let now = app_service::model::now();
    repo.set_status(&alice(), cancelled.id, Status::Cancelled, &[Status::Created], ANY, now, None).await.unwrap();
    let ids = |orders: Vec<Order>| orders.into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(repo.list(&alice(), all(Some(true))).await.unwrap()), vec![cancelled.id]);
    assert_eq!(ids(repo.list(&alice(), all(Some(false))).await.unwrap()), vec![kept.id]);
    assert_eq!(repo.list(&alice(), all(None)).await.unwrap().len(), 2);
}

#[apply(all_backends)]
#[tokio::test]
async fn replacing_items_is_guarded_by_status(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let order = new_order();
    repo.insert(&alice(), &order, None).await.unwrap();
    let later = order.created + TimeDelta::seconds(1);
    let items = vec![item("mocha", Size::Medium, 3)];

    let GuardedWrite::Applied(updated) =
        repo.replace_items(&alice(), order.id, &items, &[Status::Created], ANY, later).await.unwrap()
    else {
        panic!("the replacement should apply")
    };
    assert_eq!((updated.items.clone(), updated.updated, updated.created), (items.clone(), later, order.created));
    assert_eq!(repo.get(&alice(), order.id).await.unwrap(), Some(updated));

    let refused = repo.replace_items(&alice(), order.id, &[], &[Status::Paid], ANY, later).await.unwrap();
    assert_eq!(refused, GuardedWrite::Refused { status: Status::Created, version: FIRST_VERSION + 1 });
    assert_eq!(repo.get(&alice(), order.id).await.unwrap().unwrap().items, items, "a refused write changes nothing");
    let missing = repo.replace_items(&alice(), Uuid::new_v4(), &items, &[Status::Created], ANY, later).await.unwrap();
    assert_eq!(missing, GuardedWrite::Missing);
}

#[apply(all_backends)]
#[tokio::test]
async fn status_changes_are_guarded(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let order = new_order();
    repo.insert(&alice(), &order, None).await.unwrap();
    let now = app_service::model::now();
    let GuardedWrite::Applied(paid) =
        repo.set_status(&alice(), order.id, Status::Paid, &[Status::Created], ANY, now, None).await.unwrap()
    else {
        panic!("payment should apply")
    };
    assert_eq!((paid.status, paid.items.clone(), paid.updated), (Status::Paid, order.items.clone(), now));
    let again = repo.set_status(&alice(), order.id, Status::Paid, &[Status::Created], ANY, now, None).await.unwrap();
    assert_eq!(again, GuardedWrite::Refused { status: Status::Paid, version: FIRST_VERSION + 1 });
    let cancel = &[Status::Created, Status::Paid, Status::Progress];
    let cancelled = repo.set_status(&alice(), order.id, Status::Cancelled, cancel, ANY, now, None).await.unwrap();
    assert!(matches!(cancelled, GuardedWrite::Applied(o) if o.status == Status::Cancelled));
    let missing =
        repo.set_status(&alice(), Uuid::new_v4(), Status::Paid, &[Status::Created], ANY, now, None).await.unwrap();
    assert_eq!(missing, GuardedWrite::Missing);
}

#[apply(all_backends)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_payments_of_one_order_apply_once(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let order = new_order();
    repo.insert(&alice(), &order, None).await.unwrap();
    let payments = (0..50).map(|_| {
        let repo = Arc::clone(&repo);
        tokio::spawn(async move {
            repo.set_status(&alice(), order.id, Status::Paid, &[Status::Created], ANY, app_service::model::now(), None)
                .await
        })
    });
    let outcomes = futures::future::join_all(payments).await;
    let applied = outcomes
        .into_iter()
        .map(|joined| joined.expect("no panic").expect("no database error"))
        .filter(|outcome| matches!(outcome, GuardedWrite::Applied(_)))
        .count();
    assert_eq!(applied, 1);
}

/// The version counts the order's states: one more on each write, never on a read or a
/// refused write, and what a write returns is what reads show.
#[apply(all_backends)]
#[tokio::test]
async fn every_write_and_only_a_write_is_a_new_version(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let order = new_order();
    repo.insert(&alice(), &order, None).await.unwrap();
    let version = |write: GuardedWrite| match write {
        GuardedWrite::Applied(order) => order.version,
        other => panic!("the write should apply: {other:?}"),
    };
    let now = app_service::model::now();
    let items = [item("mocha", Size::Small, 1)];
    let replaced = version(repo.replace_items(&alice(), order.id, &items, &[Status::Created], ANY, now).await.unwrap());
    assert_eq!(replaced, FIRST_VERSION + 1);
    repo.set_status(&alice(), order.id, Status::Paid, &[Status::Paid], ANY, now, None).await.unwrap();
    assert_eq!(repo.get(&alice(), order.id).await.unwrap().unwrap().version, replaced, "refused: no new version");
    let paid =
        version(repo.set_status(&alice(), order.id, Status::Paid, &[Status::Created], ANY, now, None).await.unwrap());
    assert_eq!(paid, replaced + 1);
    assert_eq!(repo.list(&alice(), all(None)).await.unwrap()[0].version, paid);
}

/// A write limited to versions applies only at one of them; otherwise it changes nothing
/// and reports the order's status and version.
#[apply(all_backends)]
#[tokio::test]
async fn a_write_at_a_stale_version_changes_nothing(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let order = new_order();
    repo.insert(&alice(), &order, None).await.unwrap();
    let (now, items) = (app_service::model::now(), [item("mocha", Size::Small, 1)]);
    let (first, second) = (Precondition::AtVersion(vec![FIRST_VERSION]), FIRST_VERSION + 1);
    let applied = repo.replace_items(&alice(), order.id, &items, &[Status::Created], &first, now).await.unwrap();
    assert!(matches!(applied, GuardedWrite::Applied(ref o) if o.version == second), "{applied:?}");
    let stale = GuardedWrite::Refused { status: Status::Created, version: second };
    assert_eq!(repo.replace_items(&alice(), order.id, &[], &[Status::Created], &first, now).await.unwrap(), stale);
    assert_eq!(
        repo.set_status(&alice(), order.id, Status::Paid, &[Status::Created], &first, now, None).await.unwrap(),
        stale
    );
    let none = Precondition::AtVersion(vec![]);
    assert_eq!(
        repo.set_status(&alice(), order.id, Status::Paid, &[Status::Created], &none, now, None).await.unwrap(),
        stale
    );
    assert!(!repo.delete(&alice(), order.id, &first).await.unwrap());
    assert_eq!(repo.get(&alice(), order.id).await.unwrap().unwrap().items, items, "the stale writes changed nothing");

    let (gone, exists) = (Uuid::new_v4(), Precondition::Exists);
    let missing = repo.set_status(&alice(), gone, Status::Paid, &[Status::Created], &exists, now, None).await.unwrap();
    assert_eq!(missing, GuardedWrite::Missing);
    let either = Precondition::AtVersion(vec![FIRST_VERSION, second]);
    let paid = repo.set_status(&alice(), order.id, Status::Paid, &[Status::Created], &either, now, None).await.unwrap();
    assert!(matches!(paid, GuardedWrite::Applied(ref o) if o.version == second + 1), "{paid:?}");
    assert!(repo.delete(&alice(), order.id, &Precondition::AtVersion(vec![second + 1])).await.unwrap());
}

/// Check and write are one step: of 20 writers that all saw the first version, one wins
/// and the others find the version it wrote.
#[apply(all_backends)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_at_one_version_apply_once(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let order = new_order();
    repo.insert(&alice(), &order, None).await.unwrap();
    let writers = (0..20).map(|i| {
        let repo = Arc::clone(&repo);
        tokio::spawn(async move {
            let (items, first) = ([item(&format!("#{i}"), Size::Big, 1)], Precondition::AtVersion(vec![FIRST_VERSION]));
            repo.replace_items(&alice(), order.id, &items, &[Status::Created], &first, app_service::model::now()).await
        })
    });
    let outcomes: Vec<GuardedWrite> = futures::future::join_all(writers)
        .await
        .into_iter()
        .map(|joined| joined.expect("no panic").expect("no database error"))
        .collect();
    let winners: Vec<&Order> =
        outcomes.iter().filter_map(|o| if let GuardedWrite::Applied(o) = o { Some(o) } else { None }).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let stale = GuardedWrite::Refused { status: Status::Created, version: FIRST_VERSION + 1 };
    assert_eq!(outcomes.iter().filter(|o| **o == stale).count(), 19, "{outcomes:?}");
    assert_eq!(repo.get(&alice(), order.id).await.unwrap().as_ref(), Some(winners[0]), "the winner's items stay");
}

#[apply(all_backends)]
#[tokio::test]
async fn deleting_removes_the_order_and_its_items(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let (gone, kept) = (new_order(), new_order());
    repo.insert(&alice(), &gone, None).await.unwrap();
    repo.insert(&alice(), &kept, None).await.unwrap();
    assert!(repo.delete(&alice(), gone.id, ANY).await.unwrap());
    assert!(!repo.delete(&alice(), gone.id, ANY).await.unwrap());
    assert_eq!(repo.get(&alice(), gone.id).await.unwrap(), None);
    assert_eq!(repo.get(&alice(), kept.id).await.unwrap(), Some(kept.clone()));
    // A new order may reuse nothing of the old one: insert the same id again.
    let reborn = Order { id: gone.id, ..new_order() };
    repo.insert(&alice(), &reborn, None).await.unwrap();
    assert_eq!(repo.get(&alice(), gone.id).await.unwrap().unwrap().items, reborn.items);
}

#[apply(all_backends)]
#[tokio::test]
async fn a_failed_insert_leaves_nothing_behind(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    // The schema refuses a quantity of 0; the order row must not stay without items.
    let broken = order_at(app_service::model::now(), vec![item("latte", Size::Big, 1), item("tea", Size::Small, 0)]);
    assert!(repo.insert(&alice(), &broken, None).await.is_err());
    assert_eq!(repo.get(&alice(), broken.id).await.unwrap(), None);
}

#[apply(all_backends)]
#[tokio::test]
async fn the_database_answers_pings_and_counts_its_connections(backend: Backend, target: Target) {
    let Some(db) = TestDatabase::create(target).await else { return };
    let database = connect(&db, backend, db.pool_settings()).await;
    database.ping().await.unwrap();
    let stats = database.pool_stats();
    assert!(stats.open >= 1 && stats.idle <= stats.open, "{stats:?}");
}

/// An order is its owner's alone: to anyone else it does not exist, whatever they try.
#[apply(all_backends)]
#[tokio::test]
async fn another_owner_can_neither_see_nor_touch_an_order(backend: Backend, target: Target) {
    let Some((repo, _db)) = repository(backend, target).await else { return };
    let bob = Owner::new("bob");
    let order = new_order();
    repo.insert(&alice(), &order, None).await.unwrap();
    let later = order.created + TimeDelta::seconds(1);

    assert_eq!(repo.get(&bob, order.id).await.unwrap(), None);
    assert!(repo.list(&bob, all(None)).await.unwrap().is_empty());
    let mocha = [item("mocha", Size::Big, 1)];
    let replaced = repo.replace_items(&bob, order.id, &mocha, &[Status::Created], ANY, later).await.unwrap();
    assert_eq!(replaced, GuardedWrite::Missing);
    let paid = repo.set_status(&bob, order.id, Status::Paid, &[Status::Created], ANY, later, None).await.unwrap();
    assert_eq!(paid, GuardedWrite::Missing);
    assert!(!repo.delete(&bob, order.id, ANY).await.unwrap());

    assert_eq!(repo.get(&alice(), order.id).await.unwrap(), Some(order.clone()), "alice's order is untouched");
    let mine = Order { id: Uuid::new_v4(), ..new_order() };
    repo.insert(&bob, &mine, None).await.unwrap();
    let listed: Vec<Uuid> = repo.list(&alice(), all(None)).await.unwrap().into_iter().map(|o| o.id).collect();
    assert_eq!(listed, vec![order.id], "each lists only their own");
}

/// Repositories made from one `Database` share its pool: with room for one connection,
/// both work, the pool never opens a second, and closing the database closes both.
#[apply(all_backends)]
#[tokio::test]
async fn repositories_share_the_database_pool(backend: Backend, target: Target) {
    let Some(db) = TestDatabase::create(target).await else { return };
    let settings = PoolSettings { max_connections: 1, ..db.pool_settings() };
    let database = connect(&db, backend, settings).await;
    let (first, second) = (database.orders(), database.orders());
    let order = new_order();
    first.insert(&alice(), &order, None).await.unwrap();
    assert_eq!(second.get(&alice(), order.id).await.unwrap(), Some(order.clone()));
    let reads = (0..10).map(|_| async {
        second.get(&alice(), order.id).await.unwrap().is_some() && first.list(&alice(), all(None)).await.is_ok()
    });
    assert!(futures::future::join_all(reads).await.into_iter().all(|ok| ok));
    assert_eq!(database.pool_stats().open, 1, "one pool of one connection served both");

    database.close().await;
    for repository in [first, second] {
        let closed = repository.get(&alice(), order.id).await;
        assert!(matches!(closed, Err(app_service::RepositoryError::Unavailable(_))), "{closed:?}");
    }
}

#[cfg(all(feature = "sqlx", feature = "diesel"))]
#[rstest]
#[cfg_attr(feature = "sqlite", case::sqlite(app_data::DatabaseKind::Sqlite))]
#[cfg_attr(feature = "postgres", case::postgres(app_data::DatabaseKind::Postgres))]
#[tokio::test]
async fn each_backend_reads_what_the_other_wrote(#[case] kind: app_data::DatabaseKind) {
    let Some(db) = TestDatabase::create(kind).await else { return };
    let settings = PoolSettings::default();
    let sqlx = Database::connect(&db.url, Backend::Sqlx, &settings).await.unwrap().orders();
    let diesel = Database::connect(&db.url, Backend::Diesel, &settings).await.unwrap().orders();
    let (by_sqlx, by_diesel) = (new_order(), order_at(app_service::model::now() + TimeDelta::milliseconds(1), vec![]));
    sqlx.insert(&alice(), &by_sqlx, None).await.unwrap();
    diesel.insert(&alice(), &by_diesel, None).await.unwrap();
    assert_eq!(diesel.get(&alice(), by_sqlx.id).await.unwrap(), Some(by_sqlx.clone()));
    assert_eq!(sqlx.get(&alice(), by_diesel.id).await.unwrap(), Some(by_diesel.clone()));
    assert_eq!(sqlx.list(&alice(), all(None)).await.unwrap(), diesel.list(&alice(), all(None)).await.unwrap());
}
