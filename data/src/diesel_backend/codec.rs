//! {% capture rust %}How diesel moves [`DbUuid`] and [`DbTime`] in and out of the database:
//~ {%- if database == "both" %}
//! natively on Postgres, as the text forms of `storage.rs` on SQLite.
//~ {%- elsif database == "postgres" %}
//+ //! natively.
//~ {%- else %}
//+ //! as the text forms of `storage.rs`.
//~ {%- endif %}
//! Each `impl` is stamped out for both newtypes by `#[duplicate_item]`.

use super::schema::sql_types::{StoredTime, StoredUuid};
use crate::storage::{DbTime, DbUuid};
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use duplicate::duplicate_item;
//~ {%- if database != "sqlite" %}

#[cfg(feature = "postgres")]
use diesel::pg::{Pg, PgValue};
//~ {%- endif %}{% if database != "postgres" %}

#[cfg(feature = "sqlite")]
use diesel::sqlite::{Sqlite, SqliteValue};
//~ {%- endif %}{% if database != "sqlite" %}

#[duplicate_item(
    Stored   SqlType      Native                           NativeSql;
    [DbUuid] [StoredUuid] [uuid::Uuid]                     [diesel::sql_types::Uuid];
    [DbTime] [StoredTime] [chrono::DateTime<chrono::Utc>] [diesel::sql_types::Timestamptz];
)]
#[cfg(feature = "postgres")]
impl ToSql<SqlType, Pg> for Stored {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Native as ToSql<NativeSql, Pg>>::to_sql(&self.0, out)
    }
}

#[duplicate_item(
    Stored   SqlType      Native                           NativeSql;
    [DbUuid] [StoredUuid] [uuid::Uuid]                     [diesel::sql_types::Uuid];
    [DbTime] [StoredTime] [chrono::DateTime<chrono::Utc>] [diesel::sql_types::Timestamptz];
)]
#[cfg(feature = "postgres")]
impl FromSql<SqlType, Pg> for Stored {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <Native as FromSql<NativeSql, Pg>>::from_sql(value).map(Self)
    }
}
//~ {%- endif %}{% if database != "postgres" %}

#[duplicate_item(Stored SqlType; [DbUuid] [StoredUuid]; [DbTime] [StoredTime])]
#[cfg(feature = "sqlite")]
impl ToSql<SqlType, Sqlite> for Stored {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_sqlite());
        Ok(serialize::IsNull::No)
    }
}

#[duplicate_item(Stored SqlType; [DbUuid] [StoredUuid]; [DbTime] [StoredTime])]
#[cfg(feature = "sqlite")]
impl FromSql<SqlType, Sqlite> for Stored {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)?;
        Ok(Self::from_sqlite(&text)?)
    }
}
//~ {%- endif %}
//~ {%- endcapture %}{{ rust | remove: cut16 | remove: cut12 | remove: cut8 | remove: cut4 | remove: cut0 | remove: "//~" | remove: "//+ " | remove: "//+" -}}
