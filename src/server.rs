//! The HTTP server: the app on every worker, with the connection limits and the graceful
//! shutdown of [`ServerSettings`].

use crate::config::ServerSettings;
use actix_web::HttpServer;
use app_data::Database;

/// Serves `state` until SIGTERM or SIGINT, then stops gracefully: the listener closes,
/// in-flight requests finish (up to `shutdown_timeout`), and `database`'s pool closes.
pub async fn serve(state: app_web::AppState, database: Database, settings: &ServerSettings) -> std::io::Result<()> {
    let mut server = HttpServer::new(move || app_web::app(state.clone()))
        .max_connections(settings.max_connections)
        .keep_alive(settings.keep_alive)
        .client_request_timeout(settings.client_timeout)
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    let server = server.bind((settings.host.as_str(), settings.port))?;
    for address in server.addrs() {
        // With PORT=0 the system picks the port; this line says which.
        tracing::info!("listening on http://{address}");
    }
    let result = server.run().await;
    database.close().await;
    tracing::info!("stopped");
    result
}
