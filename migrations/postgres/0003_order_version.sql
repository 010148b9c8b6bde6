-- Each order counts its states: 1 when placed (the default, which inserts rely on; the
-- service's model::FIRST_VERSION), one more on every write. Conditional requests
-- (If-Match) name the version they expect, and HTTP shows it in the order's ETag.
ALTER TABLE orders ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1);
