//! The orders use cases: what the web layer calls, one method per operation.

use crate::error::ServiceError;
use crate::idempotency::Keyed;
use crate::model::{self, Order, OrderItem, Owner, Status};
use crate::repository::{GuardedWrite, OrderFilter, OrdersRepository, Precondition};
use crate::rules;
use std::sync::Arc;
use uuid::Uuid;

/// The resource these use cases serve, as not-found errors name it.
const RESOURCE: &str = "Order";

/// The orders use cases over any [`OrdersRepository`]. Cheap to clone.
#[derive(Clone)]
pub struct OrdersService {
    repository: Arc<dyn OrdersRepository>,
}

impl OrdersService {
    /// A service storing its orders in `repository`.
    pub fn new(repository: Arc<dyn OrdersRepository>) -> Self {
        Self { repository }
    }

    /// Places a new order of `owner` in status `created` (with `key`, its record too).
    pub async fn create(
        &self,
        owner: &Owner,
        items: Vec<OrderItem>,
        key: Option<&Keyed<Order>>,
    ) -> Result<Order, ServiceError> {
        rules::validate_items(&items).map_err(ServiceError::Invalid)?;
        let now = model::now();
        let order = Order {
            id: Uuid::new_v4(),
            created: now,
            updated: now,
            status: Status::Created,
            items,
            version: model::FIRST_VERSION,
        };
        let record = key.map(|key| key.record(&order, now));
        self.repository.insert(owner, &order, record.as_ref()).await?;
        Ok(order)
    }

    /// A page of `owner`'s orders, newest first.
    pub async fn list(&self, owner: &Owner, filter: OrderFilter) -> Result<Vec<Order>, ServiceError> {
        rules::validate_page(filter.limit, filter.offset).map_err(ServiceError::Invalid)?;
        Ok(self.repository.list(owner, filter).await?)
    }

    /// One of `owner`'s orders.
    pub async fn get(&self, owner: &Owner, id: Uuid) -> Result<Order, ServiceError> {
        self.repository.get(owner, id).await?.ok_or_else(|| not_found(id))
    }

    /// Replaces the items of an order that is still `created` and meets `precondition`.
    pub async fn replace_items(
        &self,
        owner: &Owner,
        id: Uuid,
        items: Vec<OrderItem>,
        precondition: &Precondition,
    ) -> Result<Order, ServiceError> {
        rules::validate_items(&items).map_err(ServiceError::Invalid)?;
        let outcome =
            self.repository.replace_items(owner, id, &items, rules::EDITABLE, precondition, model::now()).await?;
        settle(id, "update", precondition, outcome)
    }

    /// Deletes an order that meets `precondition`, whatever its status.
    pub async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<(), ServiceError> {
        match self.repository.delete(owner, id, precondition).await? {
            true => Ok(()),
            // With a precondition, a missing order fails it too: the caller expected one.
            false => Err(ServiceError::nothing_written(RESOURCE, id, precondition)),
        }
    }

    /// Pays an order that is `created` and meets `precondition` (with `key`, see
    /// [`Self::create`]).
    pub async fn pay(
        &self,
        owner: &Owner,
        id: Uuid,
        precondition: &Precondition,
        key: Option<&Keyed<Order>>,
    ) -> Result<Order, ServiceError> {
        let transition = Transition { action: "pay", to: Status::Paid, allowed: rules::PAYABLE };
        self.transition(owner, id, transition, precondition, key).await
    }

    /// Cancels an order that is `created`, `paid` or in `progress` and meets
    /// `precondition` (with `key`, see [`Self::create`]).
    pub async fn cancel(
        &self,
        owner: &Owner,
        id: Uuid,
        precondition: &Precondition,
        key: Option<&Keyed<Order>>,
    ) -> Result<Order, ServiceError> {
        let transition = Transition { action: "cancel", to: Status::Cancelled, allowed: rules::CANCELLABLE };
        self.transition(owner, id, transition, precondition, key).await
    }

