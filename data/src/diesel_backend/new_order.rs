//! A new order on Postgres with diesel: the order and its items in one statement, the
//! data-modifying CTE the sqlx backend sends too.

use crate::sql::INSERT_ORDER_WITH_ITEMS;
use crate::storage::{DbTime, DbUuid, ItemColumns};
use app_service::Order;
use diesel::prelude::*;

/// The order and its items in one statement, [`INSERT_ORDER_WITH_ITEMS`] (in `sql.rs`,
/// for every backend), so one round trip and atomic by itself.
pub(super) fn insert_in_one_statement(conn: &mut diesel::PgConnection, owner: &str, order: &Order) -> QueryResult<()> {
    let statement = NewOrderStatement {
        id: DbUuid(order.id),
        status: order.status.as_str(),
        created: DbTime(order.created),
        updated: DbTime(order.updated),
        owner,
        items: ItemColumns::of(&order.items),
    };
    statement.execute(conn)?;
    Ok(())
}

/// [`INSERT_ORDER_WITH_ITEMS`] with its binds, as a query of diesel's like the DSL's.
///
/// It is SQL rather than the DSL because diesel's DSL has no data-modifying CTE. It is not
/// a `diesel::sql_query` because diesel never prepares one: Postgres would parse and plan
/// the statement for every order. A query type of its own, whose SQL is the same for any
/// values, diesel prepares once per connection and caches like a DSL query (and, behind a
/// transaction pooler, where the statement cache is off, sends unnamed in one round
/// trip). The binds are typed with the SQL types of the `table!` columns.
struct NewOrderStatement<'a> {
    id: DbUuid,
    status: &'a str,
    created: DbTime,
    updated: DbTime,
    owner: &'a str,
    items: ItemColumns<'a>,
}

impl diesel::query_builder::QueryId for NewOrderStatement<'_> {
    /// One SQL text for all values: the statement cache may keep it by this type.
    type QueryId = NewOrderStatement<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for NewOrderStatement<'_> {
    /// The SQL text with each placeholder replaced by its bind; diesel numbers binds
    /// `$1`, `$2`… in the order they are pushed, which is the text's own order
    /// ([`between_placeholders`](crate::sql::between_placeholders)).
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use super::schema::sql_types::{StoredTime, StoredUuid};
        use diesel::sql_types::{Array, BigInt, Integer, Text};
        let mut text = crate::sql::between_placeholders(INSERT_ORDER_WITH_ITEMS);
        let mut next = || text.next().unwrap_or_default();
        out.push_sql(next());
        out.push_bind_param::<StoredUuid, _>(&self.id)?;
        out.push_sql(next());
        out.push_bind_param::<Text, _>(self.status)?;
        out.push_sql(next());
        out.push_bind_param::<StoredTime, _>(&self.created)?;
        out.push_sql(next());
        out.push_bind_param::<StoredTime, _>(&self.updated)?;
        out.push_sql(next());
        out.push_bind_param::<Text, _>(self.owner)?;
        out.push_sql(next());
        out.push_bind_param::<Array<Integer>, _>(&self.items.positions)?;
        out.push_sql(next());
        out.push_bind_param::<Array<Text>, _>(&self.items.products)?;
        out.push_sql(next());
        out.push_bind_param::<Array<Text>, _>(&self.items.sizes)?;
        out.push_sql(next());
        out.push_bind_param::<Array<BigInt>, _>(&self.items.quantities)?;
        out.push_sql(next());
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for NewOrderStatement<'_> {}
