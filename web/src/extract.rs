//! Extractors that turn malformed input into 422 responses naming the problem and its
//! place (`loc`), the way FastAPI does, instead of actix's plain-text 400s.

use crate::error::ApiError;
use crate::schemas::LocItem;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// A JSON request body of type `T`: `application/json`, at most
/// [`HttpSettings::body_limit`](crate::HttpSettings) bytes (413 beyond), and every parse error reported with its path.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|mime| mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"));
        // The limit is the app's `PayloadConfig`; an oversized Content-Length is refused
        // before any of the body is read.
        let limit = req.app_data::<web::Data<crate::AppState>>().map_or(0, |state| state.http.body_limit);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = body.await.map_err(|error| match error.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::PayloadTooLarge(limit),
                _ => ApiError::BadBody,
            })?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// Parses `bytes` as one JSON value of type `T`, locating any error under `"body"`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let mut loc: Vec<LocItem> = vec!["body".into()];
        loc.extend(path_steps(error.path()));
        json_problem(loc, error.into_inner())
    })?;
    deserializer.end().map_err(|error| json_problem(vec!["body".into()], error))?;
    Ok(value)
}

fn json_problem(mut loc: Vec<LocItem>, error: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = error.to_string();
    let kind = match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => "json_invalid",
        Category::Data => data_error_kind(&message),
    };
    // serde names a missing field in its message, not in the path.
    if kind == "missing"
        && let Some(field) = message.split('`').nth(1)
    {
        loc.push(field.into());
    }
    let msg = match kind {
        "json_invalid" => format!("JSON decode error: {message}"),
        // Drop serde_json's " at line 1 column 42" suffix: the location is in `loc`.
        _ => message.split(" at line ").next().unwrap_or(&message).to_owned(),
    };
    ApiError::invalid(loc, msg, kind)
}

fn data_error_kind(message: &str) -> &'static str {
    if message.starts_with("missing field") {
        "missing"
    } else if message.starts_with("unknown field") {
        "extra_forbidden"
    } else if message.starts_with("unknown variant") {
        "enum"
    } else if message.starts_with("invalid type") {
        "type_error"
    } else {
        "value_error"
    }
}

fn path_steps(path: &serde_path_to_error::Path) -> impl Iterator<Item = LocItem> + '_ {
    use serde_path_to_error::Segment;
    path.iter().filter_map(|segment| match segment {
        Segment::Seq { index } => Some((*index).into()),
        Segment::Map { key } => Some(key.as_str().into()),
        Segment::Enum { variant } => Some(variant.as_str().into()),
        Segment::Unknown => None,
    })
}

/// Query parameters of type `T`, every parse error reported under `"query"`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = form_urlencoded::parse(req.query_string().as_bytes());
        let result = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(QueryParams)
            .map_err(|error| {
                let mut loc: Vec<LocItem> = vec!["query".into()];
                loc.extend(path_steps(error.path()));
                let message = error.inner().to_string();
                let kind = if message.contains("bool") { "bool_parsing" } else { "value_error" };
                ApiError::invalid(loc, format!("Input is invalid: {message}"), kind)
            });
        std::future::ready(result)
    }
}

/// Path parameters that fail to parse give 422 naming them. Every path parameter of
/// this API is a UUID; a resource with other kinds would pick its message here.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, req| {
        let names: Vec<LocItem> = req.match_info().iter().map(|(name, _)| name.into()).collect();
        let mut loc: Vec<LocItem> = vec!["path".into()];
        loc.extend(names);
        ApiError::invalid(loc, "Input should be a valid UUID", "uuid_parsing").into()
    })
}
