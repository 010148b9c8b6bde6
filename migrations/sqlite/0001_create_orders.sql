-- Orders and their items; the SQLite twin of migrations/postgres.
-- SQLite has no UUID or timestamp type: ids are lowercase hyphenated UUID text and
-- times are fixed-width UTC text ('2026-01-31T12:00:00.000000Z'), which sorts in time
-- order. Both data backends read and write these formats through data/src/storage.rs.
CREATE TABLE orders (
    id      TEXT NOT NULL PRIMARY KEY,
    status  TEXT NOT NULL
            CHECK (status IN ('created', 'paid', 'progress', 'cancelled', 'dispatched', 'delivered')),
    created TEXT NOT NULL,
    updated TEXT NOT NULL
) STRICT;

CREATE INDEX orders_newest_first ON orders (created DESC, id DESC);

CREATE TABLE order_items (
    order_id TEXT    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    product  TEXT    NOT NULL,
    size     TEXT    NOT NULL CHECK (size IN ('small', 'medium', 'big')),
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    PRIMARY KEY (order_id, position)
) STRICT;
