//! How a repository runs its statements: on a [`Session`] (reads and single-statement
//! writes) or a [`WriteTransaction`], through the three methods they share —
//! [`fetch_all`](Session::fetch_all), [`fetch_optional`](Session::fetch_optional) and
//! [`execute`](Session::execute). Each prepares the statement as the connection allows
//! (named and cached, or unnamed behind a transaction pooler) and sorts its error with
//! [`classify`], so a repository method is its SQL, its binds and its result.

use super::classify;
use super::lease::Lease;
use crate::write_gate::Turn;
use app_service::RepositoryError;
use sqlx::database::HasStatementCache;
use sqlx::query::{Query, QueryAs};
use sqlx::{Executor, FromRow, IntoArguments};

/// A statement of database `DB` with its binds, from `sqlx::query`.
pub type Statement<'q, DB> = Query<'q, DB, <DB as sqlx::Database>::Arguments>;

/// A statement of database `DB` whose rows are read as `O`, from `sqlx::query_as`.
pub type StatementAs<'q, DB, O> = QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>;

/// Runs one of the transaction statements (`BEGIN`, `COMMIT`, `ROLLBACK`) on `conn`.
pub(super) async fn run<DB>(conn: &mut DB::Connection, statement: &'static str) -> Result<(), RepositoryError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    conn.execute(sqlx::raw_sql(statement)).await.map(drop).map_err(classify)
}

/// Runs `closing` (the end of a transaction), if there is one, then gives the connection
/// back to the pool. If `closing` fails, the lease is dropped, so the connection is closed.
pub(super) async fn release<DB>(mut lease: Lease<DB>, closing: Option<&'static str>) -> Result<(), RepositoryError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    if let Some(statement) = closing {
        run(lease.conn(), statement).await?;
    }
    lease.release();
    Ok(())
}

/// A connection for reads and single-statement writes: a pooled connection as it is, or,
/// behind a transaction pooler, a transaction on one (see [`Pooler`](crate::Pooler)).
/// Dropped without [`finish`](Self::finish), it closes its connection.
pub struct Session<DB: sqlx::Database> {
    lease: Lease<DB>,
    /// Whether statements are prepared once and cached by name on this connection.
    prepared: bool,
    /// Behind a transaction pooler: a transaction is open, so that a statement's two
    /// round trips reach one server connection.
    in_transaction: bool,
}

impl<DB: sqlx::Database + HasStatementCache> Session<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    /// A session on `lease`, opening a transaction on it if `in_transaction`.
    pub(super) async fn open(
        mut lease: Lease<DB>,
        prepared: bool,
        in_transaction: bool,
    ) -> Result<Self, RepositoryError> {
        if in_transaction {
            run(lease.conn(), "BEGIN").await?;
        }
        Ok(Self { lease, prepared, in_transaction })
    }

    /// The connection itself, for what the methods below do not cover (a raw statement,
    /// a stream of rows). Its statements are not classified or prepared for you.
    pub fn conn(&mut self) -> &mut DB::Connection {
        self.lease.conn()
    }

    /// Every row of `query`.
    pub async fn fetch_all<O>(&mut self, query: StatementAs<'_, DB, O>) -> Result<Vec<O>, RepositoryError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    {
        query.persistent(self.prepared).fetch_all(self.lease.conn()).await.map_err(classify)
    }

    /// The first row of `query`, if there is one.
    pub async fn fetch_optional<O>(&mut self, query: StatementAs<'_, DB, O>) -> Result<Option<O>, RepositoryError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    {
        query.persistent(self.prepared).fetch_optional(self.lease.conn()).await.map_err(classify)
    }

    /// Runs `query`; what the database reports of it (`rows_affected()`).
    pub async fn execute(&mut self, query: Statement<'_, DB>) -> Result<DB::QueryResult, RepositoryError> {
        query.persistent(self.prepared).execute(self.lease.conn()).await.map_err(classify)
    }

    /// Ends the session: commits the transaction, if there is one, and gives the
    /// connection back.
    pub async fn finish(self) -> Result<(), RepositoryError> {
        release(self.lease, self.in_transaction.then_some("COMMIT")).await
    }
}

/// A write transaction that holds the writer's turn until it ends or is dropped. Its
/// statements run as a [`Session`]'s do. Dropped without [`commit`](Self::commit) or
/// [`rollback`](Self::rollback), it closes its connection, and the database rolls the
/// transaction back.
pub struct WriteTransaction<'db, DB: sqlx::Database> {
    session: Session<DB>,
    _turn: Turn<'db>,
}

impl<'db, DB: sqlx::Database> WriteTransaction<'db, DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Opens a transaction with `begin` on `lease`, holding `turn` until it ends.
    pub(super) async fn begin(
        mut lease: Lease<DB>,
        prepared: bool,
        begin: &'static str,
        turn: Turn<'db>,
    ) -> Result<Self, RepositoryError> {
        run(lease.conn(), begin).await?;
        Ok(Self { session: Session { lease, prepared, in_transaction: true }, _turn: turn })
    }

    /// Commits, then gives the turn to the next writer.
    pub async fn commit(self) -> Result<(), RepositoryError> {
        release(self.session.lease, Some("COMMIT")).await
    }

    /// Rolls back what the transaction did (for a write that turned out not to apply),
    /// then gives the turn to the next writer.
    pub async fn rollback(self) -> Result<(), RepositoryError> {
        release(self.session.lease, Some("ROLLBACK")).await
    }
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTransaction<'_, DB> {
    type Target = Session<DB>;

    fn deref(&self) -> &Session<DB> {
        &self.session
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTransaction<'_, DB> {
    fn deref_mut(&mut self) -> &mut Session<DB> {
        &mut self.session
    }
}
