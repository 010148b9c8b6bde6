//! Conditional requests (RFC 9110 §13): an order's (or any resource's) `ETag`,
//! `If-None-Match` on reads and `If-Match` on writes, and a resource's representation
//! with its `ETag` ([`tagged`], [`created`]).
//!
//! An order's entity tag is its id and its version, `"<id>-<version>"` (the id without
//! hyphens). The version changes on every write and only then; the id makes a tag from one
//! order never match another, and the service never reuses an id, so a tag names one state
//! of one order for good. `If-Match` becomes a [`Precondition`] that the repository checks
//! in the same statement as the write: the check cannot go stale before the write.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag, Header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use app_service::{Order, Precondition, Resource, StoredResponse};
use serde::Serialize;
use uuid::Uuid;

/// The strong entity tag of `order` as it is now.
pub fn etag(order: &Order) -> EntityTag {
    entity_tag(order.id, order.version)
}

/// The strong entity tag of the resource `id` at `version`: what any versioned resource
/// answers in its `ETag`, so that [`IfMatchHeader::precondition`] reads it back.
pub fn entity_tag(id: Uuid, version: i64) -> EntityTag {
    EntityTag::new_strong(format!("{}-{version}", id.simple()))
}

/// `resource` in its representation `S` as the body of `response`, with its `ETag`.
pub fn tagged<F, S>(mut response: HttpResponseBuilder, resource: Resource<F>) -> HttpResponse
where
    S: From<Resource<F>> + Serialize,
{
    response.insert_header(header::ETag(entity_tag(resource.id, resource.version))).json(S::from(resource))
}

/// The answer to a new `resource` of `collection` (`/customers`): 201, its `Location`,
/// then as [`tagged`].
pub fn created<F, S>(collection: &str, resource: Resource<F>) -> HttpResponse
where
    S: From<Resource<F>> + Serialize,
{
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("{collection}/{}", resource.id)));
    tagged::<F, S>(response, resource)
}

/// [`created`] as stored for a keyed request, to be replayed.
pub fn stored_created<F: Clone, S>(collection: &str, resource: &Resource<F>) -> StoredResponse
where
    S: From<Resource<F>> + Serialize,
{
    let (location, tag) = (format!("{collection}/{}", resource.id), entity_tag(resource.id, resource.version));
    crate::idempotency::stored_json(StatusCode::CREATED, &S::from(resource.clone()), Some(location), Some(&tag))
}

/// The version that `tag` names for order `id`, if it is a strong tag of that order.
/// (`If-Match` compares strongly: a weak tag never matches.)
fn version_in(tag: &EntityTag, id: Uuid) -> Option<i64> {
    let (order, version) = tag.tag().split_once('-')?;
    let is_this_order = !tag.weak && Uuid::try_parse(order).is_ok_and(|order| order == id);
    is_this_order.then(|| version.parse().ok()).flatten()
}

/// A write's `If-Match` header, if it has one. With `REQUIRE_IF_MATCH=true`, a write
/// without it is refused with 428 before anything is read.
#[derive(Debug)]
pub struct IfMatchHeader(Option<header::IfMatch>);

impl IfMatchHeader {
    /// What the header expects of order `id`: no header, no expectation; `*`, that it
    /// exists; tags, that it is at one of the versions they name (tags of other orders,
    /// and weak ones, name none).
    pub fn precondition(&self, id: Uuid) -> Precondition {
        match &self.0 {
            None => Precondition::Unconditional,
            Some(header::IfMatch::Any) => Precondition::Exists,
            Some(header::IfMatch::Items(tags)) => {
                Precondition::AtVersion(tags.iter().filter_map(|tag| version_in(tag, id)).collect())
            }
        }
    }
}

impl FromRequest for IfMatchHeader {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match read(req, |value| matches!(value, header::IfMatch::Items(tags) if tags.is_empty())) {
            Ok(None)
                if req.app_data::<web::Data<crate::AppState>>().is_some_and(|state| state.http.require_if_match) =>
            {
                Err(ApiError::PreconditionRequired)
            }
            read => read.map(Self),
        };
        std::future::ready(result)
    }
}

/// A read's `If-None-Match` header, if it has one.
#[derive(Debug)]
pub struct IfNoneMatchHeader(Option<header::IfNoneMatch>);

impl IfNoneMatchHeader {
    /// Whether the client's copy is current: the header names `tag` (compared weakly, as
    /// RFC 9110 says for `If-None-Match`) or is `*`.
    pub fn matches(&self, tag: &EntityTag) -> bool {
        match &self.0 {
            None => false,
            Some(header::IfNoneMatch::Any) => true,
            Some(header::IfNoneMatch::Items(tags)) => tags.iter().any(|sent| sent.weak_eq(tag)),
        }
    }
}

impl FromRequest for IfNoneMatchHeader {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let read = read(req, |value| matches!(value, header::IfNoneMatch::Items(tags) if tags.is_empty()));
        std::future::ready(read.map(Self))
    }
}

/// Header `H` of `req`, if it has one. A value that does not parse, or that `is_empty`
/// (actix's parser skips the list's elements that are not tags; a header left with none is
/// refused rather than read as an empty list), is 400 naming the header.
fn read<H: Header>(req: &HttpRequest, is_empty: impl Fn(&H) -> bool) -> Result<Option<H>, ApiError> {
    if !req.headers().contains_key(H::name()) {
        return Ok(None);
    }
    match H::parse(req) {
        Ok(value) if !is_empty(&value) => Ok(Some(value)),
        _ => Err(malformed(H::name())),
    }
}

/// A header with no entity tag in it. (actix's parser skips the list's elements that are
/// not tags; a header left with none is refused rather than read as an empty list.)
fn malformed(name: header::HeaderName) -> ApiError {
    ApiError::BadHeader(format!("{name} must be `*` or a list of entity tags (\"…\")"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_service::Status;

    fn order(version: i64) -> Order {
        let now = app_service::model::now();
        Order { id: Uuid::new_v4(), created: now, updated: now, status: Status::Created, items: vec![], version }
    }

    #[test]
    fn a_tag_names_its_orders_version_and_no_other_order() {
        let (first, other) = (order(7), order(7));
        let tag = etag(&first);
        assert!(!tag.weak);
        assert_eq!(version_in(&tag, first.id), Some(7));
        assert_eq!(version_in(&tag, other.id), None, "same version, another order");
        assert_eq!(version_in(&EntityTag::new_weak(tag.tag().to_owned()), first.id), None, "weak");
        assert_eq!(version_in(&EntityTag::new_strong("7".into()), first.id), None);
        assert_ne!(etag(&first), etag(&Order { version: 8, ..first.clone() }), "a write makes a new tag");
    }
}
