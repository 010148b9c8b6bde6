-- POST /orders with two items: the service's INSERT_ORDER_WITH_ITEMS (data/src/sql.rs), the
-- order and its items in one statement (one round trip), with the values the service binds
-- written in: a new id and the time from the server, the items as one array per column.
WITH o AS (
  INSERT INTO orders (id, status, created, updated, owner)
  VALUES (gen_random_uuid(), 'created', now(), now(), 'anonymous') RETURNING id
)
INSERT INTO order_items (order_id, position, product, size, quantity)
SELECT o.id, i.* FROM o, UNNEST('{0,1}'::int4[], '{latte,tea}'::text[], '{big,small}'::text[], '{2,1}'::int8[]) AS i;
