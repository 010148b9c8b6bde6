//! The service's command: serve the API (default), apply migrations, print the OpenAPI
//! document, or write the API docs as a static site. Configuration comes from the
//! environment and `.env`.

use app::config::Config;
use app::{app_state, connect, mask_password, server};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

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
    /// Write the API docs as a static site (Swagger UI, Redoc, openapi.json) and exit.
    Docs {
        /// The directory to write into; created if missing.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Print shell lines that set up a local signing key and a token for `--sub`
    /// (development only: accepted only while the service listens on loopback).
    DevToken {
        /// The token's subject: the owner of the orders made with it.
        #[arg(long, default_value = "alice")]
        sub: String,
        /// How long the token is valid, in minutes.
        #[arg(long, default_value_t = 60)]
        minutes: u64,
    },
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // A missing .env is normal; the defaults and the real environment still apply.
    let _ = dotenvy::dotenv();
    match run(cli.command.unwrap_or(Command::Serve)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::Openapi => {
            let json = documented_api()?.doc.to_pretty_json().map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(())
        }
        Command::Docs { out } => write_docs(out).await,
        Command::DevToken { sub, minutes } => {
            // Key files are blocking I/O: done on the threadpool, not on this async thread.
            let lines = tokio::task::spawn_blocking(move || app::dev_token::export_lines(&sub, minutes))
                .await
                .map_err(|e| e.to_string())??;
            print!("{lines}");
            Ok(())
        }
    }
}

/// The API as the environment configures it, for `openapi` and `docs`: their document
/// asks for a bearer token only where `serve` would (`AUTH_*` set).
fn documented_api() -> Result<app_web::docs::Api, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    Ok(app_web::docs::Api::new(&config.http.auth))
}

async fn write_docs(out: PathBuf) -> Result<(), String> {
    let api = documented_api()?;
    // Writing files is blocking I/O: done on the threadpool, not on this async thread.
    let written = tokio::task::spawn_blocking(move || {
        let files =
            app_web::site::write(&api, &out).map_err(|e| format!("cannot write the docs to {}: {e}", out.display()))?;
        Ok::<_, String>(files.into_iter().map(|file| out.join(file).display().to_string()).collect::<Vec<_>>())
    })
    .await
    .map_err(|e| e.to_string())??;
    for file in written {
        println!("{file}");
    }
    Ok(())
}

async fn migrate() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let _flush_logs_on_exit = app::logging::init(config.log_format, None);
    let url = mask_password(&config.database_url);
    app::migrate(&config).await.map_err(|e| format!("database {url}: {e}"))?;
    tracing::info!(database = %url, "migrations applied");
    Ok(())
}

async fn serve() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let traces = app::otel::Export::from_env()?;
    let _flush_logs_on_exit = app::logging::init(config.log_format, traces.as_ref());
    if traces.is_some() {
        app_web::trace_context::enable();
        tracing::info!("exporting traces over OTLP/HTTP (OTEL_EXPORTER_OTLP_*)");
    }
    let url = mask_password(&config.database_url);
    let database = connect(&config).await.map_err(|e| format!("database {url}: {e}"))?;
    if config.pool.pooler == app_data::Pooler::Transaction {
        tracing::info!(
            "DB_POOLER=transaction: statements are not prepared by name, and the statement timeout is \
             the database role's setting (ALTER ROLE … SET statement_timeout), not DB_STATEMENT_TIMEOUT_MS"
        );
    }
    let state = app_state(&database, &config).map_err(|e| e.to_string())?;
    app::purge_expired_keys(state.keys.clone());
    if !state.auth.is_required() {
        tracing::warn!(
            "authentication is off: every caller may read and change every order; set AUTH_JWKS_URL, AUTH_ISSUER and \
             AUTH_AUDIENCE to require tokens"
        );
    }
    if let app_web::auth::AuthSettings::Provider(provider) = &config.http.auth
        && provider.issuer == app::dev_token::DEV_ISSUER
    {
        tracing::warn!("accepting development tokens (dev-token): for this machine only, never for deployment");
    }
    if let Some(traces) = &traces {
        state.metrics.register(Box::new(traces.dropped())).map_err(|e| e.to_string())?;
    }
    let listen = &config.server;
    let service = env!("CARGO_PKG_NAME");
    tracing::info!(service, database = %url, backend = %config.backend, "serving http://{}:{}/docs", listen.host, listen.port);
    let stop = traces.as_ref().map(|_| stop_requested());
    let served = server::serve(state, database, listen).await;
    // Spans still queued are sent once the requests are done, within what is left of the
    // grace period (SHUTDOWN_TIMEOUT_S, counted from the signal); a collector that takes
    // longer loses them, and the exit is 0 all the same.
    if let (Some(traces), Some(stop)) = (traces, stop) {
        let grace = listen.shutdown_timeout;
        traces.shutdown(stop.get().map_or(grace, |at| grace.saturating_sub(at.elapsed()))).await;
    }
    served.map_err(|e| format!("cannot serve on {}:{}: {e}", listen.host, listen.port))
}

/// When the service is asked to stop (SIGTERM or SIGINT; the server hears them too), once
/// it has been.
fn stop_requested() -> Arc<OnceLock<Instant>> {
    let at = Arc::new(OnceLock::new());
    let set = Arc::clone(&at);
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // A signal that cannot be listened for never comes (the server would not hear it either).
        let heard = |kind: SignalKind| async move {
            match signal(kind) {
                Ok(mut signals) => signals.recv().await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = heard(SignalKind::terminate()) => {}
            _ = heard(SignalKind::interrupt()) => {}
        }
        let _ = set.set(Instant::now());
    });
    at
}
