//! Configuration from the environment (and a `.env` file, loaded by `main`). Every
//! variable has a default that runs the service locally with no setup — the `Default`
//! impls here and in the layers are the one source of each; `.env.example` repeats them
//! for people, and a test keeps it in step. A malformed value stops start-up with one
//! line naming the variable.

use app_data::{Backend, PoolSettings, Pooler};
use app_web::HttpSettings;
use app_web::auth::{AuthSettings, ProviderSettings};
use std::env::VarError;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;
use strum::{EnumString, VariantNames};

/// Where the service keeps its data when `DATABASE_URL` is not set: a SQLite file named
/// after the service (the package), next to where it runs, or, in a build without SQLite,
/// a local Postgres database.
#[cfg(feature = "sqlite")]
pub const DEFAULT_DATABASE_URL: &str = concat!("sqlite://", env!("CARGO_PKG_NAME"), ".db");
/// Where the service keeps its data when `DATABASE_URL` is not set: a local Postgres.
#[cfg(not(feature = "sqlite"))]
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/orders";

/// The service's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://path` or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// `DATABASE_MIGRATION_URL`: a direct connection for migrations, when `DATABASE_URL`
    /// goes through a pooler.
    pub database_migration_url: Option<String>,
    /// `DATA_BACKEND`: `sqlx` or `diesel`, as far as they are compiled in.
    pub backend: Backend,
    /// `DB_POOL_MAX`, `DB_POOL_TIMEOUT_MS`, `DB_STATEMENT_TIMEOUT_MS` (Postgres only) and
    /// `DB_POOLER` (`none` or `transaction`).
    pub pool: PoolSettings,
    /// `DB_STARTUP_TIMEOUT_S`: how long start-up waits for the database.
    pub startup_timeout: Duration,
    /// `BODY_LIMIT_BYTES`, `CORS_ORIGINS`, `HI_DELAY_MS`, `REQUIRE_IF_MATCH`, `IDEMPOTENCY_TTL_S`.
    pub http: HttpSettings,
    /// Listening address, connection limits and shutdown.
    pub server: ServerSettings,
    /// `LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            database_migration_url: None,
            backend: Backend::default(),
            pool: PoolSettings::default(),
            startup_timeout: Duration::from_secs(30),
            http: HttpSettings::default(),
            server: ServerSettings::default(),
            log_format: LogFormat::Text,
        }
    }
}

