//! {% capture rust %}Idempotency-key records on diesel: [`KeyQueries`] (synchronous, for the
//! query threads) and [`DieselKeys`], the repository over them. A repository's keyed write
//! calls [`KeyQueries::claim_key`] first in its write transaction, so that the record and
//! the write commit together (see `app_service::idempotency`). The upsert and the purge
//! are SQL text ([`crate::sql`]): diesel's DSL has no `DO UPDATE … WHERE` on every
//! database.

use super::schema::idempotency_keys as keys;
use super::schema::sql_types::StoredTime;
use super::{DieselConnection, DieselDatabase};
//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
use crate::sql::CLAIM_KEY_POSTGRES;
//~ {%- endif %}{% if database != "postgres" %}
#[cfg(feature = "sqlite")]
use crate::sql::CLAIM_KEY_SQLITE;
//~ {%- endif %}
use crate::sql::PURGE_KEYS;
use crate::storage::{DbTime, KeyRow};
use app_service::{IdempotencyRepository, KeyRecord, Owner, RepositoryError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use duplicate::duplicate_item;

/// The key-record queries, as synchronous methods on a diesel connection.
pub trait KeyQueries: DieselConnection {
    /// `owner`'s record of `key`, unless it expired by `now`.
    fn find_key(&mut self, owner: &str, key: &str, now: DateTime<Utc>) -> QueryResult<Option<KeyRow>>;
    /// Stores `owner`'s `record` (the database's `crate::sql::CLAIM_KEY_*`); `false` if
    /// the key is in use.
    fn claim_key(&mut self, owner: &str, record: &KeyRecord) -> QueryResult<bool>;
    /// Takes back a record claimed earlier in this transaction, for a write that turned
    /// out not to apply.
    fn unclaim_key(&mut self, owner: &str, key: &str) -> QueryResult<()>;
    /// Deletes at most `limit` records expired by `now` ([`PURGE_KEYS`]).
    fn purge_keys(&mut self, now: DateTime<Utc>, limit: i64) -> QueryResult<usize>;
}

#[duplicate_item(
    Conn                         gate                          CLAIM_KEY;
    //~ {%- if database != "sqlite" %}
    [diesel::PgConnection]       [cfg(feature = "postgres")]   [CLAIM_KEY_POSTGRES];
    //~ {%- endif %}{% if database != "postgres" %}
    [diesel::SqliteConnection]   [cfg(feature = "sqlite")]     [CLAIM_KEY_SQLITE];
    //~ {%- endif %}
)]
#[gate]
impl KeyQueries for Conn {
    fn find_key(&mut self, owner: &str, key: &str, now: DateTime<Utc>) -> QueryResult<Option<KeyRow>> {
        keys::table
            .find((owner, key))
            .filter(keys::expires.gt(DbTime(now)))
            .select((
                keys::idempotency_key,
                keys::fingerprint,
                keys::response_status,
                keys::response_body,
                keys::response_location,
                keys::response_etag,
                keys::created,
                keys::expires,
            ))
            .first(self)
            .optional()
    }

    fn claim_key(&mut self, owner: &str, record: &KeyRecord) -> QueryResult<bool> {
        let response = &record.response;
        let stored = diesel::sql_query(CLAIM_KEY)
            .bind::<Text, _>(owner)
            .bind::<Text, _>(&record.key)
            .bind::<Text, _>(&record.fingerprint)
            .bind::<Integer, _>(i32::from(response.status))
            .bind::<Text, _>(&response.body)
            .bind::<Nullable<Text>, _>(response.location.as_deref())
            .bind::<Nullable<Text>, _>(response.etag.as_deref())
            .bind::<StoredTime, _>(DbTime(record.created))
            .bind::<StoredTime, _>(DbTime(record.expires))
            .execute(self)?;
        Ok(stored > 0)
    }

    fn unclaim_key(&mut self, owner: &str, key: &str) -> QueryResult<()> {
        diesel::delete(keys::table.find((owner, key))).execute(self).map(drop)
    }

    fn purge_keys(&mut self, now: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
        diesel::sql_query(PURGE_KEYS).bind::<StoredTime, _>(DbTime(now)).bind::<BigInt, _>(limit).execute(self)
    }
}

/// Key records stored through diesel over connection type `C`, queried on the threadpool.
pub struct DieselKeys<C: DieselConnection> {
    db: DieselDatabase<C>,
}

impl<C: DieselConnection> DieselKeys<C> {
    /// The key records on `db`'s pool and writer queue.
    pub fn new(db: DieselDatabase<C>) -> Self {
        Self { db }
    }
}

#[async_trait]
impl<C: KeyQueries> IdempotencyRepository for DieselKeys<C> {
    async fn find(&self, owner: &Owner, key: &str, now: DateTime<Utc>) -> Result<Option<KeyRecord>, RepositoryError> {
        let (owner, key) = (owner.clone(), key.to_owned());
        let row = self.db.read(move |conn| conn.find_key(owner.as_str(), &key, now)).await?;
        Ok(row.map(KeyRecord::from))
    }

    async fn save(&self, owner: &Owner, record: &KeyRecord) -> Result<bool, RepositoryError> {
        let (owner, record) = (owner.clone(), record.clone());
        // One statement: atomic by itself.
        self.db.write_atomic_by_itself(move |conn| conn.claim_key(owner.as_str(), &record)).await
    }

    async fn purge_expired(&self, now: DateTime<Utc>, limit: i64) -> Result<u64, RepositoryError> {
        let deleted = self.db.write_atomic_by_itself(move |conn| conn.purge_keys(now, limit)).await?;
        Ok(deleted as u64)
    }
}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
