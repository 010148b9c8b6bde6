//! Safe retries over HTTP: the `Idempotency-Key` request header (IETF httpapi draft
//! "The Idempotency-Key HTTP Header Field"), on the `POST`s that change something.
//!
//! [`keyed`] runs a handler's operation with the request's key, if it has one:
//! - a key its caller already used for **the same request** (method, path, body as
//!   parsed: the [`fingerprint`]) answers the stored response again, with
//!   `Idempotent-Replayed: true`, and changes nothing;
//! - the same key with another request is 422; one whose first request is still being
//!   stored is 409 with `Retry-After`;
//! - otherwise the operation runs, and its response is stored with its effect (the
//!   repository writes both in one transaction: see `app_service::idempotency`). A 4xx is
//!   stored on its own (it changed nothing); a 5xx is not stored, so a retry runs again.
//!
//! A request without the header runs as it always did, with no extra query.

use crate::error::ApiError;
use crate::schemas::LocItem;
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use app_service::{Idempotency, Keyed, Owner, ServiceError, StoredResponse};
use sha2::{Digest, Sha256};
use std::future::Future;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The response header of a replay.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The longest key, in characters.
pub const MAX_KEY_LENGTH: usize = 255;

/// The seconds a client waits before retrying a request whose first is still in flight.
const RETRY_AFTER_SECONDS: &str = "1";

/// The request's `Idempotency-Key`, if it has one, as the draft writes it (a quoted
/// structured-field string, `"…"`) or bare (as Stripe's clients send it): 1 to 255
/// visible ASCII characters. Anything else is 400 naming the header.
#[derive(Debug)]
pub struct IdempotencyKeyHeader(Option<String>);

impl FromRequest for IdempotencyKeyHeader {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
        let result = match (values.next(), values.next()) {
            (None, _) => Ok(Self(None)),
            (Some(value), None) => parse(value).map(|key| Self(Some(key))).ok_or_else(malformed),
            (Some(_), Some(_)) => Err(malformed()),
        };
        std::future::ready(result)
    }
}

impl IdempotencyKeyHeader {
    /// The key with the fingerprint of `req`, a request without a body, if there is a key.
    pub fn with_request(self, req: &HttpRequest) -> Option<KeyedRequest> {
        let key = self.0?;
        Some(KeyedRequest { key, fingerprint: fingerprint(req.method(), req.path(), None) })
    }

    /// The key with the fingerprint of `req` and its parsed `body`, if there is a key.
    pub fn with_body(self, req: &HttpRequest, body: &impl serde::Serialize) -> Option<KeyedRequest> {
        let key = self.0?;
        // A parsed body serialises; should it not, the hash still tells it from others.
        let body = serde_json::to_vec(body).unwrap_or_default();
        Some(KeyedRequest { key, fingerprint: fingerprint(req.method(), req.path(), Some(&body)) })
    }
}

/// A request with a key, and what it was.
#[derive(Debug)]
pub struct KeyedRequest {
    key: String,
    fingerprint: String,
}

/// The key in `value`: a structured-field string, unescaped, or the bare value.
fn parse(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let key = match bytes {
        [b'"', inner @ .., b'"'] => {
            let mut key = Vec::with_capacity(inner.len());
            let mut escaped = false;
            for &byte in inner {
                match (escaped, byte) {
                    (false, b'\\') => escaped = true,
                    (false, b'"') => return None,
                    (true, b'"' | b'\\') | (false, _) => {
                        key.push(byte);
                        escaped = false;
                    }
                    (true, _) => return None,
                }
            }
            if escaped {
                return None;
            }
            key
        }
        [b'"', ..] => return None,
        bare => bare.to_vec(),
    };
    let visible = key.iter().all(u8::is_ascii_graphic);
    let sized = (1..=MAX_KEY_LENGTH).contains(&key.len());
    (visible && sized).then(|| String::from_utf8(key).ok()).flatten()
}

fn malformed() -> ApiError {
    ApiError::BadHeader(format!(
        "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, bare or as a quoted string (\"…\")"
    ))
}

/// What a request is, for telling a repeat from another request with the same key: a
/// SHA-256 of its method, path and body as parsed (so spacing and key order do not count).
pub fn fingerprint(method: &Method, path: &str, body: Option<&[u8]>) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str());
    hash.update(b" ");
    hash.update(path);
    hash.update(b"\n");
    if let Some(body) = body {
        hash.update(body);
    }
    hash.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A JSON response to store for a keyed request: `status`, `body`, and its `Location`
/// and `ETag` if it has them.
pub fn stored_json(
    status: StatusCode,
    body: &impl serde::Serialize,
    location: Option<String>,
    etag: Option<&header::EntityTag>,
) -> StoredResponse {
    let body = serde_json::to_string(body).unwrap_or_default();
    StoredResponse { status: status.as_u16(), body, location, etag: etag.map(ToString::to_string) }
}

/// What [`keyed`] answers: the operation's own result, or a stored response.
#[derive(Debug)]
pub enum Answer<T> {
    /// The operation ran now and succeeded: respond as without a key.
    Fresh(T),
    /// The response to send as it is (a replay, or this request's own stored 4xx).
    Stored(HttpResponse),
}

