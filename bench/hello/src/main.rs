//! The limit the service's `GET /hi` is measured against (`bench/run.sh`): actix-web with
//! the same workers and the same JSON answer, and nothing else — no middleware, no
//! state, no logging. `PORT` (default 8098) and `WORKERS` (default: one per core).

use actix_web::{App, HttpServer, get, web};

#[get("/hi")]
async fn hi() -> web::Json<&'static str> {
    web::Json("Hello? World?")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8098);
    let mut server = HttpServer::new(|| App::new().service(hi));
    if let Some(workers) = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok()) {
        server = server.workers(workers);
    }
    server.bind(("127.0.0.1", port))?.run().await
}
