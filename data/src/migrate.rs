//! Schema migrations: the SQL files in `migrations/postgres` and `migrations/sqlite`,
//! embedded at build time (`build.rs` re-embeds them when they change) and applied by
//! sqlx's migrator for both backends. Diesel only mirrors the result in `table!` form.

use crate::{ConnectError, DatabaseKind, PoolSettings, sqlx_backend};
use sqlx::migrate::Migrator;

/// The Postgres migrations.
pub static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");
/// The SQLite migrations.
pub static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");

/// Brings `url`'s database up to the latest migration. Safe to run from many instances
/// at once: sqlx takes a lock (an advisory lock on Postgres).
pub async fn run(url: &str, kind: DatabaseKind, settings: &PoolSettings) -> Result<(), ConnectError> {
    let settings = PoolSettings { max_connections: 1, ..*settings };
    let unreachable = |e: sqlx::Error| ConnectError::Unreachable(e.to_string());
    match kind {
        DatabaseKind::Postgres => {
            let pool = sqlx_backend::postgres_pool(url, &settings).map_err(unreachable)?;
            POSTGRES.run(&pool).await?;
            pool.close().await;
        }
        DatabaseKind::Sqlite => {
            let pool = sqlx_backend::sqlite_pool(url, &settings).map_err(unreachable)?;
            SQLITE.run(&pool).await?;
            pool.close().await;
        }
    }
    Ok(())
}
