//! {% capture rust %}How sqlx moves [`DbUuid`] and [`DbTime`] in and out of the database:
//~ {%- if database == "both" %}
//! natively on Postgres, as the text forms of `storage.rs` on SQLite.
//~ {%- elsif database == "postgres" %}
//+ //! natively.
//~ {%- else %}
//+ //! as the text forms of `storage.rs`.
//~ {%- endif %}
//! Each `impl` is stamped out for both newtypes by `#[duplicate_item]`.

use crate::storage::{DbTime, DbUuid};
use duplicate::duplicate_item;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Decode, Encode, Type};
//~ {%- if database != "sqlite" %}

#[cfg(feature = "postgres")]
use sqlx::{
    Postgres,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
};
//~ {%- endif %}{% if database != "postgres" %}

#[cfg(feature = "sqlite")]
use sqlx::{
    Sqlite,
    sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef},
};
//~ {%- endif %}{% if database != "sqlite" %}

#[duplicate_item(Stored Native; [DbUuid] [uuid::Uuid]; [DbTime] [chrono::DateTime<chrono::Utc>])]
#[cfg(feature = "postgres")]
impl Type<Postgres> for Stored {
    fn type_info() -> PgTypeInfo {
        <Native as Type<Postgres>>::type_info()
    }
}

#[duplicate_item(Stored; [DbUuid]; [DbTime])]
#[cfg(feature = "postgres")]
impl Encode<'_, Postgres> for Stored {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

#[duplicate_item(Stored Native; [DbUuid] [uuid::Uuid]; [DbTime] [chrono::DateTime<chrono::Utc>])]
#[cfg(feature = "postgres")]
impl<'r> Decode<'r, Postgres> for Stored {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Native as Decode<Postgres>>::decode(value).map(Self)
    }
}
//~ {%- endif %}{% if database != "postgres" %}

#[duplicate_item(Stored; [DbUuid]; [DbTime])]
#[cfg(feature = "sqlite")]
impl Type<Sqlite> for Stored {
    fn type_info() -> SqliteTypeInfo {
        <&str as Type<Sqlite>>::type_info()
    }
}

#[duplicate_item(Stored; [DbUuid]; [DbTime])]
#[cfg(feature = "sqlite")]
impl Encode<'_, Sqlite> for Stored {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.to_sqlite(), buf)
    }
}

#[duplicate_item(Stored; [DbUuid]; [DbTime])]
#[cfg(feature = "sqlite")]
impl<'r> Decode<'r, Sqlite> for Stored {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::from_sqlite(<&str as Decode<Sqlite>>::decode(value)?)?)
    }
}
//~ {%- endif %}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
