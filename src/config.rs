//! Configuration from the environment (and a `.env` file, loaded by `main`). Every
//! variable has a default that runs the service locally with no setup; a malformed
//! value stops start-up with one line naming the variable. `.env.example` lists them.

use data::{Backend, PoolSettings};
use std::env;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// The service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://orders.db` (default) or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// `DATA_BACKEND`: `sqlx` (default) or `diesel`.
    pub backend: Backend,
    /// `HOST`: address to listen on (default `127.0.0.1`).
    pub host: String,
    /// `PORT`: port to listen on (default 8000).
    pub port: u16,
    /// `WORKERS`: async worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `HI_DELAY_MS`: how long `/hi` waits (default 1000).
    pub hi_delay: Duration,
    /// `DB_POOL_MAX` (default 10) and `DB_POOL_TIMEOUT_MS` (default 5000).
    pub pool: PoolSettings,
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
        let defaults = PoolSettings::default();
        let pool = PoolSettings {
            max_connections: var("DB_POOL_MAX", defaults.max_connections)?,
            acquire_timeout: Duration::from_millis(var("DB_POOL_TIMEOUT_MS", 5000)?),
        };
        if pool.max_connections == 0 {
            return Err(ConfigError { name: "DB_POOL_MAX", value: "0".into(), reason: "must be at least 1".into() });
        }
        Ok(Self {
            database_url: var("DATABASE_URL", "sqlite://orders.db".to_owned())?,
            backend: var("DATA_BACKEND", Backend::Sqlx)?,
            host: var("HOST", "127.0.0.1".to_owned())?,
            port: var("PORT", 8000)?,
            workers: optional_var("WORKERS")?,
            hi_delay: Duration::from_millis(var("HI_DELAY_MS", 1000)?),
            pool,
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
