-- The SQLite twin of migrations/postgres/0002: each order belongs to the subject (`sub`)
-- of the token that placed it; older orders belong to 'anonymous'. (SQLite cannot drop a
-- column default; every insert names the owner anyway.)
ALTER TABLE orders ADD COLUMN owner TEXT NOT NULL DEFAULT 'anonymous';

DROP INDEX orders_newest_first;
CREATE INDEX orders_owner_newest_first ON orders (owner, created DESC, id DESC);
