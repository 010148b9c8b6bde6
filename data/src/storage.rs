//! {% capture rust %}How ids and times are stored, the row shapes the repositories read, and
//! how rows become domain orders: what the backend modules share, so that they only move
//! values in and out (`codec.rs` in each).

use app_service::model::UnknownName;
use app_service::{GuardedWrite, KeyRecord, Order, OrderItem, StoredResponse};
use chrono::{DateTime, Utc};
use uuid::Uuid;

//~ {%- if database == "both" %}
/// An id as stored: a native `UUID` on Postgres, hyphenated text on SQLite.
//~ {%- elsif database == "postgres" %}
//+ /// An id as stored: a native `UUID`.
//~ {%- else %}
//+ /// An id as stored: hyphenated text.
//~ {%- endif %}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
//~ {%- if backend != "sqlx" %}
#[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = crate::diesel_backend::schema::sql_types::StoredUuid))]
//~ {%- endif %}
pub struct DbUuid(pub Uuid);

//~ {%- if database == "both" %}
/// A point in time as stored: `TIMESTAMPTZ` on Postgres, fixed-width UTC text on SQLite.
//~ {%- elsif database == "postgres" %}
//+ /// A point in time as stored: `TIMESTAMPTZ`.
//~ {%- else %}
//+ /// A point in time as stored: fixed-width UTC text.
//~ {%- endif %}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
//~ {%- if backend != "sqlx" %}
#[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = crate::diesel_backend::schema::sql_types::StoredTime))]
//~ {%- endif %}
pub struct DbTime(pub DateTime<Utc>);
//~ {%- if database != "postgres" %}

/// SQLite's time format: RFC 3339 in UTC with microseconds, `2026-01-02T03:04:05.000006Z`.
/// Fixed width, so text order is time order. Written and read by chrono's RFC 3339
/// functions rather than a format string, which chrono would interpret on every call
/// (a list page holds 40 times).
#[cfg(feature = "sqlite")]
const SQLITE_TIME_FORMAT: chrono::SecondsFormat = chrono::SecondsFormat::Micros;

#[cfg(feature = "sqlite")]
impl DbUuid {
    /// The SQLite text form.
    pub fn to_sqlite(self) -> String {
        self.0.hyphenated().to_string()
    }

    /// Parses the SQLite text form.
    pub fn from_sqlite(text: &str) -> Result<Self, uuid::Error> {
        Uuid::parse_str(text).map(Self)
    }
}

#[cfg(feature = "sqlite")]
impl DbTime {
    /// The SQLite text form.
    pub fn to_sqlite(self) -> String {
        self.0.to_rfc3339_opts(SQLITE_TIME_FORMAT, true)
    }

    /// Parses the SQLite text form.
    pub fn from_sqlite(text: &str) -> Result<Self, chrono::ParseError> {
        DateTime::parse_from_rfc3339(text).map(|t| Self(t.to_utc()))
    }
}
//~ {%- endif %}

/// The columns of `orders`, in this order in every query.
#[derive(Debug)]
//~ {%- if backend != "diesel" %}
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
//~ {%- endif %}{% if backend != "sqlx" %}
#[cfg_attr(feature = "diesel", derive(diesel::Queryable))]
//~ {%- endif %}
pub struct OrderRow {
    pub id: DbUuid,
    pub status: String,
    pub created: DbTime,
    pub updated: DbTime,
    pub version: i64,
}

/// The columns of `order_items` that make an [`OrderItem`], in this order.
#[derive(Debug)]
//~ {%- if backend != "diesel" %}
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
//~ {%- endif %}{% if backend != "sqlx" %}
#[cfg_attr(feature = "diesel", derive(diesel::Queryable))]
//~ {%- endif %}
pub struct ItemRow {
    pub product: String,
    pub size: String,
    pub quantity: i64,
}

/// The columns of `idempotency_keys` that make a [`KeyRecord`], in this order
/// ([`crate::sql::FIND_KEY`]).
#[derive(Debug)]
//~ {%- if backend != "diesel" %}
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
//~ {%- endif %}{% if backend != "sqlx" %}
#[cfg_attr(feature = "diesel", derive(diesel::Queryable))]
//~ {%- endif %}
pub struct KeyRow {
    pub idempotency_key: String,
    pub fingerprint: String,
    pub response_status: i32,
    pub response_body: String,
    pub response_location: Option<String>,
    pub response_etag: Option<String>,
    pub created: DbTime,
    pub expires: DbTime,
}

