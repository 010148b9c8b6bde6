-- POST /orders with two items: the service's INSERT_ORDER_WITH_ITEMS (data/src/sql.rs), the
-- order and its items in one statement (one round trip), its values bound as parameters as
-- the service binds them, the items as one array per column; the new id and the times come
-- from the server (the service makes them itself).
WITH o AS (
  INSERT INTO orders (id, status, created, updated, owner)
  VALUES (gen_random_uuid(), :status, now(), now(), :owner) RETURNING id
)
INSERT INTO order_items (order_id, position, product, size, quantity)
SELECT o.id, i.* FROM o, UNNEST(:positions::int4[], :products::text[], :sizes::text[], :quantities::int8[]) AS i;
