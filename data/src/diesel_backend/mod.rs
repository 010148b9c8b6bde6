//! The blocking backend: diesel, whose queries are plain synchronous functions.
//!
//! A blocking call on an async worker would stall every request that worker serves, so
//! this adapter never makes one: it checks a connection out of a deadpool-diesel pool
//! and hands the query to [`interact`](deadpool_diesel::Connection::interact), which runs
//! it on tokio's blocking threadpool and awaits the result. See [`DieselOrders::run`].
//!
//! The queries themselves ([`queries.rs`](self)) know nothing of async. They are compiled
//! once per connection type; the per-database lines are the two modules at the bottom,
//! the `table!` types in [`schema`] and the value encodings in `types.rs`.

pub mod schema;
mod types;

use crate::DatabaseKind;
use crate::storage::{CorruptRow, WriteGate};
use crate::{ConnectError, IDLE_CHECK, PoolSettings};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_diesel::Runtime;
use diesel::QueryResult;
use diesel::connection::TransactionManager;
use service::{GuardedWrite, Order, OrderFilter, OrderItem, OrdersRepository, PoolStats, RepositoryError, Status};
use std::marker::PhantomData;
use std::sync::Arc;
use uuid::Uuid;

type Managed<C> = deadpool::managed::Pool<ConnectionManager<C>>;

/// The queries the repository needs, as synchronous methods on a diesel connection.
/// Implemented by `queries.rs` for `PgConnection` and `SqliteConnection`.
pub trait OrderQueries: diesel::Connection + Send + 'static {
    /// Stores a new order with its items.
    fn insert_order(&mut self, order: &Order) -> QueryResult<()>;
    /// The order with this id, with its items.
    fn find_order(&mut self, id: Uuid) -> QueryResult<Option<Order>>;
    /// A page of orders with their items, newest first, in one query.
    fn page_of_orders(&mut self, filter: OrderFilter) -> QueryResult<Vec<Order>>;
    /// Replaces the items if the status is one of `allowed`.
    fn replace_items(
        &mut self,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        at: DateTime<Utc>,
    ) -> QueryResult<GuardedWrite>;
    /// Changes the status if it is one of `allowed`.
    fn set_status(&mut self, id: Uuid, to: Status, allowed: &[Status], at: DateTime<Utc>) -> QueryResult<GuardedWrite>;
    /// Deletes the order and its items.
    fn delete_order(&mut self, id: Uuid) -> QueryResult<bool>;
}

/// Orders stored through diesel over connection type `C`, queried on the threadpool.
pub struct DieselOrders<C: OrderQueries> {
    pool: Managed<C>,
    writers: WriteGate,
}

impl<C: OrderQueries> DieselOrders<C> {
    /// Runs `query` on a pooled connection, on the blocking threadpool.
    ///
    /// Waiting for a free connection is async and bounded by the pool's wait timeout;
    /// the query itself runs on a blocking thread while this task awaits it.
    async fn run<T, Q>(&self, query: Q) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        Q: FnOnce(&mut C) -> QueryResult<T> + Send + 'static,
    {
        let connection = self.pool.get().await.map_err(|e| RepositoryError::Unavailable(e.into()))?;
        match connection.interact(query).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                let error = classify(error);
                if let RepositoryError::Unavailable(_) = error {
                    // The connection may be broken: close it rather than hand it out again.
                    drop(deadpool::managed::Object::take(connection));
                }
                Err(error)
            }
            // A panic in a query (or its cancellation) is a bug: report it, keep serving.
            // The connection's mutex is poisoned, so the pool will not reuse it.
            Err(error) => Err(RepositoryError::Internal(format!("query did not finish: {error}").into())),
        }
    }

    /// [`run`](Self::run) for a write: waits its turn first (see [`WriteGate`]).
    async fn write<T, Q>(&self, query: Q) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        Q: FnOnce(&mut C) -> QueryResult<T> + Send + 'static,
    {
        let _turn = self.writers.enter().await?;
        self.run(query).await
    }
}

