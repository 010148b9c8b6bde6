//! Who is calling: bearer tokens issued by an identity provider (Auth0, Keycloak, Entra,
//! Cognito, …), verified with the keys the provider publishes (its JWKS). The service
//! keeps no users or passwords of its own; the token's `sub` is the owner of the orders
//! made with it.
//!
//! - [`AuthSettings`]: the provider (`AUTH_JWKS_URL`, `AUTH_ISSUER`, `AUTH_AUDIENCE`), or
//!   none: the service runs open, every order with one fixed owner.
//! - [`Caller`]: the extractor a handler takes to require a valid token.
//! - `keys.rs`: the provider's keys, fetched lazily, cached, refreshed on an unknown
//!   `kid` at most once per `AUTH_JWKS_REFRESH_S`.
//! - `token.rs`: checking one token: algorithm, key, signature, time, issuer, audience.

mod keys;
mod recent;
mod token;

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use app_service::Owner;
use futures_util::future::Either;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use keys::KeySource;

/// The owner of every order when the service runs without authentication.
pub const OPEN_OWNER: &str = "anonymous";

/// How callers are authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthSettings {
    /// No authentication: every caller is [`OPEN_OWNER`]. For local development only;
    /// the binary refuses it on a non-loopback address unless `AUTH_DISABLED=true`.
    #[default]
    Open,
    /// Bearer tokens from one identity provider.
    Provider(ProviderSettings),
}

/// The identity provider whose tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// `AUTH_JWKS_URL`: where the provider publishes its keys (`https://…`; `http://` and
    /// `file://` for local development).
    pub jwks_url: String,
    /// `AUTH_ISSUER`: the expected `iss`.
    pub issuer: String,
    /// `AUTH_AUDIENCE`: the expected `aud` (one of them, when the token lists several).
    pub audience: String,
    /// `AUTH_JWKS_REFRESH_S`: the least time between two fetches of the keys.
    pub refresh: Duration,
}

/// How the app authenticates, built once from [`AuthSettings`].
pub struct Auth {
    provider: Option<Arc<Provider>>,
}

struct Provider {
    keys: KeySource,
    settings: ProviderSettings,
    recent: recent::RecentTokens,
}

impl Auth {
    /// The authenticator for `settings`; nothing is fetched until the first token.
    pub fn new(settings: &AuthSettings) -> Self {
        let provider = match settings {
            AuthSettings::Open => None,
            AuthSettings::Provider(settings) => Some(Arc::new(Provider {
                keys: KeySource::new(&settings.jwks_url, settings.refresh),
                settings: settings.clone(),
                recent: recent::RecentTokens::default(),
            })),
        };
        Self { provider }
    }

    /// Whether tokens are required.
    pub fn is_required(&self) -> bool {
        self.provider.is_some()
    }

    /// What the request's `Authorization` header shows without waiting.
    fn seen<'a>(&'a self, authorization: Option<&'a str>) -> Seen<'a> {
        let Some(provider) = &self.provider else { return Seen::Settled(Ok(Owner::new(OPEN_OWNER))) };
        match bearer_token(authorization) {
            Err(error) => Seen::Settled(Err(error)),
            Ok(token) => match provider.recent.owner(token) {
                Some(owner) => Seen::Settled(Ok(owner)),
                None => Seen::New(provider, token),
            },
        }
    }
}

/// What an `Authorization` header shows at once.
enum Seen<'a> {
    /// The answer: no provider, no or a malformed header, or a token verified recently.
    Settled(Result<Owner, AuthError>),
    /// A token to verify with the provider's keys, which may have to be fetched.
    New(&'a Arc<Provider>, &'a str),
}

impl Provider {
    /// The owner that `token` proves, once verified; remembered for the next requests.
    async fn verify(&self, token: &str) -> Result<Owner, AuthError> {
        let proof = token::verify(token, &self.keys, &self.settings).await?;
        self.recent.remember(token, &proof);
        Ok(proof.owner)
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization.ok_or(AuthError::Missing)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() { Err(AuthError::NotBearer) } else { Ok(token) }
}

/// Why a request is not authenticated. Messages never repeat the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("Not authenticated")]
    Missing,
    /// Another scheme than `Bearer`, or no token after it.
    #[error("Authorization must be a Bearer token")]
    NotBearer,
    /// A token was sent and is not acceptable; says why.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The provider's keys cannot be had and none are cached: the token may be fine.
    #[error("the identity provider's keys are unavailable")]
    KeysUnavailable,
}

/// The authenticated caller: the owner of the orders it makes and sees. A handler that
/// takes a `Caller` requires a valid token (when a provider is configured).
#[derive(Debug, Clone)]
pub struct Caller(pub Owner);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Either<Ready<Result<Self, ApiError>>, Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>>;

    /// Settled at once where it can be (no provider, a token seen recently: most requests),
    /// so that those allocate no future; a new token is verified asynchronously.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let answer = |result: Result<Owner, AuthError>| Either::Left(ready(result.map(Caller).map_err(Into::into)));
        let Some(state) = req.app_data::<web::Data<crate::AppState>>() else {
            return Either::Left(ready(Err(ApiError::Internal("the app has no state".into()))));
        };
        let authorization = match req.headers().get(header::AUTHORIZATION).map(|value| value.to_str()) {
            None => None,
            Some(Ok(value)) => Some(value),
            Some(Err(_)) => return answer(Err(AuthError::InvalidToken("malformed token"))),
        };
        match state.auth.seen(authorization) {
            Seen::Settled(result) => answer(result),
            Seen::New(provider, token) => {
                let (provider, token) = (Arc::clone(provider), token.to_owned());
                Either::Right(Box::pin(async move { Ok(Caller(provider.verify(&token).await?)) }))
            }
        }
    }
}
