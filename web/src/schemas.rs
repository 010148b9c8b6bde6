//! The JSON shapes of the API, as the CoffeeMesh Orders API publishes them. They convert
//! to and from the service's model; the service never sees these types.

use app_service::{Order, OrderItem, Size, Status};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An item as the client sends and receives it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"product": "cappuccino", "size": "medium", "quantity": 1}))]
pub struct OrderItemSchema {
    /// Product name: 1 to 100 characters, not blank, no control characters. (The pattern
    /// states `app_service::rules` for clients that validate before sending: one character
    /// that is neither white space nor a control character (Unicode Cc), and no control
    /// characters at all.)
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "cappuccino"
    )]
    pub product: String,
    /// Cup size.
    pub size: SizeSchema,
    /// How many, 1 to 1000.
    #[serde(default = "one", deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 1000, default = 1, format = Int64)]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

/// An integer, also when written as a float with no fraction (`2.0`): JSON Schema counts
/// those as integers, and so do the clients generated from the document.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct WholeNumber;

    impl serde::de::Visitor<'_> for WholeNumber {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<i64, E> {
            Ok(n)
        }

        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<i64, E> {
            i64::try_from(n).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
        }

        fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<i64, E> {
            // Exact below 2^53; larger whole floats are far outside any valid quantity.
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Ok(f as i64)
            } else {
                Err(E::invalid_type(serde::de::Unexpected::Float(f), &self))
            }
        }
    }

    deserializer.deserialize_any(WholeNumber)
}

/// Cup size.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs, reason = "a variant's name is all there is to say about it")]
pub enum SizeSchema {
    Small,
    Medium,
    Big,
}

/// Status of an order.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs, reason = "app_service::Status says what each stage is")]
pub enum StatusSchema {
    Created,
    Paid,
    Progress,
    Cancelled,
    Dispatched,
    Delivered,
}

/// Body of `POST /orders` and `PUT /orders/{order_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"order": [{"product": "cappuccino", "size": "medium", "quantity": 1}]}))]
pub struct CreateOrderSchema {
    /// The items, 1 to 50.
    #[schema(min_items = 1, max_items = 50)]
    pub order: Vec<OrderItemSchema>,
}

/// An order as the API returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "created": "2026-01-31T12:00:00.000000Z",
    "updated": "2026-01-31T12:00:00.000000Z",
    "status": "created",
    "order": [{"product": "cappuccino", "size": "medium", "quantity": 1}]
}))]
pub struct GetOrderSchema {
    /// The order's id.
    pub id: Uuid,
    /// When it was placed (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub created: DateTime<Utc>,
    /// When it last changed (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub updated: DateTime<Utc>,
    /// Where it is in its life cycle.
    pub status: StatusSchema,
    /// Its items.
    pub order: Vec<OrderItemSchema>,
}

/// Writes `time` as chrono's own `Serialize` does (RFC 3339, `Z`, as many fractional
/// digits as it needs: 0, 3, 6 or 9), but as one string. chrono serialises through
/// `Display`, which hands serde_json the text a piece at a time, and serde_json scans
/// each piece for characters to escape: a real cost with two timestamps per order and
/// forty on a page of twenty (bench/README.md).
fn rfc3339<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Body of `GET /orders`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderListSchema {
    /// The page of orders, newest first.
    pub orders: Vec<GetOrderSchema>,
}

/// Query of `GET /orders`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersQuery {
    /// `true`: only cancelled orders; `false`: only the others; absent: all.
    pub cancelled: Option<bool>,
    /// Page size, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// Orders to skip.
    #[param(minimum = 0, default = 0)]
    pub offset: Option<i64>,
}

/// Query of a listing of any resource: a page, newest first.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// How many to skip.
    #[param(minimum = 0, default = 0)]
    pub offset: Option<i64>,
}

