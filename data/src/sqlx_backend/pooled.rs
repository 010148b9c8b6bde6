//! How a statement runs behind a transaction pooler: one round trip, planned once per
//! server connection.
//!
//! The pooler hands each transaction to whichever server connection is free, so nothing
//! sqlx keeps per connection can be relied on, and sqlx's unnamed statements take two
//! round trips that the pooler may split. So the values are written into the text as
//! literals ([`literal`](super::literal)) and each statement goes as one simple query.
//!
//! Sent as its own text every time, a statement would be parsed and planned on every run,
//! which is most of what the server spends on a short query. So a statement whose text is
//! a constant is prepared on the server connection under a name made from that text
//! (`PREPARE pooled_<hash>(types) AS …`) and run as `EXECUTE pooled_<hash>(values)`: every
//! instance of the service, on any server connection, finds it by the same name, and
//! prepares it where it is missing. What the server answers decides the next try
//! ([`Attempt::after`]); each failed try ran nothing, so a write is never done twice.
//!
//! Two kinds of statement go as plain text instead: those built per request (lists of
//! versions: one text per length, which kept on every server connection would let requests
//! fill the server's memory), and those inside a transaction (a failed `EXECUTE` would
//! abort it).

use super::classify;
use app_service::RepositoryError;
use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Either, Executor};
use std::fmt::Write;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A statement with its values written as literals.
pub(super) struct Inline {
    /// SQL whose placeholders stand for `literals` (`$1` for the first).
    pub(super) sql: String,
    /// The values, each written with its cast (`'latte'::text`).
    pub(super) literals: Vec<String>,
    /// Whether `sql` is one constant (not built per request) that `PREPARE` takes: only
    /// such are prepared.
    pub(super) preparable: bool,
}

impl Inline {
    /// `sql`, a constant, and no values yet.
    pub(super) fn new(sql: &'static str) -> Self {
        // What PREPARE takes: a query or a data-modifying statement, not a utility one.
        let first = sql.split_whitespace().next().unwrap_or_default();
        let preparable = ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES"]
            .iter()
            .any(|keyword| first.eq_ignore_ascii_case(keyword));
        Self { sql: sql.to_owned(), literals: Vec::new(), preparable }
    }

    /// Appends `sql` to the text, which is then built per request.
    pub(super) fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
        self.preparable = false;
    }
}

/// One way of sending an [`Inline`] statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// The text with the values in place of its placeholders.
    Plain,
    /// `EXECUTE name(values)`, prepared on this server connection before.
    Execute,
    /// `PREPARE name(types) AS text; EXECUTE name(values)`.
    Prepare,
    /// `DEALLOCATE name; PREPARE …; EXECUTE …`, for one prepared before its tables changed.
    Replace,
}

/// Tries by name before the statement goes as plain text, which always works.
const NAMED_TRIES: u32 = 3;

impl Attempt {
    /// What to send after `self` failed with `error`; `None` when the error is the
    /// statement's own (a constraint, a timeout) and goes to the caller. Each error
    /// answered here stops the query before anything ran.
    fn after(self, error: &sqlx::Error) -> Option<Self> {
        let code = error.as_database_error()?.code()?;
        match (self, code.as_ref()) {
            // invalid_sql_statement_name: this server connection has not met it.
            (Self::Execute | Self::Replace, "26000") => Some(Self::Prepare),
            // duplicate_prepared_statement: this try reached a server connection that has.
            (Self::Prepare, "42P05") => Some(Self::Execute),
            // "cached plan must not change result type": a migration changed its tables.
            (Self::Execute, "0A000") => Some(Self::Replace),
            // The text cannot be prepared as it is (a parameter whose type the text does not
            // settle): it goes as plain text, which reports the error if it is the text's own.
            (Self::Prepare | Self::Replace, code) if code.starts_with("42") => Some(Self::Plain),
            _ => None,
        }
    }
}

impl Inline {
    /// The statement's text for `attempt`.
    fn text(&self, attempt: Attempt) -> Result<String, &'static str> {
        if attempt == Attempt::Plain {
            return inlined(&self.sql, &self.literals);
        }
        let name = self.name()?;
        let values: usize = self.literals.iter().map(|literal| literal.len() + 1).sum();
        let mut text = String::with_capacity(self.sql.len() + values + 96);
        if attempt == Attempt::Replace {
            let _ = write!(text, "DEALLOCATE {name}; ");
        }
        if attempt != Attempt::Execute {
            let _ = write!(text, "PREPARE {name}");
            list(&mut text, self.literals.iter().map(|literal| cast_of(literal).unwrap_or_default()));
            let _ = write!(text, " AS {}; ", self.sql);
        }
        let _ = write!(text, "EXECUTE {name}");
        list(&mut text, self.literals.iter().map(String::as_str));
        Ok(text)
    }

    /// The name it is prepared under: a hash of its text and its values' types, so the
    /// same statement has the same name in every instance, and different ones differ (64
    /// bits: a clash is not a practical concern).
    fn name(&self) -> Result<Name, &'static str> {
        let mut hasher = DefaultHasher::new();
        self.sql.hash(&mut hasher);
        for literal in &self.literals {
            cast_of(literal).ok_or("a literal without its cast")?.hash(&mut hasher);
        }
        Ok(Name(hasher.finish()))
    }
}

/// A prepared statement's name, written where it is used (no string of its own).
#[derive(Debug, Clone, Copy)]
struct Name(u64);

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pooled_{:016x}", self.0)
    }
}

/// The type a literal is cast to: every literal ends with its cast (`…::text`), and no
/// type name holds `::`.
fn cast_of(literal: &str) -> Option<&str> {
    literal.rsplit_once("::").map(|(_, cast)| cast)
}

