//! An in-memory [`OrdersRepository`], [`IdempotencyRepository`] and [`ResourceRepository`], the book's "fake"
//! layer: for unit tests of the service, and for trying business rules without a
//! database. Never used in production.

use crate::error::RepositoryError;
use crate::idempotency::{IdempotencyRepository, KeyRecord};
use crate::model::{Order, OrderItem, Owner, Resource, Status};
use crate::repository::{GuardedWrite, OrderFilter, OrdersRepository, Page, Precondition};
use crate::resources::{Fields, ResourceRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use uuid::Uuid;

/// Orders kept in a map behind a mutex, each with its owner, and the key records beside
/// them; every method is atomic like a transaction.
#[derive(Debug, Default)]
pub struct InMemoryOrders {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    orders: HashMap<Uuid, (Owner, Order)>,
    keys: HashMap<(Owner, String), KeyRecord>,
}

impl State {
    /// Whether `owner` has a live record of `record`'s key (at `record`'s time).
    fn key_in_use(&self, owner: &Owner, record: &KeyRecord) -> bool {
        self.keys.get(&(owner.clone(), record.key.clone())).is_some_and(|live| live.expires > record.created)
    }

    fn keep(&mut self, owner: &Owner, record: Option<&KeyRecord>) {
        if let Some(record) = record {
            self.keys.insert((owner.clone(), record.key.clone()), record.clone());
        }
    }
}

impl InMemoryOrders {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written order: writes are
        // single `insert`/`remove` calls, so the maps are always consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn guarded(
        &self,
        owner: &Owner,
        id: Uuid,
        allowed: &[Status],
        precondition: &Precondition,
        key: Option<&KeyRecord>,
        write: impl FnOnce(&mut Order),
    ) -> Result<GuardedWrite, RepositoryError> {
        let mut state = self.lock();
        if key.is_some_and(|record| state.key_in_use(owner, record)) {
            return Err(RepositoryError::KeyInUse);
        }
        let outcome = match state.orders.get_mut(&id).filter(|(stored, _)| stored == owner).map(|(_, order)| order) {
            None => GuardedWrite::Missing,
            Some(order) if !allowed.contains(&order.status) || !precondition.admits(order.version) => {
                GuardedWrite::Refused { status: order.status, version: order.version }
            }
            Some(order) => {
                write(order);
                order.version += 1;
                GuardedWrite::Applied(order.clone())
            }
        };
        if matches!(outcome, GuardedWrite::Applied(_)) {
            state.keep(owner, key);
        }
        Ok(outcome)
    }
}

#[async_trait]
impl OrdersRepository for InMemoryOrders {
    async fn insert(&self, owner: &Owner, order: &Order, key: Option<&KeyRecord>) -> Result<(), RepositoryError> {
        let mut state = self.lock();
        if key.is_some_and(|record| state.key_in_use(owner, record)) {
            return Err(RepositoryError::KeyInUse);
        }
        let order = Order { version: crate::model::FIRST_VERSION, ..order.clone() };
        state.orders.insert(order.id, (owner.clone(), order));
        state.keep(owner, key);
        Ok(())
    }

    async fn get(&self, owner: &Owner, id: Uuid) -> Result<Option<Order>, RepositoryError> {
        Ok(self.lock().orders.get(&id).filter(|(stored, _)| stored == owner).map(|(_, order)| order.clone()))
    }

    async fn list(&self, owner: &Owner, filter: OrderFilter) -> Result<Vec<Order>, RepositoryError> {
        let state = self.lock();
        let mut matching: Vec<&Order> = state
            .orders
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
        self.guarded(owner, id, allowed, precondition, None, |order| {
            order.items = items.to_vec();
            order.updated = at;
        })
    }

    async fn set_status(
        &self,
        owner: &Owner,
        id: Uuid,
        to: Status,
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
        key: Option<&KeyRecord>,
    ) -> Result<GuardedWrite, RepositoryError> {
        self.guarded(owner, id, allowed, precondition, key, |order| {
            order.status = to;
            order.updated = at;
        })
    }

