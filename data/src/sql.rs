//! {% capture rust %}SQL text used in more than one place, one copy of each: the rest of a
//! repository's SQL stays beside it (its `orders.rs`).
//~ {%- if database != "postgres" %}
//! The SQLite ceiling in `bench/sqlite` runs the service's own statements from here, so
//! the benchmark cannot drift from the service.
//~ {%- endif %}{% if database == "both" %}
//!
//! `$n` placeholders work on Postgres and SQLite alike.
//~ {%- endif %}

/// One order of one owner with its items: `$1` id, `$2` owner. The version comes last,
/// after the item columns, so that readers by position of the older seven columns (the
/// benchmarks' ceilings) read them where they were.
pub const SELECT_ORDER: &str = "\
    SELECT o.id, o.status, o.created, o.updated, i.product, i.size, i.quantity, o.version \
    FROM orders o LEFT JOIN order_items i ON i.order_id = o.id \
    WHERE o.id = $1 AND o.owner = $2 ORDER BY i.position";

/// A page of one owner's orders and their items, newest first, in one statement: no
/// query per order, one consistent snapshot. `$1` owner, `$2` whether cancelled ones
/// (NULL: all), `$3` the cancelled status's name, `$4` limit, `$5` offset. Columns as
/// in [`SELECT_ORDER`].
pub const SELECT_PAGE: &str = "\
    SELECT o.id, o.status, o.created, o.updated, i.product, i.size, i.quantity, o.version \
    FROM (SELECT id, status, created, updated, version FROM orders \
          WHERE owner = $1 AND ($2 IS NULL OR (status = $3) = $2) \
          ORDER BY created DESC, id DESC LIMIT $4 OFFSET $5) o \
    LEFT JOIN order_items i ON i.order_id = o.id \
    ORDER BY o.created DESC, o.id DESC, i.position";

/// The start of a multi-row insert of items; the caller appends `VALUES (…), (…)`.
pub const INSERT_ITEMS: &str = "INSERT INTO order_items (order_id, position, product, size, quantity) ";
//~ {%- if database != "postgres" %}

/// A new order without its items (SQLite, in a write transaction with [`INSERT_ITEMS`]):
/// `$1` id, `$2` status, `$3` created, `$4` updated, `$5` owner.
pub const INSERT_ORDER: &str = "INSERT INTO orders (id, status, created, updated, owner) VALUES ($1, $2, $3, $4, $5)";
//~ {%- endif %}{% if database != "sqlite" %}

/// Postgres: a new order and its items in one statement. A data-modifying CTE inserts the
/// order; the items come as one array per column
/// ([`ItemColumns`](crate::storage::ItemColumns)), unnested into rows. One statement is
/// one round trip and atomic by itself, so it needs no explicit transaction. Binds: `$1`
/// id, `$2` status, `$3` created, `$4` updated, `$5` owner, `$6`–`$9` the item columns;
/// each once and in order.
#[cfg(feature = "postgres")]
pub const INSERT_ORDER_WITH_ITEMS: &str = "\
    WITH o AS (INSERT INTO orders (id, status, created, updated, owner) VALUES ($1, $2, $3, $4, $5) RETURNING id) \
    INSERT INTO order_items (order_id, position, product, size, quantity) \
    SELECT o.id, i.* FROM o, UNNEST($6::int4[], $7::text[], $8::text[], $9::int8[]) AS i";
//~ {%- endif %}

/// `$1` owner's live record of key `$2` at time `$3` (columns of
/// [`KeyRow`](crate::storage::KeyRow)). For every backend, like the statements below.
pub const FIND_KEY: &str = "\
    SELECT idempotency_key, fingerprint, response_status, response_body, response_location, response_etag, \
    created, expires FROM idempotency_keys WHERE owner = $1 AND idempotency_key = $2 AND expires > $3";

