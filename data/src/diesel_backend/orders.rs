//! {% capture rust %}The orders queries on diesel, and the repository that runs them on the
//! threadpool.
//!
//! [`OrderQueries`] are plain synchronous functions, no async anywhere: they run on a
//! blocking thread, called through [`DieselDatabase::read`] and [`DieselDatabase::write`]
//! (which also opens the write transaction).
//~ {%- if database == "both" %}
//! diesel builds the queries the same for both databases; running one needs the concrete
//! connection type, so the `impl` is stamped out for `PgConnection` and `SqliteConnection`
//! by `#[duplicate_item]` (each only when its feature is on). Read `Conn` as "the
//! connection". The one query the databases disagree on is a new order: one statement on
//! Postgres (`new_order.rs`), two in a write transaction on SQLite (below the `impl`).
//~ {%- else %}
//+ //! The `#[duplicate_item]` attribute names the connection type once for the `impl`: read
//+ //! `Conn` as "the connection".
//~ {%- endif %}

use super::filters::{admitted, guarded, owned, state_of};
use super::keys::KeyQueries;
//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
use super::new_order::insert_in_one_statement;
//~ {%- endif %}
use super::schema::{order_items, orders};
use super::{DieselConnection, DieselDatabase};
use crate::storage::{self, CorruptRow, DbTime, DbUuid, ItemRow, OrderRow, assemble, order_with_items, positions};
use app_service::{
    GuardedWrite, KeyRecord, Order, OrderFilter, OrderItem, OrdersRepository, Owner, Precondition, RepositoryError,
    Status,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use duplicate::duplicate_item;
use uuid::Uuid;

const ORDER_COLUMNS: (orders::id, orders::status, orders::created, orders::updated, orders::version) =
    (orders::id, orders::status, orders::created, orders::updated, orders::version);

const ITEM_COLUMNS: (order_items::product, order_items::size, order_items::quantity) =
    (order_items::product, order_items::size, order_items::quantity);

/// The queries the repository needs, as synchronous methods on a diesel connection.
/// Writes expect to run inside a write transaction (see [`DieselDatabase::write`]), except
/// [`insert_order`](Self::insert_order).
pub trait OrderQueries: KeyQueries {
    /// Stores a new order of `owner` with its items, atomically by itself: it expects no
    /// enclosing transaction (see [`DieselDatabase::write_atomic_by_itself`]).
    fn insert_order(&mut self, owner: &str, order: &Order) -> QueryResult<()>;
    /// Stores `key`'s record, then the order with its items (`false`, and nothing
    /// stored, if the key is in use), in the enclosing write transaction.
    fn insert_keyed_order(&mut self, owner: &str, order: &Order, key: &KeyRecord) -> QueryResult<bool>;
    /// `owner`'s order with this id, with its items.
    fn find_order(&mut self, owner: &str, id: Uuid) -> QueryResult<Option<Order>>;
    /// A page of `owner`'s orders with their items, newest first, in one query.
    fn page_of_orders(&mut self, owner: &str, filter: OrderFilter) -> QueryResult<Vec<Order>>;
    /// Replaces the items if the status is one of `allowed` and the order meets `precondition`.
    fn replace_items(
        &mut self,
        owner: &str,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
    ) -> QueryResult<GuardedWrite>;
    /// Changes the status if it is one of `allowed` and the order meets `precondition`,
    /// storing `key`'s record first (`None`, and nothing written, if the key is in use).
    #[allow(clippy::too_many_arguments)]
    fn set_status(
        &mut self,
        owner: &str,
        id: Uuid,
        to: Status,
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
        key: Option<&KeyRecord>,
    ) -> QueryResult<Option<GuardedWrite>>;
    /// Deletes the order and its items if it meets `precondition`.
    fn delete_order(&mut self, owner: &str, id: Uuid, precondition: &Precondition) -> QueryResult<bool>;
}

#[duplicate_item(
    Conn                         gate                          insert_with_items              insert_within;
    //~ {%- if database != "sqlite" %}
    [diesel::PgConnection]       [cfg(feature = "postgres")]   [insert_in_one_statement]      [insert_in_one_statement];
    //~ {%- endif %}{% if database != "postgres" %}
    [diesel::SqliteConnection]   [cfg(feature = "sqlite")]     [insert_in_write_transaction]  [insert_rows];
    //~ {%- endif %}
)]
#[gate]
impl OrderQueries for Conn {
    fn insert_order(&mut self, owner: &str, order: &Order) -> QueryResult<()> {
        //~ {%- if database == "both" %}
        // How many statements a new order takes is the one thing the databases disagree
        // on: see `new_order.rs` and the functions after this `impl`.
        //~ {%- endif %}
        insert_with_items(self, owner, order)
    }

