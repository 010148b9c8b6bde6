-- Orders and their items. Kept in step with migrations/sqlite by the schema test in
-- data/tests/schema.rs; diesel's table! definitions are checked against both.
CREATE TABLE orders (
    id      UUID        PRIMARY KEY,
    status  TEXT        NOT NULL
            CHECK (status IN ('created', 'paid', 'progress', 'cancelled', 'dispatched', 'delivered')),
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL
);

-- Listings are "newest first", optionally filtered on cancelled.
CREATE INDEX orders_newest_first ON orders (created DESC, id DESC);

CREATE TABLE order_items (
    order_id UUID    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    product  TEXT    NOT NULL,
    size     TEXT    NOT NULL CHECK (size IN ('small', 'medium', 'big')),
    quantity BIGINT  NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    PRIMARY KEY (order_id, position)
);