impl From<PageQuery> for app_service::Page {
    fn from(query: PageQuery) -> Self {
        Self { limit: query.limit.unwrap_or(app_service::rules::DEFAULT_LIMIT), offset: query.offset.unwrap_or(0) }
    }
}

/// Body of `/health` and `/ready`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthSchema {
    /// Always `"ok"`; failures answer with an error status instead.
    pub status: &'static str,
}

/// Every error but 422: `{"detail": "message"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"detail": "Order with ID 3fa85f64-5717-4562-b3fc-2c963f66afa6 not found"}))]
pub struct ErrorBody {
    /// What went wrong.
    pub detail: String,
}

/// 422: each problem with where it is, like FastAPI.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"detail": [{"loc": ["body", "order", 0, "quantity"], "msg": "Input should be less than or equal to 1000", "type": "less_than_equal"}]}))]
pub struct ValidationErrorBody {
    /// The problems.
    pub detail: Vec<ValidationDetail>,
}

/// One step of a problem's location: a name, or an index in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LocItem {
    /// A field or parameter name.
    Name(String),
    /// A position in a list.
    Index(usize),
}

impl From<&str> for LocItem {
    fn from(name: &str) -> Self {
        Self::Name(name.to_owned())
    }
}

impl From<usize> for LocItem {
    fn from(index: usize) -> Self {
        Self::Index(index)
    }
}

/// One problem in the input.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationDetail {
    /// Where: `"body"`, `"query"` or `"path"`, then field names and list indexes.
    pub loc: Vec<LocItem>,
    /// What is wrong.
    pub msg: String,
    /// A stable kind, e.g. `missing`, `less_than_equal`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl From<SizeSchema> for Size {
    fn from(size: SizeSchema) -> Self {
        match size {
            SizeSchema::Small => Size::Small,
            SizeSchema::Medium => Size::Medium,
            SizeSchema::Big => Size::Big,
        }
    }
}

impl From<Size> for SizeSchema {
    fn from(size: Size) -> Self {
        match size {
            Size::Small => SizeSchema::Small,
            Size::Medium => SizeSchema::Medium,
            Size::Big => SizeSchema::Big,
        }
    }
}

impl From<Status> for StatusSchema {
    fn from(status: Status) -> Self {
        match status {
            Status::Created => StatusSchema::Created,
            Status::Paid => StatusSchema::Paid,
            Status::Progress => StatusSchema::Progress,
            Status::Cancelled => StatusSchema::Cancelled,
            Status::Dispatched => StatusSchema::Dispatched,
            Status::Delivered => StatusSchema::Delivered,
        }
    }
}

impl From<CreateOrderSchema> for Vec<OrderItem> {
    fn from(body: CreateOrderSchema) -> Self {
        body.order
            .into_iter()
            .map(|item| OrderItem { product: item.product, size: item.size.into(), quantity: item.quantity })
            .collect()
    }
}

impl From<Order> for GetOrderSchema {
    fn from(order: Order) -> Self {
        Self {
            id: order.id,
            created: order.created,
            updated: order.updated,
            status: order.status.into(),
            order: order
                .items
                .into_iter()
                .map(|item| OrderItemSchema { product: item.product, size: item.size.into(), quantity: item.quantity })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The timestamps read exactly as chrono's own serialisation wrote them, whatever
    /// the fraction: none, milliseconds, microseconds (as stored) or nanoseconds.
    #[test]
    fn timestamps_serialise_as_chrono_does() {
        let second = Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap();
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 5_000] {
            let time = second + chrono::Duration::nanoseconds(nanos);
            let order = GetOrderSchema {
                id: Uuid::nil(),
                created: time,
                updated: time,
                status: StatusSchema::Created,
                order: vec![],
            };
            let ours = serde_json::to_value(&order).unwrap();
            let chronos = serde_json::to_value(time).unwrap();
            assert_eq!(ours["created"], chronos, "{nanos} ns");
            assert_eq!(ours["updated"], chronos, "{nanos} ns");
        }
    }
}