/// How the HTTP server listens and stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// `HOST`: address to listen on.
    pub host: String,
    /// `PORT`: port to listen on (0: the system picks one, and the log says which).
    pub port: u16,
    /// `WORKERS`: async worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `MAX_CONNECTIONS`: open connections per worker before new ones wait.
    pub max_connections: usize,
    /// `KEEP_ALIVE_S`: how long an idle connection stays open.
    pub keep_alive: Duration,
    /// `CLIENT_TIMEOUT_MS`: how long a client may take to send a request's head.
    pub client_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_S`: how long in-flight requests may finish after SIGTERM.
    pub shutdown_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8000,
            workers: None,
            max_connections: 10_000,
            keep_alive: Duration::from_secs(5),
            client_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
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
        Self::from_lookup(|name| std::env::var(name))
    }

    /// Reads the configuration from `lookup`, which answers like `std::env::var`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Result<String, VarError>) -> Result<Self, ConfigError> {
        let vars = Vars(lookup);
        let d = Self::default();
        Ok(Self {
            database_url: vars.parsed("DATABASE_URL")?.unwrap_or(d.database_url),
            database_migration_url: vars.parsed("DATABASE_MIGRATION_URL")?.or(d.database_migration_url),
            backend: vars.choice("DATA_BACKEND")?.unwrap_or(d.backend),
            pool: PoolSettings {
                max_connections: vars.positive("DB_POOL_MAX")?.unwrap_or(d.pool.max_connections),
                acquire_timeout: vars.millis("DB_POOL_TIMEOUT_MS")?.unwrap_or(d.pool.acquire_timeout),
                statement_timeout: vars.millis("DB_STATEMENT_TIMEOUT_MS")?.unwrap_or(d.pool.statement_timeout),
                pooler: vars.choice("DB_POOLER")?.unwrap_or(d.pool.pooler),
            },
            startup_timeout: vars.seconds("DB_STARTUP_TIMEOUT_S")?.unwrap_or(d.startup_timeout),
            http: HttpSettings {
                body_limit: vars.positive("BODY_LIMIT_BYTES")?.unwrap_or(d.http.body_limit),
                cors_origins: vars.parsed::<String>("CORS_ORIGINS")?.map_or(d.http.cors_origins, |origins| {
                    origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect()
                }),
                hi_delay: vars.millis("HI_DELAY_MS")?.unwrap_or(d.http.hi_delay),
                auth: AuthSettings::Open,
                require_if_match: vars.parsed("REQUIRE_IF_MATCH")?.unwrap_or(d.http.require_if_match),
                idempotency_ttl: vars.seconds("IDEMPOTENCY_TTL_S")?.unwrap_or(d.http.idempotency_ttl),
            },
            server: ServerSettings {
                host: vars.parsed("HOST")?.unwrap_or(d.server.host),
                port: vars.parsed("PORT")?.unwrap_or(d.server.port),
                workers: vars.positive("WORKERS")?.or(d.server.workers),
                max_connections: vars.positive("MAX_CONNECTIONS")?.unwrap_or(d.server.max_connections),
                keep_alive: vars.seconds("KEEP_ALIVE_S")?.unwrap_or(d.server.keep_alive),
                client_timeout: vars.millis("CLIENT_TIMEOUT_MS")?.unwrap_or(d.server.client_timeout),
                shutdown_timeout: vars.seconds("SHUTDOWN_TIMEOUT_S")?.unwrap_or(d.server.shutdown_timeout),
            },
            log_format: vars.choice("LOG_FORMAT")?.unwrap_or(d.log_format),
        })
        .and_then(|mut config| {
            config.http.auth = auth_settings(&vars, &config.server.host)?;
            Ok(config)
        })
    }
}

/// The identity provider of `AUTH_JWKS_URL`, `AUTH_ISSUER` and `AUTH_AUDIENCE` (all or
/// none), or none: then the service runs open, which it refuses on an address other
/// machines can reach unless `AUTH_DISABLED=true` says it is meant.
fn auth_settings<F: Fn(&str) -> Result<String, VarError>>(
    vars: &Vars<F>,
    host: &str,
) -> Result<AuthSettings, ConfigError> {
    const NAMES: [&str; 3] = ["AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE"];
    let [jwks_url, issuer, audience] =
        [vars.parsed::<String>(NAMES[0])?, vars.parsed::<String>(NAMES[1])?, vars.parsed::<String>(NAMES[2])?];
    let disabled = vars.parsed::<bool>("AUTH_DISABLED")?.unwrap_or(false);
    let refresh = vars.seconds("AUTH_JWKS_REFRESH_S")?.unwrap_or(Duration::from_secs(60));
    let local = is_loopback(host);
    match (jwks_url, issuer, audience) {
        (None, None, None) if local || disabled => Ok(AuthSettings::Open),
        (None, None, None) => Err(refused(
            "HOST",
            host,
            "the service would accept anyone's requests on an address others can reach: set AUTH_JWKS_URL, \
             AUTH_ISSUER and AUTH_AUDIENCE, or AUTH_DISABLED=true if that is really meant",
        )),
        (Some(jwks_url), Some(issuer), Some(audience)) => {
            if disabled {
                return Err(refused(
                    "AUTH_DISABLED",
                    "true",
                    "contradicts AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE",
                ));
            }
            check_jwks_url(&jwks_url, local)?;
            if issuer == crate::dev_token::DEV_ISSUER && !local {
                return Err(refused("AUTH_ISSUER", &issuer, "development tokens are for a loopback HOST only"));
            }
            Ok(AuthSettings::Provider(ProviderSettings { jwks_url, issuer, audience, refresh }))
        }
        (jwks_url, issuer, audience) => {
            let set = [jwks_url.is_some(), issuer.is_some(), audience.is_some()];
            let missing: Vec<&str> = NAMES.iter().zip(set).filter(|(_, set)| !set).map(|(name, _)| *name).collect();
            let name = NAMES.iter().zip(set).find(|(_, set)| !set).map_or(NAMES[0], |(name, _)| name);
            Err(refused(name, "", format!("missing: {} (the three go together)", missing.join(", "))))
        }
    }
}

/// `https://` anywhere; `http://` and `file://` (a key set on disk, for development) only
/// for a service that listens on loopback.
fn check_jwks_url(url: &str, local: bool) -> Result<(), ConfigError> {
    let parsed = url::Url::parse(url).ok();
    let scheme = parsed.as_ref().map_or("", url::Url::scheme);
    let loopback_host = parsed.as_ref().and_then(url::Url::host).is_some_and(|host| match host {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    });
    let acceptable = scheme == "https" || (scheme == "http" && loopback_host) || (scheme == "file" && local);
    if acceptable {
        Ok(())
    } else {
        Err(refused("AUTH_JWKS_URL", url, "expected https:// (http://localhost and file:// only with a loopback HOST)"))
    }
}

