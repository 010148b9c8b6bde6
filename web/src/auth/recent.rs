//! Tokens verified a moment ago, so a client's next request with the same token skips
//! the signature check (an ECDSA or RSA verification costs far more than the rest of a
//! request). A token is remembered by its SHA-256 digest, never in clear, until it
//! expires or for [`REMEMBER`] at most, whichever is sooner: so a key the provider
//! withdraws stops being honoured within that time, as it would with the key cache.

use super::token::Proof;
use app_service::Owner;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest a verified token is remembered.
pub const REMEMBER: Duration = Duration::from_secs(60);
/// The most tokens remembered: a bounded amount of memory (about 100 bytes each).
const CAPACITY: usize = 4096;

/// Recently verified tokens and their owners.
#[derive(Default)]
pub struct RecentTokens {
    entries: Mutex<HashMap<[u8; 32], (Owner, Instant)>>,
}

impl RecentTokens {
    /// The owner of `token`, if it was verified recently and is still valid.
    pub fn owner(&self, token: &str) -> Option<Owner> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (owner, until) = entries.get(&digest(token))?;
        (Instant::now() < *until).then(|| owner.clone())
    }

    /// Remembers that `token` proved `proof`.
    pub fn remember(&self, token: &str, proof: &Proof) {
        let now_s = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let left = Duration::from_secs(proof.expires.saturating_sub(now_s)).min(REMEMBER);
        let until = Instant::now() + left;
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            let now = Instant::now();
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest(token), (proof.owner.clone(), until));
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring_in(seconds: u64) -> Proof {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        Proof { owner: Owner::new("alice"), expires: now + seconds }
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires() {
        let recent = RecentTokens::default();
        assert_eq!(recent.owner("t1"), None);
        recent.remember("t1", &expiring_in(600));
        assert_eq!(recent.owner("t1"), Some(Owner::new("alice")));
        assert_eq!(recent.owner("t2"), None, "another token is not");
        recent.remember("t3", &expiring_in(0));
        assert_eq!(recent.owner("t3"), None, "an expired token is checked again");
    }

    #[test]
    fn memory_stays_bounded() {
        let recent = RecentTokens::default();
        for n in 0..CAPACITY * 2 {
            recent.remember(&n.to_string(), &expiring_in(600));
        }
        assert!(recent.entries.lock().unwrap().len() <= CAPACITY);
    }
}
