-- GET /orders?limit=20: the service's SELECT_PAGE (data/src/sql.rs).
SELECT o.id, o.status, o.created, o.updated, i.product, i.size, i.quantity
FROM (SELECT id, status, created, updated FROM orders
      WHERE owner = 'anonymous' AND (NULL::bool IS NULL OR (status = 'cancelled') = NULL::bool)
      ORDER BY created DESC, id DESC LIMIT 20 OFFSET 0) o
LEFT JOIN order_items i ON i.order_id = o.id
ORDER BY o.created DESC, o.id DESC, i.position;