/// Whether `host` is reachable from this machine only.
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// Where migrations go: `DATABASE_MIGRATION_URL` if set; else `DATABASE_URL`, unless
    /// that goes through a transaction pooler (`None`: migrations are a release step).
    pub fn migration_url(&self) -> Option<&str> {
        match (&self.database_migration_url, self.pool.pooler) {
            (Some(url), _) => Some(url),
            (None, Pooler::None) => Some(&self.database_url),
            (None, Pooler::Transaction) => None,
        }
    }
}

/// Variables read through a lookup function; unset and empty both mean "the default".
struct Vars<F>(F);

impl<F: Fn(&str) -> Result<String, VarError>> Vars<F> {
    fn raw(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        match (self.0)(name) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(VarError::NotPresent) => Ok(None),
            Err(VarError::NotUnicode(_)) => Err(refused(name, "<not unicode>", "not valid UTF-8")),
        }
    }

    fn parsed<T: FromStr>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: Display,
    {
        let Some(value) = self.raw(name)? else { return Ok(None) };
        value.trim().parse().map(Some).map_err(|e: T::Err| refused(name, &value, e))
    }

    /// One of an enum's names, listed in the error when another is given.
    fn choice<T: FromStr + VariantNames>(&self, name: &'static str) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.raw(name)? else { return Ok(None) };
        let expected = || format!("expected one of: {}", T::VARIANTS.join(", "));
        value.trim().parse().map(Some).map_err(|_| refused(name, &value, expected()))
    }

    fn positive<T: FromStr + PartialOrd + From<u8>>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: Display,
    {
        match self.parsed::<T>(name)? {
            Some(n) if n < T::from(1) => Err(refused(name, &self.raw(name)?.unwrap_or_default(), "must be at least 1")),
            n => Ok(n),
        }
    }

    fn millis(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        Ok(self.parsed(name)?.map(Duration::from_millis))
    }

    fn seconds(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        Ok(self.parsed(name)?.map(Duration::from_secs))
    }
}

