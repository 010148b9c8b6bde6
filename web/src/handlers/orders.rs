//! The Orders API. Copy this file's pattern for a new resource: extract, call the
//! service, convert the result; errors convert through [`ApiError`].

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::responses::{BodyErrors, InvalidInput, OrderErrors, StorageErrors, Unauthenticated};
use crate::schemas::{CreateOrderSchema, ErrorBody, GetOrderSchema, ListOrdersQuery, OrderListSchema};
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use app_service::{OrderFilter, OrdersService, rules};
use uuid::Uuid;

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
    request_body = CreateOrderSchema,
    responses(
        (status = 201, description = "The order, placed", body = GetOrderSchema,
         headers(("Location" = String, description = "The order's URL"))),
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
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/orders/{}", order.id)))
        .json(GetOrderSchema::from(order)))
}

/// Returns one order.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = GetOrderSchema),
        OrderErrors,
        Unauthenticated,
    )
)]
#[get("/orders/{order_id}")]
pub async fn get_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<GetOrderSchema>, ApiError> {
    let order = orders.get(&caller.0, *id).await?;
    Ok(web::Json(order.into()))
}

/// Replaces the items of an order that is still `created`.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id")),
    request_body = CreateOrderSchema,
    responses(
        (status = 200, description = "The order, updated", body = GetOrderSchema),
        (status = 409, description = "The order is no longer `created`", body = ErrorBody),
        BodyErrors,
        OrderErrors,
        Unauthenticated,
    )
)]
#[put("/orders/{order_id}")]
pub async fn update_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CreateOrderSchema>,
) -> Result<web::Json<GetOrderSchema>, ApiError> {
    let order = orders.replace_items(&caller.0, *id, body.0.into()).await.map_err(ApiError::located(ITEMS))?;
    Ok(web::Json(order.into()))
}

/// Deletes an order.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 204, description = "Deleted; no body"),
        OrderErrors,
        Unauthenticated,
    )
)]
#[delete("/orders/{order_id}")]
pub async fn delete_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    orders.delete(&caller.0, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Pays an order: `created` becomes `paid`.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order, paid", body = GetOrderSchema),
        (status = 409, description = "The order is not `created`", body = ErrorBody),
        OrderErrors,
        Unauthenticated,
    )
)]
#[post("/orders/{order_id}/pay")]
pub async fn pay_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<GetOrderSchema>, ApiError> {
    let order = orders.pay(&caller.0, *id).await?;
    Ok(web::Json(order.into()))
}

/// Cancels an order that is `created`, `paid` or in `progress`.
#[utoipa::path(
    tag = "orders",
    security(("bearerAuth" = [])),
    params(("order_id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order, cancelled", body = GetOrderSchema),
        (status = 409, description = "The order can no longer be cancelled", body = ErrorBody),
        OrderErrors,
        Unauthenticated,
    )
)]
#[post("/orders/{order_id}/cancel")]
pub async fn cancel_order(
    orders: web::Data<OrdersService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<GetOrderSchema>, ApiError> {
    let order = orders.cancel(&caller.0, *id).await?;
    Ok(web::Json(order.into()))
}
