//! The request headers that operations share, as the document describes them: each
//! operation lists the ones it reads in its `params(...)`. They are never constructed;
//! the headers themselves are read by the extractors in [`crate::conditional`] and
//! [`crate::idempotency`].

#![allow(dead_code, reason = "the types document headers; their fields are never read")]

/// `If-Match` as the document describes it, with its syntax (RFC 9110 §13.1.1): `*`, or
/// entity tags separated by commas; anything else is 400. (The document only: the header
/// is read by [`IfMatchHeader`](crate::conditional::IfMatchHeader).)
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The resource's `ETag` as the client last saw it (or `*`: any existing one): the write
    /// applies only to that version, else 412.
    #[param(
        rename = "If-Match",
        nullable = false,
        pattern = r#"^\s*(\*|(W/)?"[\x21\x23-\x7E]*"(\s*,\s*(W/)?"[\x21\x23-\x7E]*")*)\s*$"#
    )]
    if_match: Option<String>,
}

/// `If-None-Match` as the document describes it, with the same syntax as [`IfMatch`].
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatch {
    /// An `ETag` of the resource the client holds (or `*`): 304 if it is current.
    #[param(
        rename = "If-None-Match",
        pattern = r#"^\s*(\*|(W/)?"[\x21\x23-\x7E]*"(\s*,\s*(W/)?"[\x21\x23-\x7E]*")*)\s*$"#
    )]
    if_none_match: Option<String>,
}

/// `Idempotency-Key` as the document describes it. (The document only: the header is read
/// by [`IdempotencyKeyHeader`](crate::idempotency::IdempotencyKeyHeader).)
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// Makes the request safe to retry: a repeat with the same key and the same request
    /// answers the first response again (with `Idempotent-Replayed: true`) and changes
    /// nothing. 1 to 255 visible ASCII characters, bare or as a quoted string; a UUID is
    /// a good key. Keys are the caller's own and expire (`IDEMPOTENCY_TTL_S`).
    #[param(
        rename = "Idempotency-Key",
        nullable = false,
        pattern = r#"^([\x21\x23-\x7E][\x21-\x7E]{0,254}|"([\x21\x23-\x5B\x5D-\x7E]|\\["\\]){1,255}")$"#
    )]
    idempotency_key: Option<String>,
}
