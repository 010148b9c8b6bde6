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
//! ([`Attempt::after`]). A simple query is one implicit transaction, so whatever a failed
//! try did was rolled back: a write is never done twice.
//!
//! Three kinds of statement go as plain text instead: those built per request (lists of
//! versions: one text per length, which kept on every server connection would let requests
//! fill the server's memory), those inside a transaction (a failed `EXECUTE` would abort
//! it), and those `PREPARE` does not take (utility statements, several statements).
//!
//! What the server keeps and logs: `pg_prepared_statements` shows, per server connection,
//! the query that prepared the statement, values of that first run included; and each miss
//! is an error (`prepared statement "pooled_…" does not exist`) that Postgres logs with the
//! query text, as it logs any failing statement, unless `log_min_error_statement` is raised
//! for the service's role.

use super::classify;
use super::literal::{Literal, LiteralError};
use app_service::RepositoryError;
use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Either, Executor};
use std::fmt::Write;
use std::hash::Hasher;

/// A statement with its values written as literals.
pub(super) struct Inline {
    /// SQL whose placeholders stand for `literals` (`$1` for the first).
    sql: String,
    /// The values, each written with its cast (`'latte'::text`).
    literals: Vec<String>,
    /// The values' types, comma-separated, from their Rust types (never from the values).
    types: String,
    /// Whether `sql` is one constant (not built per request) that `PREPARE` takes: only
    /// such are prepared.
    preparable: bool,
}

impl Inline {
    /// `sql`, a constant, and no values yet.
    pub(super) fn new(sql: &'static str) -> Self {
        // What PREPARE takes: one query or data-modifying statement, not a utility one.
        let first = sql.split_whitespace().next().unwrap_or_default();
        let preparable = !sql.contains(';')
            && ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES"]
                .iter()
                .any(|keyword| first.eq_ignore_ascii_case(keyword));
        Self { sql: sql.to_owned(), literals: Vec::new(), types: String::new(), preparable }
    }

    /// The text with its placeholders, never its values.
    pub(super) fn sql(&self) -> &str {
        &self.sql
    }

    /// Appends `value` to the values.
    pub(super) fn bind<T: Literal>(&mut self, value: &T) -> Result<(), LiteralError> {
        let mut literal = String::new();
        value.write_literal(&mut literal)?;
        self.literals.push(literal);
        if !self.types.is_empty() {
            self.types.push(',');
        }
        T::write_type(&mut self.types);
        Ok(())
    }

    /// Appends `sql` to the text, which is then built per request.
    pub(super) fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
        self.preparable = false;
    }

    /// Appends a placeholder for `value` to the text, which is then built per request.
    pub(super) fn push_bind<T: Literal>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.bind(value)?;
        let _ = write!(self.sql, "${}", self.literals.len());
        self.preparable = false;
        Ok(())
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
    /// What to send after `self`, the `tries`-th, failed with `error`; `None` when the
    /// error is the statement's own (a constraint, a timeout) and goes to the caller.
    fn after(self, error: &sqlx::Error, tries: u32) -> Option<Self> {
        self.after_code(&error.as_database_error()?.code()?, tries)
    }

    fn after_code(self, code: &str, tries: u32) -> Option<Self> {
        let next = match (self, code) {
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
        };
        // Plain text always runs; a pooler handing each try a different server connection
        // cannot keep a statement from running.
        next.map(|next| if tries < NAMED_TRIES { next } else { Self::Plain })
    }
}

