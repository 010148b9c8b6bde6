//! The domain model: what an order is, independent of JSON or SQL.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::fmt;
use std::str::FromStr;
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
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}

/// Names an enum's variants once, for JSON, SQL and error messages alike.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The lowercase name used in JSON and in the database.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName { kind: stringify!($name), name: s.to_owned() }),
                }
            }
        }
    };
}

named_enum!(
    /// Cup size of an item.
    Size {
        /// Small cup.
        Small => "small",
        /// Medium cup.
        Medium => "medium",
        /// Big cup.
        Big => "big",
    }
);

named_enum!(
    /// Life-cycle stage of an order. Transitions are in [`crate::rules`].
    Status {
        /// Placed, not paid yet: the only stage in which items may change.
        Created => "created",
        /// Paid.
        Paid => "paid",
        /// Being prepared.
        Progress => "progress",
        /// Cancelled by the customer.
        Cancelled => "cancelled",
        /// Handed to delivery.
        Dispatched => "dispatched",
        /// Delivered.
        Delivered => "delivered",
    }
);

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
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(*status));
        }
        for size in Size::ALL {
            assert_eq!(size.to_string().parse::<Size>(), Ok(*size));
        }
        assert!("huge".parse::<Size>().is_err());
    }

    #[test]
    fn now_is_whole_microseconds() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
