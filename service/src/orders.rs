//! The orders use cases: what the web layer calls, one method per operation.

use crate::error::ServiceError;
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

    /// Places a new order of `owner` in status `created`.
    pub async fn create(&self, owner: &Owner, items: Vec<OrderItem>) -> Result<Order, ServiceError> {
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
        self.repository.insert(owner, &order).await?;
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
            false if precondition.is_conditional() => Err(ServiceError::PreconditionFailed(id)),
            false => Err(not_found(id)),
        }
    }

    /// Pays an order that is `created` and meets `precondition`.
    pub async fn pay(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<Order, ServiceError> {
        self.transition(owner, id, "pay", Status::Paid, rules::PAYABLE, precondition).await
    }

    /// Cancels an order that is `created`, `paid` or in `progress` and meets `precondition`.
    pub async fn cancel(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<Order, ServiceError> {
        self.transition(owner, id, "cancel", Status::Cancelled, rules::CANCELLABLE, precondition).await
    }

    async fn transition(
        &self,
        owner: &Owner,
        id: Uuid,
        action: &'static str,
        to: Status,
        allowed: &[Status],
        precondition: &Precondition,
    ) -> Result<Order, ServiceError> {
        let outcome = self.repository.set_status(owner, id, to, allowed, precondition, model::now()).await?;
        settle(id, action, precondition, outcome)
    }
}

fn not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound { resource: RESOURCE, id }
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
        GuardedWrite::Missing if precondition.is_conditional() => Err(ServiceError::PreconditionFailed(id)),
        GuardedWrite::Missing => Err(not_found(id)),
        GuardedWrite::Refused { version, .. } if !precondition.admits(version) => {
            Err(ServiceError::PreconditionFailed(id))
        }
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
        let order = service.create(&alice(), latte()).await.unwrap();
        assert_eq!(order.status, Status::Created);
        assert_eq!(service.get(&alice(), order.id).await.unwrap(), order);
    }

    #[tokio::test]
    async fn invalid_items_store_nothing() {
        let service = service();
        let error = service.create(&alice(), vec![]).await.unwrap_err();
        assert!(matches!(error, ServiceError::Invalid(_)));
        assert!(service.list(&alice(), page()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn paying_twice_conflicts() {
        let service = service();
        let order = service.create(&alice(), latte()).await.unwrap();
        assert_eq!(service.pay(&alice(), order.id, &any()).await.unwrap().status, Status::Paid);
        let error = service.pay(&alice(), order.id, &any()).await.unwrap_err();
        assert!(matches!(error, ServiceError::Conflict { action: "pay", status: Status::Paid }));
    }

    #[tokio::test]
    async fn paid_orders_can_be_cancelled_but_not_edited() {
        let service = service();
        let order = service.create(&alice(), latte()).await.unwrap();
        service.pay(&alice(), order.id, &any()).await.unwrap();
        let error = service.replace_items(&alice(), order.id, latte(), &any()).await.unwrap_err();
        assert!(matches!(error, ServiceError::Conflict { action: "update", .. }));
        assert_eq!(service.cancel(&alice(), order.id, &any()).await.unwrap().status, Status::Cancelled);
        let error = service.cancel(&alice(), order.id, &any()).await.unwrap_err();
        assert!(matches!(error, ServiceError::Conflict { status: Status::Cancelled, .. }));
    }

    #[tokio::test]
    async fn unknown_ids_are_not_found() {
        let service = service();
        let id = Uuid::new_v4();
        let error = service.get(&alice(), id).await.unwrap_err();
        assert!(matches!(error, ServiceError::NotFound { resource: "Order", id: x } if x == id));
        assert_eq!(error.to_string(), format!("Order with ID {id} not found"));
        assert!(matches!(service.pay(&alice(), id, &any()).await, Err(ServiceError::NotFound { .. })));
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
        let order = service.create(&alice(), latte()).await.unwrap();
        assert!(matches!(service.get(&bob, order.id).await, Err(ServiceError::NotFound { .. })));
        assert!(matches!(service.pay(&bob, order.id, &any()).await, Err(ServiceError::NotFound { .. })));
        assert!(matches!(service.delete(&bob, order.id, &any()).await, Err(ServiceError::NotFound { .. })));
        assert!(service.list(&bob, page()).await.unwrap().is_empty());
        assert_eq!(service.get(&alice(), order.id).await.unwrap().status, Status::Created, "untouched");
    }

    #[tokio::test]
    async fn every_write_is_a_new_version_and_a_stale_one_changes_nothing() {
        let service = service();
        let order = service.create(&alice(), latte()).await.unwrap();
        assert_eq!(order.version, model::FIRST_VERSION);
        let first = Precondition::AtVersion(vec![order.version]);
        let updated = service.replace_items(&alice(), order.id, latte(), &first).await.unwrap();
        assert_eq!(updated.version, order.version + 1);
        let stale = service.pay(&alice(), order.id, &first).await.unwrap_err();
        assert!(matches!(stale, ServiceError::PreconditionFailed(_)), "{stale:?}");
        assert_eq!(service.get(&alice(), order.id).await.unwrap(), updated, "unchanged");
        let paid = service.pay(&alice(), order.id, &Precondition::Exists).await.unwrap();
        assert_eq!(paid.version, updated.version + 1);
        // The version is checked before the status: a stale caller learns that first.
        let stale = service.replace_items(&alice(), order.id, latte(), &first).await.unwrap_err();
        assert!(matches!(stale, ServiceError::PreconditionFailed(_)), "{stale:?}");
        let gone = Uuid::new_v4();
        let missing = service.cancel(&alice(), gone, &Precondition::Exists).await.unwrap_err();
        assert!(matches!(missing, ServiceError::PreconditionFailed(_)), "{missing:?}");
        let stale = service.delete(&alice(), order.id, &first).await.unwrap_err();
        assert!(matches!(stale, ServiceError::PreconditionFailed(_)), "{stale:?}");
        let current = Precondition::AtVersion(vec![first.versions().unwrap()[0], paid.version]);
        service.delete(&alice(), order.id, &current).await.unwrap();
    }

    #[tokio::test]
    async fn invalid_pages_are_rejected_before_the_repository() {
        let filter = OrderFilter { limit: 0, ..page() };
        assert!(matches!(service().list(&alice(), filter).await, Err(ServiceError::Invalid(_))));
    }
}
