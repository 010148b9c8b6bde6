//! Schema migrations: the SQL files in `migrations/postgres` and `migrations/sqlite`,
//! embedded at build time (`build.rs` re-embeds them when they change) and applied by
//! sqlx's migrator for both backends. Diesel only mirrors the result in `table!` form.

use crate::{ConnectError, DatabaseKind, PoolSettings, sqlx_backend};
use sqlx::migrate::Migrator;
use sqlx::{ConnectOptions, Connection};

/// The Postgres migrations.
pub static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");
/// The SQLite migrations.
pub static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");

/// Brings `url`'s database up to the latest migration, over one connection of its own.
/// On Postgres, safe to run from many instances at once: sqlx takes an advisory lock.
/// (On SQLite there is no such lock; one process owns the file anyway.)
pub async fn run(url: &str, kind: DatabaseKind, settings: &PoolSettings) -> Result<(), ConnectError> {
    let invalid = |e: sqlx::Error| ConnectError::InvalidUrl(e.to_string());
    let unreachable = |e: sqlx::Error| ConnectError::Unreachable(e.to_string());
    match kind {
        DatabaseKind::Postgres => {
            let options = sqlx_backend::postgres_options(url, settings).map_err(invalid)?;
            let mut conn = timed(settings, options.connect()).await.map_err(unreachable)?;
            POSTGRES.run(&mut conn).await?;
            conn.close().await.map_err(unreachable)
        }
        DatabaseKind::Sqlite => {
            let options = sqlx_backend::sqlite_options(url, settings.acquire_timeout).map_err(invalid)?;
            let mut conn = timed(settings, options.connect()).await.map_err(unreachable)?;
            SQLITE.run(&mut conn).await?;
            conn.close().await.map_err(unreachable)
        }
    }
}

/// `connect`, failing after the pool's timeout like a pooled connection would.
async fn timed<C>(
    settings: &PoolSettings,
    connect: impl std::future::Future<Output = Result<C, sqlx::Error>>,
) -> Result<C, sqlx::Error> {
    tokio::time::timeout(settings.acquire_timeout, connect).await.unwrap_or(Err(sqlx::Error::PoolTimedOut))
}
