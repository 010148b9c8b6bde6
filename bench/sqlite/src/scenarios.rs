//! The three scenarios, each one operation of the service's on one connection: the same
//! statements, prepared once per connection and kept (`prepare_cached`, as the service's
//! statement caches do), with the same parameters, every row read into owned values.

use rusqlite::{Connection, Row, params};
use std::hint::black_box;

/// The service's SQL on SQLite: its own statements from `app_data::sql`, and the
/// transaction around a new order as the sqlx backend writes it on SQLite.
mod sql {
    use std::sync::LazyLock;

    pub use app_data::sql::{INSERT_ORDER, SELECT_ORDER, SELECT_PAGE};

    /// SQLite's `BEGIN_WRITE` (`data/src/sqlx_backend/mod.rs`): the write lock up front.
    pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

    /// `INSERT_ITEMS` as the sqlx backend completes it for two items (its query builder
    /// writes `?` placeholders on SQLite).
    pub static INSERT_TWO_ITEMS: LazyLock<String> =
        LazyLock::new(|| format!("{}VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)", app_data::sql::INSERT_ITEMS));

    pub const COMMIT: &str = "COMMIT";
}

/// The owner of orders placed without a token (`OPEN_OWNER` in `web/src/auth/mod.rs`):
/// bench/run.sh calls the service without one.
const OWNER: &str = "anonymous";

/// One operation of the service, measured in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /orders/{id}`: one order with its items.
    GetOrder,
    /// `GET /orders?limit=20`: the newest page of orders with their items.
    ListOrders,
    /// `POST /orders` with two items: one write transaction.
    PlaceOrder,
}

impl Scenario {
    /// The scenario named `name` (as bench/run.sh names it), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "get_order" => Some(Self::GetOrder),
            "list_orders" => Some(Self::ListOrders),
            "place_order" => Some(Self::PlaceOrder),
            _ => None,
        }
    }

    /// Whether the scenario writes: SQLite takes one writer at a time.
    pub fn writes(self) -> bool {
        self == Self::PlaceOrder
    }

    /// The statements the scenario runs, to prepare before the clock starts.
    pub fn statements(self) -> Vec<&'static str> {
        match self {
            Self::GetOrder => vec![sql::SELECT_ORDER],
            Self::ListOrders => vec![sql::SELECT_PAGE],
            Self::PlaceOrder => vec![sql::BEGIN_WRITE, sql::INSERT_ORDER, sql::INSERT_TWO_ITEMS.as_str(), sql::COMMIT],
        }
    }

    /// Runs the scenario once on `conn`; `order_id` is the order `GetOrder` reads.
    pub fn run_once(self, conn: &Connection, order_id: &str) -> rusqlite::Result<()> {
        match self {
            Self::GetOrder => {
                let mut statement = conn.prepare_cached(sql::SELECT_ORDER)?;
                let rows = statement.query_map(params![order_id, OWNER], JoinedRow::read)?;
                black_box(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            }
            Self::ListOrders => {
                // The service's first page: no status filter, 20 orders, from the newest.
                let mut statement = conn.prepare_cached(sql::SELECT_PAGE)?;
                let rows = statement.query_map(params![OWNER, None::<bool>, "cancelled", 20, 0], JoinedRow::read)?;
                black_box(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            }
            Self::PlaceOrder => {
                // The service's new order: a v4 id, both times now, bench/post_order.lua's
                // items.
                let id = uuid::Uuid::new_v4().hyphenated().to_string();
                let now = app_data::DbTime(chrono::Utc::now()).to_sqlite();
                conn.prepare_cached(sql::BEGIN_WRITE)?.execute([])?;
                conn.prepare_cached(sql::INSERT_ORDER)?.execute(params![id, "created", now, now, OWNER])?;
                conn.prepare_cached(&sql::INSERT_TWO_ITEMS)?
                    .execute(params![id, 0, "latte", "big", 2, id, 1, "tea", "small", 1])?;
                conn.prepare_cached(sql::COMMIT)?.execute([])?;
            }
        }
        Ok(())
    }
}

/// The id of an order to read: the oldest of `OWNER`'s, which bench/run.sh placed first
/// (not measured).
pub fn some_order_id(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let mut statement = conn.prepare("SELECT id FROM orders WHERE owner = $1 ORDER BY created LIMIT 1")?;
    let mut rows = statement.query(params![OWNER])?;
    rows.next()?.map(|row| row.get(0)).transpose()
}

/// One row of `orders LEFT JOIN order_items`, the columns the service decodes (its
/// `JoinedRow`), as the text and integers SQLite stores.
#[derive(Debug)]
#[allow(dead_code)] // Read to be kept, never looked at.
struct JoinedRow {
    id: String,
    status: String,
    created: String,
    updated: String,
    product: Option<String>,
    size: Option<String>,
    quantity: Option<i64>,
}

impl JoinedRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            status: row.get(1)?,
            created: row.get(2)?,
            updated: row.get(3)?,
            product: row.get(4)?,
            size: row.get(5)?,
            quantity: row.get(6)?,
        })
    }
}
