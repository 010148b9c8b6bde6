//! {% capture rust %}Why the data layer could not start, and which database errors mean "try
//! again later".

use crate::{Backend, DatabaseKind};

/// Why the data layer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL names no supported database.
    //~ {%- if database == "both" %}
    #[error("unsupported database URL: expected postgres://… or sqlite://path (not in-memory)")]
    //~ {%- elsif database == "postgres" %}
    //+ #[error("unsupported database URL: expected postgres://…")]
    //~ {%- else %}
    //+ #[error("unsupported database URL: expected sqlite://path (not in-memory)")]
    //~ {%- endif %}
    UnsupportedUrl,
    /// The configuration names a backend that this build leaves out.
    #[error("the {0} backend is not compiled into this build: enable the Cargo feature `{0}`")]
    BackendNotCompiled(Backend),
    /// The URL names a database that this build leaves out.
    #[error("{0} is not compiled into this build: enable the Cargo feature `{0}`")]
    DatabaseNotCompiled(DatabaseKind),
    /// The URL or its options are malformed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The pool could not be built from the settings.
    #[error("invalid pool settings: {0}")]
    Pool(String),
    /// Migrations could not be applied.
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database could not be reached; it may come up later.
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
}

impl ConnectError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }
}
//~ {%- if backend != "diesel" and database != "sqlite" %}

/// Whether a Postgres SQLSTATE means "try again later" rather than "bug": connection
/// exceptions (08), authorization (28, a password rotated under us), insufficient
/// resources (53), shutdown (57P0x), the statement timeout (57014), serialization
/// failures and deadlocks (40001, 40P01), read-only after a failover (25006).
//~ {%- if backend == "both" or database == "both" %}
#[cfg_attr(not(all(feature = "sqlx", feature = "postgres")), allow(dead_code))]
//~ {%- endif %}
pub(crate) fn is_transient_sqlstate(code: &str) -> bool {
    ["08", "28", "53", "57P0"].iter().any(|class| code.starts_with(class))
        || ["40001", "40P01", "25006", "57014"].contains(&code)
}
//~ {%- endif %}{% if backend != "diesel" and database != "postgres" %}

/// Whether a SQLite result code (extended codes included) means "try again later":
/// busy or locked past the busy timeout.
//~ {%- if backend == "both" or database == "both" %}
#[cfg_attr(not(all(feature = "sqlx", feature = "sqlite")), allow(dead_code))]
//~ {%- endif %}
pub(crate) fn is_transient_sqlite_code(code: &str) -> bool {
    code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}
//~ {%- endif %}{% if backend != "diesel" %}

#[cfg(test)]
mod tests {
    use super::*;
    //~ {%- if database != "sqlite" %}

    #[test]
    fn transient_sqlstates_are_told_from_bugs() {
        for code in ["08006", "57P01", "57014", "40001", "40P01", "53300", "28P01", "25006"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "22021", "42P01", "40002", "42501"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }
    //~ {%- endif %}{% if database != "postgres" %}

    #[test]
    fn transient_sqlite_codes_are_told_from_bugs() {
        for code in ["5", "517", "6", "262"] {
            assert!(is_transient_sqlite_code(code), "{code}");
        }
        for code in ["19", "2067", "1", "14"] {
            assert!(!is_transient_sqlite_code(code), "{code}");
        }
    }
    //~ {%- endif %}
}
//~ {%- endif %}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