impl Inline {
    /// The statement's text for `attempt`.
    fn text(&self, attempt: Attempt) -> Result<String, &'static str> {
        if attempt == Attempt::Plain {
            return inlined(&self.sql, &self.literals);
        }
        let name = self.name();
        let values: usize = self.literals.iter().map(|literal| literal.len() + 1).sum();
        let prepare = if attempt == Attempt::Execute { 0 } else { self.sql.len() + self.types.len() + 96 };
        let mut text = String::with_capacity(values + prepare + 48);
        if attempt == Attempt::Replace {
            let _ = write!(text, "DEALLOCATE {name}; ");
        }
        if attempt != Attempt::Execute {
            let _ = write!(text, "PREPARE {name}");
            if !self.types.is_empty() {
                let _ = write!(text, "({})", self.types);
            }
            // On a line of its own, so that a comment closing the text ends before `;`.
            let _ = write!(text, " AS {}\n; ", self.sql);
        }
        let _ = write!(text, "EXECUTE {name}");
        if !self.literals.is_empty() {
            text.push('(');
            for (i, literal) in self.literals.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(literal);
            }
            text.push(')');
        }
        Ok(text)
    }

    /// The name it is prepared under: a hash of its text and its values' types (FNV-1a,
    /// which is the same in every build), so the same statement has the same name in
    /// every instance and version of the service, and different ones differ (64 bits: a
    /// clash is not a practical concern).
    fn name(&self) -> Name {
        let mut hasher = fnv::FnvHasher::default();
        hasher.write(self.sql.as_bytes());
        hasher.write(b"\0");
        hasher.write(self.types.as_bytes());
        Name(hasher.finish())
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
        attempt = match attempt.after(&error, tries) {
            Some(next) => next,
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

    fn select(sql: &'static str) -> Inline {
        let mut statement = Inline::new(sql);
        statement.bind(&"a::b").unwrap();
        statement.bind(&vec!["x"]).unwrap();
        statement
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
        let select = select("SELECT $1 || $2 -- a comment");
        let name = select.name().to_string();
        assert!(name.starts_with("pooled_") && name.len() == "pooled_".len() + 16, "{name}");
        let execute = format!("EXECUTE {name}('a::b'::text,ARRAY['x'::text]::text[])");
        assert_eq!(select.text(Attempt::Execute).unwrap(), execute);
        let prepare = format!("PREPARE {name}(text,text[]) AS SELECT $1 || $2 -- a comment\n; {execute}");
        assert_eq!(select.text(Attempt::Prepare).unwrap(), prepare);
        assert_eq!(select.text(Attempt::Replace).unwrap(), format!("DEALLOCATE {name}; {prepare}"));
        let plain = "SELECT 'a::b'::text || ARRAY['x'::text]::text[] -- a comment";
        assert_eq!(select.text(Attempt::Plain).unwrap(), plain);

        let bare = Inline::new("SELECT 1");
        assert_eq!(
            bare.text(Attempt::Prepare).unwrap(),
            format!("PREPARE {0} AS SELECT 1\n; EXECUTE {0}", bare.name())
        );
    }

    #[test]
    fn one_query_or_write_is_prepared_but_neither_utility_statements_nor_built_or_several_ones() {
        assert!(Inline::new("SELECT 1").preparable);
        assert!(Inline::new("  with o AS (INSERT INTO t VALUES (1)) SELECT 1").preparable);
        assert!(!Inline::new("DEALLOCATE ALL").preparable);
        assert!(!Inline::new("UPDATE t SET a = 1; UPDATE u SET b = 2").preparable);
        let mut built = Inline::new("UPDATE t SET a = 1 WHERE id = $1");
        built.bind(&1_i64).unwrap();
        built.push(" AND version IN (");
        built.push_bind(&2_i64).unwrap();
        built.push(")");
        assert!(!built.preparable);
        assert_eq!(
            built.text(Attempt::Plain).unwrap(),
            "UPDATE t SET a = 1 WHERE id = '1'::int8 AND version IN ('2'::int8)"
        );
    }

    #[test]
    fn the_name_follows_the_text_and_the_types_not_the_values() {
        let name = |sql: &'static str, value: &dyn Fn(&mut Inline)| {
            let mut statement = Inline::new(sql);
            value(&mut statement);
            statement.name().0
        };
        let text = |v: &'static str| move |s: &mut Inline| s.bind(&v).unwrap();
        assert_eq!(name("SELECT $1", &text("a")), name("SELECT $1", &text("b")));
        assert_ne!(name("SELECT $1", &text("a")), name("SELECT $1", &|s| s.bind(&1_i64).unwrap()));
        assert_ne!(name("SELECT $1", &text("a")), name("SELECT $1 ", &text("a")));
        // FNV-1a (64 bits) of the text, a NUL and the types, as the algorithm defines it:
        // the same in every build.
        assert_eq!(name("SELECT 1", &|_| ()), 0x72d1_4ae7_c77f_e736_u64);
    }

    #[test]
    fn each_answer_of_the_server_leads_to_the_next_try_or_to_the_caller() {
        use Attempt::*;
        let cases = [
            (Execute, "26000", Some(Prepare)),
            (Replace, "26000", Some(Prepare)),
            (Prepare, "42P05", Some(Execute)),
            (Execute, "0A000", Some(Replace)),
            (Prepare, "42601", Some(Plain)),
            (Replace, "42P18", Some(Plain)),
            (Execute, "23505", None),
            (Prepare, "57014", None),
            (Execute, "42601", None),
            (Plain, "26000", None),
            (Plain, "42601", None),
        ];
        for (attempt, code, next) in cases {
            assert_eq!(attempt.after_code(code, 1), next, "{attempt:?} failing with {code}");
        }
        assert_eq!(Execute.after_code("26000", NAMED_TRIES), Some(Plain));
        assert_eq!(Prepare.after_code("23505", NAMED_TRIES), None);
    }
}
