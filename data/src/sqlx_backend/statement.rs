//! [`Statement`]: a statement and its values, in the form its connection runs best.
//!
//! On a direct connection the values are bound as parameters and the statement is
//! prepared once per connection and cached by name: later runs are one round trip. Behind
//! a transaction pooler nothing may be kept by name, and sqlx runs an unnamed prepared
//! statement in two round trips (parse and describe, then bind and execute) that the pooler
//! may send to two different server connections. There the values are written into the
//! text as literals ([`literal`](super::literal), one encoder per type) and the statement
//! goes as one simple query, prepared once per server connection ([`pooled`](super::pooled)):
//! one round trip, no transaction around it.

use super::literal::{Literal, LiteralError};
use super::pooled::Inline;
use app_service::Precondition;
use sqlx::{Arguments, Encode, QueryBuilder, Type};

/// A statement and its values, made by [`SqlxDatabase::statement`](super::SqlxDatabase::statement)
/// (SQL with its own `$1`, `$2`… placeholders, then [`bind`](Self::bind) once per
/// placeholder, in order) or [`SqlxDatabase::building`](super::SqlxDatabase::building) (SQL
/// built in pieces with [`push`](Self::push) and [`push_bind`](Self::push_bind)); run by a
/// [`Session`](super::Session).
pub struct Statement<DB: sqlx::Database> {
    pub(super) form: Form<DB>,
}

pub(super) enum Form<DB: sqlx::Database> {
    /// SQL with its placeholders, the values bound as parameters (encoded as they come,
    /// in place).
    Bound { sql: &'static str, arguments: DB::Arguments },
    /// SQL built in pieces, the values bound as parameters.
    Built(QueryBuilder<DB>),
    /// SQL whose placeholders stand for values written as literals, run behind a pooler.
    Inline(Inline),
    /// A value that cannot be written as a literal (see [`LiteralError`]), or a method of
    /// the other way of making a statement: the statement fails when it runs.
    Invalid(&'static str),
}

impl<DB: sqlx::Database> Statement<DB> {
    pub(super) fn bound(sql: &'static str) -> Self
    where
        DB::Arguments: Default,
    {
        Self { form: Form::Bound { sql, arguments: DB::Arguments::default() } }
    }

    pub(super) fn built(start: &'static str) -> Self
    where
        DB::Arguments: Default,
    {
        Self { form: Form::Built(QueryBuilder::new(start)) }
    }

    pub(super) fn inline(sql: &'static str) -> Self {
        Self { form: Form::Inline(Inline::new(sql)) }
    }

    /// The text with its placeholders, never its values: what a trace shows of it.
    pub(super) fn sql(&self) -> std::borrow::Cow<'_, str> {
        match &self.form {
            Form::Bound { sql, .. } => (*sql).into(),
            Form::Built(builder) => builder.sql().as_str().to_owned().into(),
            Form::Inline(inline) => inline.sql().into(),
            Form::Invalid(_) => "".into(),
        }
    }

    /// Gives `value` to the next of the statement's own placeholders.
    pub fn bind<'t, T>(mut self, value: T) -> Self
    where
        T: Encode<'t, DB> + Type<DB> + Literal,
    {
        match &mut self.form {
            Form::Bound { arguments, .. } => {
                if arguments.add(value).is_err() {
                    self.form = Form::Invalid("a value that cannot be encoded");
                }
            }
            Form::Inline(inline) => {
                if let Err(LiteralError) = inline.bind(&value) {
                    self.form = Form::Invalid(NUL);
                }
            }
            Form::Built(_) => self.form = Form::Invalid("`bind` on a statement built with `push_bind`"),
            Form::Invalid(_) => {}
        }
        self
    }

    /// Appends `sql`, which holds no values, to a statement being built.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        match &mut self.form {
            Form::Built(builder) => {
                builder.push(sql);
            }
            Form::Inline(inline) => inline.push(sql),
            form @ Form::Bound { .. } => *form = Form::Invalid("`push` on a statement with its own placeholders"),
            Form::Invalid(_) => {}
        }
        self
    }

    /// Appends a placeholder for `value` to a statement being built.
    pub fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, DB> + Type<DB> + Literal,
    {
        match &mut self.form {
            Form::Built(builder) => {
                builder.push_bind(value);
            }
            Form::Inline(inline) => {
                if let Err(LiteralError) = inline.push_bind(&value) {
                    self.form = Form::Invalid(NUL);
                }
            }
            form @ Form::Bound { .. } => {
                *form = Form::Invalid("`push_bind` on a statement with its own placeholders");
            }
            Form::Invalid(_) => {}
        }
        self
    }
}

/// Appends ` AND version IN (…)` with `versions` bound to `statement`; with no versions,
/// a condition that holds for no row (`IN ()` is not SQL).
pub fn at_versions<DB: sqlx::Database>(statement: &mut Statement<DB>, versions: &[i64])
where
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if versions.is_empty() {
        statement.push(" AND 1 = 0");
        return;
    }
    statement.push(" AND version IN (");
    for (i, version) in versions.iter().enumerate() {
        statement.push(if i == 0 { "" } else { ", " }).push_bind(*version);
    }
    statement.push(")");
}

/// Appends the condition of `precondition` (` AND version IN (…)`, if it names
/// versions) to a statement being built: a conditional write's guard, checked in the same
/// statement as the write.
pub fn admit<DB: sqlx::Database>(statement: &mut Statement<DB>, precondition: &Precondition)
where
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(versions) = precondition.versions() {
        at_versions(statement, versions);
    }
}

const NUL: &str = "a text value holds a NUL character";