/// Stores a key's record unless its owner has a live one (one that expires after the new
/// record's `created`): an expired record is replaced. One row affected: stored; none: the
/// key is in use. Binds: `$1` owner, `$2` key, `$3` fingerprint, `$4`–`$7` the response
/// (status, body, location, etag), `$8` created, `$9` expires. `$guard` decides whether to
/// try at all (see the two below).
macro_rules! claim_key {
    ($guard:literal) => {
        concat!(
            "INSERT INTO idempotency_keys (owner, idempotency_key, fingerprint, response_status, response_body, ",
            "response_location, response_etag, created, expires) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE ",
            $guard,
            " ON CONFLICT (owner, idempotency_key) DO UPDATE SET fingerprint = excluded.fingerprint, ",
            "response_status = excluded.response_status, response_body = excluded.response_body, ",
            "response_location = excluded.response_location, response_etag = excluded.response_etag, ",
            "created = excluded.created, expires = excluded.expires WHERE idempotency_keys.expires <= excluded.created"
        )
    };
}
//~ {%- if database != "sqlite" %}

/// Postgres: the claim, first taking a lock on the owner's key for the rest of the
/// transaction, without waiting. A concurrent request with the key, whose record is not
/// committed yet, holds it: then nothing is stored at once (the key is in use, and its
/// record not there yet: the caller answers 409), where the insert alone would wait for the
/// first request to end. A transaction-level lock, so it holds behind a transaction pooler.
#[cfg(feature = "postgres")]
pub const CLAIM_KEY_POSTGRES: &str = claim_key!("pg_try_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 0))");
//~ {%- endif %}{% if database != "postgres" %}

/// SQLite: the claim. Writers take turns there (one write transaction at a time), so a
/// concurrent request with the key waits for the first, then finds its record.
#[cfg(feature = "sqlite")]
pub const CLAIM_KEY_SQLITE: &str = claim_key!("true");
//~ {%- endif %}

/// Deletes at most `$2` records expired by `$1`, oldest first (by the `expires` index,
/// so a batch costs what it deletes, not the table).
pub const PURGE_KEYS: &str = "\
    DELETE FROM idempotency_keys WHERE (owner, idempotency_key) IN \
    (SELECT owner, idempotency_key FROM idempotency_keys WHERE expires <= $1 ORDER BY expires LIMIT $2)";
//~ {%- if backend != "sqlx" and database != "sqlite" %}

/// The text of `sql` around its placeholders: what comes before `$1`, then what follows
/// each placeholder. For a query type that pushes its SQL and its binds in turn (diesel's
/// `AstPass`), which numbers the binds itself: `sql`'s placeholders must be `$1`, `$2`…
/// each once, in order.
#[cfg(all(feature = "diesel", feature = "postgres"))]
pub fn between_placeholders(sql: &'static str) -> impl Iterator<Item = &'static str> {
    sql.split('$')
        .enumerate()
        .map(|(i, piece)| if i == 0 { piece } else { piece.trim_start_matches(|c: char| c.is_ascii_digit()) })
}

#[cfg(all(test, feature = "diesel", feature = "postgres"))]
mod tests {
    use super::*;

    #[test]
    fn the_new_order_statement_has_each_placeholder_once_in_order() {
        let placeholders: Vec<&str> = INSERT_ORDER_WITH_ITEMS
            .split('$')
            .skip(1)
            .map(|piece| &piece[..piece.find(|c: char| !c.is_ascii_digit()).unwrap_or(piece.len())])
            .collect();
        assert_eq!(placeholders, ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        let pieces: Vec<&str> = between_placeholders(INSERT_ORDER_WITH_ITEMS).collect();
        assert_eq!(pieces.len(), 10);
        assert!(pieces[1..].iter().all(|piece| !piece.starts_with(|c: char| c.is_ascii_digit())));
        assert_eq!(pieces[9], "::int8[]) AS i");
    }
}
//~ {%- endif %}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