    fn insert_keyed_order(&mut self, owner: &str, order: &Order, key: &KeyRecord) -> QueryResult<bool> {
        if !self.claim_key(owner, key)? {
            return Ok(false);
        }
        insert_within(self, owner, order)?;
        Ok(true)
    }

    fn find_order(&mut self, owner: &str, id: Uuid) -> QueryResult<Option<Order>> {
        let rows = orders::table
            .left_join(order_items::table)
            .filter(orders::id.eq(DbUuid(id)).and(orders::owner.eq(owner)))
            .order(order_items::position)
            .select((ORDER_COLUMNS, ITEM_COLUMNS.nullable()))
            .load::<(OrderRow, Option<ItemRow>)>(self)?;
        Ok(assemble(rows).map_err(corrupt)?.pop())
    }

    fn page_of_orders(&mut self, owner: &str, filter: OrderFilter) -> QueryResult<Vec<Order>> {
        // The page's ids as a subquery: the page and its items in one statement.
        let mut page = orders::table
            .filter(orders::owner.eq(owner))
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
        owner: &str,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
    ) -> QueryResult<GuardedWrite> {
        // Check and write in one statement: concurrent writers cannot both pass.
        let updated = diesel::update(guarded(owner, id, allowed, admitted(precondition)))
            .set((orders::updated.eq(DbTime(at)), orders::version.eq(orders::version + 1)))
            .returning(ORDER_COLUMNS)
            .get_result::<OrderRow>(self)
            .optional()?;
        let Some(row) = updated else {
            return storage::refusal(state_of(owner, id).first(self).optional()?).map_err(corrupt);
        };
        diesel::delete(order_items::table.filter(order_items::order_id.eq(DbUuid(id)))).execute(self)?;
        diesel::insert_into(order_items::table).values(item_rows(id, items)).execute(self)?;
        row.into_order(items.to_vec()).map(GuardedWrite::Applied).map_err(corrupt)
    }

    fn set_status(
        &mut self,
        owner: &str,
        id: Uuid,
        to: Status,
        allowed: &[Status],
        precondition: &Precondition,
        at: DateTime<Utc>,
        key: Option<&KeyRecord>,
    ) -> QueryResult<Option<GuardedWrite>> {
        if let Some(key) = key
            && !self.claim_key(owner, key)?
        {
            return Ok(None);
        }
        let updated = diesel::update(guarded(owner, id, allowed, admitted(precondition)))
            .set((
                orders::status.eq(to.as_str()),
                orders::updated.eq(DbTime(at)),
                orders::version.eq(orders::version + 1),
            ))
            .returning(ORDER_COLUMNS)
            .get_result::<OrderRow>(self)
            .optional()?;
        let Some(row) = updated else {
            // Nothing written: the key's record goes too (the transaction commits).
            if let Some(key) = key {
                self.unclaim_key(owner, &key.key)?;
            }
            return storage::refusal(state_of(owner, id).first(self).optional()?).map(Some).map_err(corrupt);
        };
        let items = order_items::table
            .filter(order_items::order_id.eq(DbUuid(id)))
            .order(order_items::position)
            .select(ITEM_COLUMNS)
            .load::<ItemRow>(self)?;
        order_with_items(row, items).map(|order| Some(GuardedWrite::Applied(order))).map_err(corrupt)
    }

    fn delete_order(&mut self, owner: &str, id: Uuid, precondition: &Precondition) -> QueryResult<bool> {
        // Items go with their order by ON DELETE CASCADE.
        let deleted = diesel::delete(owned(owner, id).filter(admitted(precondition))).execute(self)?;
        Ok(deleted > 0)
    }
}
//~ {%- if database != "postgres" %}

/// SQLite: no data-modifying CTEs, so the order and its items are two statements, made
/// atomic by SQLite's immediate write transaction
/// ([`write_transaction`](DieselConnection::write_transaction)). SQLite is in-process,
/// so the extra statements and the transaction cost no round trips.
#[cfg(feature = "sqlite")]
fn insert_in_write_transaction(conn: &mut diesel::SqliteConnection, owner: &str, order: &Order) -> QueryResult<()> {
    conn.write_transaction(|conn| insert_rows(conn, owner, order))
}

