//! The HTTP server: the app on every worker, with the connection limits and the graceful
//! shutdown of [`ServerSettings`].

use crate::config::ServerSettings;
use actix_web::HttpServer;

/// Serves `state` until SIGTERM or SIGINT, then stops gracefully: the listener closes,
/// in-flight requests finish (up to `shutdown_timeout`), and the database pool closes.
pub async fn serve(state: web::AppState, settings: &ServerSettings) -> std::io::Result<()> {
    let orders = state.orders.clone();
    let mut server = HttpServer::new(move || web::app(state.clone()))
        .max_connections(settings.max_connections)
        .keep_alive(settings.keep_alive)
        .client_request_timeout(settings.client_timeout)
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    let result = server.bind((settings.host.as_str(), settings.port))?.run().await;
    orders.close().await;
    tracing::info!("stopped");
    result
}