    async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<bool, RepositoryError> {
        let mut state = self.lock();
        let owned =
            state.orders.get(&id).is_some_and(|(stored, order)| stored == owner && precondition.admits(order.version));
        Ok(owned && state.orders.remove(&id).is_some())
    }
}

#[async_trait]
impl IdempotencyRepository for InMemoryOrders {
    async fn find(&self, owner: &Owner, key: &str, now: DateTime<Utc>) -> Result<Option<KeyRecord>, RepositoryError> {
        let state = self.lock();
        Ok(state.keys.get(&(owner.clone(), key.to_owned())).filter(|record| record.expires > now).cloned())
    }

    async fn save(&self, owner: &Owner, record: &KeyRecord) -> Result<bool, RepositoryError> {
        let mut state = self.lock();
        let stored = !state.key_in_use(owner, record);
        if stored {
            state.keep(owner, Some(record));
        }
        Ok(stored)
    }

    async fn purge_expired(&self, now: DateTime<Utc>, limit: i64) -> Result<u64, RepositoryError> {
        let mut state = self.lock();
        let mut expired: Vec<_> = state
            .keys
            .iter()
            .filter(|(_, record)| record.expires <= now)
            .map(|(k, r)| (r.expires, k.clone()))
            .collect();
        expired.sort_by_key(|(expires, _)| *expires);
        expired.truncate(usize::try_from(limit).unwrap_or(0));
        for (_, key) in &expired {
            state.keys.remove(key);
        }
        Ok(expired.len() as u64)
    }
}

/// Resources of any [`Fields`] kept in a map behind a mutex, each with its owner, newest
/// first when listed: the fake [`ResourceRepository`].
#[derive(Debug)]
pub struct InMemoryResources<F> {
    stored: Mutex<Vec<(Owner, Resource<F>)>>,
}

impl<F> Default for InMemoryResources<F> {
    fn default() -> Self {
        Self { stored: Mutex::new(Vec::new()) }
    }
}

#[async_trait]
impl<F: Fields + std::fmt::Debug> ResourceRepository<F> for InMemoryResources<F> {
    async fn insert(
        &self,
        owner: &Owner,
        resource: &Resource<F>,
        _key: Option<&KeyRecord>,
    ) -> Result<(), RepositoryError> {
        self.stored.lock().unwrap_or_else(PoisonError::into_inner).push((owner.clone(), resource.clone()));
        Ok(())
    }

    async fn get(&self, owner: &Owner, id: Uuid) -> Result<Option<Resource<F>>, RepositoryError> {
        let stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(stored.iter().find(|(o, r)| o == owner && r.id == id).map(|(_, r)| r.clone()))
    }

    async fn list(&self, owner: &Owner, page: Page) -> Result<Vec<Resource<F>>, RepositoryError> {
        let stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = stored.iter().rev().filter(|(o, _)| o == owner).map(|(_, r)| r.clone());
        Ok(mine
            .skip(usize::try_from(page.offset).unwrap_or(0))
            .take(usize::try_from(page.limit).unwrap_or(0))
            .collect())
    }

    async fn replace(
        &self,
        owner: &Owner,
        id: Uuid,
        fields: &F,
        precondition: &Precondition,
        at: DateTime<Utc>,
    ) -> Result<Option<Resource<F>>, RepositoryError> {
        let mut stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        let found = stored.iter_mut().find(|(o, r)| o == owner && r.id == id && precondition.admits(r.version));
        Ok(found.map(|(_, r)| {
            *r = Resource { updated: at, version: r.version + 1, fields: fields.clone(), ..r.clone() };
            r.clone()
        }))
    }

    async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<bool, RepositoryError> {
        let mut stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        let before = stored.len();
        stored.retain(|(o, r)| !(o == owner && r.id == id && precondition.admits(r.version)));
        Ok(stored.len() < before)
    }
}
