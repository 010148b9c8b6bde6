//! {% capture rust %}The orders repository on sqlx.
//!
//~ {%- if database == "both" %}
//! The SQL is plain and portable, for Postgres and SQLite alike: `$n` placeholders work on
//! both databases, and values go through the encodings in `codec.rs`. sqlx's query
//! functions are typed by their database, so the repository is implemented once per
//! database: the `#[duplicate_item]` attribute stamps the one `impl` below out for
//! `sqlx::Postgres` and for `sqlx::Sqlite` (each only when its feature is on). Read `Db` as
//! "the database".
//~ {%- else %}
//+ //! Values go through the encodings in `codec.rs`. The `#[duplicate_item]` attributes name
//+ //! the database type once for the `impl`s below: read `Db` as "the database".
//~ {%- endif %}

use super::statement::at_versions;
use super::{SqlxDatabase, Statement, WriteTransaction};
//~ {%- if database != "postgres" %}
#[cfg(feature = "sqlite")]
use crate::sql::INSERT_ORDER;
//~ {%- endif %}
use crate::sql::{INSERT_ITEMS, SELECT_ORDER, SELECT_PAGE};
use crate::storage::{self, CorruptRow, DbTime, DbUuid, ItemRow, OrderRow, order_with_items, positions};
//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
use crate::{sql::INSERT_ORDER_WITH_ITEMS, storage::ItemColumns};
//~ {%- endif %}
use app_service::{
    GuardedWrite, KeyRecord, Order, OrderFilter, OrderItem, OrdersRepository, Owner, Precondition, RepositoryError,
    Status,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use duplicate::duplicate_item;
use uuid::Uuid;

const ORDER_COLUMNS: &str = "id, status, created, updated, version";

const SELECT_ITEMS: &str = "SELECT product, size, quantity FROM order_items WHERE order_id = $1 ORDER BY position";

const SELECT_STATUS: &str = "SELECT status, version FROM orders WHERE id = $1 AND owner = $2";

const DELETE_ITEMS: &str = "DELETE FROM order_items WHERE order_id = $1";

// Items go with their order by ON DELETE CASCADE.
const DELETE_ORDER: &str = "DELETE FROM orders WHERE id = $1 AND owner = $2";

/// Orders stored through sqlx in database `DB`, on the shared [`SqlxDatabase`].
#[derive(Debug, Clone)]
pub struct SqlxOrders<DB: sqlx::Database> {
    db: SqlxDatabase<DB>,
}

impl<DB: sqlx::Database> SqlxOrders<DB> {
    /// The orders repository on `db`'s pool and writer queue.
    pub fn new(db: SqlxDatabase<DB>) -> Self {
        Self { db }
    }
}
//~ {%- if database != "sqlite" %}

/// Postgres: the order and its items in one statement, [`INSERT_ORDER_WITH_ITEMS`] (one
/// round trip, no explicit transaction: a statement is atomic). With a key record, the
/// record and the statement in a write transaction.
#[cfg(feature = "postgres")]
impl SqlxOrders<sqlx::Postgres> {
    async fn insert_order(&self, owner: &Owner, order: &Order, key: Option<&KeyRecord>) -> Result<(), RepositoryError> {
        let items = ItemColumns::of(&order.items);
        let insert = self
            .db
            .statement(INSERT_ORDER_WITH_ITEMS)
            .bind(DbUuid(order.id))
            .bind(order.status.as_str())
            .bind(DbTime(order.created))
            .bind(DbTime(order.updated))
            .bind(owner.as_str())
            .bind(items.positions)
            .bind(items.products)
            .bind(items.sizes)
            .bind(items.quantities);
        self.db.execute_keyed(insert, owner, key).await
    }
}
//~ {%- endif %}{% if database != "postgres" %}

/// SQLite: no data-modifying CTEs, so the order and its items are two statements in one
/// write transaction (in-process, so the extra statements cost no round trips), after the
/// key record if there is one.
#[cfg(feature = "sqlite")]
impl SqlxOrders<sqlx::Sqlite> {
    async fn insert_order(&self, owner: &Owner, order: &Order, key: Option<&KeyRecord>) -> Result<(), RepositoryError> {
        let mut tx = self.db.begin_write().await?;
        if let Some(key) = key {
            tx = self.db.claim_key(tx, owner, key).await?;
        }
        let insert = self
            .db
            .statement(INSERT_ORDER)
            .bind(DbUuid(order.id))
            .bind(order.status.as_str())
            .bind(DbTime(order.created))
            .bind(DbTime(order.updated))
            .bind(owner.as_str());
        tx.execute(insert).await?;
        self.insert_items(&mut tx, order.id, &order.items).await?;
        tx.commit().await
    }
}
//~ {%- endif %}

/// One row of `orders LEFT JOIN order_items`: the columns of [`SELECT_ORDER`] and
/// [`SELECT_PAGE`], read by position. A struct deriving `FromRow`
/// looks every column up by name on every row, which a page of twenty orders (40 rows)
/// pays for measurably (bench/README.md).
type JoinedRow = (DbUuid, String, DbTime, DbTime, Option<String>, Option<String>, Option<i64>, i64);

fn orders_from(rows: Vec<JoinedRow>) -> Result<Vec<Order>, RepositoryError> {
    let rows = rows.into_iter().map(|(id, status, created, updated, product, size, quantity, version)| {
        let item = match (product, size, quantity) {
            (Some(product), Some(size), Some(quantity)) => Some(ItemRow { product, size, quantity }),
            _ => None,
        };
        (OrderRow { id, status, created, updated, version }, item)
    });
    storage::assemble(rows).map_err(corrupt)
}

fn corrupt(error: CorruptRow) -> RepositoryError {
    RepositoryError::Internal(Box::new(error))
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
impl OrdersRepository for SqlxOrders<Db> {
    async fn insert(&self, owner: &Owner, order: &Order, key: Option<&KeyRecord>) -> Result<(), RepositoryError> {
        // How many statements a new order takes is the one thing the databases disagree
        // on; see `insert_order` below, once per database.
        self.insert_order(owner, order, key).await
    }

    async fn get(&self, owner: &Owner, id: Uuid) -> Result<Option<Order>, RepositoryError> {
        let select = self.db.statement(SELECT_ORDER).bind(DbUuid(id)).bind(owner.as_str());
        Ok(orders_from(self.db.fetch_all(select).await?)?.pop())
    }

    async fn list(&self, owner: &Owner, filter: OrderFilter) -> Result<Vec<Order>, RepositoryError> {
        let select = self
            .db
            .statement(SELECT_PAGE)
            .bind(owner.as_str())
            .bind(filter.cancelled)
            .bind(Status::Cancelled.as_str())
            .bind(filter.limit)
            .bind(filter.offset);
        orders_from(self.db.fetch_all(select).await?)
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
        let mut tx = self.db.begin_write().await?;
        let mut update = self.db.building("UPDATE orders SET updated = ");
        update.push_bind(DbTime(at));
        let Some(row) = self.guarded(&mut tx, update, owner, id, allowed, precondition).await? else {
            return self.refusal(tx, owner, id).await;
        };
        tx.execute(self.db.statement(DELETE_ITEMS).bind(DbUuid(id))).await?;
        self.insert_items(&mut tx, id, items).await?;
        tx.commit().await?;
        row.into_order(items.to_vec()).map(GuardedWrite::Applied).map_err(corrupt)
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
        let mut tx = self.db.begin_write().await?;
        if let Some(key) = key {
            tx = self.db.claim_key(tx, owner, key).await?;
        }
        let mut update = self.db.building("UPDATE orders SET status = ");
        update.push_bind(to.as_str()).push(", updated = ").push_bind(DbTime(at));
        let Some(row) = self.guarded(&mut tx, update, owner, id, allowed, precondition).await? else {
            return self.refusal(tx, owner, id).await;
        };
        let items = tx.fetch_all(self.db.statement(SELECT_ITEMS).bind(DbUuid(id))).await?;
        tx.commit().await?;
        order_with_items(row, items).map(GuardedWrite::Applied).map_err(corrupt)
    }

    async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<bool, RepositoryError> {
        let delete = match precondition.versions() {
            None => self.db.statement(DELETE_ORDER).bind(DbUuid(id)).bind(owner.as_str()),
            Some(versions) => {
                let mut delete = self.db.building("DELETE FROM orders WHERE id = ");
                delete.push_bind(DbUuid(id)).push(" AND owner = ").push_bind(owner.as_str());
                at_versions(&mut delete, versions);
                delete
            }
        };
        let done = self.db.execute(delete).await?;
        Ok(done.rows_affected() > 0)
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
impl SqlxOrders<Db> {
    /// Finishes `update` (an `UPDATE orders SET …`) so that it applies only to `owner`'s
    /// order `id` in one of the `allowed` statuses and at a version `precondition`
    /// admits, adds one to the version, and runs it. Check and write are one statement,
    /// so concurrent writers cannot both pass the check.
    async fn guarded(
        &self,
        tx: &mut WriteTransaction<'_, Db>,
        mut update: Statement<Db>,
        owner: &Owner,
        id: Uuid,
        allowed: &[Status],
        precondition: &Precondition,
    ) -> Result<Option<OrderRow>, RepositoryError> {
        update.push(", version = version + 1");
        update.push(" WHERE id = ").push_bind(DbUuid(id)).push(" AND owner = ").push_bind(owner.as_str());
        update.push(" AND status IN (");
        for (i, status) in allowed.iter().enumerate() {
            update.push(if i == 0 { "" } else { ", " }).push_bind(status.as_str());
        }
        update.push(")");
        if let Some(versions) = precondition.versions() {
            at_versions(&mut update, versions);
        }
        update.push(" RETURNING ").push(ORDER_COLUMNS);
        tx.fetch_optional(update).await
    }

    /// Why a guarded write did not apply: no such order, or its status. Ends `tx`, which
    /// wrote nothing.
    async fn refusal(
        &self,
        mut tx: WriteTransaction<'_, Db>,
        owner: &Owner,
        id: Uuid,
    ) -> Result<GuardedWrite, RepositoryError> {
        let select = self.db.statement(SELECT_STATUS).bind(DbUuid(id)).bind(owner.as_str());
        let found: Option<(String, i64)> = tx.fetch_optional(select).await?;
        tx.rollback().await?;
        storage::refusal(found).map_err(corrupt)
    }

    /// Inserts all `items` of order `id` in one statement.
    async fn insert_items(
        &self,
        tx: &mut WriteTransaction<'_, Db>,
        id: Uuid,
        items: &[OrderItem],
    ) -> Result<(), RepositoryError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut insert = self.db.building(INSERT_ITEMS);
        for (position, item) in positions(items) {
            insert.push(if position == 0 { "VALUES (" } else { ", (" });
            insert.push_bind(DbUuid(id)).push(", ").push_bind(position).push(", ").push_bind(item.product.as_str());
            insert.push(", ").push_bind(item.size.as_str()).push(", ").push_bind(item.quantity).push(")");
        }
        tx.execute(insert).await.map(drop)
    }
}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
