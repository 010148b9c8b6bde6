//! {% capture rust %}Idempotency-key records on sqlx: [`SqlxKeys`] finds and saves them, and
//! [`SqlxDatabase::claim_key`] stores one first in a repository's write transaction, so
//! that the record and the write commit together (see `app_service::idempotency`). The
//! SQL is in [`crate::sql`].

use super::{SqlxDatabase, Statement, WriteTransaction};
//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
use crate::sql::CLAIM_KEY_POSTGRES;
//~ {%- endif %}{% if database != "postgres" %}
#[cfg(feature = "sqlite")]
use crate::sql::CLAIM_KEY_SQLITE;
//~ {%- endif %}
use crate::sql::{FIND_KEY, PURGE_KEYS};
use crate::storage::{DbTime, KeyRow};
use app_service::{IdempotencyRepository, KeyRecord, Owner, RepositoryError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use duplicate::duplicate_item;
use futures_util::TryFutureExt;
use futures_util::future::Either;

/// Key records stored through sqlx in database `DB`, on the shared [`SqlxDatabase`].
#[derive(Debug, Clone)]
pub struct SqlxKeys<DB: sqlx::Database> {
    db: SqlxDatabase<DB>,
}

impl<DB: sqlx::Database> SqlxKeys<DB> {
    /// The key records on `db`'s pool and writer queue.
    pub fn new(db: SqlxDatabase<DB>) -> Self {
        Self { db }
    }
}

#[duplicate_item(
    Db                gate                          CLAIM_KEY;
    //~ {%- if database != "sqlite" %}
    [sqlx::Postgres]  [cfg(feature = "postgres")]   [CLAIM_KEY_POSTGRES];
    //~ {%- endif %}{% if database != "postgres" %}
    [sqlx::Sqlite]    [cfg(feature = "sqlite")]     [CLAIM_KEY_SQLITE];
    //~ {%- endif %}
)]
#[gate]
impl SqlxDatabase<Db> {
    /// The database's claim (`crate::sql::CLAIM_KEY_*`) of `owner`'s `record`.
    fn claim_statement(&self, owner: &Owner, record: &KeyRecord) -> Statement<Db> {
        let response = &record.response;
        self.statement(CLAIM_KEY)
            .bind(owner.as_str())
            .bind(record.key.as_str())
            .bind(record.fingerprint.as_str())
            .bind(i32::from(response.status))
            .bind(response.body.as_str())
            .bind(response.location.as_deref())
            .bind(response.etag.as_deref())
            .bind(DbTime(record.created))
            .bind(DbTime(record.expires))
    }

    /// Stores `owner`'s `record` as the first statement of `tx`, or, if the key is in
    /// use, rolls `tx` back and fails with [`RepositoryError::KeyInUse`].
    pub(super) async fn claim_key<'db>(
        &self,
        mut tx: WriteTransaction<'db, Db>,
        owner: &Owner,
        record: &KeyRecord,
    ) -> Result<WriteTransaction<'db, Db>, RepositoryError> {
        if tx.execute(self.claim_statement(owner, record)).await?.rows_affected() > 0 {
            return Ok(tx);
        }
        tx.rollback().await?;
        Err(RepositoryError::KeyInUse)
    }

    /// Runs `statement`, a write that is atomic by itself, with `key`'s record if there is
    /// one: then both in one write transaction, the record first, so that they commit
    /// together (or, the key in use, nothing is written: [`RepositoryError::KeyInUse`]).
    ///
    /// Without a key it is [`execute`](SqlxDatabase::execute) and no more: the keyed path's
    /// future is boxed apart, so an unkeyed write's future stays the size it would be
    /// without this helper (bench/README.md, "The resource pattern").
    pub fn execute_keyed<'a>(
        &'a self,
        statement: Statement<Db>,
        owner: &'a Owner,
        key: Option<&'a KeyRecord>,
    ) -> impl Future<Output = Result<(), RepositoryError>> + Send + 'a {
        let Some(key) = key else { return Either::Left(self.execute(statement).map_ok(drop)) };
        Either::Right(Box::pin(async move {
            let mut tx = self.claim_key(self.begin_write().await?, owner, key).await?;
            tx.execute(statement).await?;
            tx.commit().await
        }))
    }
}

#[duplicate_item(
    Db                gate;
    //~ {%- if database != "sqlite" %}
    [sqlx::Postgres]  [cfg(feature = "postgres")];
    //~ {%- endif %}{% if database != "postgres" %}
    [sqlx::Sqlite]    [cfg(feature = "sqlite")];
    //~ {%- endif %}
)]
#[gate]
#[async_trait]
impl IdempotencyRepository for SqlxKeys<Db> {
    async fn find(&self, owner: &Owner, key: &str, now: DateTime<Utc>) -> Result<Option<KeyRecord>, RepositoryError> {
        let select = self.db.statement(FIND_KEY).bind(owner.as_str()).bind(key).bind(DbTime(now));
        let rows: Vec<KeyRow> = self.db.fetch_all(select).await?;
        Ok(rows.into_iter().next().map(KeyRecord::from))
    }

    async fn save(&self, owner: &Owner, record: &KeyRecord) -> Result<bool, RepositoryError> {
        // One statement: atomic by itself.
        let done = self.db.execute(self.db.claim_statement(owner, record)).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_expired(&self, now: DateTime<Utc>, limit: i64) -> Result<u64, RepositoryError> {
        let delete = self.db.statement(PURGE_KEYS).bind(DbTime(now)).bind(limit);
        Ok(self.db.execute(delete).await?.rows_affected())
    }
}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
