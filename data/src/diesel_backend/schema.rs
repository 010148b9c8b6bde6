//! Diesel's view of the schema in `migrations/`. The two databases differ only in the
//! types of ids and times; `data/tests/schema.rs` checks both against the migrated
//! databases, so an edited migration without an edit here fails the tests.

/// Declares the tables with the given id and time SQL types.
macro_rules! orders_schema {
    ($id:ident, $time:ident) => {
        diesel::table! {
            use diesel::sql_types::*;

            /// Orders, one row each.
            orders (id) {
                id -> $id,
                status -> Text,
                created -> $time,
                updated -> $time,
            }
        }

        diesel::table! {
            use diesel::sql_types::*;

            /// Items, keyed by their order and their position in it.
            order_items (order_id, position) {
                order_id -> $id,
                position -> Integer,
                product -> Text,
                size -> Text,
                quantity -> BigInt,
            }
        }

        diesel::joinable!(order_items -> orders (order_id));
        diesel::allow_tables_to_appear_in_same_query!(orders, order_items);
    };
}

/// The tables on Postgres.
pub mod postgres {
    orders_schema!(Uuid, Timestamptz);
}

/// The tables on SQLite.
pub mod sqlite {
    orders_schema!(Text, Text);
}
