//! Configuration from the environment (and a `.env` file, loaded by `main`). Every
//! variable has a default that runs the service locally with no setup; a malformed
//! value stops start-up with one line naming the variable. `.env.example` lists them.

use data::{Backend, PoolSettings};
use std::env;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;
use web::HttpSettings;

/// The service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://orders.db` (default) or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// `DATA_BACKEND`: `sqlx` (default) or `diesel`.
    pub backend: Backend,
    /// `DB_POOL_MAX` (default 10), `DB_POOL_TIMEOUT_MS` (default 5000) and
    /// `DB_STATEMENT_TIMEOUT_MS` (default 30000, Postgres only).
    pub pool: PoolSettings,
    /// `DB_STARTUP_TIMEOUT_S`: how long start-up waits for the database (default 30).
    pub startup_timeout: Duration,
    /// `BODY_LIMIT_BYTES`, `CORS_ORIGINS`, `HI_DELAY_MS`.
    pub http: HttpSettings,
    /// Listening address, connection limits and shutdown.
    pub server: ServerSettings,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
}

/// How the HTTP server listens and stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// `HOST`: address to listen on (default `127.0.0.1`).
    pub host: String,
    /// `PORT`: port to listen on (default 8000).
    pub port: u16,
    /// `WORKERS`: async worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `MAX_CONNECTIONS`: open connections per worker before new ones wait (default 10000).
    pub max_connections: usize,
    /// `KEEP_ALIVE_S`: how long an idle connection stays open (default 5).
    pub keep_alive: Duration,
    /// `CLIENT_TIMEOUT_MS`: how long a client may take to send a request's head (default 5000).
    pub client_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_S`: how long in-flight requests may finish after SIGTERM (default 30).
    pub shutdown_timeout: Duration,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(format!("expected `text` or `json`, got `{s}`")),
        }
    }
}

/// A variable whose value cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}={value:?}: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = HttpSettings::default();
        Ok(Self {
            database_url: var("DATABASE_URL", "sqlite://orders.db".to_owned())?,
            backend: var("DATA_BACKEND", Backend::Sqlx)?,
            pool: PoolSettings {
                max_connections: at_least_one("DB_POOL_MAX", var("DB_POOL_MAX", 10)?)?,
                acquire_timeout: Duration::from_millis(var("DB_POOL_TIMEOUT_MS", 5000)?),
                statement_timeout: Duration::from_millis(var("DB_STATEMENT_TIMEOUT_MS", 30_000)?),
            },
            startup_timeout: Duration::from_secs(var("DB_STARTUP_TIMEOUT_S", 30)?),
            http: HttpSettings {
                body_limit: at_least_one("BODY_LIMIT_BYTES", var("BODY_LIMIT_BYTES", defaults.body_limit)?)?,
                cors_origins: var::<String>("CORS_ORIGINS", String::new())?
                    .split(',')
                    .map(str::trim)
                    .filter(|origin| !origin.is_empty())
                    .map(str::to_owned)
                    .collect(),
                hi_delay: Duration::from_millis(var("HI_DELAY_MS", 1000)?),
            },
            server: ServerSettings {
                host: var("HOST", "127.0.0.1".to_owned())?,
                port: var("PORT", 8000)?,
                workers: optional_var("WORKERS")?.map(|n| at_least_one("WORKERS", n)).transpose()?,
                max_connections: at_least_one("MAX_CONNECTIONS", var("MAX_CONNECTIONS", 10_000)?)?,
                keep_alive: Duration::from_secs(var("KEEP_ALIVE_S", 5)?),
                client_timeout: Duration::from_millis(var("CLIENT_TIMEOUT_MS", 5000)?),
                shutdown_timeout: Duration::from_secs(var("SHUTDOWN_TIMEOUT_S", 30)?),
            },
            log_format: var("LOG_FORMAT", LogFormat::Text)?,
        })
    }
}

/// Variable `name` parsed as `T`, or `default` when unset or empty.
fn var<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: Display,
{
    Ok(optional_var(name)?.unwrap_or(default))
}

fn optional_var<T: FromStr>(name: &'static str) -> Result<Option<T>, ConfigError>
where
    T::Err: Display,
{
    match env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => {
            value.trim().parse().map(Some).map_err(|e: T::Err| ConfigError { name, value, reason: e.to_string() })
        }
        Err(env::VarError::NotPresent) => Ok(None),
        Err(env::VarError::NotUnicode(_)) => {
            Err(ConfigError { name, value: "<not unicode>".into(), reason: "not valid UTF-8".into() })
        }
    }
}

fn at_least_one<T: PartialOrd + From<u8> + Display>(name: &'static str, value: T) -> Result<T, ConfigError> {
    if value >= T::from(1) {
        Ok(value)
    } else {
        Err(ConfigError { name, value: value.to_string(), reason: "must be at least 1".into() })
    }
}