impl From<KeyRow> for KeyRecord {
    fn from(row: KeyRow) -> Self {
        // The table's CHECK keeps the status between 100 and 599.
        let status = u16::try_from(row.response_status).unwrap_or(500);
        let response = StoredResponse {
            status,
            body: row.response_body,
            location: row.response_location,
            etag: row.response_etag,
        };
        Self {
            key: row.idempotency_key,
            fingerprint: row.fingerprint,
            response,
            created: row.created.0,
            expires: row.expires.0,
        }
    }
}

/// A stored value that the domain cannot hold (e.g. an unknown status).
#[derive(Debug, thiserror::Error)]
#[error("corrupt row: {0}")]
pub struct CorruptRow(#[from] UnknownName);

impl ItemRow {
    fn into_item(self) -> Result<OrderItem, CorruptRow> {
        Ok(OrderItem { product: self.product, size: self.size.parse()?, quantity: self.quantity })
    }
}

impl OrderRow {
    /// The order of this row with `items`.
    pub fn into_order(self, items: Vec<OrderItem>) -> Result<Order, CorruptRow> {
        Ok(Order {
            id: self.id.0,
            created: self.created.0,
            updated: self.updated.0,
            status: self.status.parse()?,
            items,
            version: self.version,
        })
    }
}

/// The order of `row` with its `items`, already sorted by position.
pub fn order_with_items(row: OrderRow, items: Vec<ItemRow>) -> Result<Order, CorruptRow> {
    let items = items.into_iter().map(ItemRow::into_item).collect::<Result<_, _>>()?;
    row.into_order(items)
}

/// Builds orders from `orders LEFT JOIN order_items` rows, sorted by order and then by
/// item position. An order without items comes as one row with `None`.
pub fn assemble(rows: impl IntoIterator<Item = (OrderRow, Option<ItemRow>)>) -> Result<Vec<Order>, CorruptRow> {
    let mut orders: Vec<Order> = Vec::new();
    for (order, item) in rows {
        let item = item.map(ItemRow::into_item).transpose()?;
        match orders.last_mut() {
            Some(last) if last.id == order.id.0 => last.items.extend(item),
            _ => orders.push(order.into_order(item.into_iter().collect())?),
        }
    }
    Ok(orders)
}

/// Why a guarded write did not apply, from the order's stored status and version
/// (`None`: no order).
pub fn refusal(found: Option<(String, i64)>) -> Result<GuardedWrite, CorruptRow> {
    Ok(match found {
        None => GuardedWrite::Missing,
        Some((status, version)) => GuardedWrite::Refused { status: status.parse()?, version },
    })
}

/// Item positions as stored: the index in the order's list.
pub fn positions(items: &[OrderItem]) -> impl Iterator<Item = (i32, &OrderItem)> {
    // At most `service::rules::MAX_ITEMS` items, so the index fits.
    items.iter().enumerate().map(|(i, item)| (i as i32, item))
}
//~ {%- if database != "sqlite" %}

/// The items of an order as one array per column (in the order of `$6`–`$9` of
/// [`INSERT_ORDER_WITH_ITEMS`](crate::sql::INSERT_ORDER_WITH_ITEMS)), so any number of items binds as four values.
#[cfg(feature = "postgres")]
pub struct ItemColumns<'a> {
    pub positions: Vec<i32>,
    pub products: Vec<&'a str>,
    pub sizes: Vec<&'static str>,
    pub quantities: Vec<i64>,
}

#[cfg(feature = "postgres")]
impl<'a> ItemColumns<'a> {
    /// The columns of `items`, positions as in [`positions`].
    pub fn of(items: &'a [OrderItem]) -> Self {
        let mut columns = Self {
            positions: Vec::with_capacity(items.len()),
            products: Vec::with_capacity(items.len()),
            sizes: Vec::with_capacity(items.len()),
            quantities: Vec::with_capacity(items.len()),
        };
        for (position, item) in positions(items) {
            columns.positions.push(position);
            columns.products.push(item.product.as_str());
            columns.sizes.push(item.size.as_str());
            columns.quantities.push(item.quantity);
        }
        columns
    }
}
//~ {%- endif %}{% if database != "postgres" %}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_sort_like_the_times_and_round_trip() {
        let early = DbTime(DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap());
        let late = DbTime(DateTime::from_timestamp_micros(1_700_000_000_100_000).unwrap());
        assert_eq!(early.to_sqlite(), "2023-11-14T22:13:20.000001Z", "the format of the rows already stored");
        assert!(early.to_sqlite() < late.to_sqlite());
        assert_eq!(DbTime::from_sqlite(&early.to_sqlite()).unwrap(), early);
        let id = DbUuid(Uuid::new_v4());
        assert_eq!(DbUuid::from_sqlite(&id.to_sqlite()).unwrap(), id);
    }
}
//~ {%- endif %}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
