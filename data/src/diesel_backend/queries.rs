// NOT A MODULE: this file is compiled twice, by `include!` in `diesel_backend/mod.rs`,
// once inside `mod postgres` and once inside `mod sqlite`. Each includer defines:
//   `Conn`              — diesel's connection type;
//   `schema`            — the `table!` module for that database (`schema.rs`);
//   `write_transaction` — how that database opens a write transaction.
// Plain synchronous functions, no async anywhere: they run on the blocking threadpool,
// called through `interact` by `DieselOrders::run`.

use super::{OrderQueries, corrupt};
use crate::storage::{DbTime, DbUuid, ItemRow, OrderRow, assemble, order_with_items, positions};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use schema::{order_items, orders};
use service::{GuardedWrite, Order, OrderFilter, OrderItem, Status};
use uuid::Uuid;

const ORDER_COLUMNS: (orders::id, orders::status, orders::created, orders::updated) =
    (orders::id, orders::status, orders::created, orders::updated);

const ITEM_COLUMNS: (order_items::product, order_items::size, order_items::quantity) =
    (order_items::product, order_items::size, order_items::quantity);

impl OrderQueries for Conn {
    fn insert_order(&mut self, order: &Order) -> QueryResult<()> {
        write_transaction(self, |conn| {
            diesel::insert_into(orders::table)
                .values((
                    orders::id.eq(DbUuid(order.id)),
                    orders::status.eq(order.status.as_str()),
                    orders::created.eq(DbTime(order.created)),
                    orders::updated.eq(DbTime(order.updated)),
                ))
                .execute(conn)?;
            insert_items(conn, order.id, &order.items)
        })
    }

    fn find_order(&mut self, id: Uuid) -> QueryResult<Option<Order>> {
        let rows = orders::table
            .left_join(order_items::table)
            .filter(orders::id.eq(DbUuid(id)))
            .order(order_items::position)
            .select((ORDER_COLUMNS, ITEM_COLUMNS.nullable()))
            .load::<(OrderRow, Option<ItemRow>)>(self)?;
        Ok(assemble(rows).map_err(corrupt)?.pop())
    }

    fn page_of_orders(&mut self, filter: OrderFilter) -> QueryResult<Vec<Order>> {
        // The page's ids as a subquery: the page and its items in one statement.
        let mut page = orders::table
            .select(orders::id)
            .order((orders::created.desc(), orders::id.desc()))
            .limit(filter.limit)
            .offset(filter.offset)
            .into_boxed();
        let cancelled = Status::Cancelled.as_str();
        page = match filter.cancelled {
            None => page,
            Some(true) => page.filter(orders::status.eq(cancelled)),
            Some(false) => page.filter(orders::status.ne(cancelled)),
        };
        let rows = orders::table
            .left_join(order_items::table)
            .filter(orders::id.eq_any(page))
            .order((orders::created.desc(), orders::id.desc(), order_items::position))
            .select((ORDER_COLUMNS, ITEM_COLUMNS.nullable()))
            .load::<(OrderRow, Option<ItemRow>)>(self)?;
        assemble(rows).map_err(corrupt)
    }

    fn replace_items(
        &mut self,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        at: DateTime<Utc>,
    ) -> QueryResult<GuardedWrite> {
        write_transaction(self, |conn| {
            // Check and write in one statement: concurrent writers cannot both pass.
            let updated = diesel::update(guarded(id, allowed))
                .set(orders::updated.eq(DbTime(at)))
                .returning(ORDER_COLUMNS)
                .get_result::<OrderRow>(conn)
                .optional()?;
            let Some(row) = updated else { return refusal(conn, id) };
            diesel::delete(order_items::table.filter(order_items::order_id.eq(DbUuid(id)))).execute(conn)?;
            insert_items(conn, id, items)?;
            row.into_order(items.to_vec()).map(GuardedWrite::Applied).map_err(corrupt)
        })
    }

    fn set_status(&mut self, id: Uuid, to: Status, allowed: &[Status], at: DateTime<Utc>) -> QueryResult<GuardedWrite> {
        write_transaction(self, |conn| {
            let updated = diesel::update(guarded(id, allowed))
                .set((orders::status.eq(to.as_str()), orders::updated.eq(DbTime(at))))
                .returning(ORDER_COLUMNS)
                .get_result::<OrderRow>(conn)
                .optional()?;
            let Some(row) = updated else { return refusal(conn, id) };
            let items = order_items::table
                .filter(order_items::order_id.eq(DbUuid(id)))
                .order(order_items::position)
                .select(ITEM_COLUMNS)
                .load::<ItemRow>(conn)?;
            order_with_items(row, items).map(GuardedWrite::Applied).map_err(corrupt)
        })
    }

    fn delete_order(&mut self, id: Uuid) -> QueryResult<bool> {
        // Items go with their order by ON DELETE CASCADE.
        let deleted = diesel::delete(orders::table.find(DbUuid(id))).execute(self)?;
        Ok(deleted > 0)
    }
}

/// Order `id`, if its status is one of `allowed`.
fn guarded(
    id: Uuid,
    allowed: &[Status],
) -> diesel::dsl::Filter<diesel::dsl::Find<orders::table, DbUuid>, diesel::dsl::EqAny<orders::status, Vec<&'static str>>> {
    let allowed: Vec<&'static str> = allowed.iter().map(|status| status.as_str()).collect();
    orders::table.find(DbUuid(id)).filter(orders::status.eq_any(allowed))
}

/// Why a guarded write did not apply: no such order, or its status.
fn refusal(conn: &mut Conn, id: Uuid) -> QueryResult<GuardedWrite> {
    let status = orders::table.find(DbUuid(id)).select(orders::status).first::<String>(conn).optional()?;
    Ok(match status {
        None => GuardedWrite::Missing,
        Some(status) => {
            GuardedWrite::Refused(status.parse().map_err(|e| corrupt(crate::storage::CorruptRow::from(e)))?)
        }
    })
}

/// Inserts all `items` of order `id` in one statement.
fn insert_items(conn: &mut Conn, id: Uuid, items: &[OrderItem]) -> QueryResult<()> {
    let rows: Vec<_> = positions(items)
        .map(|(position, item)| {
            (
                order_items::order_id.eq(DbUuid(id)),
                order_items::position.eq(position),
                order_items::product.eq(item.product.as_str()),
                order_items::size.eq(item.size.as_str()),
                order_items::quantity.eq(item.quantity),
            )
        })
        .collect();
    diesel::insert_into(order_items::table).values(&rows).execute(conn)?;
    Ok(())
}
