//! The `orders-api` command: serve the API (default), apply migrations, or print the
//! OpenAPI document. Configuration comes from the environment and `.env`.

use actix_web::HttpServer;
use clap::{Parser, Subcommand};
use orders_api::config::Config;
use orders_api::{build_state, mask_password};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(version, about = "The CoffeeMesh Orders API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then serve the API (the default).
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Print the OpenAPI document as JSON and exit.
    Openapi,
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // A missing .env is normal; the defaults and the real environment still apply.
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    match run(cli.command.unwrap_or(Command::Serve)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    if let Command::Openapi = command {
        let api = web::docs::Api::new();
        let json = api.doc.to_pretty_json().map_err(|e| e.to_string())?;
        println!("{json}");
        return Ok(());
    }
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let url = mask_password(&config.database_url);
    let state = build_state(&config).await.map_err(|e| format!("{url}: {e}"))?;
    if let Command::Migrate = command {
        tracing::info!(database = %url, "migrations applied");
        return Ok(());
    }
    tracing::info!(database = %url, backend = %config.backend, "listening on http://{}:{}/docs", config.host, config.port);
    let mut server = HttpServer::new(move || web::app(state.clone()));
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    server
        .bind((config.host.as_str(), config.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?
        .run()
        .await
        .map_err(|e| e.to_string())
}
