//! How diesel moves [`DbUuid`] and [`DbTime`] in and out of each database: natively on
//! Postgres, as the text forms of `storage.rs` on SQLite.

use crate::storage::{DbTime, DbUuid};
use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Text, Timestamptz, Uuid as UuidSql};
use diesel::sqlite::{Sqlite, SqliteValue};
use uuid::Uuid;

/// Implements diesel's two value traits for a newtype on both databases.
macro_rules! stored_as {
    ($newtype:ident, postgres: $native:ty as $sql:ty, sqlite: text) => {
        impl ToSql<$sql, Pg> for $newtype {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <$native as ToSql<$sql, Pg>>::to_sql(&self.0, out)
            }
        }

        impl FromSql<$sql, Pg> for $newtype {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                <$native as FromSql<$sql, Pg>>::from_sql(value).map(Self)
            }
        }

        impl ToSql<Text, Sqlite> for $newtype {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.to_sqlite());
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Sqlite> for $newtype {
            fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
                Ok(Self::from_sqlite(&text)?)
            }
        }
    };
}

stored_as!(DbUuid, postgres: Uuid as UuidSql, sqlite: text);
stored_as!(DbTime, postgres: DateTime<Utc> as Timestamptz, sqlite: text);
