//! `dev-token`: tokens for local development, without an identity provider.
//!
//! The first run makes a P-256 key pair in `.dev-auth/` (git-ignored): the private key,
//! and the public half as a JWKS file the service can read (`AUTH_JWKS_URL=file://…`).
//! Each run prints the settings and a token for the given subject, as shell `export`
//! lines. The tokens' issuer is [`DEV_ISSUER`], which the service accepts only while it
//! listens on a loopback address — and `file://` key sets likewise — so these keys can
//! never authenticate a deployed service.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use std::path::{Path, PathBuf};

/// The issuer of development tokens, named after the service (the package). The service
/// accepts it only while it listens on a loopback address, so a development key set can
/// never authenticate a deployed service.
pub const DEV_ISSUER: &str = concat!("urn:", env!("CARGO_PKG_NAME"), ":dev-token:local-only");
/// The audience of development tokens, named after the service.
pub const DEV_AUDIENCE: &str = concat!(env!("CARGO_PKG_NAME"), "-dev");
/// Where the key pair is kept, relative to the working directory.
const DIR: &str = ".dev-auth";
const KEY_ID: &str = "dev-1";

/// The shell lines that set up the service for development tokens and hold one for
/// `subject`, valid for `minutes`. Blocking file I/O: call it on the threadpool.
pub fn export_lines(subject: &str, minutes: u64) -> Result<String, String> {
    let dir = std::env::current_dir().map_err(|e| e.to_string())?.join(DIR);
    let key = signing_key(&dir)?;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": subject, "iat": now, "exp": now + minutes * 60,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(KEY_ID.into());
    let token = jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())?;
    let jwks = dir.join("jwks.json");
    Ok(format!(
        "# A development token for {subject:?}, valid for {minutes} minutes. The service accepts it only\n\
         # while it listens on a loopback address (HOST=127.0.0.1): it is not for deployment.\n\
         export AUTH_JWKS_URL='file://{}' AUTH_ISSUER='{DEV_ISSUER}' AUTH_AUDIENCE='{DEV_AUDIENCE}'\n\
         export TOKEN='{token}'\n\
         # curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8000/orders\n",
        jwks.display()
    ))
}

/// The key pair in `dir`, made on first use.
fn signing_key(dir: &Path) -> Result<EncodingKey, String> {
    let pem_path = dir.join("signing-key.pem");
    if !pem_path.exists() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let pem = secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        write(&pem_path, pem.as_bytes())?;
        let key = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).map_err(|e| e.to_string())?;
        jwk.common.key_id = Some(KEY_ID.into());
        let set = serde_json::to_vec_pretty(&JwkSet { keys: vec![jwk] }).map_err(|e| e.to_string())?;
        write(&dir.join("jwks.json"), &set)?;
    }
    let pem = std::fs::read(&pem_path).map_err(|e| format!("{}: {e}", pem_path.display()))?;
    EncodingKey::from_ec_pem(&pem).map_err(|e| format!("{}: {e}", pem_path.display()))
}

fn write(path: &PathBuf, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}
