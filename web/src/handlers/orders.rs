//! The Orders API. Copy this file's pattern for a new resource: extract, call the
//! service, convert the result; errors convert through [`ApiError`].

use crate::auth::Caller;
use crate::conditional::{IfMatchHeader, IfNoneMatchHeader, etag};
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::headers::{IdempotencyKey, IfMatch, IfNoneMatch};
use crate::idempotency::{IdempotencyKeyHeader, keyed, stored_json};
use crate::responses::{BodyErrors, InvalidInput, OrderErrors, PreconditionErrors, StorageErrors, Unauthenticated};
use crate::schemas::{CreateOrderSchema, ErrorBody, GetOrderSchema, ListOrdersQuery, OrderListSchema};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, delete, get, post, put, web};
use app_service::{Idempotency, Order, OrderFilter, OrdersService, StoredResponse, rules};
use uuid::Uuid;

/// `order` as the body of `response`, with its `ETag`.
fn order_response(mut response: HttpResponseBuilder, order: Order) -> HttpResponse {
    response.insert_header(header::ETag(etag(&order))).json(GetOrderSchema::from(order))
}

/// A new order's response: 201, its `Location`, then as [`order_response`].
fn placed(order: Order) -> HttpResponse {
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, location(&order)));
    order_response(response, order)
}

fn location(order: &Order) -> String {
    format!("/orders/{}", order.id)
}

/// [`placed`] as stored for a keyed request, to be replayed.
fn stored_placed(order: &Order) -> StoredResponse {
    StoredResponse { status: 201, location: Some(location(order)), ..stored_current(order) }
}

/// `order_response(HttpResponse::Ok(), order)` as stored for a keyed request.
fn stored_current(order: &Order) -> StoredResponse {
    stored_json(StatusCode::OK, &GetOrderSchema::from(order.clone()), None, Some(&etag(order)))
}

/// Where body problems are located: the items are the body's `order` list.
const ITEMS: &[&str] = &["body", "order"];
/// Where query problems are located.
const QUERY: &[&str] = &["query"];

/// Lists orders, newest first.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(ListOrdersQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderListSchema),
        InvalidInput,
        StorageErrors,
        Unauthenticated,
    )
)]
#[get("/orders")]
pub async fn list_orders(
    orders: web::Data<OrdersService>,
    caller: Caller,
    query: QueryParams<ListOrdersQuery>,
) -> Result<web::Json<OrderListSchema>, ApiError> {
    let query = query.0;
    let filter = OrderFilter {
        cancelled: query.cancelled,
        limit: query.limit.unwrap_or(rules::DEFAULT_LIMIT),
        offset: query.offset.unwrap_or(0),
    };
    let page = orders.list(&caller.0, filter).await.map_err(ApiError::located(QUERY))?;
    Ok(web::Json(OrderListSchema { orders: page.into_iter().map(Into::into).collect() }))
}

/// Places an order.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(IdempotencyKey),
    request_body = CreateOrderSchema,
    responses(
        (status = 201, description = "The order, placed (or, for a repeated `Idempotency-Key`, the first response again)", body = GetOrderSchema,
         headers(("Location" = String, description = "The order's URL"),
                 ("ETag" = String, description = "The order's entity tag, for `If-Match`"),
                 ("Idempotent-Replayed" = String, description = "`true` when this is a stored response replayed for a repeated `Idempotency-Key`"))),
        (status = 409, description = "The first request with this `Idempotency-Key` is still in progress", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
        BodyErrors,
        InvalidInput,
        StorageErrors,
        Unauthenticated,
    )
)]
#[post("/orders")]
pub async fn create_order(
    orders: web::Data<OrdersService>,
    keys: web::Data<Idempotency>,
    caller: Caller,
    key: IdempotencyKeyHeader,
    request: HttpRequest,
    body: JsonBody<CreateOrderSchema>,
) -> Result<HttpResponse, ApiError> {
    let (owner, request) = (&caller.0, key.with_body(&request, &body.0));
    let create = |key: Option<_>| async move {
        orders.create(owner, body.0.into(), key.as_ref()).await.map_err(ApiError::located(ITEMS))
    };
    let answer = keyed(&keys, owner, request, stored_placed, create).await?;
    Ok(answer.respond(placed))
}

