// NOT A MODULE: this file is compiled twice, by `include!` in `sqlx_backend/mod.rs`,
// once inside `mod postgres` and once inside `mod sqlite`. Each includer defines:
//   `Db`          — sqlx's database type (`sqlx::Postgres` or `sqlx::Sqlite`);
//   `BEGIN_WRITE` — the statement that opens a write transaction.
// The SQL is plain and portable: `$n` placeholders work on Postgres and SQLite alike,
// and values go through the encodings in `types.rs`.

use super::{JoinedRow, SqlxOrders, classify, corrupt, orders_from};
use crate::storage::{DbTime, DbUuid, ItemRow, OrderRow, order_with_items, positions};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use service::{GuardedWrite, Order, OrderFilter, OrderItem, OrdersRepository, PoolStats, RepositoryError, Status};
use sqlx::{QueryBuilder, Transaction};
use uuid::Uuid;

const ORDER_COLUMNS: &str = "id, status, created, updated";

const INSERT_ORDER: &str = "INSERT INTO orders (id, status, created, updated) VALUES ($1, $2, $3, $4)";

const SELECT_ORDER: &str = "\
    SELECT o.id, o.status, o.created, o.updated, i.product, i.size, i.quantity \
    FROM orders o LEFT JOIN order_items i ON i.order_id = o.id \
    WHERE o.id = $1 ORDER BY i.position";

// One statement for the page and its items: no query per order, one consistent snapshot.
const SELECT_PAGE: &str = "\
    SELECT o.id, o.status, o.created, o.updated, i.product, i.size, i.quantity \
    FROM (SELECT id, status, created, updated FROM orders \
          WHERE $1 IS NULL OR (status = $2) = $1 \
          ORDER BY created DESC, id DESC LIMIT $3 OFFSET $4) o \
    LEFT JOIN order_items i ON i.order_id = o.id \
    ORDER BY o.created DESC, o.id DESC, i.position";

const SELECT_ITEMS: &str = "SELECT product, size, quantity FROM order_items WHERE order_id = $1 ORDER BY position";

const SELECT_STATUS: &str = "SELECT status FROM orders WHERE id = $1";

const DELETE_ITEMS: &str = "DELETE FROM order_items WHERE order_id = $1";

// Items go with their order by ON DELETE CASCADE.
const DELETE_ORDER: &str = "DELETE FROM orders WHERE id = $1";

#[async_trait]
impl OrdersRepository for SqlxOrders<Db> {
    async fn insert(&self, order: &Order) -> Result<(), RepositoryError> {
        let _turn = self.writers.enter().await?;
        async {
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
            sqlx::query(INSERT_ORDER)
                .bind(DbUuid(order.id))
                .bind(order.status.as_str())
                .bind(DbTime(order.created))
                .bind(DbTime(order.updated))
                .execute(&mut *tx)
                .await?;
            insert_items(&mut tx, order.id, &order.items).await?;
            tx.commit().await
        }
        .await
        .map_err(classify)
    }

    async fn get(&self, id: Uuid) -> Result<Option<Order>, RepositoryError> {
        let rows = sqlx::query_as::<_, JoinedRow>(SELECT_ORDER)
            .bind(DbUuid(id))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(orders_from(rows)?.pop())
    }

    async fn list(&self, filter: OrderFilter) -> Result<Vec<Order>, RepositoryError> {
        let rows = sqlx::query_as::<_, JoinedRow>(SELECT_PAGE)
            .bind(filter.cancelled)
            .bind(Status::Cancelled.as_str())
            .bind(filter.limit)
            .bind(filter.offset)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        orders_from(rows)
    }

    async fn replace_items(
        &self,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        at: DateTime<Utc>,
    ) -> Result<GuardedWrite, RepositoryError> {
        let _turn = self.writers.enter().await?;
        async {
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
            let mut update = QueryBuilder::<Db>::new("UPDATE orders SET updated = ");
            update.push_bind(DbTime(at));
            let Some(row) = guarded(&mut tx, update, id, allowed).await? else {
                return refusal(&mut tx, id).await;
            };
            sqlx::query(DELETE_ITEMS).bind(DbUuid(id)).execute(&mut *tx).await?;
            insert_items(&mut tx, id, items).await?;
            tx.commit().await?;
            row.into_order(items.to_vec()).map(GuardedWrite::Applied).map_err(corrupt)
        }
        .await
        .map_err(classify)
    }

    async fn set_status(
        &self,
        id: Uuid,
        to: Status,
        allowed: &[Status],
        at: DateTime<Utc>,
    ) -> Result<GuardedWrite, RepositoryError> {
        let _turn = self.writers.enter().await?;
        async {
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
            let mut update = QueryBuilder::<Db>::new("UPDATE orders SET status = ");
            update.push_bind(to.as_str()).push(", updated = ").push_bind(DbTime(at));
            let Some(row) = guarded(&mut tx, update, id, allowed).await? else {
                return refusal(&mut tx, id).await;
            };
            let items = sqlx::query_as::<_, ItemRow>(SELECT_ITEMS).bind(DbUuid(id)).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            order_with_items(row, items).map(GuardedWrite::Applied).map_err(corrupt)
        }
        .await
        .map_err(classify)
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepositoryError> {
        let _turn = self.writers.enter().await?;
        let done = sqlx::query(DELETE_ORDER).bind(DbUuid(id)).execute(&self.pool).await.map_err(classify)?;
        Ok(done.rows_affected() > 0)
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats { open: self.pool.size(), idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX) }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Finishes `update` (an `UPDATE orders SET …`) so that it applies only to order `id`
/// in one of the `allowed` statuses, and runs it. Check and write are one statement, so
/// concurrent writers cannot both pass the check.
async fn guarded(
    tx: &mut Transaction<'static, Db>,
    mut update: QueryBuilder<Db>,
    id: Uuid,
    allowed: &[Status],
) -> Result<Option<OrderRow>, sqlx::Error> {
    update.push(" WHERE id = ").push_bind(DbUuid(id)).push(" AND status IN (");
    let mut statuses = update.separated(", ");
    for status in allowed {
        statuses.push_bind(status.as_str());
    }
    update.push(") RETURNING ").push(ORDER_COLUMNS);
    update.build_query_as::<OrderRow>().fetch_optional(&mut **tx).await
}

/// Why a guarded write did not apply: no such order, or its status.
async fn refusal(tx: &mut Transaction<'static, Db>, id: Uuid) -> Result<GuardedWrite, sqlx::Error> {
    let status: Option<String> = sqlx::query_scalar(SELECT_STATUS).bind(DbUuid(id)).fetch_optional(&mut **tx).await?;
    Ok(match status {
        None => GuardedWrite::Missing,
        Some(status) => {
            GuardedWrite::Refused(status.parse().map_err(|e: service::model::UnknownName| corrupt(e.into()))?)
        }
    })
}

/// Inserts all `items` of order `id` in one statement.
async fn insert_items(tx: &mut Transaction<'static, Db>, id: Uuid, items: &[OrderItem]) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<Db>::new("INSERT INTO order_items (order_id, position, product, size, quantity) ");
    insert.push_values(positions(items), |mut row, (position, item)| {
        row.push_bind(DbUuid(id))
            .push_bind(position)
            .push_bind(item.product.as_str())
            .push_bind(item.size.as_str())
            .push_bind(item.quantity);
    });
    insert.build().execute(&mut **tx).await?;
    Ok(())
}
