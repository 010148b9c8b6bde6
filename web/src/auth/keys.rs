//! The identity provider's signing keys (a JWKS), fetched lazily and cached.
//!
//! A token names its key by `kid`. A `kid` not in the cache may be a key the provider has
//! just rotated in, so the set is fetched again — but at most once per refresh interval,
//! so a flood of tokens with made-up `kid`s cannot hammer the provider. A failed fetch
//! keeps the keys already known. Fetching is async I/O (an HTTP request, or a file read
//! on tokio's threadpool for local development), never a blocking call on a worker.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Largest key set accepted from the provider.
const MAX_JWKS_BYTES: usize = 1 << 20;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// A verification key and the algorithm the provider declared for it, if any.
pub struct Key {
    pub decoding: DecodingKey,
    /// The JWK's `alg`; a token must use it when it is given.
    pub algorithm: Option<Algorithm>,
}

/// Why no key could be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The provider does not publish this `kid` (checked against a fresh enough set).
    Unknown,
    /// No key set could be fetched, and none is cached.
    Unavailable,
}

/// Where the keys come from.
enum Location {
    Http(reqwest::Client, String),
    File(std::path::PathBuf),
}

/// The provider's keys, cached; see the module docs.
pub struct KeySource {
    location: Location,
    refresh: Duration,
    cache: RwLock<Cache>,
    /// One fetch at a time; the others wait for it and use its result.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Arc<Key>>,
    fetched: bool,
    last_attempt: Option<Instant>,
}

impl KeySource {
    /// Keys published at `url` (`https://`, `http://` or `file://`), fetched at most once
    /// per `refresh`.
    pub fn new(url: &str, refresh: Duration) -> Self {
        let location = match url.strip_prefix("file://") {
            Some(path) => Location::File(path.into()),
            None => Location::Http(client(), url.to_owned()),
        };
        Self { location, refresh, cache: RwLock::default(), fetching: tokio::sync::Mutex::new(()) }
    }

    /// The key named `kid`: from the cache, or after one fetch if the cache lacks it and
    /// the last fetch was long enough ago.
    pub async fn key(&self, kid: &str) -> Result<Arc<Key>, KeyError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let recent = {
            let cache = self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            cache.last_attempt.is_some_and(|at| at.elapsed() < self.refresh)
        };
        if !recent {
            self.refresh().await;
        }
        match self.cached(kid) {
            Some(key) => Ok(key),
            None if self.has_keys() => Err(KeyError::Unknown),
            None => Err(KeyError::Unavailable),
        }
    }

    fn cached(&self, kid: &str) -> Option<Arc<Key>> {
        self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner).keys.get(kid).cloned()
    }

    /// Whether a key set was ever fetched (and so is still known).
    fn has_keys(&self) -> bool {
        self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner).fetched
    }

    /// Fetches the set; on success it replaces the cache, on failure the cache stays.
    async fn refresh(&self) {
        let fetched = self.fetch().await;
        let mut cache = self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.last_attempt = Some(Instant::now());
        match fetched {
            Ok(set) => {
                cache.keys = keys_of(&set);
                cache.fetched = true;
            }
            Err(error) => tracing::warn!(%error, "cannot fetch the identity provider's keys; keeping those known"),
        }
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let bytes = match &self.location {
            Location::File(path) => tokio::fs::read(path).await.map_err(|e| format!("{}: {e}", path.display()))?,
            Location::Http(client, url) => fetch_http(client, url).await?,
        };
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(format!("the key set is larger than {MAX_JWKS_BYTES} bytes"));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("not a JWKS: {e}"))
    }
}

/// Fetches the key set at `url` in a CLIENT span of its own, which the provider sees as
/// the parent of its work (`traceparent`) when spans are exported.
async fn fetch_http(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let span = tracing::info_span!(
        // `app_data::trace::TARGET` (this crate does not see that one): for traces, not the log.
        target: "otel",
        "jwks fetch",
        otel.name = "GET",
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        http.request.method = "GET",
        url.full = url,
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let fetched = fetch_traced(client, url, &span).instrument(span.clone()).await;
    if fetched.is_err() {
        // The message stays in the log line; the attribute stays low-cardinality.
        span.record("otel.status_code", "ERROR");
        span.record("error.type", "jwks_fetch_failed");
    }
    fetched
}

async fn fetch_traced(client: &reqwest::Client, url: &str, span: &tracing::Span) -> Result<Vec<u8>, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    crate::trace_context::inject(span, &mut headers);
    let mut response = client.get(url).headers(headers).send().await.map_err(|e| e.without_url().to_string())?;
    span.record("http.response.status_code", response.status().as_u16());
    if !response.status().is_success() {
        return Err(format!("the provider answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url().to_string())? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(format!("the key set is larger than {MAX_JWKS_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The HTTP client for the provider: rustls with the ring provider, bounded in time.
fn client() -> reqwest::Client {
    // The process-wide crypto provider for rustls; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().unwrap_or_else(|_| reqwest::Client::new())
}

/// The usable keys of `set`, by `kid`; keys without a `kid` or of unknown kinds are left out.
fn keys_of(set: &JwkSet) -> HashMap<String, Arc<Key>> {
    set.keys
        .iter()
        .filter_map(|jwk: &Jwk| {
            let kid = jwk.common.key_id.clone()?;
            let decoding = DecodingKey::from_jwk(jwk).ok()?;
            let algorithm = jwk.common.key_algorithm.and_then(|alg| alg.to_string().parse().ok());
            Some((kid, Arc::new(Key { decoding, algorithm })))
        })
        .collect()
}
