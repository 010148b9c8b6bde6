//! # The binary that wires the layers together
//!
//! Only this crate knows all three layers: it reads the [`config`], opens the
//! [`Database`] it names, makes the repositories and hands them to the services, hands the
//! services to the web app, and serves it ([`server`]). [`logging`] hands the log lines
//! to a thread of their own, which writes them to stdout; [`otel`] exports traces when the
//! OpenTelemetry variables name a collector. `main.rs` holds the command
//! line; this library (always named `app`, whatever the package is called) is what the
//! tests in `tests/` build their apps from, so they run the same wiring.

pub mod config;
pub mod dev_token;
pub mod logging;
pub mod otel;
pub mod server;

use app_data::{ConnectError, Database, migrate};
use app_service::OrdersService;
use app_web::{AppState, Services};
use config::Config;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] ConnectError),
    /// Migrations were asked for through a transaction pooler.
    #[error("DB_POOLER=transaction: migrations need a direct connection to Postgres; set DATABASE_MIGRATION_URL")]
    MigrationNeedsDirectUrl,
    /// The metrics could not be registered.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The database of `config`, pool open, migrations applied where they should be (see
/// [`Config::migration_url`]).
///
/// A Postgres that is not up yet is retried with backoff for `config.startup_timeout`;
/// then the last error is returned.
pub async fn connect(config: &Config) -> Result<Database, StartError> {
    let database = Database::open(&config.database_url, config.backend, &config.pool)?;
    let direct = config.pool.direct();
    match config.migration_url() {
        Some(url) => with_retries(config, || migrate::run(url, &direct)).await?,
        None => tracing::info!(
            "DB_POOLER=transaction and no DATABASE_MIGRATION_URL: not migrating through the pooler; \
             apply migrations with the `migrate` command as a release step"
        ),
    }
    Ok(database)
}

/// Applies the migrations of `config` and nothing else: the `migrate` command. Refuses
/// to migrate through a transaction pooler, which cannot hold the migrator's session.
pub async fn migrate(config: &Config) -> Result<(), StartError> {
    let Some(url) = config.migration_url() else { return Err(StartError::MigrationNeedsDirectUrl) };
    let direct = config.pool.direct();
    with_retries(config, || migrate::run(url, &direct)).await
}

/// Runs `attempt` until it succeeds, fails for good, or `config.startup_timeout` is up.
async fn with_retries<F, Fut>(config: &Config, attempt: F) -> Result<(), StartError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), ConnectError>>,
{
    let deadline = Instant::now() + config.startup_timeout;
    let mut backoff = Duration::from_millis(100);
    loop {
        match attempt().await {
            Ok(()) => return Ok(()),
            Err(error) if error.is_transient() && Instant::now() + backoff < deadline => {
                tracing::warn!(%error, retry_in = ?backoff, "database not ready");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Everything the web app needs, on `database`: one service per resource, each over its
/// repository. A new resource adds its service here.
pub fn app_state(database: &Database, config: &Config) -> Result<AppState, StartError> {
    let services = Services {
        orders: OrdersService::new(database.orders()),
        // xtask scaffold: services
    };
    let keys = database.idempotency_keys();
    Ok(AppState::new(services, keys, Arc::new(database.clone()), config.http.clone())?)
}

/// Deletes expired `Idempotency-Key` records in the background, a batch at a time, so
/// that no request pays for the sweep; runs until the process exits.
pub fn purge_expired_keys(keys: app_service::Idempotency) {
    const EVERY: Duration = Duration::from_secs(60);
    const BATCH: i64 = 1000;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        loop {
            ticks.tick().await;
            // Batch after batch while batches come back full; an error waits for the next tick.
            loop {
                match keys.purge_expired(BATCH).await {
                    Ok(deleted) if deleted == BATCH as u64 => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "expired idempotency keys not purged");
                        break;
                    }
                }
            }
        }
    });
}

/// `url` with any password replaced by `***`, for logs and error messages.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_password;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(mask_password("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_password("sqlite://orders.db"), "sqlite://orders.db");
    }
}
