//! The domain model: what an order is, independent of JSON or SQL.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

/// A customer's order: a list of items and where it is in its life cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Random (v4) identifier, chosen by the service.
    pub id: Uuid,
    /// When the order was placed.
    pub created: DateTime<Utc>,
    /// When the order last changed (items or status).
    pub updated: DateTime<Utc>,
    /// Where the order is in its life cycle.
    pub status: Status,
    /// The ordered items, in the order the customer listed them.
    pub items: Vec<OrderItem>,
    /// Counts the order's states: [`FIRST_VERSION`] when placed, one more on every
    /// write (items or status), never otherwise. Conditional writes name the version
    /// they expect ([`Precondition`](crate::repository::Precondition)); HTTP shows it
    /// in the order's `ETag`.
    pub version: i64,
}

/// A resource as the service keeps it: the fields a client gave (`F`), and what the
/// service adds, the same for every resource: its id, its times and its version. A
/// resource made by `cargo xtask scaffold` is one (`type Customer = Resource<CustomerFields>`);
/// [`Order`], with its status and its items, is written out by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource<F> {
    /// Random (v4) identifier, chosen by the service.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// [`FIRST_VERSION`] when created, one more on every change; HTTP shows it in the `ETag`.
    pub version: i64,
    /// What the client gave.
    pub fields: F,
}

impl<F> Resource<F> {
    /// A new resource with `fields`: a new id, created now, at [`FIRST_VERSION`].
    pub fn new(fields: F) -> Self {
        let now = now();
        Self { id: Uuid::new_v4(), created: now, updated: now, version: FIRST_VERSION, fields }
    }
}

/// The version of a newly placed order. The `orders.version` column's default in
/// `migrations/` is this value: inserts leave the column to it.
pub const FIRST_VERSION: i64 = 1;

/// Who an order belongs to: the subject (`sub`) that the identity provider gave the
/// caller who placed it. Every use case is scoped to one owner; another owner's order is
/// reported exactly as one that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner(String);

impl Owner {
    /// The owner with this subject.
    pub fn new(subject: impl Into<String>) -> Self {
        Self(subject.into())
    }

    /// The subject, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    /// The product's name as the customer gave it.
    pub product: String,
    /// Cup size.
    pub size: Size,
    /// How many; validated by [`crate::rules::validate_items`].
    pub quantity: i64,
}

/// The current time, truncated to what every database keeps (microseconds), so that an
/// order reads back exactly as it was returned when it was written.
pub fn now() -> DateTime<Utc> {
    stored_precision(Utc::now())
}

/// `time` truncated to what every database keeps (microseconds): a time a client sends
/// reads back exactly as it was answered.
pub fn stored_precision(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(time)
}

/// Cup size of an item. Its one name per variant (for JSON, SQL and messages) comes
/// from strum's `serialize_all = "lowercase"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "lowercase", parse_err_ty = UnknownName, parse_err_fn = unknown_size)]
#[allow(missing_docs, reason = "a variant's name is all there is to say about it")]
pub enum Size {
    Small,
    Medium,
    Big,
}

impl Size {
    /// The lowercase name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_size(name: &str) -> UnknownName {
    UnknownName { kind: "Size", name: name.to_owned() }
}

/// Life-cycle stage of an order. Transitions are in [`crate::rules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "lowercase", parse_err_ty = UnknownName, parse_err_fn = unknown_status)]
#[allow(missing_docs, reason = "only the stages whose name does not say it all are described")]
pub enum Status {
    /// Placed, not paid yet: the only stage in which items may change.
    Created,
    Paid,
    /// Being prepared.
    Progress,
    /// Cancelled by the customer.
    Cancelled,
    /// Handed to delivery.
    Dispatched,
    Delivered,
}

impl Status {
    /// The lowercase name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_status(name: &str) -> UnknownName {
    UnknownName { kind: "Status", name: name.to_owned() }
}

/// A stored name that matches no variant: the data is corrupt, or newer than this code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?}")]
pub struct UnknownName {
    /// The enum's name.
    pub kind: &'static str,
    /// The unrecognised text.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in Status::VARIANTS {
            assert_eq!(status.as_str().parse::<Status>(), Ok(*status));
        }
        for size in Size::VARIANTS {
            assert_eq!(size.to_string().parse::<Size>(), Ok(*size));
        }
        let unknown = "huge".parse::<Size>().unwrap_err();
        assert_eq!(unknown.to_string(), r#"unknown Size "huge""#);
    }

    #[test]
    fn now_is_whole_microseconds() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
