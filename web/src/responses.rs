//! The error responses operations share, documented once: a handler's `responses(...)` lists
//! its own outcomes and then the groups below that apply to it, e.g.
//! `responses((status = 200, …), OrderErrors)`.
//!
//! Each group mirrors what [`ApiError`](crate::error::ApiError) really answers, with the
//! body type it really has: `{"detail": "…"}` ([`ErrorBody`]) for every error but 422,
//! which has [`ValidationErrorBody`]. The types are never constructed; they exist for
//! their [`IntoResponses`] impls. Their schemas are not collected from here by utoipa, so
//! [`crate::docs`] registers them in `components(schemas(...))`.

use crate::schemas::{ErrorBody, ValidationErrorBody};
use std::collections::BTreeMap;
use utoipa::IntoResponses;
use utoipa::openapi::{RefOr, Response};

/// Any operation that uses the database: it can fail for a while (503) or for good (500).
#[derive(IntoResponses)]
pub enum StorageErrors {
    /// The database failed; the cause is logged, the client gets `"internal error"`.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The database (or, for an authenticated operation, the identity provider's keys) is
    /// unavailable or too slow right now; retry after the given seconds.
    #[response(status = 503, headers(("Retry-After" = u32, description = "Seconds to wait before retrying")))]
    Unavailable(ErrorBody),
}

/// Any operation that requires a bearer token: none, or one that is not valid.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "No valid bearer token; `detail` says why",
    headers(("WWW-Authenticate" = String, description = "`Bearer`, with `error=\"invalid_token\"` when a token was sent"))
)]
pub struct Unauthenticated(pub ErrorBody);

/// Any operation with parameters or a body: input it cannot use is 422, each problem
/// located (`["path", "order_id"]`, `["query", "limit"]`, `["body", "order", 0, …]`).
#[derive(IntoResponses)]
#[response(status = 422, description = "Invalid input; `detail` locates each problem")]
pub struct InvalidInput(pub ValidationErrorBody);

/// Any operation with a JSON body, before the body is parsed.
#[derive(IntoResponses)]
pub enum BodyErrors {
    /// The body could not be read, or a request header is malformed; `detail` says which.
    #[response(status = 400)]
    Unreadable(ErrorBody),
    /// The body is larger than the limit (`BODY_LIMIT_BYTES`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
}

/// Any write with `If-Match`: the order is not at the version named (or is gone), or
/// `REQUIRE_IF_MATCH` asks for the header.
#[derive(IntoResponses)]
pub enum PreconditionErrors {
    /// The body could not be read, or a request header is malformed; `detail` says which.
    #[response(status = 400)]
    Malformed(ErrorBody),
    /// `If-Match` does not match the current `ETag` (or the resource is gone): no change.
    #[response(status = 412)]
    Failed(ErrorBody),
    /// The write has no `If-Match`, which this deployment requires (`REQUIRE_IF_MATCH`).
    #[response(status = 428)]
    Required(ErrorBody),
}

/// An operation on one order, by id: no such order (404, also when it is another
/// owner's), a malformed id (422), and [`StorageErrors`].
pub struct OrderErrors;

/// The order named in the path does not exist.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such order (or not the caller's)")]
#[allow(dead_code)] // Never constructed: it exists for its `IntoResponses` impl.
struct OrderNotFound(ErrorBody);

impl IntoResponses for OrderErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        // A union of the groups, so each status is described in one place only.
        let mut responses = OrderNotFound::responses();
        responses.extend(InvalidInput::responses());
        responses.extend(StorageErrors::responses());
        responses
    }
}

/// An operation on one resource by id, as [`OrderErrors`] for any resource.
pub struct ResourceErrors;

/// The resource named in the path does not exist.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such resource (or not the caller's)")]
#[allow(dead_code)] // Never constructed: it exists for its `IntoResponses` impl.
struct ResourceNotFound(ErrorBody);

impl IntoResponses for ResourceErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = ResourceNotFound::responses();
        responses.extend(InvalidInput::responses());
        responses.extend(StorageErrors::responses());
        responses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses<T: IntoResponses>() -> Vec<String> {
        T::responses().into_keys().collect()
    }

    #[test]
    fn the_groups_cover_the_statuses_they_name() {
        assert_eq!(statuses::<StorageErrors>(), ["500", "503"]);
        assert_eq!(statuses::<InvalidInput>(), ["422"]);
        assert_eq!(statuses::<Unauthenticated>(), ["401"]);
        assert_eq!(statuses::<BodyErrors>(), ["400", "413", "415"]);
        assert_eq!(statuses::<OrderErrors>(), ["404", "422", "500", "503"]);
        assert_eq!(statuses::<ResourceErrors>(), statuses::<OrderErrors>());
        assert_eq!(statuses::<PreconditionErrors>(), ["400", "412", "428"]);
    }
}