#[async_trait]
impl<C: OrderQueries> OrdersRepository for DieselOrders<C> {
    async fn insert(&self, order: &Order) -> Result<(), RepositoryError> {
        // The closure outlives this call on another thread, so it owns its data.
        let order = order.clone();
        self.write(move |conn| conn.insert_order(&order)).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<Order>, RepositoryError> {
        self.run(move |conn| conn.find_order(id)).await
    }

    async fn list(&self, filter: OrderFilter) -> Result<Vec<Order>, RepositoryError> {
        self.run(move |conn| conn.page_of_orders(filter)).await
    }

    async fn replace_items(
        &self,
        id: Uuid,
        items: &[OrderItem],
        allowed: &[Status],
        at: DateTime<Utc>,
    ) -> Result<GuardedWrite, RepositoryError> {
        let (items, allowed) = (items.to_vec(), allowed.to_vec());
        self.write(move |conn| conn.replace_items(id, &items, &allowed, at)).await
    }

    async fn set_status(
        &self,
        id: Uuid,
        to: Status,
        allowed: &[Status],
        at: DateTime<Utc>,
    ) -> Result<GuardedWrite, RepositoryError> {
        let allowed = allowed.to_vec();
        self.write(move |conn| conn.set_status(id, to, &allowed, at)).await
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepositoryError> {
        self.write(move |conn| conn.delete_order(id)).await
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.run(|conn| conn.batch_execute("SELECT 1")).await
    }

    fn pool_stats(&self) -> PoolStats {
        let status = self.pool.status();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        PoolStats { open: count(status.size), idle: count(status.available) }
    }

    async fn close(&self) {
        self.pool.close();
    }
}

/// Opens diesel connections for the pool, on the blocking threadpool: `establish` is a
/// blocking call too. Each new connection first runs `setup`; one that was idle for a
/// while is checked with a round trip before reuse, so connections broken by a database
/// restart are replaced.
pub struct ConnectionManager<C> {
    url: Arc<str>,
    setup: Arc<str>,
    _connection: PhantomData<fn() -> C>,
}

impl<C: OrderQueries> deadpool::managed::Manager for ConnectionManager<C> {
    type Type = deadpool_diesel::Connection<C>;
    type Error = deadpool_diesel::Error;

    async fn create(&self) -> Result<Self::Type, Self::Error> {
        let (url, setup) = (Arc::clone(&self.url), Arc::clone(&self.setup));
        deadpool_diesel::Connection::new(Runtime::Tokio1, move || {
            let mut conn = C::establish(&url)?;
            if !setup.is_empty() {
                conn.batch_execute(&setup)?;
            }
            Ok(conn)
        })
        .await
    }

    async fn recycle(
        &self,
        connection: &mut Self::Type,
        metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Self::Error> {
        if connection.is_mutex_poisoned() {
            return Err(deadpool::managed::RecycleError::message("a query panicked on this connection"));
        }
        // Connections in steady use are trusted (`run` drops those that fail); only an
        // idle one, which may have died unnoticed, costs a round trip.
        if metrics.last_used() < IDLE_CHECK {
            return Ok(());
        }
        let check = connection.interact(|conn| {
            if C::TransactionManager::is_broken_transaction_manager(conn) {
                return Err(deadpool_diesel::Error::BrokenTransactionManger);
            }
            conn.batch_execute("SELECT 1").map_err(deadpool_diesel::Error::Ping)
        });
        match check.await {
            Ok(result) => Ok(result?),
            Err(_) => Err(deadpool::managed::RecycleError::message("connection check panicked")),
        }
    }
}

fn pool<C: OrderQueries>(
    url: &str,
    setup: &str,
    settings: &PoolSettings,
    kind: DatabaseKind,
) -> Result<DieselOrders<C>, ConnectError> {
    let manager = ConnectionManager { url: url.into(), setup: setup.into(), _connection: PhantomData };
    let timeout = Some(settings.acquire_timeout);
    let pool = deadpool::managed::Pool::builder(manager)
        .max_size(settings.max_connections as usize)
        // deadpool waits forever by default; a request should fail instead.
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| ConnectError::Pool(e.to_string()))?;
    Ok(DieselOrders { pool, writers: WriteGate::new(kind, settings.acquire_timeout) })
}

/// A diesel repository on Postgres.
///
/// libpq's `connect_timeout` is set from the pool timeout and the server's
/// `statement_timeout` from the settings, unless the URL sets them, so neither a dead
/// server nor a stuck statement holds a blocking thread for long.
pub fn postgres(url: &str, settings: &PoolSettings) -> Result<DieselOrders<diesel::PgConnection>, ConnectError> {
    let mut url = url.to_owned();
    add_parameter(&mut url, "connect_timeout", &settings.acquire_timeout.as_secs().max(1).to_string());
    if !url.contains("statement_timeout") {
        let option = format!("-c%20statement_timeout%3D{}", settings.statement_timeout.as_millis());
        match url.find("options=") {
            // Keep the URL's own server options, and add ours in front.
            Some(at) => url.insert_str(at + "options=".len(), &format!("{option}%20")),
            None => add_parameter(&mut url, "options", &option),
        }
    }
    pool(&url, "", settings, DatabaseKind::Postgres)
}

/// Appends `parameter=value` to `url` unless the URL sets it already.
fn add_parameter(url: &mut String, parameter: &str, value: &str) {
    if !url.contains(&format!("{parameter}=")) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("{parameter}={value}"));
    }
}

