//! Safe retries: what a request with an `Idempotency-Key` leaves behind, so that its
//! repeat answers the same instead of acting twice.
//!
//! The first request with a key runs; its response is stored as a [`KeyRecord`] **in the
//! same transaction as its effect** (the repository writes the record first, so a
//! concurrent repeat cannot write it too: it is told the key is in use, and answers 409
//! until the first has committed): no order is ever stored without its key, or a key
//! without its order. A repeat finds the record and answers it again. The
//! response is HTTP's business, so this crate holds it as a [`StoredResponse`] that it
//! never reads; the web layer says how an order becomes one ([`Keyed::respond`]).
//!
//! A request that fails without an effect (404, 409, 412, 422) stores its answer on its
//! own ([`Idempotency::save`]); one that fails for the server (5xx, 503) stores nothing,
//! so its retry runs again.

use crate::error::RepositoryError;
use crate::model::{self, Owner};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;

/// A response as it was sent, to be sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Its HTTP status code.
    pub status: u16,
    /// Its JSON body.
    pub body: String,
    /// Its `Location` header, if it had one.
    pub location: Option<String>,
    /// Its `ETag` header, if it had one.
    pub etag: Option<String>,
}

/// One caller's key and what the request that first carried it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The `Idempotency-Key` as the client sent it.
    pub key: String,
    /// What the request was (method, path, body), hashed: a repeat must match it.
    pub fingerprint: String,
    /// The answer.
    pub response: StoredResponse,
    /// When it was stored; a record whose `expires` is not after this is gone.
    pub created: DateTime<Utc>,
    /// When the key may be used again for another request.
    pub expires: DateTime<Utc>,
}

/// Where key records are kept: the data layer implements it beside the repositories,
/// which write a record with their effect (`OrdersRepository::insert` takes one).
#[async_trait]
pub trait IdempotencyRepository: Send + Sync + 'static {
    /// `owner`'s record of `key`, unless it has expired by `now`.
    async fn find(&self, owner: &Owner, key: &str, now: DateTime<Utc>) -> Result<Option<KeyRecord>, RepositoryError>;

    /// Stores `record` for a request that changed nothing; `false` (and nothing stored)
    /// if `owner` already has a live record of the key.
    async fn save(&self, owner: &Owner, record: &KeyRecord) -> Result<bool, RepositoryError>;

    /// Deletes at most `limit` records that expired by `now`, oldest first; how many.
    async fn purge_expired(&self, now: DateTime<Utc>, limit: i64) -> Result<u64, RepositoryError>;
}

/// A request's key on its way to the repository: the record to store with the effect,
/// once the effect's result `T` is known. `respond` renders `T` as the request's response.
#[derive(Debug, Clone)]
pub struct Keyed<T> {
    key: String,
    fingerprint: String,
    expires: DateTime<Utc>,
    respond: fn(&T) -> StoredResponse,
}

impl<T> Keyed<T> {
    /// The record of `result`, stored at `now`.
    pub fn record(&self, result: &T, now: DateTime<Utc>) -> KeyRecord {
        KeyRecord {
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            response: (self.respond)(result),
            created: now,
            expires: self.expires,
        }
    }
}

/// The longest a key lives, whatever the configuration asks: ten years.
pub const MAX_TTL_DAYS: i64 = 3650;

/// The key records of every resource, and how long they live. Cheap to clone.
#[derive(Clone)]
pub struct Idempotency {
    repository: Arc<dyn IdempotencyRepository>,
    ttl: TimeDelta,
}

impl Idempotency {
    /// Records in `repository`, each kept for `ttl`.
    pub fn new(repository: Arc<dyn IdempotencyRepository>, ttl: std::time::Duration) -> Self {
        // Bounded so that every expiry is a time both databases store.
        let ttl = TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX).min(TimeDelta::days(MAX_TTL_DAYS));
        Self { repository, ttl }
    }

    /// `owner`'s live record of `key`, if there is one.
    pub async fn find(&self, owner: &Owner, key: &str) -> Result<Option<KeyRecord>, RepositoryError> {
        self.repository.find(owner, key, model::now()).await
    }

    /// The key of a request about to run, valid from now for the time-to-live.
    pub fn keyed<T>(&self, key: String, fingerprint: String, respond: fn(&T) -> StoredResponse) -> Keyed<T> {
        Keyed { key, fingerprint, expires: self.expires(model::now()), respond }
    }

    /// Stores the answer to a request that changed nothing; `false` if the key already
    /// has one (a concurrent request with it got there first).
    pub async fn save(
        &self,
        owner: &Owner,
        key: String,
        fingerprint: String,
        response: StoredResponse,
    ) -> Result<bool, RepositoryError> {
        let now = model::now();
        let record = KeyRecord { key, fingerprint, response, created: now, expires: self.expires(now) };
        self.repository.save(owner, &record).await
    }

    /// Deletes up to `limit` expired records; how many. Called in the background, so no
    /// request pays for the sweep.
    pub async fn purge_expired(&self, limit: i64) -> Result<u64, RepositoryError> {
        self.repository.purge_expired(model::now(), limit).await
    }

    fn expires(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.ttl
    }
}