fn refused(name: &'static str, value: &str, reason: impl Display) -> ConfigError {
    ConfigError { name, value: value.to_owned(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| vars.get(name).cloned().ok_or(VarError::NotPresent))
    }

    /// `.env.example` shows people the defaults: every value it sets must be the one the
    /// service uses when the variable is unset. (Its commented-out lines are examples.)
    /// It is written for the package's default features; in a build with others, the
    /// database and backend it names may not be this build's defaults, and only the rest
    /// is checked.
    #[test]
    fn env_example_states_the_defaults() {
        let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
        let default_build = compiled_features() == default_features();
        let vars: Vec<(&str, &str)> = example
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .filter(|(name, _)| default_build || !["DATABASE_URL", "DATA_BACKEND"].contains(name))
            .collect();
        assert!(vars.len() >= 15, "{vars:?}");
        assert_eq!(config(&vars).unwrap(), Config::default());
    }

    /// The features this build has.
    fn compiled_features() -> Vec<String> {
        let on = [
            ("sqlx", cfg!(feature = "sqlx")),
            ("diesel", cfg!(feature = "diesel")),
            ("sqlite", cfg!(feature = "sqlite")),
            ("postgres", cfg!(feature = "postgres")),
        ];
        let mut names: Vec<String> = on.iter().filter(|(_, on)| *on).map(|(name, _)| (*name).to_owned()).collect();
        names.sort();
        names
    }

    /// The package's `default` features, from its manifest.
    fn default_features() -> Vec<String> {
        let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
        let line = manifest.lines().find(|line| line.starts_with("default = [")).expect("a `default` feature list");
        let mut names: Vec<String> = line.split('"').skip(1).step_by(2).map(str::to_owned).collect();
        names.sort();
        names
    }

    #[test]
    fn bad_values_are_named_with_what_was_expected() {
        let error = config(&[("DATA_BACKEND", "mongo")]).unwrap_err();
        assert_eq!(error.to_string(), r#"invalid DATA_BACKEND="mongo": expected one of: sqlx, diesel"#);
        let error = config(&[("DB_POOL_MAX", "0")]).unwrap_err();
        assert_eq!(error.to_string(), r#"invalid DB_POOL_MAX="0": must be at least 1"#);
        let error = config(&[("DB_POOLER", "session")]).unwrap_err();
        assert_eq!(error.to_string(), r#"invalid DB_POOLER="session": expected one of: none, transaction"#);
        let error = config(&[("LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(error.to_string(), r#"invalid LOG_FORMAT="xml": expected one of: text, json"#);
    }

    #[test]
    fn migrations_never_go_through_a_transaction_pooler() {
        let pooled = [("DATABASE_URL", "postgres://app@bouncer/db"), ("DB_POOLER", "transaction")];
        assert_eq!(config(&pooled).unwrap().migration_url(), None);
        let direct = [pooled[0], pooled[1], ("DATABASE_MIGRATION_URL", "postgres://app@primary/db")];
        assert_eq!(config(&direct).unwrap().migration_url(), Some("postgres://app@primary/db"));
        assert_eq!(config(&pooled[..1]).unwrap().migration_url(), Some("postgres://app@bouncer/db"));
    }

    #[test]
    fn authentication_is_all_or_nothing_and_never_open_by_accident() {
        let provider = [
            ("AUTH_JWKS_URL", "https://id.example/.well-known/jwks.json"),
            ("AUTH_ISSUER", "https://id.example/"),
            ("AUTH_AUDIENCE", "orders"),
        ];
        assert!(matches!(config(&provider).unwrap().http.auth, AuthSettings::Provider(_)));
        let error = config(&provider[..1]).unwrap_err().to_string();
        assert!(error.contains("missing: AUTH_ISSUER, AUTH_AUDIENCE"), "{error}");
        let error = config(&[("HOST", "0.0.0.0")]).unwrap_err().to_string();
        assert!(error.starts_with(r#"invalid HOST="0.0.0.0": the service would accept anyone's"#), "{error}");
        let open = config(&[("HOST", "0.0.0.0"), ("AUTH_DISABLED", "true")]).unwrap();
        assert_eq!(open.http.auth, AuthSettings::Open);
        let plain = [("AUTH_JWKS_URL", "http://id.example/jwks.json"), provider[1], provider[2]];
        assert!(config(&plain).unwrap_err().to_string().starts_with("invalid AUTH_JWKS_URL"));
        let local = [("AUTH_JWKS_URL", "http://127.0.0.1:9000/jwks.json"), provider[1], provider[2]];
        assert!(config(&local).is_ok());
        let dev =
            [("AUTH_JWKS_URL", "file:///tmp/jwks.json"), ("AUTH_ISSUER", crate::dev_token::DEV_ISSUER), provider[2]];
        assert!(config(&dev).is_ok());
        let exposed = [dev[0], dev[1], dev[2], ("HOST", "0.0.0.0")];
        assert!(config(&exposed).unwrap_err().to_string().starts_with("invalid AUTH_JWKS_URL"));
    }

    #[test]
    fn empty_means_default() {
        assert_eq!(config(&[("PORT", " "), ("CORS_ORIGINS", "")]).unwrap(), Config::default());
        let origins = config(&[("CORS_ORIGINS", "https://a.example, https://b.example,")]).unwrap();
        assert_eq!(origins.http.cors_origins, ["https://a.example", "https://b.example"]);
    }
}
