//! diesel's view of the schema in `migrations/`, one `table!` for both databases.
//!
//! The databases differ only in how ids and times are stored (`UUID`/`TIMESTAMPTZ` on
//! Postgres, text on SQLite), so those columns get two SQL types of this crate's own,
//! [`sql_types::StoredUuid`] and [`sql_types::StoredTime`], that mean the native type on
//! Postgres and `TEXT` on SQLite. `data/tests/schema.rs` checks these tables against the
//! migrated databases, so an edited migration without an edit here fails the tests.

/// SQL types that are stored differently per database.
pub mod sql_types {
    /// An id: `UUID` on Postgres (oid 2950), text on SQLite.
    #[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
    #[diesel(postgres_type(oid = 2950, array_oid = 2951))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct StoredUuid;

    /// A point in time: `TIMESTAMPTZ` on Postgres (oid 1184), text on SQLite.
    #[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
    #[diesel(postgres_type(oid = 1184, array_oid = 1185))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct StoredTime;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::{StoredTime, StoredUuid};

    /// Orders, one row each.
    orders (id) {
        /// The order's id.
        id -> StoredUuid,
        /// Its status, by name.
        status -> Text,
        /// When it was placed.
        created -> StoredTime,
        /// When it last changed.
        updated -> StoredTime,
        /// Who it belongs to: the subject of the token that placed it.
        owner -> Text,
        /// Counts its states: 1 when placed, one more on every write.
        version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::StoredUuid;

    /// Items, keyed by their order and their position in it.
    order_items (order_id, position) {
        /// The order the item belongs to.
        order_id -> StoredUuid,
        /// Its index in the order's list.
        position -> Integer,
        /// The product's name.
        product -> Text,
        /// The cup size, by name.
        size -> Text,
        /// How many.
        quantity -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::StoredTime;

    /// Each caller's `Idempotency-Key` records (see `app_service::idempotency`).
    idempotency_keys (owner, idempotency_key) {
        /// Whose key it is.
        owner -> Text,
        /// The key as the client sent it.
        idempotency_key -> Text,
        /// The first request's hash: a repeat must match it.
        fingerprint -> Text,
        /// The first response's status code.
        response_status -> Integer,
        /// Its JSON body.
        response_body -> Text,
        /// Its `Location`, if any.
        response_location -> Nullable<Text>,
        /// Its `ETag`, if any.
        response_etag -> Nullable<Text>,
        /// When the record was stored.
        created -> StoredTime,
        /// When the key may be used again.
        expires -> StoredTime,
    }
}

diesel::joinable!(order_items -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(orders, order_items);