/// Returns one order.
///
/// With `If-None-Match` naming its current `ETag`: 304, and no body.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(
        ("order_id" = Uuid, Path, description = "The order's id"),
        IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The order", body = GetOrderSchema, headers(("ETag" = String, description = "The order's entity tag: changes whenever the order does; send it back in `If-Match`"))),
        (status = 304, description = "The client's copy is current; no body", headers(("ETag" = String, description = "The order's entity tag: changes whenever the order does; send it back in `If-Match`"))),
        (status = 400, description = "`If-None-Match` is malformed", body = ErrorBody),
        OrderErrors,
        Unauthenticated,
    )
)]
#[get("/orders/{order_id}")]
pub async fn get_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_none_match: IfNoneMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let order = orders.get(&caller.0, *id).await?;
    let tag = etag(&order);
    if if_none_match.matches(&tag) {
        return Ok(HttpResponse::NotModified().insert_header(header::ETag(tag)).finish());
    }
    Ok(order_response(HttpResponse::Ok(), order))
}

/// Replaces the items of an order that is still `created`.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id"),
        IfMatch),
    request_body = CreateOrderSchema,
    responses(
        (status = 200, description = "The order, updated", body = GetOrderSchema, headers(("ETag" = String, description = "The order's entity tag: changes whenever the order does; send it back in `If-Match`"))),
        (status = 409, description = "The order is no longer `created`", body = ErrorBody),
        BodyErrors,
        OrderErrors,
        PreconditionErrors,
        Unauthenticated,
    )
)]
#[put("/orders/{order_id}")]
pub async fn update_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatchHeader,
    body: JsonBody<CreateOrderSchema>,
) -> Result<HttpResponse, ApiError> {
    let precondition = if_match.precondition(*id);
    let order =
        orders.replace_items(&caller.0, *id, body.0.into(), &precondition).await.map_err(ApiError::located(ITEMS))?;
    Ok(order_response(HttpResponse::Ok(), order))
}

/// Deletes an order.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id"),
        IfMatch),
    responses(
        (status = 204, description = "Deleted; no body"),
        OrderErrors,
        PreconditionErrors,
        Unauthenticated,
    )
)]
#[delete("/orders/{order_id}")]
pub async fn delete_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    orders.delete(&caller.0, *id, &if_match.precondition(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Pays an order: `created` becomes `paid`.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id"),
        IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "The order, paid (or, for a repeated `Idempotency-Key`, the first response again)", body = GetOrderSchema, headers(("ETag" = String, description = "The order's entity tag: changes whenever the order does; send it back in `If-Match`"), ("Idempotent-Replayed" = String, description = "`true` when this is a stored response replayed for a repeated `Idempotency-Key`"))),
        (status = 409, description = "The order is not `created`, or the first request with this `Idempotency-Key` is still in progress (with `Retry-After`)", body = ErrorBody),
        OrderErrors,
        PreconditionErrors,
        Unauthenticated,
    )
)]
#[post("/orders/{order_id}/pay")]
pub async fn pay_order(
    orders: web::Data<OrdersService>,
    keys: web::Data<Idempotency>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatchHeader,
    key: IdempotencyKeyHeader,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (owner, request, precondition) = (&caller.0, key.with_request(&request), if_match.precondition(*id));
    let pay = |key: Option<_>| async move { Ok(orders.pay(owner, *id, &precondition, key.as_ref()).await?) };
    let answer = keyed(&keys, owner, request, stored_current, pay).await?;
    Ok(answer.respond(|order| order_response(HttpResponse::Ok(), order)))
}

/// Cancels an order that is `created`, `paid` or in `progress`.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id"),
        IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "The order, cancelled (or, for a repeated `Idempotency-Key`, the first response again)", body = GetOrderSchema, headers(("ETag" = String, description = "The order's entity tag: changes whenever the order does; send it back in `If-Match`"), ("Idempotent-Replayed" = String, description = "`true` when this is a stored response replayed for a repeated `Idempotency-Key`"))),
        (status = 409, description = "The order can no longer be cancelled, or the first request with this `Idempotency-Key` is still in progress (with `Retry-After`)", body = ErrorBody),
        OrderErrors,
        PreconditionErrors,
        Unauthenticated,
    )
)]
#[post("/orders/{order_id}/cancel")]
pub async fn cancel_order(
    orders: web::Data<OrdersService>,
    keys: web::Data<Idempotency>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatchHeader,
    key: IdempotencyKeyHeader,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (owner, request, precondition) = (&caller.0, key.with_request(&request), if_match.precondition(*id));
    let cancel = |key: Option<_>| async move { Ok(orders.cancel(owner, *id, &precondition, key.as_ref()).await?) };
    let answer = keyed(&keys, owner, request, stored_current, cancel).await?;
    Ok(answer.respond(|order| order_response(HttpResponse::Ok(), order)))
}
