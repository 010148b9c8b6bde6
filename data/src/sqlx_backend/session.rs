//! How a repository runs its [`Statement`]s: on a [`Session`] (reads and single-statement
//! writes) or a [`WriteTransaction`], through the three methods they share —
//! [`fetch_all`](Session::fetch_all), [`fetch_optional`](Session::fetch_optional) and
//! [`execute`](Session::execute). Each runs the statement in the form its connection
//! runs best and sorts its error with [`classify`], so a repository method is its SQL, its
//! binds and its result. Each runs in a span of its own for traces ([`crate::trace`]).

use super::classify;
use super::lease::Lease;
use super::pooled;
use super::statement::{Form, Statement};
use crate::trace;
use crate::write_gate::Turn;
use app_service::RepositoryError;
use sqlx::{Executor, FromRow, IntoArguments};

/// Runs one of the transaction statements (`BEGIN`, `COMMIT`, `ROLLBACK`) on `conn`.
pub(super) async fn run<DB>(conn: &mut DB::Connection, statement: &'static str) -> Result<(), RepositoryError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let span = trace::statement(system::<DB>(), || statement);
    trace::traced(span, async { conn.execute(sqlx::raw_sql(statement)).await.map(drop).map_err(classify) }).await
}

/// `db.system.name` of `DB`, for its spans.
pub(super) fn system<DB: sqlx::Database>() -> &'static str {
    trace::system_of(DB::NAME)
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

/// A connection for reads and single-statement writes. Dropped without
/// [`finish`](Self::finish), it closes its connection.
pub struct Session<DB: sqlx::Database> {
    lease: Lease<DB>,
    /// Whether a transaction is open on the connection (a [`WriteTransaction`]'s).
    in_transaction: bool,
}

impl<DB: sqlx::Database> Session<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    pub(super) fn new(lease: Lease<DB>) -> Self {
        Self { lease, in_transaction: false }
    }

    /// The connection itself, for what the methods below do not cover (a raw statement,
    /// a stream of rows). Its statements are not classified or prepared for you.
    pub fn conn(&mut self) -> &mut DB::Connection {
        self.lease.conn()
    }

    /// Every row of `statement`.
    pub async fn fetch_all<O>(&mut self, statement: Statement<DB>) -> Result<Vec<O>, RepositoryError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    {
        let span = trace::statement(system::<DB>(), || statement.sql());
        trace::traced(span, async move {
            let conn = self.lease.conn();
            let rows = match statement.form {
                Form::Bound { sql, arguments } => {
                    sqlx::query_with(sql, arguments).try_map(from_row).fetch_all(conn).await
                }
                Form::Built(mut builder) => builder.build().try_map(from_row).fetch_all(conn).await,
                Form::Inline(inline) => {
                    let (rows, _) = pooled::run::<DB>(conn, &inline, self.in_transaction).await?;
                    rows.iter().map(O::from_row).collect()
                }
                Form::Invalid(why) => return Err(invalid(why)),
            };
            rows.map_err(classify)
        })
        .await
    }

    /// The first row of `statement`, if there is one.
    pub async fn fetch_optional<O>(&mut self, statement: Statement<DB>) -> Result<Option<O>, RepositoryError>
    where
        O: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
    {
        let span = trace::statement(system::<DB>(), || statement.sql());
        trace::traced(span, async move {
            let conn = self.lease.conn();
            let row = match statement.form {
                Form::Bound { sql, arguments } => {
                    sqlx::query_with(sql, arguments).try_map(from_row).fetch_optional(conn).await
                }
                Form::Built(mut builder) => builder.build().try_map(from_row).fetch_optional(conn).await,
                Form::Inline(inline) => {
                    let (rows, _) = pooled::run::<DB>(conn, &inline, self.in_transaction).await?;
                    rows.first().map(O::from_row).transpose()
                }
                Form::Invalid(why) => return Err(invalid(why)),
            };
            row.map_err(classify)
        })
        .await
    }

    /// Runs `statement`; what the database reports of it (`rows_affected()`).
    pub async fn execute(&mut self, statement: Statement<DB>) -> Result<DB::QueryResult, RepositoryError> {
        let span = trace::statement(system::<DB>(), || statement.sql());
        trace::traced(span, async move {
            let conn = self.lease.conn();
            let done = match statement.form {
                Form::Bound { sql, arguments } => sqlx::query_with(sql, arguments).execute(conn).await,
                Form::Built(mut builder) => builder.build().execute(conn).await,
                Form::Inline(inline) => Ok(pooled::run::<DB>(conn, &inline, self.in_transaction).await?.1),
                Form::Invalid(why) => return Err(invalid(why)),
            };
            done.map_err(classify)
        })
        .await
    }

    /// Ends the session: gives the connection back to the pool.
    pub fn finish(self) {
        self.lease.release();
    }
}

fn from_row<R: sqlx::Row, O: for<'r> FromRow<'r, R>>(row: R) -> Result<O, sqlx::Error> {
    O::from_row(&row)
}

/// A statement that could not be made: a bug, or a value no literal can carry.
fn invalid(why: &'static str) -> RepositoryError {
    RepositoryError::Internal(why.into())
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
        begin: &'static str,
        turn: Turn<'db>,
    ) -> Result<Self, RepositoryError> {
        run(lease.conn(), begin).await?;
        Ok(Self { session: Session { lease, in_transaction: true }, _turn: turn })
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