/// SQLite: the two statements of a new order, in the caller's write transaction.
#[cfg(feature = "sqlite")]
fn insert_rows(conn: &mut diesel::SqliteConnection, owner: &str, order: &Order) -> QueryResult<()> {
    diesel::insert_into(orders::table)
        .values((
            orders::owner.eq(owner),
            orders::id.eq(DbUuid(order.id)),
            orders::status.eq(order.status.as_str()),
            orders::created.eq(DbTime(order.created)),
            orders::updated.eq(DbTime(order.updated)),
        ))
        .execute(conn)?;
    diesel::insert_into(order_items::table).values(item_rows(order.id, &order.items)).execute(conn)?;
    Ok(())
}
//~ {%- endif %}

/// The rows of `items` of order `id`, for one multi-row insert.
#[allow(clippy::type_complexity)]
fn item_rows(
    id: Uuid,
    items: &[OrderItem],
) -> Vec<(
    diesel::dsl::Eq<order_items::order_id, DbUuid>,
    diesel::dsl::Eq<order_items::position, i32>,
    diesel::dsl::Eq<order_items::product, &str>,
    diesel::dsl::Eq<order_items::size, &'static str>,
    diesel::dsl::Eq<order_items::quantity, i64>,
)> {
    positions(items)
        .map(|(position, item)| {
            (
                order_items::order_id.eq(DbUuid(id)),
                order_items::position.eq(position),
                order_items::product.eq(item.product.as_str()),
                order_items::size.eq(item.size.as_str()),
                order_items::quantity.eq(item.quantity),
            )
        })
        .collect()
}

fn corrupt(error: CorruptRow) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(Box::new(error))
}

/// Orders stored through diesel over connection type `C`, queried on the threadpool.
pub struct DieselOrders<C: DieselConnection> {
    db: DieselDatabase<C>,
}

impl<C: DieselConnection> DieselOrders<C> {
    /// The orders repository on `db`'s pool and writer queue.
    pub fn new(db: DieselDatabase<C>) -> Self {
        Self { db }
    }
}

#[async_trait]
impl<C: OrderQueries> OrdersRepository for DieselOrders<C> {
    async fn insert(&self, owner: &Owner, order: &Order, key: Option<&KeyRecord>) -> Result<(), RepositoryError> {
        // The closure outlives this call on another thread, so it owns its data.
        let (owner, order) = (owner.clone(), order.clone());
        let Some(key) = key.cloned() else {
            return self.db.write_atomic_by_itself(move |conn| conn.insert_order(owner.as_str(), &order)).await;
        };
        let stored = self.db.write(move |conn| conn.insert_keyed_order(owner.as_str(), &order, &key)).await?;
        if stored { Ok(()) } else { Err(RepositoryError::KeyInUse) }
    }

    async fn get(&self, owner: &Owner, id: Uuid) -> Result<Option<Order>, RepositoryError> {
        let owner = owner.clone();
        self.db.read(move |conn| conn.find_order(owner.as_str(), id)).await
    }

    async fn list(&self, owner: &Owner, filter: OrderFilter) -> Result<Vec<Order>, RepositoryError> {
        let owner = owner.clone();
        self.db.read(move |conn| conn.page_of_orders(owner.as_str(), filter)).await
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
        let (owner, items, allowed, precondition) =
            (owner.clone(), items.to_vec(), allowed.to_vec(), precondition.clone());
        self.db.write(move |conn| conn.replace_items(owner.as_str(), id, &items, &allowed, &precondition, at)).await
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
        let (owner, allowed, precondition, key) = (owner.clone(), allowed.to_vec(), precondition.clone(), key.cloned());
        let write =
            move |conn: &mut C| conn.set_status(owner.as_str(), id, to, &allowed, &precondition, at, key.as_ref());
        self.db.write(write).await?.ok_or(RepositoryError::KeyInUse)
    }

    async fn delete(&self, owner: &Owner, id: Uuid, precondition: &Precondition) -> Result<bool, RepositoryError> {
        let (owner, precondition) = (owner.clone(), precondition.clone());
        self.db.write(move |conn| conn.delete_order(owner.as_str(), id, &precondition)).await
    }
}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
