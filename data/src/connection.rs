//! {% capture rust %}How connections are set up, the same for the pools and the
//~ {%- if database == "both" %}
//! migrator: SQLite's pragmas and file path, Postgres' URL with the statement timeout.
//~ {%- elsif database == "sqlite" %}
//+ //! migrator: SQLite's pragmas and file path.
//~ {%- else %}
//+ //! migrator: Postgres' URL with the statement timeout.
//~ {%- endif %}
//! Each fact is written once here; the pools and the migrator only translate it into
//! their library's calls.

use crate::ConnectError;
//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
use crate::PoolSettings;
//~ {%- endif %}{% if database != "postgres" %}

/// Pragmas every SQLite connection runs with. WAL lets readers go on while one writer
/// writes; NORMAL sync is safe with WAL; foreign keys make `ON DELETE CASCADE` work.
/// (The busy timeout comes from [`PoolSettings::acquire_timeout`].) Public for the SQLite
/// ceiling in `bench/sqlite`, which runs the service's statements with the same pragmas.
#[cfg(feature = "sqlite")]
pub const SQLITE_PRAGMAS: [(&str, &str); 3] =
    [("journal_mode", "WAL"), ("synchronous", "NORMAL"), ("foreign_keys", "ON")];

/// The file of a `sqlite://path` (or `sqlite:path`) URL. Options in the URL are refused:
/// every setting comes from [`SQLITE_PRAGMAS`] and the pool settings.
#[cfg(feature = "sqlite")]
pub fn sqlite_path(url: &str) -> Result<std::path::PathBuf, ConnectError> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    if path.is_empty() || path.contains('?') {
        return Err(ConnectError::InvalidUrl("expected sqlite://path, with no options".into()));
    }
    Ok(path.into())
}
//~ {%- endif %}{% if database != "sqlite" %}

/// A Postgres URL with the statement timeout of `settings` added as a server option
/// (`options=-c statement_timeout=…`), unless the URL sets one itself. Both backends
/// connect with this URL, so both apply the same timeout the same way.
///
/// Behind a transaction pooler the URL is left as it is: PgBouncer refuses the `options`
/// startup parameter, and a session setting would not follow the client from one server
/// connection to the next. There the timeout is the database role's own setting
/// (`ALTER ROLE … SET statement_timeout`), which every server connection starts with.
#[cfg(feature = "postgres")]
pub fn postgres_url(url: &str, settings: &PoolSettings) -> Result<url::Url, ConnectError> {
    let mut url = url::Url::parse(url).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
    if !settings.prepared_statements() {
        return Ok(url);
    }
    let mut options = None;
    let mut others = Vec::new();
    for (key, value) in url.query_pairs() {
        if key == "options" {
            options = Some(value.into_owned());
        } else {
            others.push((key.into_owned(), value.into_owned()));
        }
    }
    let options = options.unwrap_or_default();
    if options.contains("statement_timeout") {
        return Ok(url);
    }
    let timeout = format!("-c statement_timeout={}", settings.statement_timeout.as_millis());
    // The URL's own server options stay, after ours.
    let options = if options.is_empty() { timeout } else { format!("{timeout} {options}") };
    others.push(("options".into(), options));
    set_query(&mut url, &others);
    Ok(url)
}

/// Replaces `url`'s query with `pairs`, percent-encoding spaces as `%20`: libpq reads a
/// form-encoded `+` literally.
#[cfg(feature = "postgres")]
pub fn set_query(url: &mut url::Url, pairs: &[(String, String)]) {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(key, value)| {
            format!("{}={}", utf8_percent_encode(key, NON_ALPHANUMERIC), utf8_percent_encode(value, NON_ALPHANUMERIC))
        })
        .collect();
    url.set_query(Some(&encoded.join("&")));
}
//~ {%- endif %}

/// sqlx's connect options for the settings above: used by the migrator and, with sqlx,
/// by the pools.
pub mod sqlx_options {
    use crate::{ConnectError, PoolSettings};
    //~ {%- if database != "sqlite" %}

    /// sqlx's options for a Postgres connection: the URL of [`super::postgres_url`].
    #[cfg(feature = "postgres")]
    pub fn postgres(url: &str, settings: &PoolSettings) -> Result<sqlx::postgres::PgConnectOptions, ConnectError> {
        use sqlx::ConnectOptions;
        let url = super::postgres_url(url, settings)?;
        let options =
            sqlx::postgres::PgConnectOptions::from_url(&url).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        // Behind a transaction pooler, no statement is kept by name (see `Pooler`).
        Ok(if settings.prepared_statements() { options } else { options.statement_cache_capacity(0) })
    }
    //~ {%- endif %}{% if database != "postgres" %}

    /// sqlx's options for a SQLite connection: the file, created if missing, with
    /// [`super::SQLITE_PRAGMAS`] and the busy timeout of `settings`.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(url: &str, settings: &PoolSettings) -> Result<sqlx::sqlite::SqliteConnectOptions, ConnectError> {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(super::sqlite_path(url)?)
            .create_if_missing(true)
            .busy_timeout(settings.acquire_timeout);
        Ok(super::SQLITE_PRAGMAS.iter().fold(options, |options, (name, value)| options.pragma(*name, *value)))
    }
    //~ {%- endif %}
}

#[cfg(test)]
mod tests {
    use super::*;
    //~ {%- if database != "sqlite" %}

    #[cfg(feature = "postgres")]
    #[test]
    fn the_statement_timeout_joins_the_urls_own_options() {
        let settings = PoolSettings { statement_timeout: std::time::Duration::from_millis(1500), ..Default::default() };
        let options = |url: &str| {
            let url = postgres_url(url, &settings).unwrap();
            url.query_pairs().filter(|(k, _)| k == "options").map(|(_, v)| v.into_owned()).collect::<Vec<_>>()
        };
        assert_eq!(options("postgres://u:statement_timeout@h/db"), ["-c statement_timeout=1500"]);
        assert_eq!(
            options("postgres://u@h/db?sslmode=disable&options=-c%20search_path%3Dshop"),
            ["-c statement_timeout=1500 -c search_path=shop"]
        );
        assert_eq!(options("postgres://u@h/db?options=-c%20statement_timeout%3D10"), ["-c statement_timeout=10"]);
        let kept = postgres_url("postgres://u@h/db?sslmode=disable", &settings).unwrap();
        assert!(kept.query_pairs().any(|(k, v)| k == "sslmode" && v == "disable"));
        assert!(kept.as_str().ends_with("options=%2Dc%20statement%5Ftimeout%3D1500"), "libpq reads it: {kept}");
    }
    //~ {%- endif %}{% if database != "postgres" %}

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(sqlite_path("sqlite://orders.db").unwrap(), std::path::Path::new("orders.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db").unwrap(), std::path::Path::new("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite:data/x.db").unwrap(), std::path::Path::new("data/x.db"));
        assert!(sqlite_path("sqlite://x.db?mode=ro").is_err());
    }
    //~ {%- endif %}
}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
