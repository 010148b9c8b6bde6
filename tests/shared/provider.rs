//! A stand-in identity provider for tests: real keys (test-only, in
//! `tests/fixtures/auth/`), real signed tokens, and a JWKS served over HTTP on a local
//! port, which can be made unreachable and counts (and keeps the headers of) its fetches.

use app_web::auth::{AuthSettings, ProviderSettings};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The issuer the test provider signs as.
pub const ISSUER: &str = "https://id.test/";
/// The audience its tokens are for: the service, by its package's name.
pub const AUDIENCE: &str = env!("CARGO_PKG_NAME");

/// A signing key of the test provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    /// RSA, published as `rsa-1`.
    Rsa1,
    /// RSA, published as `rsa-2` once the provider rotates keys.
    Rsa2,
    /// EC P-256, published as `ec-1`.
    Ec1,
    /// RSA, never published.
    Attacker,
}

impl TestKey {
    /// The key's `kid`.
    pub fn kid(self) -> &'static str {
        match self {
            Self::Rsa1 => "rsa-1",
            Self::Rsa2 => "rsa-2",
            Self::Ec1 => "ec-1",
            Self::Attacker => "attacker",
        }
    }

    /// The algorithm it signs with.
    pub fn algorithm(self) -> Algorithm {
        if self == Self::Ec1 { Algorithm::ES256 } else { Algorithm::RS256 }
    }

    /// The private key.
    pub fn encoding(self) -> EncodingKey {
        let pem: &[u8] = match self {
            Self::Rsa1 => include_bytes!("../fixtures/auth/rsa-1.pem"),
            Self::Rsa2 => include_bytes!("../fixtures/auth/rsa-2.pem"),
            Self::Ec1 => include_bytes!("../fixtures/auth/ec-1.pem"),
            Self::Attacker => include_bytes!("../fixtures/auth/attacker.pem"),
        };
        match self.algorithm() {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem).expect("an EC key"),
            _ => EncodingKey::from_rsa_pem(pem).expect("an RSA key"),
        }
    }

    /// The public half, as the provider publishes it.
    pub fn jwk(self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.encoding(), self.algorithm()).expect("a JWK");
        jwk.common.key_id = Some(self.kid().into());
        jwk
    }
}

/// Claims of a valid token for `sub`, to be changed by a test.
pub fn claims(sub: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 600})
}

/// A token with `claims`, signed by `key` and naming it by `kid`.
pub fn token(key: TestKey, claims: &Value) -> String {
    token_with_kid(key, key.kid(), claims)
}

/// A token signed by `key` that names the key `kid`.
pub fn token_with_kid(key: TestKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm());
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key.encoding()).expect("sign")
}

#[derive(Default)]
struct State {
    jwks: String,
    unreachable: bool,
    fetches: usize,
    heads: Vec<String>,
}

/// The provider's JWKS endpoint, on a local port.
pub struct IdentityProvider {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl IdentityProvider {
    /// A provider publishing `keys`, listening now.
    pub async fn start(keys: &[TestKey]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let address = listener.local_addr().expect("its address");
        let state = Arc::new(Mutex::new(State::default()));
        let served = Arc::clone(&state);
        let server = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let state = Arc::clone(&served);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let body = {
                        let mut state = state.lock().expect("provider state");
                        if state.unreachable {
                            return; // Dropping the connection: the fetch fails.
                        }
                        state.fetches += 1;
                        state.heads.push(String::from_utf8_lossy(&head).into_owned());
                        state.jwks.clone()
                    };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                });
            }
        });
        let provider = Self { address, state, server };
        provider.publish(keys);
        provider
    }

    /// Publishes exactly `keys` from now on.
    pub fn publish(&self, keys: &[TestKey]) {
        let set = JwkSet { keys: keys.iter().map(|key| key.jwk()).collect() };
        self.state.lock().expect("provider state").jwks = serde_json::to_string(&set).expect("JSON");
    }

    /// Makes the endpoint drop every connection (`false`), or serve again (`true`).
    pub fn set_reachable(&self, reachable: bool) {
        self.state.lock().expect("provider state").unreachable = !reachable;
    }

    /// How many times the key set was served.
    pub fn fetches(&self) -> usize {
        self.state.lock().expect("provider state").fetches
    }

    /// The head (request line and headers) of each fetch served.
    #[allow(dead_code, reason = "the process tests read it (traceparent); the HTTP tests do not")]
    pub fn heads(&self) -> Vec<String> {
        self.state.lock().expect("provider state").heads.clone()
    }

    /// The service's settings for this provider, fetching at most once per `refresh`.
    pub fn settings(&self, refresh: Duration) -> AuthSettings {
        AuthSettings::Provider(ProviderSettings {
            jwks_url: format!("http://{}/jwks.json", self.address),
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            refresh,
        })
    }
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}
