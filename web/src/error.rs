//! The one place where failures become HTTP responses. Every error body is JSON:
//! `{"detail": "message"}`, or for 422 a list of located problems, like FastAPI.
//! Internal causes are logged here and never sent to the client.

use crate::auth::AuthError;
use crate::schemas::{ErrorBody, LocItem, ValidationDetail, ValidationErrorBody};
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, ResponseError};
use app_service::{Loc, ServiceError, Violation};
use std::fmt;

/// A request that cannot be served as asked.
#[derive(Debug)]
pub enum ApiError {
    /// The service refused or failed.
    Service(ServiceError),
    /// The input could not be read or broke a rule (422).
    Invalid(Vec<ValidationDetail>),
    /// The body exceeds the limit, in bytes (413).
    PayloadTooLarge(usize),
    /// The body is not JSON (415).
    UnsupportedMediaType,
    /// The body could not be read from the connection (400).
    BadBody,
    /// A request header is malformed (400); the message names it.
    BadHeader(String),
    /// A write came without `If-Match` where `REQUIRE_IF_MATCH` asks for one (428).
    PreconditionRequired,
    /// The first request with this `Idempotency-Key` is still in flight (409, with
    /// `Retry-After`).
    KeyInProgress,
    /// No route has this path (404).
    NotFound,
    /// The path exists but not with this method (405); lists the allowed methods.
    MethodNotAllowed(String),
    /// The caller is not authenticated (401), or the keys to check it are away (503).
    Auth(crate::auth::AuthError),
    /// A blocking task did not complete (500).
    Internal(String),
}

impl ApiError {
    /// One validation problem at `loc`.
    pub fn invalid(loc: Vec<LocItem>, msg: impl Into<String>, kind: &str) -> Self {
        Self::Invalid(vec![ValidationDetail { loc, msg: msg.into(), kind: kind.to_owned() }])
    }

    /// Maps a service error, locating its violations under `prefix`, the input that the
    /// service checked (e.g. `["body", "order"]` for an order's items).
    pub fn located(prefix: &'static [&'static str]) -> impl Fn(ServiceError) -> Self {
        move |error| match error {
            ServiceError::Invalid(violations) => Self::Invalid(details(prefix, &violations)),
            other => Self::Service(other),
        }
    }

    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750): `error="invalid_token"` when
    /// a token was sent. The description is one of a few fixed texts, never the token.
    fn challenge(&self) -> Option<String> {
        match self {
            Self::Auth(AuthError::Missing | AuthError::NotBearer) => Some("Bearer".into()),
            Self::Auth(AuthError::InvalidToken(why)) => {
                Some(format!(r#"Bearer error="invalid_token", error_description="{why}""#))
            }
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Service(ServiceError::Internal(_)) | Self::Internal(_) => "internal error".into(),
            Self::Auth(error) => error.to_string(),
            Self::Invalid(_) => "invalid input".into(),
            Self::PayloadTooLarge(limit) => format!("Request body is larger than {limit} bytes"),
            Self::UnsupportedMediaType => "Content-Type must be application/json".into(),
            Self::BadBody => "Request body could not be read".into(),
            Self::BadHeader(message) => message.clone(),
            Self::PreconditionRequired => {
                "If-Match is required: send the ETag from a GET (or `*`) with every write".into()
            }
            Self::Service(ServiceError::PreconditionFailed { resource, .. }) => {
                let resource = resource.to_lowercase();
                format!(
                    "If-Match does not match the {resource}'s current ETag (or the {resource} is gone); GET it again"
                )
            }
            Self::KeyInProgress | Self::Service(ServiceError::KeyInUse) => {
                "A request with this Idempotency-Key is in progress; retry after Retry-After seconds".into()
            }
            Self::Service(error) => error.to_string(),
            Self::NotFound => "Not Found".into(),
            Self::MethodNotAllowed(_) => "Method Not Allowed".into(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self::Service(error)
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(error: crate::auth::AuthError) -> Self {
        Self::Auth(error)
    }
}

impl From<app_service::RepositoryError> for ApiError {
    fn from(error: app_service::RepositoryError) -> Self {
        Self::Service(error.into())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Service(ServiceError::Invalid(_)) | Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Service(ServiceError::NotFound { .. }) | Self::NotFound => StatusCode::NOT_FOUND,
            Self::Service(ServiceError::Conflict { .. } | ServiceError::KeyInUse) | Self::KeyInProgress => {
                StatusCode::CONFLICT
            }
            Self::Service(ServiceError::PreconditionFailed { .. }) => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::Service(ServiceError::Unavailable) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Service(ServiceError::Internal(_)) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadBody | Self::BadHeader(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Auth(AuthError::KeysUnavailable) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Auth(_) => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::Service(ServiceError::Internal(cause)) => tracing::error!(error = %cause, "request failed"),
            Self::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            Self::Service(ServiceError::Unavailable) => tracing::warn!("database unavailable"),
            Self::Auth(AuthError::KeysUnavailable) => tracing::warn!("identity provider's keys unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(status);
        if let Self::MethodNotAllowed(allow) = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if let Some(challenge) = self.challenge() {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        if let Self::KeyInProgress | Self::Service(ServiceError::KeyInUse) = self {
            response.insert_header(crate::idempotency::retry_after());
        }
        response.content_type("application/json").body(self.body())
    }
}

impl ApiError {
    /// The JSON body of the response.
    pub fn body(&self) -> String {
        let body = match self {
            Self::Service(ServiceError::Invalid(violations)) => {
                serde_json::to_string(&ValidationErrorBody { detail: details(&[], violations) })
            }
            Self::Invalid(detail) => serde_json::to_string(&ValidationErrorBody { detail: detail.clone() }),
            _ => serde_json::to_string(&ErrorBody { detail: self.message() }),
        };
        // These types always serialise; should one not, the client still gets JSON.
        body.unwrap_or_else(|_| r#"{"detail":"internal error"}"#.to_owned())
    }
}

fn details(prefix: &[&str], violations: &[Violation]) -> Vec<ValidationDetail> {
    violations
        .iter()
        .map(|v| {
            let mut loc: Vec<LocItem> = prefix.iter().map(|p| (*p).into()).collect();
            loc.extend(v.loc.iter().map(|step| match step {
                Loc::Field(name) => (*name).into(),
                Loc::Index(index) => (*index).into(),
            }));
            ValidationDetail { loc, msg: v.msg.clone(), kind: v.kind.to_owned() }
        })
        .collect()
}

/// Middleware: any error response that is not JSON yet — written by actix itself or by a
/// library middleware (a refused CORS preflight, a missing Swagger UI file) — gets the
/// API's `{"detail": …}` body, so clients parse one error format. Headers are kept.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
        }
        let (request, response) = response.into_parts();
        let status = response.status();
        let detail = match response.error() {
            // Internal causes are for the log, not the client.
            Some(error) if status.is_client_error() => error.to_string(),
            _ => status.canonical_reason().unwrap_or("Error").to_owned(),
        };
        let mut json = HttpResponse::build(status).json(ErrorBody { detail });
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                json.headers_mut().append(name.clone(), value.clone());
            }
        }
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(request, json).map_into_right_body()))
    })
}