/// Appends `(a,b,…)`, or nothing for no items (`EXECUTE name()` is not SQL).
fn list<'a>(text: &mut String, items: impl Iterator<Item = &'a str>) {
    let mut items = items.peekable();
    if items.peek().is_none() {
        return;
    }
    text.push('(');
    for (i, item) in items.enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(item);
    }
    text.push(')');
}

/// Runs `statement` on `conn` (a transaction's, if `in_transaction`): its rows, and what
/// the server reports of it.
pub(super) async fn run<DB>(
    conn: &mut DB::Connection,
    statement: &Inline,
    in_transaction: bool,
) -> Result<(Vec<DB::Row>, DB::QueryResult), RepositoryError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut attempt = if statement.preparable && !in_transaction { Attempt::Execute } else { Attempt::Plain };
    let mut tries = 0;
    loop {
        let text = statement.text(attempt).map_err(|why| RepositoryError::Internal(why.into()))?;
        let error = match results::<DB>(&mut *conn, text).await {
            Ok(done) => return Ok(done),
            Err(error) => error,
        };
        tries += 1;
        attempt = match attempt.after(&error) {
            Some(next) if tries < NAMED_TRIES => next,
            Some(_) => Attempt::Plain,
            None => return Err(classify(error)),
        };
    }
}

/// Every row `text` returns, and what the server reports of its statements.
async fn results<DB>(conn: &mut DB::Connection, text: String) -> Result<(Vec<DB::Row>, DB::QueryResult), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut rows = Vec::new();
    let mut done = DB::QueryResult::default();
    let mut results = sqlx::raw_sql(AssertSqlSafe(text)).fetch_many(conn);
    while let Some(result) = results.try_next().await? {
        match result {
            Either::Left(reported) => done.extend(Some(reported)),
            Either::Right(row) => rows.push(row),
        }
    }
    Ok((rows, done))
}

/// `sql` with each placeholder `$n` replaced by `literals[n - 1]`. The statements' own SQL
/// holds `$` only in placeholders; the literals are never scanned, so a `$` in a value
/// stays where it is.
fn inlined(sql: &str, literals: &[String]) -> Result<String, &'static str> {
    let mut text = String::with_capacity(sql.len() + literals.iter().map(String::len).sum::<usize>());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        text.push_str(&rest[..at]);
        let digits = rest[at + 1..].find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len() - at - 1);
        let number: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| "a `$` that is no placeholder")?;
        let value = number.checked_sub(1).and_then(|i| literals.get(i)).ok_or("a placeholder with no value")?;
        text.push_str(value);
        rest = &rest[at + 1 + digits..];
    }
    text.push_str(rest);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sql: &str, literals: &[&str]) -> Inline {
        Inline { sql: sql.into(), literals: literals.iter().map(|l| (*l).to_owned()).collect(), preparable: true }
    }

    #[test]
    fn placeholders_take_their_values_in_any_order_and_values_are_not_rescanned() {
        let literals = ["'a$2'::text".to_owned(), "'b'::text".to_owned()];
        assert_eq!(
            inlined("$2 = $1 OR $2 IS NULL", &literals).unwrap(),
            "'b'::text = 'a$2'::text OR 'b'::text IS NULL"
        );
        assert_eq!(inlined("LIMIT $10", &literals), Err("a placeholder with no value"));
        assert_eq!(inlined("$x", &literals), Err("a `$` that is no placeholder"));
    }

    #[test]
    fn each_attempt_sends_the_values_after_the_name_and_the_types_with_the_text() {
        let select = statement("SELECT $1 || $2", &["'a::b'::text", "ARRAY['x'::text]::text[]"]);
        let name = select.name().unwrap().to_string();
        assert!(name.starts_with("pooled_") && name.len() == "pooled_".len() + 16, "{name}");
        let execute = format!("EXECUTE {name}('a::b'::text,ARRAY['x'::text]::text[])");
        assert_eq!(select.text(Attempt::Execute).unwrap(), execute);
        let prepare = format!("PREPARE {name}(text,text[]) AS SELECT $1 || $2; {execute}");
        assert_eq!(select.text(Attempt::Prepare).unwrap(), prepare);
        assert_eq!(select.text(Attempt::Replace).unwrap(), format!("DEALLOCATE {name}; {prepare}"));
        assert_eq!(select.text(Attempt::Plain).unwrap(), "SELECT 'a::b'::text || ARRAY['x'::text]::text[]");

        let bare = statement("SELECT 1", &[]);
        assert_eq!(
            bare.text(Attempt::Prepare).unwrap(),
            format!("PREPARE {0} AS SELECT 1; EXECUTE {0}", bare.name().unwrap())
        );
    }

    #[test]
    fn queries_and_writes_are_prepared_but_neither_utility_statements_nor_built_ones() {
        assert!(Inline::new("SELECT 1").preparable);
        assert!(Inline::new("  with o AS (INSERT INTO t VALUES (1)) SELECT 1").preparable);
        assert!(!Inline::new("DEALLOCATE ALL").preparable);
        let mut built = Inline::new("UPDATE t SET a = 1 WHERE id = $1");
        built.push(" AND version IN ($2)");
        assert!(!built.preparable);
    }

    #[test]
    fn the_name_follows_the_text_and_the_types_not_the_values() {
        let name = |sql, literal| statement(sql, &[literal]).name().unwrap().0;
        assert_eq!(name("SELECT $1", "'a'::text"), name("SELECT $1", "'b'::text"));
        assert_ne!(name("SELECT $1", "'a'::text"), name("SELECT $1", "'1'::int8"));
        assert_ne!(name("SELECT $1", "'a'::text"), name("SELECT $1 ", "'a'::text"));
    }
}
