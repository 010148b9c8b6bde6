-- GET /orders?limit=20: the service's SELECT_PAGE (data/src/sql.rs), its values bound as
-- parameters, except "no filter on cancelled", which the service binds as NULL and pgbench
-- cannot: it is written in.
SELECT o.id, o.status, o.created, o.updated, i.product, i.size, i.quantity
FROM (SELECT id, status, created, updated FROM orders
      WHERE owner = :owner AND (NULL::bool IS NULL OR (status = :cancelled) = NULL::bool)
      ORDER BY created DESC, id DESC LIMIT :page_limit OFFSET :page_offset) o
LEFT JOIN order_items i ON i.order_id = o.id
ORDER BY o.created DESC, o.id DESC, i.position;
