-- POST /orders with two items: the order and its items in one statement, the least a
-- write can cost on Postgres (one round trip).
WITH o AS (
  INSERT INTO orders (id, status, created, updated, owner)
  VALUES (gen_random_uuid(), 'created', now(), now(), 'anonymous') RETURNING id
)
INSERT INTO order_items (order_id, position, product, size, quantity)
SELECT o.id, i.position, i.product, i.size, i.quantity
FROM o, (VALUES (0, 'latte', 'big', 2), (1, 'tea', 'small', 1)) AS i (position, product, size, quantity);