impl<T> Answer<T> {
    /// The response: `fresh`'s of a fresh result (the same response `respond` stored).
    pub fn respond(self, fresh: impl FnOnce(T) -> HttpResponse) -> HttpResponse {
        match self {
            Self::Fresh(result) => fresh(result),
            Self::Stored(response) => response,
        }
    }
}

/// Runs `operation` for `owner`, as the module's header says: with the request's key (if
/// any) passed down, so that its record, `respond`'s response to the result, is stored
/// with the effect.
pub async fn keyed<T, F, Fut>(
    keys: &Idempotency,
    owner: &Owner,
    request: Option<KeyedRequest>,
    respond: fn(&T) -> StoredResponse,
    operation: F,
) -> Result<Answer<T>, ApiError>
where
    F: FnOnce(Option<Keyed<T>>) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let Some(KeyedRequest { key, fingerprint }) = request else {
        return operation(None).await.map(Answer::Fresh);
    };
    if let Some(found) = keys.find(owner, &key).await? {
        return replay(found.fingerprint == fingerprint, found.response);
    }
    let error = match operation(Some(keys.keyed(key.clone(), fingerprint.clone(), respond))).await {
        Ok(result) => return Ok(Answer::Fresh(result)),
        Err(ApiError::Service(ServiceError::KeyInUse)) => None,
        Err(error) if error.status_code().is_client_error() => Some(error),
        Err(error) => return Err(error),
    };
    // The operation changed nothing: its 4xx is stored on its own, unless a concurrent
    // request with the key stored its answer first; then that answer is the one to give.
    if let Some(error) = error {
        let response = stored_error(&error);
        if keys.save(owner, key.clone(), fingerprint.clone(), response.clone()).await? {
            return Ok(Answer::Stored(send(response, false)));
        }
    }
    match keys.find(owner, &key).await? {
        Some(found) => replay(found.fingerprint == fingerprint, found.response),
        // Taken, yet not there: the first request's record is still being written.
        None => Err(ApiError::KeyInProgress),
    }
}

/// The stored `response` again, or 422 if it answered another request.
fn replay<T>(same_request: bool, response: StoredResponse) -> Result<Answer<T>, ApiError> {
    if !same_request {
        let loc = vec![LocItem::from("header"), LocItem::from("Idempotency-Key")];
        return Err(ApiError::invalid(loc, "Idempotency-Key was already used with a different request", "key_reused"));
    }
    Ok(Answer::Stored(send(response, true)))
}

/// `error` as it is answered, to store.
fn stored_error(error: &ApiError) -> StoredResponse {
    StoredResponse { status: error.status_code().as_u16(), body: error.body(), location: None, etag: None }
}

/// The HTTP response `response` describes (`replayed`: with `Idempotent-Replayed: true`).
fn send(response: StoredResponse, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    builder.content_type("application/json");
    for (name, value) in [(header::LOCATION, response.location), (header::ETAG, response.etag)] {
        if let Some(value) = value.and_then(|value| HeaderValue::try_from(value).ok()) {
            builder.insert_header((name, value));
        }
    }
    if replayed {
        builder.insert_header((IDEMPOTENT_REPLAYED, HeaderValue::from_static("true")));
    }
    builder.body(response.body)
}

/// The `Retry-After` of a 409 for a key whose first request is in flight.
pub fn retry_after() -> (HeaderName, HeaderValue) {
    (header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(value: &str) -> Option<String> {
        parse(&HeaderValue::from_str(value).unwrap())
    }

    #[test]
    fn keys_are_read_quoted_or_bare_and_bounded() {
        assert_eq!(key("abc-123").as_deref(), Some("abc-123"));
        assert_eq!(key(r#""8e03978e-40d5-43e8""#).as_deref(), Some("8e03978e-40d5-43e8"));
        assert_eq!(key(r#""a\"b\\c""#).as_deref(), Some(r#"a"b\c"#));
        assert_eq!(key(&"k".repeat(MAX_KEY_LENGTH)).map(|k| k.len()), Some(MAX_KEY_LENGTH));
        for bad in ["", r#""""#, "two words", r#""open"#, r#""a"b""#, r#""\q""#, r#""a\""#] {
            assert_eq!(key(bad), None, "{bad:?}");
        }
        assert_eq!(key(&"k".repeat(MAX_KEY_LENGTH + 1)), None);
    }

    #[test]
    fn a_fingerprint_is_the_method_the_path_and_the_parsed_body() {
        let body = br#"{"order":[{"product":"latte","size":"big","quantity":1}]}"#.as_slice();
        let post = fingerprint(&Method::POST, "/orders", Some(body));
        assert_eq!(post, fingerprint(&Method::POST, "/orders", Some(body)));
        assert_ne!(post, fingerprint(&Method::POST, "/orders", Some(br#"{"order":[]}"#.as_slice())));
        assert_ne!(post, fingerprint(&Method::POST, "/orders/x", Some(body)));
        assert_ne!(post, fingerprint(&Method::PUT, "/orders", Some(body)));
        assert_ne!(post, fingerprint(&Method::POST, "/orders", None));
        assert_eq!(post.len(), 64);
    }
}
