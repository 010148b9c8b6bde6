//! An in-memory [`OrdersRepository`], the book's "fake" layer: for unit tests of the
//! service, and for trying business rules without a database. Never used in production.

use crate::error::RepositoryError;
use crate::model::{Order, OrderItem, Owner, Status};
use crate::repository::{GuardedWrite, OrderFilter, OrdersRepository, Precondition};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use uuid::Uuid;

/// Orders kept in a map behind a mutex, each with its owner; every method is atomic
/// like a transaction.
#[derive(Debug, Default)]
pub struct InMemoryOrders {
    orders: Mutex<HashMap<Uuid, (Owner, Order)>>,
}

impl InMemoryOrders {
    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, (Owner, Order)>> {
        // A panic while holding the lock cannot leave a half-written order: writes are
        // single `insert`/`remove` calls, so the map is always consistent.
        self.orders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn guarded(
        &self,
        owner: &Owner,
        id: Uuid,
        allowed: &[Status],
        precondition: &Precondition,
        write: impl FnOnce(&mut Order),
    ) -> GuardedWrite {
        let mut orders = self.lock();
        match orders.get_mut(&id).filter(|(stored, _)| stored == owner).map(|(_, order)| order) {
            None => GuardedWrite::Missing,
            Some(order) if !allowed.contains(&order.status) || !precondition.admits(order.version) => {
                GuardedWrite::Refused { status: order.status, version: order.version }
            }
            Some(order) => {
                write(order);
                order.version += 1;
                GuardedWrite::Applied(order.clone())
            }
        }
    }
}

#[async_trait]
impl OrdersRepository for InMemoryOrders {
    async fn insert(&self, owner: &Owner, order: &Order) -> Result<(), RepositoryError> {
        let order = Order { version: crate::model::FIRST_VERSION, ..order.clone() };
        self.lock().insert(order.id, (owner.clone(), order));
        Ok(())
    }

    async fn get(&self, owner: &Owner, id: Uuid) -> Result<Option<Order>, RepositoryError> {
        Ok(self.lock().get(&id).filter(|(stored, _)| stored == owner).map(|(_, order)| order.clone()))
    }

    async fn list(&self, owner: &Owner, filter: OrderFilter) -> Result<Vec<Order>, RepositoryError> {
        let orders = self.lock();
        let mut matching: Vec<&Order> = orders
            .values()
            .filter(|(stored, _)| stored == owner)
            .map(|(_, order)| order)
            .filter(|o| filter.cancelled.is_none_or(|c| (o.status == Status::Cancelled) == c))
            .collect();
        matching.sort_by_key(|o| std::cmp::Reverse((o.created, o.id)));
        let skip = usize::try_from(filter.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(filter.limit).unwrap_or(0);
        Ok(matching.into_iter().skip(skip).take(take).cloned().collect())
    }

    async fn replace_items(
        &self,
        owner: &Owner,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
    ) -> Result<GuardedWrite, RepositoryError> {
        Ok(self.guarded(owner, id, allowed, precondition, |order| {
            order.items = items.to_vec();
            order.updated = at;
        }))
    }

    async fn set_status(
        &self,
        owner: &Owner,
        id: Uuid,
        to: Status,
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
    ) -> Result<GuardedWrite, RepositoryError> {
        Ok(self.guarded(owner, id, allowed, precondition, |order| {
            order.status = to;
            order.updated = at;
        }))
    }

    async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<bool, RepositoryError> {
        let mut orders = self.lock();
        let owned =
            orders.get(&id).is_some_and(|(stored, order)| stored == owner && precondition.admits(order.version));
        Ok(owned && orders.remove(&id).is_some())
    }
}
