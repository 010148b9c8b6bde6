//! {% capture rust %}The blocking backend: diesel, whose queries are plain synchronous functions.
//!
//! A blocking call on an async worker would stall every request that worker serves, so
//! this backend never makes one: [`DieselDatabase::read`] and [`DieselDatabase::write`]
//! check a connection out of the pool and hand the query to deadpool-diesel's
//! [`interact`](deadpool_diesel::Connection::interact), which runs it on a blocking
//! threadpool while the async task awaits the result, inside the caller's span, so each
//! statement's span for traces ([`crate::trace`]) is the caller's child.
//!
//! - `orders.rs`: the orders queries (no async anywhere) and the repository over them;
//!   `filters.rs`: the conditions they write with (owner, status, version);
//!   `keys.rs`: the `Idempotency-Key` records, which keyed writes store first.
//! - `threads.rs`: that threadpool, the backend's own, one thread per connection.
//! - `connections.rs`: opening and pooling connections (also blocking, so also on those threads).
//! - [`schema`]: the `table!` definitions; `codec.rs`: stored values per database.

mod codec;
mod connections;
pub mod filters;
mod keys;
//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
mod new_order;
//~ {%- endif %}
mod orders;
pub mod schema;
mod threads;
// xtask scaffold: modules

use crate::write_gate::WriteGate;
use app_service::{KeyRecord, Owner, PoolStats, RepositoryError};
use diesel::QueryResult;
use std::marker::PhantomData;
use std::sync::Arc;
use threads::QueryThreads;
use tracing::{Instrument, Span};

//~ {%- if database != "sqlite" %}
#[cfg(feature = "postgres")]
pub use connections::postgres;
//~ {%- endif %}{% if database != "postgres" %}
#[cfg(feature = "sqlite")]
pub use connections::sqlite;
//~ {%- endif %}
pub use keys::{DieselKeys, KeyQueries};
pub use orders::{DieselOrders, OrderQueries};
// xtask scaffold: repositories

/// A diesel connection type this backend runs on, with how it opens a write transaction.
pub trait DieselConnection: diesel::Connection + Send + 'static {
    /// The database's `db.system.name`, for traces.
    const SYSTEM: &'static str;

    /// Runs `f` in a transaction that may write.
    fn write_transaction<T>(&mut self, f: impl FnOnce(&mut Self) -> QueryResult<T>) -> QueryResult<T>;
}
//~ {%- if database != "sqlite" %}

#[cfg(feature = "postgres")]
impl DieselConnection for diesel::PgConnection {
    const SYSTEM: &'static str = "postgresql";

    /// Postgres locks rows as it writes; a plain transaction is enough.
    fn write_transaction<T>(&mut self, f: impl FnOnce(&mut Self) -> QueryResult<T>) -> QueryResult<T> {
        diesel::Connection::transaction(self, f)
    }
}
//~ {%- endif %}{% if database != "postgres" %}

#[cfg(feature = "sqlite")]
impl DieselConnection for diesel::SqliteConnection {
    const SYSTEM: &'static str = "sqlite";

    /// Take the write lock up front, so a writer waits its turn instead of failing.
    fn write_transaction<T>(&mut self, f: impl FnOnce(&mut Self) -> QueryResult<T>) -> QueryResult<T> {
        self.immediate_transaction(f)
    }
}
//~ {%- endif %}

/// The repository of resources with fields `F` (see `app_service::resources`) on
/// connections of type `C`, on the shared [`DieselDatabase`]: a scaffolded resource's
/// repository is one (`type DieselCustomers<C> = DieselResources<C, CustomerFields>`),
/// with its own `impl ResourceRepository`.
pub struct DieselResources<C: DieselConnection, F> {
    #[allow(dead_code, reason = "read by the repositories `cargo xtask scaffold` writes")]
    db: DieselDatabase<C>,
    fields: PhantomData<fn() -> F>,
}

impl<C: DieselConnection, F> DieselResources<C, F> {
    /// The repository on `db`'s pool, threads and writer queue.
    pub fn new(db: DieselDatabase<C>) -> Self {
        Self { db, fields: PhantomData }
    }
}

/// The pool of connections of type `C`, the threads their queries run on, and the
/// writer queue. Cheap to clone: clones share all three.
pub struct DieselDatabase<C: DieselConnection> {
    pool: connections::Pool<C>,
    threads: Arc<QueryThreads>,
    writers: Arc<WriteGate>,
}