    async fn transition(
        &self,
        owner: &Owner,
        id: Uuid,
        transition: Transition,
        precondition: &Precondition,
        key: Option<&Keyed<Order>>,
    ) -> Result<Order, ServiceError> {
        let Transition { action, to, allowed } = transition;
        let Some(key) = key else {
            let outcome = self.repository.set_status(owner, id, to, allowed, precondition, model::now(), None).await?;
            return settle(id, action, precondition, outcome);
        };
        // With a key, the record (the response) goes into the write's transaction, so the
        // order as the write will leave it is worked out first: from the order as read,
        // written only if it is still at that version. A concurrent write in between
        // makes the write miss; then it is worked out again from the order as it is now.
        for _ in 0..WRITE_ATTEMPTS {
            let current = self.repository.get(owner, id).await?;
            let current = match current {
                None => return settle(id, action, precondition, GuardedWrite::Missing),
                Some(order) if !allowed.contains(&order.status) || !precondition.admits(order.version) => {
                    let refused = GuardedWrite::Refused { status: order.status, version: order.version };
                    return settle(id, action, precondition, refused);
                }
                Some(order) => order,
            };
            let at = model::now();
            let after = Order { status: to, updated: at, version: current.version + 1, ..current };
            let record = key.record(&after, at);
            let exactly = Precondition::AtVersion(vec![current.version]);
            match self.repository.set_status(owner, id, to, allowed, &exactly, at, Some(&record)).await? {
                GuardedWrite::Applied(order) => return Ok(order),
                GuardedWrite::Missing | GuardedWrite::Refused { .. } => continue,
            }
        }
        Err(ServiceError::Unavailable)
    }
}

/// How many times a keyed transition is worked out again when concurrent writes keep
/// changing the order under it; after that, the request may be retried (503).
const WRITE_ATTEMPTS: usize = 5;

/// A status change: its name (for conflicts), its target and the statuses it leaves.
struct Transition {
    action: &'static str,
    to: Status,
    allowed: &'static [Status],
}

fn not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound { resource: RESOURCE, id }
}

fn precondition_failed(id: Uuid) -> ServiceError {
    ServiceError::PreconditionFailed { resource: RESOURCE, id }
}

