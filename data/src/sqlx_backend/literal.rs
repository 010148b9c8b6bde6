//! Values written into Postgres SQL text as literals, for statements sent in one round
//! trip behind a transaction pooler (see [`Statement`](super::Statement)).
//!
//! Each type has one small encoder, and every literal carries an explicit cast, so the
//! server reads it as the type a bound parameter would have had. Text goes between single
//! quotes with each quote doubled — the SQL standard's only escape, exact while the
//! server's `standard_conforming_strings` is on, which every connection checks as it opens
//! ([`check_standard_strings`]). Backslashes, `$n`, dollar quotes and comment markers
//! inside the quotes are plain characters then. A NUL, which no Postgres text can hold,
//! is refused rather than written.

use crate::storage::{DbTime, DbUuid};
use std::fmt::Write;

/// A value that can be written into Postgres SQL text.
pub trait Literal {
    /// Appends the Postgres type the literal is cast to, as a bound parameter would be
    /// typed (also the parameter's type where the statement is prepared by name).
    fn write_type(sql: &mut String);

    /// Appends the literal, with its cast, to `sql`.
    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError>;
}

/// A value that no literal can carry.
#[derive(Debug, thiserror::Error)]
#[error("a text value holds a NUL character, which Postgres text cannot store")]
pub struct LiteralError;

/// Appends `text` as a quoted string constant, without a cast.
fn quote(text: &str, sql: &mut String) -> Result<(), LiteralError> {
    if text.contains('\0') {
        return Err(LiteralError);
    }
    sql.reserve(text.len() + 2);
    sql.push('\'');
    for piece in text.split_inclusive('\'') {
        sql.push_str(piece);
        if piece.ends_with('\'') {
            sql.push('\'');
        }
    }
    sql.push('\'');
    Ok(())
}

/// Appends `text` quoted and cast to `T`'s type.
fn quote_as<T: Literal + ?Sized>(text: &str, sql: &mut String) -> Result<(), LiteralError> {
    quote(text, sql)?;
    sql.push_str("::");
    T::write_type(sql);
    Ok(())
}

impl Literal for str {
    fn write_type(sql: &mut String) {
        sql.push_str("text");
    }

    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
        quote_as::<Self>(self, sql)
    }
}

impl Literal for String {
    fn write_type(sql: &mut String) {
        str::write_type(sql);
    }

    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
        self.as_str().write_literal(sql)
    }
}

impl<T: Literal + ?Sized> Literal for &T {
    fn write_type(sql: &mut String) {
        T::write_type(sql);
    }

    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
        (**self).write_literal(sql)
    }
}

/// Integers and booleans are quoted as the server prints them, then cast (quoted, so
/// that the smallest integer is not read as the negation of one too large).
macro_rules! plain_literal {
    ($($rust:ty => $sql_type:literal),* $(,)?) => {$(
        impl Literal for $rust {
            fn write_type(sql: &mut String) {
                sql.push_str($sql_type);
            }

            fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
                // Writing to a String cannot fail.
                let _ = write!(sql, "'{self}'::{}", $sql_type);
                Ok(())
            }
        }
    )*};
}

plain_literal!(i32 => "int4", i64 => "int8", bool => "bool");

impl Literal for DbUuid {
    fn write_type(sql: &mut String) {
        sql.push_str("uuid");
    }

    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
        let mut buffer = uuid::Uuid::encode_buffer();
        quote_as::<Self>(self.0.hyphenated().encode_lower(&mut buffer), sql)
    }
}

impl Literal for DbTime {
    fn write_type(sql: &mut String) {
        sql.push_str("timestamptz");
    }

    /// RFC 3339 in UTC to the microsecond, Postgres' own precision.
    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
        quote_as::<Self>(&self.0.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), sql)
    }
}

impl<T: Literal> Literal for Option<T> {
    fn write_type(sql: &mut String) {
        T::write_type(sql);
    }

    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
        match self {
            Some(value) => value.write_literal(sql),
            None => {
                sql.push_str("NULL::");
                Self::write_type(sql);
                Ok(())
            }
        }
    }
}

/// An array of `T` (the items of an order, one array per column): `ARRAY[…]::T[]`.
impl<T: Literal> Literal for Vec<T> {
    fn write_type(sql: &mut String) {
        T::write_type(sql);
        sql.push_str("[]");
    }

    fn write_literal(&self, sql: &mut String) -> Result<(), LiteralError> {
        sql.push_str("ARRAY[");
        for (i, value) in self.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            value.write_literal(sql)?;
        }
        sql.push_str("]::");
        Self::write_type(sql);
        Ok(())
    }
}

#[cfg(feature = "postgres")]
/// Refuses a connection whose server reads backslashes in string constants as escapes:
/// there, [`quote`] would not be exact. On by default since Postgres 9.1; this only fails
/// on a server (or role) configured back to the old behaviour.
pub async fn check_standard_strings(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    use sqlx::{Executor, Row};
    // A simple query: one round trip, which a pooler cannot split.
    let row = conn.fetch_one(sqlx::raw_sql("SHOW standard_conforming_strings")).await?;
    if row.try_get::<&str, _>(0)? == "on" {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            "standard_conforming_strings is off: values cannot be written into SQL text safely".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(value: impl Literal) -> String {
        let mut sql = String::new();
        value.write_literal(&mut sql).unwrap();
        sql
    }

    #[test]
    fn text_doubles_its_quotes_and_nothing_else() {
        assert_eq!(literal("latte"), "'latte'::text");
        assert_eq!(literal("it's"), "'it''s'::text");
        assert_eq!(literal("''"), "''''''::text");
        assert_eq!(literal(r"a\'; DROP TABLE orders; --"), r"'a\''; DROP TABLE orders; --'::text");
        assert_eq!(literal("$1 $$x$$ /* */"), "'$1 $$x$$ /* */'::text");
        assert!("a\0b".write_literal(&mut String::new()).is_err());
    }

    #[test]
    fn every_type_carries_its_cast() {
        assert_eq!(literal(i64::MIN), "'-9223372036854775808'::int8");
        assert_eq!(literal(3_i32), "'3'::int4");
        assert_eq!(literal(Some(true)), "'true'::bool");
        assert_eq!(literal(None::<bool>), "NULL::bool");
        assert_eq!(literal(vec!["a", "b'c"]), "ARRAY['a'::text,'b''c'::text]::text[]");
        assert_eq!(literal(Vec::<i64>::new()), "ARRAY[]::int8[]");
        assert_eq!(literal(None::<Vec<i64>>), "NULL::int8[]");
        let id = uuid::Uuid::nil();
        assert_eq!(literal(DbUuid(id)), "'00000000-0000-0000-0000-000000000000'::uuid");
        let time = chrono::DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap();
        assert_eq!(literal(DbTime(time)), "'2023-11-14T22:13:20.000001Z'::timestamptz");
    }
}
