//! sqlx connections in the shared pool (`crate::pool`), and the lease a repository call
//! holds one by.
//!
//! sqlx's own pool checks every connection with a round trip as it comes back: after a
//! one-statement read, that doubles the database's wake-ups. Here a connection whose user
//! finished goes back as it is, and the check is kept for the two cases that need it: a
//! connection idle for a while gets a round trip before reuse (the shared idle check),
//! and one whose user did not finish — an error returned half-way, or a request cancelled
//! while a statement was in flight — is closed instead of reused (see [`Lease`]).

use deadpool::managed::{self, Metrics, Object, RecycleResult};
use sqlx::Connection;

/// The pool of sqlx connections to database `DB`.
pub type Pool<DB> = managed::Pool<ConnectionManager<DB>>;

/// A check that a new connection can be used, run once as it opens.
pub type Check<DB> = for<'c> fn(
    &'c mut <DB as sqlx::Database>::Connection,
) -> std::pin::Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

/// Opens sqlx connections with the same options every time (see `connection.rs`), and
/// runs the `check` on each, if there is one.
pub struct ConnectionManager<DB: sqlx::Database> {
    options: <DB::Connection as Connection>::Options,
    check: Option<Check<DB>>,
}

impl<DB: sqlx::Database> ConnectionManager<DB> {
    /// A manager opening connections with `options`, each checked by `check`.
    pub fn new(options: <DB::Connection as Connection>::Options, check: Option<Check<DB>>) -> Self {
        Self { options, check }
    }
}

impl<DB: sqlx::Database> managed::Manager for ConnectionManager<DB> {
    type Type = DB::Connection;
    type Error = sqlx::Error;

    // `create` and `recycle` box their sqlx futures. deadpool's `get` holds them inline,
    // and every repository call's future holds `get`'s, so sqlx's large connect state
    // would make every read's future large, allocated and copied on every request though
    // connecting is rare (sizes in bench/README.md). Boxed, the allocation moves to
    // connecting and to idle checks, which are rare.
    async fn create(&self) -> Result<DB::Connection, sqlx::Error> {
        let mut connection = Box::pin(DB::Connection::connect_with(&self.options)).await?;
        if let Some(check) = self.check {
            check(&mut connection).await?;
        }
        Ok(connection)
    }

    async fn recycle(&self, connection: &mut DB::Connection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if crate::pool::needs_check(metrics) {
            Box::pin(connection.ping()).await?;
        }
        Ok(())
    }
}

/// A pooled connection, held for one repository call.
///
/// [`release`](Self::release) it when the call has finished with it: it goes back to the
/// pool as it is. Dropped without that, its state is unknown — a response half read, a
/// transaction left open — so the connection is closed instead: the database ends what
/// was open (rolling back, releasing locks) as soon as it sees the connection go, and the
/// pool opens a new one when it needs one.
pub struct Lease<DB: sqlx::Database> {
    /// Always `Some` until `drop`, which may take the connection out of the pool.
    object: Option<Object<ConnectionManager<DB>>>,
    released: bool,
}

impl<DB: sqlx::Database> Lease<DB> {
    /// Holds `object` until it is released or dropped.
    pub fn new(object: Object<ConnectionManager<DB>>) -> Self {
        Self { object: Some(object), released: false }
    }

    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut DB::Connection {
        match &mut self.object {
            Some(object) => object,
            None => unreachable!("only `drop` empties a lease"),
        }
    }

    /// Gives the connection back to the pool for the next user.
    pub fn release(mut self) {
        self.released = true;
    }
}

impl<DB: sqlx::Database> Drop for Lease<DB> {
    fn drop(&mut self) {
        if !self.released
            && let Some(object) = self.object.take()
        {
            // Out of the pool; dropping the connection closes it.
            drop(Object::take(object));
        }
    }
}