/// The use case's answer to a guarded write. A failed precondition comes before the
/// status: a caller whose view is stale learns that first (RFC 9110 evaluates `If-Match`
/// before the method).
fn settle(
    id: Uuid,
    action: &'static str,
    precondition: &Precondition,
    outcome: GuardedWrite,
) -> Result<Order, ServiceError> {
    match outcome {
        GuardedWrite::Applied(order) => Ok(order),
        GuardedWrite::Missing => Err(ServiceError::nothing_written(RESOURCE, id, precondition)),
        GuardedWrite::Refused { version, .. } if !precondition.admits(version) => Err(precondition_failed(id)),
        GuardedWrite::Refused { status, .. } => Err(ServiceError::Conflict { action, status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::InMemoryOrders;
    use crate::model::Size;

    fn alice() -> Owner {
        Owner::new("alice")
    }

    fn service() -> OrdersService {
        OrdersService::new(Arc::new(InMemoryOrders::default()))
    }

    fn latte() -> Vec<OrderItem> {
        vec![OrderItem { product: "latte".into(), size: Size::Big, quantity: 2 }]
    }

    /// No precondition, as a reference.
    fn any() -> Precondition {
        Precondition::Unconditional
    }

    fn page() -> OrderFilter {
        OrderFilter { cancelled: None, limit: 20, offset: 0 }
    }

    #[tokio::test]
    async fn a_new_order_is_created_and_stored() {
        let service = service();
        let order = service.create(&alice(), latte(), None).await.unwrap();
        assert_eq!(order.status, Status::Created);
        assert_eq!(service.get(&alice(), order.id).await.unwrap(), order);
    }

    #[tokio::test]
    async fn invalid_items_store_nothing() {
        let service = service();
        let error = service.create(&alice(), vec![], None).await.unwrap_err();
        assert!(matches!(error, ServiceError::Invalid(_)));
        assert!(service.list(&alice(), page()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn paying_twice_conflicts() {
        let service = service();
        let order = service.create(&alice(), latte(), None).await.unwrap();
        assert_eq!(service.pay(&alice(), order.id, &any(), None).await.unwrap().status, Status::Paid);
        let error = service.pay(&alice(), order.id, &any(), None).await.unwrap_err();
        assert!(matches!(error, ServiceError::Conflict { action: "pay", status: Status::Paid }));
    }

    #[tokio::test]
    async fn paid_orders_can_be_cancelled_but_not_edited() {
        let service = service();
        let order = service.create(&alice(), latte(), None).await.unwrap();
        service.pay(&alice(), order.id, &any(), None).await.unwrap();
        let error = service.replace_items(&alice(), order.id, latte(), &any()).await.unwrap_err();
        assert!(matches!(error, ServiceError::Conflict { action: "update", .. }));
        assert_eq!(service.cancel(&alice(), order.id, &any(), None).await.unwrap().status, Status::Cancelled);
        let error = service.cancel(&alice(), order.id, &any(), None).await.unwrap_err();
        assert!(matches!(error, ServiceError::Conflict { status: Status::Cancelled, .. }));
    }

    #[tokio::test]
    async fn unknown_ids_are_not_found() {
        let service = service();
        let id = Uuid::new_v4();
        let error = service.get(&alice(), id).await.unwrap_err();
        assert!(matches!(error, ServiceError::NotFound { resource: "Order", id: x } if x == id));
        assert_eq!(error.to_string(), format!("Order with ID {id} not found"));
        assert!(matches!(service.pay(&alice(), id, &any(), None).await, Err(ServiceError::NotFound { .. })));
        assert!(matches!(service.delete(&alice(), id, &any()).await, Err(ServiceError::NotFound { .. })));
        assert!(matches!(
            service.replace_items(&alice(), id, latte(), &any()).await,
            Err(ServiceError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn another_owners_order_is_not_found() {
        let service = service();
        let bob = Owner::new("bob");
        let order = service.create(&alice(), latte(), None).await.unwrap();
        assert!(matches!(service.get(&bob, order.id).await, Err(ServiceError::NotFound { .. })));
        assert!(matches!(service.pay(&bob, order.id, &any(), None).await, Err(ServiceError::NotFound { .. })));
        assert!(matches!(service.delete(&bob, order.id, &any()).await, Err(ServiceError::NotFound { .. })));
        assert!(service.list(&bob, page()).await.unwrap().is_empty());
        assert_eq!(service.get(&alice(), order.id).await.unwrap().status, Status::Created, "untouched");
    }

    #[tokio::test]
    async fn every_write_is_a_new_version_and_a_stale_one_changes_nothing() {
        let service = service();
        let order = service.create(&alice(), latte(), None).await.unwrap();
        assert_eq!(order.version, model::FIRST_VERSION);
        let first = Precondition::AtVersion(vec![order.version]);
        let updated = service.replace_items(&alice(), order.id, latte(), &first).await.unwrap();
        assert_eq!(updated.version, order.version + 1);
        let stale = service.pay(&alice(), order.id, &first, None).await.unwrap_err();
        assert!(matches!(stale, ServiceError::PreconditionFailed { .. }), "{stale:?}");
        assert_eq!(service.get(&alice(), order.id).await.unwrap(), updated, "unchanged");
        let paid = service.pay(&alice(), order.id, &Precondition::Exists, None).await.unwrap();
        assert_eq!(paid.version, updated.version + 1);
        // The version is checked before the status: a stale caller learns that first.
        let stale = service.replace_items(&alice(), order.id, latte(), &first).await.unwrap_err();
        assert!(matches!(stale, ServiceError::PreconditionFailed { .. }), "{stale:?}");
        let gone = Uuid::new_v4();
        let missing = service.cancel(&alice(), gone, &Precondition::Exists, None).await.unwrap_err();
        assert!(matches!(missing, ServiceError::PreconditionFailed { .. }), "{missing:?}");
        let stale = service.delete(&alice(), order.id, &first).await.unwrap_err();
        assert!(matches!(stale, ServiceError::PreconditionFailed { .. }), "{stale:?}");
        let current = Precondition::AtVersion(vec![first.versions().unwrap()[0], paid.version]);
        service.delete(&alice(), order.id, &current).await.unwrap();
    }

    /// A response that is the order's status and version, to see which state was recorded.
    fn summary(order: &Order) -> crate::StoredResponse {
        let body = format!("{} {}", order.status, order.version);
        crate::StoredResponse { status: 200, body, location: None, etag: None }
    }

    #[tokio::test]
    async fn a_keyed_write_stores_its_record_with_the_effect_and_a_repeat_writes_nothing() {
        let fake = Arc::new(InMemoryOrders::default());
        let service = OrdersService::new(fake.clone());
        let keys = crate::Idempotency::new(fake.clone(), std::time::Duration::from_secs(60));
        let key = keys.keyed("k1".into(), "POST /orders".into(), summary);
        let order = service.create(&alice(), latte(), Some(&key)).await.unwrap();
        let record = keys.find(&alice(), "k1").await.unwrap().expect("stored with the order");
        assert_eq!(record.response.body, "created 1");
        let again = service.create(&alice(), latte(), Some(&key)).await.unwrap_err();
        assert!(matches!(again, ServiceError::KeyInUse), "{again:?}");
        assert_eq!(service.list(&alice(), page()).await.unwrap(), std::slice::from_ref(&order), "one order");
        assert!(keys.find(&Owner::new("bob"), "k1").await.unwrap().is_none(), "keys are per owner");

        // A transition records the order as the write leaves it.
        let pay = keys.keyed("k2".into(), "POST /pay".into(), summary);
        let paid = service.pay(&alice(), order.id, &any(), Some(&pay)).await.unwrap();
        assert_eq!(keys.find(&alice(), "k2").await.unwrap().unwrap().response, summary(&paid));
        assert_eq!(paid.version, order.version + 1);
        // A repeat that read the order after the first had paid is refused by the status;
        // its answer cannot be saved over the first's (the web layer then replays that).
        let again = service.pay(&alice(), order.id, &any(), Some(&pay)).await.unwrap_err();
        assert!(matches!(again, ServiceError::Conflict { .. }), "{again:?}");
        assert!(!keys.save(&alice(), "k2".into(), "POST /pay".into(), summary(&order)).await.unwrap());
        // A refused transition stores nothing: its answer is saved on its own.
        let late = keys.keyed("k3".into(), "POST /pay".into(), summary);
        let refused = service.pay(&alice(), order.id, &any(), Some(&late)).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Conflict { .. }), "{refused:?}");
        assert!(keys.find(&alice(), "k3").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_keys_are_gone_and_purged() {
        let fake = Arc::new(InMemoryOrders::default());
        let keys = crate::Idempotency::new(fake.clone(), std::time::Duration::ZERO);
        let response = summary(&OrdersService::new(fake.clone()).create(&alice(), latte(), None).await.unwrap());
        assert!(keys.save(&alice(), "k".into(), "f".into(), response.clone()).await.unwrap());
        assert!(keys.find(&alice(), "k").await.unwrap().is_none(), "expired at once");
        assert!(keys.save(&alice(), "k".into(), "g".into(), response).await.unwrap(), "usable again");
        assert_eq!(keys.purge_expired(10).await.unwrap(), 1);
        assert_eq!(keys.purge_expired(10).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn invalid_pages_are_rejected_before_the_repository() {
        let filter = OrderFilter { limit: 0, ..page() };
        assert!(matches!(service().list(&alice(), filter).await, Err(ServiceError::Invalid(_))));
    }
}
