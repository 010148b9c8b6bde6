//! The Postgres scenarios on the stack alone (`bench/run.sh`): actix-web and sqlx running
//! the service's own statements (`app_data::sql`) for the same requests, written plainly —
//! a handler per route, a pool of connections, serde for the JSON — and nothing else: no
//! middleware, no layers, no validation beyond serde's, no owner but `OWNER`.
//!
//! pgbench says what Postgres does with no HTTP in front; this says what actix-web and
//! sqlx do with HTTP in front, on the same machine. The service's rate against this one is
//! what its own layers (request ids, spans, metrics, headers, auth, validation, the
//! repository) cost; against pgbench, what HTTP costs as well.
//!
//! `DATABASE_URL` (the run's database, holding the service's schema), `PORT` (default
//! 8097), `OWNER` (whose orders it reads and writes; default `anonymous`, the service's
//! owner without a token), `POOL` (default 32), `WORKERS` (default one per core).

use actix_web::{App, HttpResponse, HttpServer, error::ErrorInternalServerError, get, post, web};
use app_data::sql::{INSERT_ORDER_WITH_ITEMS, SELECT_ORDER, SELECT_PAGE};
use chrono::{DateTime, Utc};
use deadpool::managed::{self, Metrics, RecycleResult};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor, Postgres};
use std::fmt::Display;
use uuid::Uuid;

/// A pool that gives connections back as they are. sqlx's own pool pings each connection
/// on its way back, a second round trip per request, which the service does not pay either
/// (`data/src/pool.rs`).
struct Connections(PgConnectOptions);

impl managed::Manager for Connections {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        PgConnection::connect_with(&self.0).await
    }

    async fn recycle(&self, _: &mut PgConnection, _: &Metrics) -> RecycleResult<sqlx::Error> {
        Ok(())
    }
}

struct State {
    pool: managed::Pool<Connections>,
    owner: String,
}

#[derive(Serialize, Deserialize)]
struct Item {
    product: String,
    size: String,
    #[serde(default = "one")]
    quantity: i64,
}

fn one() -> i64 {
    1
}

#[derive(Deserialize)]
struct NewOrder {
    order: Vec<Item>,
}

#[derive(Serialize)]
struct Order {
    id: Uuid,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    status: String,
    order: Vec<Item>,
}

#[derive(Serialize)]
struct Page {
    orders: Vec<Order>,
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A row of `orders LEFT JOIN order_items`, by position.
type Row = (Uuid, String, DateTime<Utc>, DateTime<Utc>, Option<String>, Option<String>, Option<i64>);

/// Orders from rows sorted by order, then item.
fn orders(rows: Vec<Row>) -> Vec<Order> {
    let mut orders: Vec<Order> = Vec::new();
    for (id, status, created, updated, product, size, quantity) in rows {
        let item = match (product, size, quantity) {
            (Some(product), Some(size), Some(quantity)) => Some(Item { product, size, quantity }),
            _ => None,
        };
        match orders.last_mut() {
            Some(last) if last.id == id => last.order.extend(item),
            _ => orders.push(Order { id, created, updated, status, order: item.into_iter().collect() }),
        }
    }
    orders
}

fn internal(error: impl Display) -> actix_web::Error {
    eprintln!("bench-stack: {error}");
    ErrorInternalServerError("internal error")
}

/// The rows `query` returns, on a pooled connection.
async fn fetch<'q>(
    state: &State,
    query: sqlx::query::QueryAs<'q, Postgres, Row, sqlx::postgres::PgArguments>,
) -> actix_web::Result<Vec<Row>> {
    let mut connection = state.pool.get().await.map_err(internal)?;
    query.fetch_all(&mut *connection).await.map_err(internal)
}

#[get("/orders/{id}")]
async fn get_order(state: web::Data<State>, id: web::Path<Uuid>) -> actix_web::Result<HttpResponse> {
    let rows = fetch(&state, sqlx::query_as(SELECT_ORDER).bind(*id).bind(&state.owner)).await?;
    Ok(match orders(rows).pop() {
        Some(order) => HttpResponse::Ok().json(order),
        None => HttpResponse::NotFound().finish(),
    })
}

#[get("/orders")]
async fn list_orders(state: web::Data<State>, page: web::Query<PageQuery>) -> actix_web::Result<HttpResponse> {
    let query = sqlx::query_as(SELECT_PAGE)
        .bind(&state.owner)
        .bind(None::<bool>)
        .bind("cancelled")
        .bind(page.limit.unwrap_or(20))
        .bind(page.offset.unwrap_or(0));
    let rows = fetch(&state, query).await?;
    Ok(HttpResponse::Ok().json(Page { orders: orders(rows) }))
}

#[post("/orders")]
async fn place_order(state: web::Data<State>, new: web::Json<NewOrder>) -> actix_web::Result<HttpResponse> {
    let NewOrder { order: items } = new.into_inner();
    let (id, now) = (Uuid::new_v4(), Utc::now());
    let positions: Vec<i32> = (0..items.len() as i32).collect();
    let products: Vec<&str> = items.iter().map(|item| item.product.as_str()).collect();
    let sizes: Vec<&str> = items.iter().map(|item| item.size.as_str()).collect();
    let quantities: Vec<i64> = items.iter().map(|item| item.quantity).collect();
    let insert = sqlx::query(INSERT_ORDER_WITH_ITEMS)
        .bind(id)
        .bind("created")
        .bind(now)
        .bind(now)
        .bind(&state.owner)
        .bind(positions)
        .bind(products)
        .bind(sizes)
        .bind(quantities);
    let mut connection = state.pool.get().await.map_err(internal)?;
    connection.execute(insert).await.map_err(internal)?;
    drop(connection);
    let order = Order { id, created: now, updated: now, status: "created".into(), order: items };
    Ok(HttpResponse::Created().json(order))
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> std::io::Result<T> {
    match std::env::var(name) {
        Ok(value) => value.parse().map_err(|_| std::io::Error::other(format!("{name}: cannot read {value:?}"))),
        Err(_) => Ok(default),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").map_err(|_| std::io::Error::other("DATABASE_URL is not set"))?;
    let options: PgConnectOptions = url.parse().map_err(std::io::Error::other)?;
    let pool = managed::Pool::builder(Connections(options))
        .max_size(setting("POOL", 32)?)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(std::io::Error::other)?;
    let state = web::Data::new(State { pool, owner: setting("OWNER", "anonymous".to_owned())? });
    let mut server = HttpServer::new(move || {
        App::new().app_data(state.clone()).service(get_order).service(list_orders).service(place_order)
    });
    if let Some(workers) = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok()) {
        server = server.workers(workers);
    }
    server.bind(("127.0.0.1", setting("PORT", 8097)?))?.run().await
}
