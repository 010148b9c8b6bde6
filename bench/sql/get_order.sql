-- GET /orders/{id}: the service's SELECT_ORDER (data/src/sql.rs), its values bound as
-- parameters as the service binds them (pgbench -M prepared sends each :variable as a $n).
SELECT o.id, o.status, o.created, o.updated, i.product, i.size, i.quantity
FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
WHERE o.id = :order_id AND o.owner = :owner ORDER BY i.position;