impl<C: DieselConnection> Clone for DieselDatabase<C> {
    fn clone(&self) -> Self {
        Self { pool: self.pool.clone(), threads: Arc::clone(&self.threads), writers: Arc::clone(&self.writers) }
    }
}

impl<C: DieselConnection> DieselDatabase<C> {
    /// Runs `query` on a pooled connection, on the query threads.
    ///
    /// Waiting for a free connection is async and bounded by the pool's wait timeout;
    /// the query itself runs on a blocking thread while this task awaits it.
    pub async fn read<T, Q>(&self, query: Q) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        Q: FnOnce(&mut C) -> QueryResult<T> + Send + 'static,
    {
        let wait = crate::trace::pool_wait(C::SYSTEM);
        let connection = match self.pool.get().instrument(wait.clone()).await {
            Ok(connection) => connection,
            Err(error) => {
                crate::trace::failed(&wait, "unavailable");
                return Err(RepositoryError::Unavailable(error.into()));
            }
        };
        // The query runs on another thread: it takes the caller's span along, so the spans
        // of its statements (`trace::Statements`) are the caller's children. Only when they
        // are traced: otherwise the hop stays as it was, and the log's timings too.
        let caller = if crate::trace::wanted() { Span::current() } else { Span::none() };
        let query = move |conn: &mut C| caller.in_scope(|| query(conn));
        match self.threads.run(connection.interact(query)).await {
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

    /// [`read`](Self::read) for a write: waits its turn (see [`WriteGate`]), then runs
    /// `query` in a write transaction, which commits when `query` returns `Ok`.
    pub async fn write<T, Q>(&self, query: Q) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        Q: FnOnce(&mut C) -> QueryResult<T> + Send + 'static,
    {
        let _turn = self.writers.enter().await?;
        self.read(move |conn| conn.write_transaction(query)).await
    }

    /// [`write`](Self::write) for a `query` that is atomic by itself, so opens no
    /// transaction (a transaction around one statement would only add round trips, or the
    /// query opens its own [`write_transaction`](DieselConnection::write_transaction)). It
    /// still waits its turn with the other writers. A `query` of several statements that does not open its own
    /// transaction belongs in `write`: here a failure half-way would keep the first ones.
    pub async fn write_atomic_by_itself<T, Q>(&self, query: Q) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        Q: FnOnce(&mut C) -> QueryResult<T> + Send + 'static,
    {
        let _turn = self.writers.enter().await?;
        self.read(query).await
    }

    /// One round trip, for readiness.
    pub async fn ping(&self) -> Result<(), RepositoryError> {
        self.read(|conn| conn.batch_execute("SELECT 1")).await
    }

    /// Runs `query`, a write that is atomic by itself, with `key`'s record if there is
    /// one: then both in one write transaction, the record first, so that they commit
    /// together (or, the key in use, nothing is written: [`RepositoryError::KeyInUse`]).
    pub async fn write_keyed<Q>(&self, owner: &Owner, key: Option<&KeyRecord>, query: Q) -> Result<(), RepositoryError>
    where
        C: KeyQueries,
        Q: FnOnce(&mut C) -> QueryResult<()> + Send + 'static,
    {
        let Some(key) = key.cloned() else { return self.write_atomic_by_itself(query).await };
        let owner = owner.as_str().to_owned();
        let claimed = self
            .write(move |conn| {
                let claimed = conn.claim_key(&owner, &key)?;
                if claimed {
                    query(conn)?;
                }
                Ok(claimed)
            })
            .await?;
        if claimed { Ok(()) } else { Err(RepositoryError::KeyInUse) }
    }

    /// Connections open and idle.
    pub fn pool_stats(&self) -> PoolStats {
        crate::pool::stats(&self.pool)
    }

    /// Closes the pool: connections are dropped as they come back.
    pub async fn close(&self) {
        self.pool.close();
    }
}

/// Sorts diesel errors into "try again later" (503) and "bug" (500).
fn classify(error: diesel::result::Error) -> RepositoryError {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    let unavailable = match &error {
        Error::DatabaseError(
            Kind::ClosedConnection | Kind::UnableToSendCommand | Kind::SerializationFailure | Kind::ReadOnlyTransaction,
            _,
        ) => true,
        // diesel reports other codes as `Unknown` with only a message (no code), so these
        // are matched by the database's English messages (a server with non-English
        // `lc_messages` gets 500 here).
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
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
