//! The Orders API. Copy this file's pattern for a new resource: extract, call the
//! service, convert the result; errors convert through [`ApiError`].

use crate::auth::Caller;
use crate::conditional::{IfMatchHeader, IfNoneMatchHeader, etag};
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::responses::{BodyErrors, InvalidInput, OrderErrors, PreconditionErrors, StorageErrors, Unauthenticated};
use crate::schemas::{CreateOrderSchema, ErrorBody, GetOrderSchema, ListOrdersQuery, OrderListSchema};
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, post, put, web};
use app_service::{Order, OrderFilter, OrdersService, rules};
use uuid::Uuid;

/// `order` as the body of `response`, with its `ETag`.
fn order_response(mut response: HttpResponseBuilder, order: Order) -> HttpResponse {
    response.insert_header(header::ETag(etag(&order))).json(GetOrderSchema::from(order))
}

/// Where body problems are located: the items are the body's `order` list.
const ITEMS: &[&str] = &["body", "order"];
/// Where query problems are located.
const QUERY: &[&str] = &["query"];

/// `If-Match` as the document describes it, with its syntax (RFC 9110 §13.1.1): `*`, or
/// entity tags separated by commas; anything else is 400. (The document only: the header
/// is read by [`IfMatchHeader`](crate::conditional::IfMatchHeader).)
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "documents a header")]
struct IfMatch {
    /// The order's `ETag` as the client last saw it (or `*`: any existing order): the write
    /// applies only to that version, else 412.
    #[param(
        rename = "If-Match",
        nullable = false,
        pattern = r#"^\s*(\*|(W/)?"[\x21\x23-\x7E]*"(\s*,\s*(W/)?"[\x21\x23-\x7E]*")*)\s*$"#
    )]
    if_match: Option<String>,
}

/// `If-None-Match` as the document describes it, with the same syntax as [`IfMatch`].
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "documents a header")]
struct IfNoneMatch {
    /// An `ETag` of the order the client holds (or `*`): 304 if it is current.
    #[param(
        rename = "If-None-Match",
        pattern = r#"^\s*(\*|(W/)?"[\x21\x23-\x7E]*"(\s*,\s*(W/)?"[\x21\x23-\x7E]*")*)\s*$"#
    )]
    if_none_match: Option<String>,
}

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
    request_body = CreateOrderSchema,
    responses(
        (status = 201, description = "The order, placed", body = GetOrderSchema,
         headers(("Location" = String, description = "The order's URL"),
                 ("ETag" = String, description = "The order's entity tag, for `If-Match`"))),
        BodyErrors,
        InvalidInput,
        StorageErrors,
        Unauthenticated,
    )
)]
#[post("/orders")]
pub async fn create_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    body: JsonBody<CreateOrderSchema>,
) -> Result<HttpResponse, ApiError> {
    let order = orders.create(&caller.0, body.0.into()).await.map_err(ApiError::located(ITEMS))?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/orders/{}", order.id)));
    Ok(order_response(response, order))
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
        IfMatch),
    responses(
        (status = 200, description = "The order, paid", body = GetOrderSchema, headers(("ETag" = String, description = "The order's entity tag: changes whenever the order does; send it back in `If-Match`"))),
        (status = 409, description = "The order is not `created`", body = ErrorBody),
        OrderErrors,
        PreconditionErrors,
        Unauthenticated,
    )
)]
#[post("/orders/{order_id}/pay")]
pub async fn pay_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let order = orders.pay(&caller.0, *id, &if_match.precondition(*id)).await?;
    Ok(order_response(HttpResponse::Ok(), order))
}

/// Cancels an order that is `created`, `paid` or in `progress`.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id"),
        IfMatch),
    responses(
        (status = 200, description = "The order, cancelled", body = GetOrderSchema, headers(("ETag" = String, description = "The order's entity tag: changes whenever the order does; send it back in `If-Match`"))),
        (status = 409, description = "The order can no longer be cancelled", body = ErrorBody),
        OrderErrors,
        PreconditionErrors,
        Unauthenticated,
    )
)]
#[post("/orders/{order_id}/cancel")]
pub async fn cancel_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let order = orders.cancel(&caller.0, *id, &if_match.precondition(*id)).await?;
    Ok(order_response(HttpResponse::Ok(), order))
}
