-- The SQLite twin of migrations/postgres/0003: each order counts its states, 1 when
-- placed (the default, which inserts rely on), one more on every write.
ALTER TABLE orders ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
