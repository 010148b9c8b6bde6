//! Checking one bearer token against the provider's keys and the expected claims.

use super::keys::{KeyError, KeySource};
use super::{AuthError, ProviderSettings};
use app_service::Owner;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

/// Clock skew tolerated for `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_S: u64 = 60;

/// The algorithms accepted: asymmetric only, so a public key can never be used as an HMAC
/// secret (no key confusion), and `none` never.
const ACCEPTED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// The claims read beyond those `jsonwebtoken` checks.
#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    iat: Option<f64>,
    exp: Option<u64>,
}

/// What a valid token proves, and until when (`exp`, in seconds since the epoch).
pub struct Proof {
    /// The token's subject.
    pub owner: Owner,
    /// When the token expires.
    pub expires: u64,
}

/// The owner a valid `token` proves: signed by a key the provider publishes, with an
/// accepted algorithm, within its time window, for this issuer and audience.
pub async fn verify(token: &str, keys: &KeySource, settings: &ProviderSettings) -> Result<Proof, AuthError> {
    let invalid = AuthError::InvalidToken;
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed token"))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(invalid("token algorithm not accepted"));
    }
    let kid = header.kid.ok_or(invalid("token names no signing key (kid)"))?;
    let key = keys.key(&kid).await.map_err(|error| match error {
        KeyError::Unknown => invalid("unknown signing key"),
        KeyError::Unavailable => AuthError::KeysUnavailable,
    })?;
    if key.algorithm.is_some_and(|algorithm| algorithm != header.alg) {
        return Err(invalid("token algorithm does not match its key"));
    }
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_S;
    validation.validate_nbf = true;
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
        .map_err(|error| invalid(reason(error.kind())))?
        .claims;
    let now = jsonwebtoken::get_current_timestamp() as f64;
    if claims.iat.is_some_and(|iat| iat > now + LEEWAY_S as f64) {
        return Err(invalid("token is issued in the future"));
    }
    match claims.sub {
        Some(sub) if !sub.trim().is_empty() => {
            Ok(Proof { owner: Owner::new(sub), expires: claims.exp.unwrap_or_default() })
        }
        _ => Err(invalid("token has no subject (sub)")),
    }
}

/// What to tell the client about a refused token.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "token has expired",
        ErrorKind::ImmatureSignature => "token is not valid yet",
        ErrorKind::InvalidIssuer => "token is from another issuer",
        ErrorKind::InvalidAudience => "token is for another audience",
        ErrorKind::InvalidSignature => "token signature is invalid",
        ErrorKind::InvalidAlgorithm => "token algorithm does not match its key",
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => "token has no expiry (exp)",
            "sub" => "token has no subject (sub)",
            "iss" => "token has no issuer (iss)",
            _ => "token has no audience (aud)",
        },
        _ => "malformed token",
    }
}
