-- Each order belongs to the subject (`sub`) of the token that placed it. Orders placed
-- before ownership existed belong to the owner the service uses when it runs without
-- authentication ('anonymous'). Listings are per owner, newest first.
ALTER TABLE orders ADD COLUMN owner TEXT NOT NULL DEFAULT 'anonymous';
ALTER TABLE orders ALTER COLUMN owner DROP DEFAULT;

DROP INDEX orders_newest_first;
CREATE INDEX orders_owner_newest_first ON orders (owner, created DESC, id DESC);
