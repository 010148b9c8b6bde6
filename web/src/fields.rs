//! How the fields of resources made by `cargo xtask scaffold` are read from JSON and
//! described in the document: exactly what `app_service::rules` and the databases accept,
//! so that a request the document allows is never refused, and one it forbids never reaches
//! the service (schemathesis checks both in CI). Used by name in the `#[serde(...)]` and
//! `#[schema(...)]` attributes of a scaffolded `web/src/handlers/<resource>.rs`.

use crate::schemas::whole_number;
use app_service::rules;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::de::Error;
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use uuid::Uuid;

/// The schema of a short string field (a name, an email; `app_service::rules::check_string`):
/// 1 to 255 characters, one line, not blank; `nullable` for an optional one. For
/// `#[schema(schema_with = …)]`.
pub fn short_string(nullable: bool) -> Object {
    let pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
    string(nullable).min_length(Some(1)).max_length(Some(rules::MAX_STRING_CHARS)).pattern(Some(pattern)).build()
}

/// [`short_string`] when required.
pub fn required_short_string() -> Object {
    short_string(false)
}

/// [`short_string`] when optional.
pub fn optional_short_string() -> Object {
    short_string(true)
}

/// The schema of a text field (`app_service::rules::check_text`): up to 10,000
/// characters, no NUL; `nullable` for an optional one.
pub fn text(nullable: bool) -> Object {
    string(nullable).max_length(Some(rules::MAX_TEXT_CHARS)).pattern(Some(r"^[^\u0000]*$")).build()
}

/// [`text`] when required.
pub fn required_text() -> Object {
    text(false)
}

/// [`text`] when optional.
pub fn optional_text() -> Object {
    text(true)
}

fn string(nullable: bool) -> ObjectBuilder {
    let string = ObjectBuilder::new().schema_type(Type::String);
    if nullable { string.schema_type(SchemaType::from_iter([Type::String, Type::Null])) } else { string }
}

/// [`whole_number`](crate::schemas::whole_number) for an optional field: `null` (or, with `#[serde(default)]`, no
/// field) is `None`.
pub fn optional_whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|whole| whole.0))
}

/// A point in time as RFC 3339 writes it (`2026-01-31T12:00:00.5+01:00`: a date, `T`, a
/// time, a zone), in the years every database keeps (1 to 9999, in UTC), no leap second.
/// chrono's own `Deserialize` is laxer (spaces, signed years, `UTC`), and Postgres or a
/// read back would refuse what it lets through.
pub fn rfc3339_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = Cow::<str>::deserialize(deserializer)?;
    // chrono also takes a space for the `T`, which RFC 3339's `date-time` does not.
    if !text.as_bytes().get(10).is_some_and(|separator| separator.eq_ignore_ascii_case(&b'T')) {
        return Err(D::Error::custom("a time as RFC 3339 writes it: 2026-01-31T12:00:00Z"));
    }
    let time = DateTime::parse_from_rfc3339(&text).map_err(D::Error::custom)?.to_utc();
    if !(1..=9999).contains(&time.year()) || time.nanosecond() >= 1_000_000_000 {
        return Err(D::Error::custom("a time in the years 1 to 9999 (UTC), without a leap second"));
    }
    Ok(time)
}

/// [`rfc3339_time`] for an optional field.
pub fn optional_rfc3339_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct Time(#[serde(deserialize_with = "rfc3339_time")] DateTime<Utc>);
    Ok(Option::<Time>::deserialize(deserializer)?.map(|time| time.0))
}

/// A UUID as the document's `format: uuid` has it: hyphenated, 36 characters (the `uuid`
/// crate also reads braced, URN and unhyphenated forms).
pub fn hyphenated_uuid<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    let text = Cow::<str>::deserialize(deserializer)?;
    match Uuid::try_parse(&text) {
        Ok(uuid) if text.len() == 36 => Ok(uuid),
        _ => Err(D::Error::custom("a UUID, hyphenated: 3fa85f64-5717-4562-b3fc-2c963f66afa6")),
    }
}

/// [`hyphenated_uuid`] for an optional field.
pub fn optional_hyphenated_uuid<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Uuid>, D::Error> {
    #[derive(Deserialize)]
    struct Hyphenated(#[serde(deserialize_with = "hyphenated_uuid")] Uuid);
    Ok(Option::<Hyphenated>::deserialize(deserializer)?.map(|uuid| uuid.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Fields {
        #[serde(deserialize_with = "rfc3339_time")]
        at: DateTime<Utc>,
        #[serde(deserialize_with = "hyphenated_uuid")]
        id: Uuid,
    }

    fn read(at: &str, id: &str) -> Result<Fields, serde_json::Error> {
        serde_json::from_value(json!({"at": at, "id": id}))
    }

    #[test]
    fn times_and_ids_are_read_as_the_document_describes_them() {
        let id = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
        let fields = read("2026-01-31T13:00:00.5+01:00", id).unwrap();
        assert_eq!(
            (fields.at.to_rfc3339().as_str(), fields.id.to_string().as_str()),
            ("2026-01-31T12:00:00.500+00:00", id)
        );
        for at in ["2026-01-31 12:00:00Z", "+10000-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "2026-01-31"] {
            assert!(read(at, id).is_err(), "{at}");
        }
        for bad in ["3fa85f6457174562b3fc2c963f66afa6", "{3fa85f64-5717-4562-b3fc-2c963f66afa6}", "nope"] {
            assert!(read("2026-01-31T12:00:00Z", bad).is_err(), "{bad}");
        }
    }
}
