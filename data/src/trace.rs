//! Spans for traces: one per statement (named by its operation, with the SQL text, never
//! its values) and one per wait for a pooled connection, children of whatever span is
//! current — the request's, when the service runs them.
//!
//! They are made here, in the helpers every repository runs its statements through (sqlx:
//! `Session`, diesel: `DieselDatabase::read` and the connections' instrumentation), so a
//! repository method has nothing to say about tracing. Their target is [`TARGET`]: the
//! binary sends that target to the trace exporter only, never to the log, and when no
//! exporter is installed no subscriber wants them, so `info_span!` returns a disabled
//! span without computing a single field.

use app_service::RepositoryError;
use std::future::Future;
use tracing::{Instrument, Span};

/// The target of spans that exist for traces alone (not for the log).
pub const TARGET: &str = "otel";

/// Whether a subscriber wants the spans made here (a trace exporter is installed). One
/// check of a cached interest: as cheap as a disabled span.
pub fn wanted() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// `db.system.name` of a database, from sqlx's name for it.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
pub(crate) fn system_of(name: &str) -> &'static str {
    match name {
        "SQLite" => "sqlite",
        "PostgreSQL" => "postgresql",
        _ => "other_sql",
    }
}

/// The span of one statement, `sql()` its text as sent but without values (placeholders
/// stay); `sql` is called only when the span is wanted.
pub(crate) fn statement<S: AsRef<str>>(system: &'static str, sql: impl FnOnce() -> S) -> Span {
    let span = tracing::info_span!(
        target: TARGET,
        "db statement",
        otel.name = tracing::field::Empty,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        db.system.name = system,
        db.operation.name = tracing::field::Empty,
        db.query.text = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    if !span.is_disabled() {
        let sql = sql();
        let sql = sql.as_ref();
        span.record("otel.name", operation(sql));
        span.record("db.operation.name", operation(sql));
        span.record("db.query.text", sql);
    }
    span
}

/// The span of a wait for a pooled connection.
pub(crate) fn pool_wait(system: &'static str) -> Span {
    tracing::info_span!(
        target: TARGET,
        "db connection wait",
        otel.name = "acquire connection",
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        db.system.name = system,
        error.type = tracing::field::Empty,
    )
}

/// Runs `work` inside `span`, marking the span as failed if `work` fails.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
pub(crate) async fn traced<T>(
    span: Span,
    work: impl Future<Output = Result<T, RepositoryError>>,
) -> Result<T, RepositoryError> {
    let result = work.instrument(span.clone()).await;
    if let Err(error) = &result {
        failed(&span, kind(error));
    }
    result
}

/// Marks `span` as failed, `kind` saying how (`error.type`).
pub(crate) fn failed(span: &Span, kind: &'static str) {
    span.record("otel.status_code", "ERROR");
    span.record("error.type", kind);
}

/// `error.type` of a repository error: low-cardinality, never the message. "Try again
/// later" is told apart; any other failure of a statement is a database error.
pub(crate) fn kind(error: &RepositoryError) -> &'static str {
    if matches!(error, RepositoryError::Unavailable(_)) { "unavailable" } else { "database_error" }
}

/// diesel's side: a connection's instrumentation, which opens a [`statement`] span when
/// diesel starts a query and closes it when the query finishes. It runs on the query
/// thread, inside the caller's span that `DieselDatabase::read` carries there.
#[cfg(feature = "diesel")]
pub(crate) struct Statements {
    system: &'static str,
    open: Vec<Span>,
}

#[cfg(feature = "diesel")]
impl Statements {
    /// The instrumentation of a connection to `system`.
    pub(crate) fn new(system: &'static str) -> Self {
        Self { system, open: Vec::new() }
    }
}

#[cfg(feature = "diesel")]
impl diesel::connection::Instrumentation for Statements {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::connection::InstrumentationEvent as Event;
        match event {
            Event::StartQuery { query, .. } => {
                // Outside any span (the pool's check of an idle connection) a statement
                // would start a trace of its own: it gets none.
                let span = if !wanted() || Span::current().is_none() {
                    Span::none()
                } else {
                    // diesel writes the binds after the SQL; the values stay out of traces.
                    statement(self.system, || {
                        let mut text = query.to_string();
                        if let Some(binds) = text.find(" -- binds: ") {
                            text.truncate(binds);
                        }
                        text
                    })
                };
                self.open.push(span);
            }
            Event::FinishQuery { error, .. } => {
                if let Some(span) = self.open.pop()
                    && error.is_some()
                {
                    failed(&span, "database_error");
                }
            }
            _ => {}
        }
    }
}

/// The statement's operation: its first word, upper-cased as written (`SELECT`, `BEGIN`…);
/// for a `WITH` query the first `SELECT`, `INSERT`, `UPDATE` or `DELETE` in it, as the
/// semantic conventions ask (`WITH o AS (INSERT …) INSERT …` is an `INSERT`).
fn operation(sql: &str) -> &str {
    let mut words = sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|word| !word.is_empty());
    let first = words.next().unwrap_or_default();
    if !first.eq_ignore_ascii_case("WITH") {
        return first;
    }
    const MAIN: [&str; 4] = ["SELECT", "INSERT", "UPDATE", "DELETE"];
    words.find(|word| MAIN.iter().any(|main| word.eq_ignore_ascii_case(main))).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn the_operation_is_the_first_word() {
        assert_eq!(operation("SELECT id FROM orders WHERE id = $1"), "SELECT");
        assert_eq!(operation("\n  INSERT INTO orders VALUES ($1)"), "INSERT");
        assert_eq!(operation("COMMIT"), "COMMIT");
        assert_eq!(operation("BEGIN IMMEDIATE;"), "BEGIN");
        assert_eq!(operation(""), "");
        assert_eq!(operation("WITH o AS (INSERT INTO orders VALUES ($1) RETURNING id) INSERT INTO items"), "INSERT");
        assert_eq!(operation("WITH recent AS (SELECT 1) DELETE FROM orders"), "SELECT");
    }
}
