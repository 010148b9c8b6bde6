//! The storage ports: what the service needs from a database, implemented in `data/`.
//!
//! [`OrdersRepository`] is the orders resource's port; a new resource adds a trait of its
//! own beside it. [`StorageHealth`] is the database as a whole (readiness, pool gauges),
//! which every repository shares: one pool per process, however many resources.

use crate::error::RepositoryError;
use crate::idempotency::KeyRecord;
use crate::model::{Order, OrderItem, Owner, Status};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Which orders a listing returns, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFilter {
    /// `Some(true)`: only cancelled orders; `Some(false)`: only the others.
    pub cancelled: Option<bool>,
    /// Page size.
    pub limit: i64,
    /// Orders to skip.
    pub offset: i64,
}

/// One page of a listing, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// A repository's connection pool at one moment, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, in use or idle.
    pub open: u32,
    /// Connections open and idle.
    pub idle: u32,
}

/// What a write expects of the order beyond its status: HTTP's `If-Match`. Checked in
/// the same statement as the write, like the status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    /// Nothing: the write applies to the order as it is.
    #[default]
    Unconditional,
    /// The order must exist, at any version (`If-Match: *`).
    Exists,
    /// The order must be at one of these versions (none: it cannot be).
    AtVersion(Vec<i64>),
}

impl Precondition {
    /// Whether the caller stated an expectation, so that a missing order fails it.
    pub fn is_conditional(&self) -> bool {
        !matches!(self, Self::Unconditional)
    }

    /// Whether an existing order at `version` meets it.
    pub fn admits(&self, version: i64) -> bool {
        match self {
            Self::Unconditional | Self::Exists => true,
            Self::AtVersion(versions) => versions.contains(&version),
        }
    }

    /// The versions the write is limited to, if it is limited to some.
    pub fn versions(&self) -> Option<&[i64]> {
        match self {
            Self::AtVersion(versions) => Some(versions),
            Self::Unconditional | Self::Exists => None,
        }
    }
}

/// Result of a write that only applies while the order is in certain statuses (and, for
/// a [`Precondition`], at certain versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardedWrite {
    /// The write happened; this is the order as stored afterwards.
    Applied(Order),
    /// No order has this id.
    Missing,
    /// The order's status or version did not allow the write; nothing changed. Both as
    /// they were when the write was refused, so the caller can tell which.
    Refused {
        /// The order's status.
        status: Status,
        /// The order's version.
        version: i64,
    },
}

/// Persistence of orders. Every method is atomic: a failed call leaves no partial write.
///
/// Every method acts for one `owner`: an order of another owner is not seen, listed or
/// touched — it is `None`, `Missing` or `false`, exactly like an order that does not exist.
///
/// Guarded writes check the status (and the [`Precondition`]'s versions) and write in one
/// statement, so concurrent callers cannot both pass the check (e.g. 50 concurrent
/// payments of one order: one succeeds). Every write adds one to the order's version.
///
/// A write that carries a [`KeyRecord`] (a request with an `Idempotency-Key`) stores it
/// first, in the same transaction as the write: if `owner` already has a live record of
/// that key (or, on Postgres, another request is storing one right now), it fails with
/// [`RepositoryError::KeyInUse`] and writes nothing.
#[async_trait]
pub trait OrdersRepository: Send + Sync + 'static {
    /// Stores a new order with its items, at [`FIRST_VERSION`](crate::model::FIRST_VERSION),
    /// and `key`'s record with it.
    async fn insert(&self, owner: &Owner, order: &Order, key: Option<&KeyRecord>) -> Result<(), RepositoryError>;

    /// The order with this id, with its items.
    async fn get(&self, owner: &Owner, id: Uuid) -> Result<Option<Order>, RepositoryError>;

    /// A page of orders with their items, newest first, in a bounded number of queries.
    async fn list(&self, owner: &Owner, filter: OrderFilter) -> Result<Vec<Order>, RepositoryError>;

    /// Replaces the items of the order if its status is one of `allowed` and it meets
    /// `precondition`.
    async fn replace_items(
        &self,
        owner: &Owner,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
    ) -> Result<GuardedWrite, RepositoryError>;

    /// Moves the order to `to` if its status is one of `allowed` and it meets
    /// `precondition`, and stores `key`'s record with it (only if the write applies).
    #[allow(clippy::too_many_arguments)]
    async fn set_status(
        &self,
        owner: &Owner,
        id: Uuid,
        to: Status,
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
        key: Option<&KeyRecord>,
    ) -> Result<GuardedWrite, RepositoryError>;

    /// Deletes the order and its items if it meets `precondition`; `false` if there was
    /// none, or (with a version) not at one of its versions.
    async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<bool, RepositoryError>;
}

/// The database behind every repository, as operators see it.
#[async_trait]
pub trait StorageHealth: Send + Sync + 'static {
    /// One round trip to the database, for readiness checks.
    async fn ping(&self) -> Result<(), RepositoryError>;

    /// The connection pool right now.
    fn pool_stats(&self) -> PoolStats;
}
