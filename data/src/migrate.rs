//! {% capture rust %}Schema migrations: the SQL files in `migrations/`, embedded at build time
//! (`build.rs` re-embeds them when they change) and applied by sqlx's migrator.
//~ {%- if backend == "both" %}
//! The schema has one owner whichever backend runs the queries; diesel only mirrors it in
//! `table!` form.
//~ {%- elsif backend == "diesel" %}
//+ //! diesel only mirrors the schema in `table!` form.
//~ {%- endif %}

use crate::connection::sqlx_options;
use crate::{ConnectError, DatabaseKind, PoolSettings};
use sqlx::migrate::Migrator;
use sqlx::{ConnectOptions, Connection};
use std::future::Future;

//~ {%- if database != "sqlite" %}
/// The Postgres migrations.
#[cfg(feature = "postgres")]
pub static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");
//~ {%- endif %}{% if database != "postgres" %}
/// The SQLite migrations.
#[cfg(feature = "sqlite")]
pub static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");
//~ {%- endif %}

/// Brings `url`'s database up to the latest migration, over one connection of its own.
//~ {%- if database != "sqlite" %}
/// On Postgres, safe to run from many instances at once: sqlx takes an advisory lock.
//~ {%- endif %}{% if database != "postgres" %}
/// (On SQLite there is no such lock; one process owns the file anyway.)
//~ {%- endif %}
pub async fn run(url: &str, settings: &PoolSettings) -> Result<(), ConnectError> {
    let unreachable = |e: sqlx::Error| ConnectError::Unreachable(e.to_string());
    match DatabaseKind::of(url)? {
        //~ {%- if database != "sqlite" %}
        #[cfg(feature = "postgres")]
        DatabaseKind::Postgres => {
            // A migration may rightly run longer than any request (an index built on a
            // large table): no statement timeout on its connection.
            let settings = PoolSettings { statement_timeout: std::time::Duration::ZERO, ..*settings };
            let mut conn =
                timed(&settings, sqlx_options::postgres(url, &settings)?.connect()).await.map_err(unreachable)?;
            POSTGRES.run(&mut conn).await?;
            conn.close().await.map_err(unreachable)
        }
        //~ {%- endif %}{% if database != "postgres" %}
        #[cfg(feature = "sqlite")]
        DatabaseKind::Sqlite => {
            let mut conn =
                timed(settings, sqlx_options::sqlite(url, settings)?.connect()).await.map_err(unreachable)?;
            SQLITE.run(&mut conn).await?;
            conn.close().await.map_err(unreachable)
        }
        //~ {%- endif %}
        #[allow(unreachable_patterns)]
        kind => Err(ConnectError::DatabaseNotCompiled(kind)),
    }
}

/// `connect`, failing after the pool's timeout like a pooled connection would.
async fn timed<C>(
    settings: &PoolSettings,
    connect: impl Future<Output = Result<C, sqlx::Error>>,
) -> Result<C, sqlx::Error> {
    tokio::time::timeout(settings.acquire_timeout, connect).await.unwrap_or(Err(sqlx::Error::PoolTimedOut))
}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
