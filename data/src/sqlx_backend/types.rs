//! How sqlx moves [`DbUuid`] and [`DbTime`] in and out of each database: natively on
//! Postgres, as the text forms of `storage.rs` on SQLite.

use crate::storage::{DbTime, DbUuid};
use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// Implements sqlx's three value traits for a newtype on both databases.
macro_rules! stored_as {
    ($newtype:ident, postgres: $native:ty, sqlite: text) => {
        impl Type<Postgres> for $newtype {
            fn type_info() -> PgTypeInfo {
                <$native as Type<Postgres>>::type_info()
            }
        }

        impl Encode<'_, Postgres> for $newtype {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                Encode::<Postgres>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $newtype {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                <$native as Decode<Postgres>>::decode(value).map(Self)
            }
        }

        impl Type<Sqlite> for $newtype {
            fn type_info() -> SqliteTypeInfo {
                <&str as Type<Sqlite>>::type_info()
            }
        }

        impl Encode<'_, Sqlite> for $newtype {
            fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
                Encode::<Sqlite>::encode(self.to_sqlite(), buf)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $newtype {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(Self::from_sqlite(<&str as Decode<Sqlite>>::decode(value)?)?)
            }
        }
    };
}

stored_as!(DbUuid, postgres: Uuid, sqlite: text);
stored_as!(DbTime, postgres: DateTime<Utc>, sqlite: text);