/// A diesel repository on SQLite. Each connection gets the settings that sqlx applies
/// through its connect options.
pub fn sqlite(url: &str, settings: &PoolSettings) -> Result<DieselOrders<diesel::SqliteConnection>, ConnectError> {
    // Parse the URL as sqlx does, so both backends open the same file.
    let options = crate::sqlx_backend::sqlite_options(url, settings.acquire_timeout)
        .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
    let path = options.get_filename().to_string_lossy().into_owned();
    let busy_ms = settings.acquire_timeout.as_millis();
    let setup = format!("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms}; PRAGMA synchronous = NORMAL;");
    pool(&path, &setup, settings, DatabaseKind::Sqlite)
}

fn corrupt(error: CorruptRow) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(Box::new(error))
}

/// Sorts diesel errors into "try again later" (503) and "bug" (500).
fn classify(error: diesel::result::Error) -> RepositoryError {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    let unavailable = match &error {
        Error::DatabaseError(
            Kind::ClosedConnection | Kind::UnableToSendCommand | Kind::SerializationFailure | Kind::ReadOnlyTransaction,
            _,
        ) => true,
        // diesel reports other codes as `Unknown` with only a message (no SQLSTATE or
        // SQLite result code), so these are matched by text: Postgres' English messages
        // for a statement timeout, a deadlock, too many clients; SQLite's for locks held
        // past the busy timeout. A server with non-English `lc_messages` gets 500 here.
        Error::DatabaseError(_, info) => {
            const TRANSIENT: [&str; 5] = [
                "statement timeout",
                "deadlock detected",
                "too many clients",
                "database is locked",
                "database table is locked",
            ];
            TRANSIENT.iter().any(|message| info.message().contains(message))
        }
        _ => false,
    };
    if unavailable { RepositoryError::Unavailable(Box::new(error)) } else { RepositoryError::Internal(Box::new(error)) }
}

/// The queries for Postgres.
mod postgres {
    use super::schema::postgres as schema;
    type Conn = diesel::PgConnection;

    /// Postgres locks rows as it writes; a plain transaction is enough.
    fn write_transaction<T>(
        conn: &mut Conn,
        f: impl FnOnce(&mut Conn) -> diesel::QueryResult<T>,
    ) -> diesel::QueryResult<T> {
        diesel::Connection::transaction(conn, f)
    }

    include!("queries.rs");
}

/// The queries for SQLite.
mod sqlite {
    use super::schema::sqlite as schema;
    type Conn = diesel::SqliteConnection;

    /// Take the write lock up front, so a writer waits its turn instead of failing.
    fn write_transaction<T>(
        conn: &mut Conn,
        f: impl FnOnce(&mut Conn) -> diesel::QueryResult<T>,
    ) -> diesel::QueryResult<T> {
        conn.immediate_transaction(f)
    }

    include!("queries.rs");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_query_is_an_internal_error_and_the_pool_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("{}/orders.db", dir.path().display());
        let orders = sqlite(&url, &PoolSettings::default()).unwrap();
        let outcome = orders.run(|_: &mut diesel::SqliteConnection| -> QueryResult<()> { panic!("a bug") }).await;
        assert!(matches!(outcome, Err(RepositoryError::Internal(e)) if e.to_string().contains("did not finish")));
        // The poisoned connection is not handed out again; the next query works.
        orders.ping().await.unwrap();
    }
}
