//! {% capture rust %}Opening diesel connections for the pool. `establish` is a blocking call like any
//! query, so connections are made on the query threads too.

use super::threads::QueryThreads;
use super::{DieselConnection, DieselDatabase};
use crate::write_gate::WriteGate;
use crate::{ConnectError, DatabaseKind, PoolSettings};
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_diesel::Runtime;
use diesel::connection::TransactionManager;
use std::sync::Arc;

/// The pool of connections of type `C`.
pub type Pool<C> = managed::Pool<ConnectionManager<C>>;

/// What every new connection runs before its first query.
type Setup<C> = Arc<dyn Fn(&mut C) -> diesel::QueryResult<()> + Send + Sync>;

/// Opens connections to `url` and runs `setup` on each new one; checks a connection that
/// was idle for a while before reuse (see [`crate::pool`]), so connections broken by a
/// database restart are replaced; connections in steady use are trusted, and dropped when
/// a query fails on them.
pub struct ConnectionManager<C> {
    url: Arc<str>,
    setup: Setup<C>,
    threads: Arc<QueryThreads>,
}

impl<C: DieselConnection> managed::Manager for ConnectionManager<C> {
    type Type = deadpool_diesel::Connection<C>;
    type Error = deadpool_diesel::Error;

    async fn create(&self) -> Result<Self::Type, Self::Error> {
        let (url, setup) = (Arc::clone(&self.url), Arc::clone(&self.setup));
        let connect = deadpool_diesel::Connection::new(Runtime::Tokio1, move || {
            let mut conn = C::establish(&url)?;
            conn.set_instrumentation(crate::trace::Statements::new(C::SYSTEM));
            setup(&mut conn)?;
            Ok(conn)
        });
        self.threads.run(connect).await
    }

    async fn recycle(&self, connection: &mut Self::Type, metrics: &Metrics) -> RecycleResult<Self::Error> {
        if connection.is_mutex_poisoned() {
            return Err(RecycleError::message("a query panicked on this connection"));
        }
        if !crate::pool::needs_check(metrics) {
            return Ok(());
        }
        let check = connection.interact(|conn| {
            if C::TransactionManager::is_broken_transaction_manager(conn) {
                return Err(deadpool_diesel::Error::BrokenTransactionManger);
            }
            conn.batch_execute("SELECT 1").map_err(deadpool_diesel::Error::Ping)
        });
        match self.threads.run(check).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(RecycleError::message("connection check panicked")),
        }
    }
}

fn database<C: DieselConnection>(
    url: &str,
    setup: Setup<C>,
    settings: &PoolSettings,
    kind: DatabaseKind,
) -> Result<DieselDatabase<C>, ConnectError> {
    let threads =
        QueryThreads::new(settings.max_connections as usize).map_err(|e| ConnectError::Pool(e.to_string()))?;
    let threads = Arc::new(threads);
    let manager = ConnectionManager { url: url.into(), setup, threads: Arc::clone(&threads) };
    let pool = crate::pool::build(manager, settings)?;
    Ok(DieselDatabase { pool, threads, writers: Arc::new(WriteGate::new(kind, settings.acquire_timeout)) })
}
//~ {%- if database != "sqlite" %}

/// The pool for a Postgres URL: the URL of [`crate::connection::postgres_url`] (with the
/// statement timeout), plus libpq's `connect_timeout` from the pool timeout so a dead
/// server cannot hold a blocking thread for long. Behind a transaction pooler, diesel's
/// prepared-statement cache is off: every statement is sent unnamed, parse and execute
/// in one round trip, which is what such a pooler needs.
#[cfg(feature = "postgres")]
pub fn postgres(url: &str, settings: &PoolSettings) -> Result<DieselDatabase<diesel::PgConnection>, ConnectError> {
    let mut url = crate::connection::postgres_url(url, settings)?;
    let mut pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if !pairs.iter().any(|(key, _)| key == "connect_timeout") {
        pairs.push(("connect_timeout".into(), settings.acquire_timeout.as_secs().max(1).to_string()));
        crate::connection::set_query(&mut url, &pairs);
    }
    let prepared = settings.prepared_statements();
    let setup: Setup<diesel::PgConnection> = Arc::new(move |conn| {
        if !prepared {
            diesel::Connection::set_prepared_statement_cache_size(conn, diesel::connection::CacheSize::Disabled);
        }
        Ok(())
    });
    database(url.as_str(), setup, settings, DatabaseKind::Postgres)
}
//~ {%- endif %}{% if database != "postgres" %}

/// The pool for a SQLite URL: each new connection runs
/// [`SQLITE_PRAGMAS`](crate::connection::SQLITE_PRAGMAS) and sets the busy timeout.
#[cfg(feature = "sqlite")]
pub fn sqlite(url: &str, settings: &PoolSettings) -> Result<DieselDatabase<diesel::SqliteConnection>, ConnectError> {
    use std::fmt::Write;
    let path = crate::connection::sqlite_path(url)?;
    let path = path.to_str().ok_or_else(|| ConnectError::InvalidUrl("the path is not UTF-8".into()))?;
    let mut setup = format!("PRAGMA busy_timeout = {};", settings.acquire_timeout.as_millis());
    for (name, value) in crate::connection::SQLITE_PRAGMAS {
        let _ = write!(setup, " PRAGMA {name} = {value};");
    }
    let setup: Setup<diesel::SqliteConnection> =
        Arc::new(move |conn| diesel::connection::SimpleConnection::batch_execute(conn, &setup));
    database(path, setup, settings, DatabaseKind::Sqlite)
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use app_service::RepositoryError;
    use diesel::QueryResult;

    /// A pool on a new SQLite file in `dir`.
    fn sqlite_in(dir: &tempfile::TempDir, settings: &PoolSettings) -> DieselDatabase<diesel::SqliteConnection> {
        sqlite(&format!("sqlite://{}/orders.db", dir.path().display()), settings).unwrap()
    }

    #[tokio::test]
    async fn a_panicking_query_is_an_internal_error_and_the_pool_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_in(&dir, &PoolSettings::default());
        let outcome = db.read(|_: &mut diesel::SqliteConnection| -> QueryResult<()> { panic!("a bug") }).await;
        assert!(matches!(outcome, Err(RepositoryError::Internal(e)) if e.to_string().contains("did not finish")));
        // The poisoned connection is not handed out again; the next query works.
        db.ping().await.unwrap();
    }

    /// However many queries are waiting, they run on the backend's own threads, and on no
    /// more of them than there are connections (tokio's pool would take a thread per query
    /// in flight, named after the runtime).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queries_run_on_the_query_threads_at_most_one_per_connection() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_in(&dir, &PoolSettings { max_connections: 2, ..Default::default() });
        // The first connection turns the new file to WAL, as the migrations do before the
        // service's pool opens: two connections doing it at once can find the file locked.
        db.ping().await.unwrap();
        let queries = (0..16).map(|_| {
            db.read(|_: &mut diesel::SqliteConnection| {
                let thread = std::thread::current();
                Ok((thread.id(), thread.name().map(str::to_owned)))
            })
        });
        let threads: Vec<_> = futures::future::try_join_all(queries).await.unwrap();
        assert!(
            threads.iter().all(|(_, name)| name.as_deref() == Some(crate::diesel_backend::threads::THREAD_NAME)),
            "{threads:?}"
        );
        let distinct: std::collections::HashSet<_> = threads.iter().map(|(id, _)| *id).collect();
        assert!(distinct.len() <= 2, "{} threads for 2 connections", distinct.len());
    }
}
//~ {%- endif %}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
