//! What DPoP (RFC 9449) needs to remember: the `jti`s of recent proofs, so a
//! proof is used once (bounded in time by the `iat` window and in size by a
//! cap), and the server nonce, which rotates and is accepted for two
//! periods. Kept apart from the token store: proofs are not grants.

use std::sync::Mutex;

use serde::Deserialize;

use super::jwt::random_token;
use super::replay::{ReplayCache, lock};
use super::reply::Fault;

/// `[dpop]` of the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DpopConfig {
    /// Every DPoP proof must carry the server's nonce (RFC 9449 §8); per
    /// client too (`dpop_nonce_required`).
    pub nonce_required: bool,
    /// Seconds a nonce is the current one; the previous one is accepted too.
    pub nonce_lifetime: i64,
    /// Seconds a proof's `iat` may be off the engine's clock, either way.
    pub proof_max_age: i64,
    /// At most this many remembered `jti`s; a proof beyond it is refused
    /// with INTERNAL_SERVER_ERROR until older ones age out.
    pub max_replay_entries: usize,
}

impl Default for DpopConfig {
    fn default() -> Self {
        Self {
            nonce_required: false,
            nonce_lifetime: 300,
            proof_max_age: 60,
            max_replay_entries: 100_000,
        }
    }
}

impl DpopConfig {
    pub(super) fn check(&self) -> Result<(), String> {
        if self.nonce_lifetime <= 0 || self.proof_max_age <= 0 || self.max_replay_entries == 0 {
            return Err(
                "dpop.nonce_lifetime, dpop.proof_max_age and dpop.max_replay_entries must be positive"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// The replay cache and the nonces, each behind its own lock.
pub(super) struct DpopState {
    seen: ReplayCache,
    nonces: Mutex<Nonces>,
    nonce_lifetime_ms: i64,
}

#[derive(Default)]
struct Nonces {
    current: String,
    previous: String,
    since: i64,
}

impl DpopState {
    pub(super) fn new(config: &DpopConfig) -> Self {
        Self {
            seen: ReplayCache::new(
                config.max_replay_entries,
                "DPoP proofs (dpop.max_replay_entries)",
            ),
            nonces: Mutex::new(Nonces::default()),
            nonce_lifetime_ms: config.nonce_lifetime * 1000,
        }
    }

    /// Records a proof's `jti` for key `jkt` until `until`; `Ok(false)` when
    /// it was seen already (a replay).
    pub(super) fn first_use(
        &self,
        jkt: &str,
        jti: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, Fault> {
        self.seen.first_use(jkt, jti, now, until)
    }

    /// How many `jti`s are remembered.
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.seen.len()
    }

    /// The current nonce, rotated when its period is over.
    pub(super) fn nonce(&self, now: i64) -> Result<String, Fault> {
        let mut n = lock(&self.nonces);
        if n.current.is_empty() || now - n.since >= self.nonce_lifetime_ms {
            n.previous = std::mem::take(&mut n.current);
            n.current = random_token()?;
            n.since = now;
        }
        Ok(n.current.clone())
    }

    /// Whether `nonce` is the current or the previous one.
    pub(super) fn nonce_ok(&self, nonce: &str, now: i64) -> Result<bool, Fault> {
        let current = self.nonce(now)?;
        let n = lock(&self.nonces);
        Ok(!nonce.is_empty() && (nonce == current || nonce == n.previous))
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_used_once_until_it_ages_out_and_the_cache_is_capped() {
        let s = DpopState::new(&DpopConfig {
            max_replay_entries: 2,
            ..DpopConfig::default()
        });
        assert!(s.first_use("k", "a", 0, 100).unwrap());
        assert!(!s.first_use("k", "a", 50, 150).unwrap(), "a replay");
        assert!(s.first_use("other-key", "a", 50, 150).unwrap(), "per key");
        assert!(s.first_use("k", "b", 60, 160).is_err(), "full");
        // At 100 the first entry ages out: room again, and `a` is new.
        assert!(s.first_use("k", "a", 100, 200).unwrap());
        assert_eq!(s.remembered(), 2);
    }

    #[test]
    fn nonces_rotate_and_the_previous_one_still_works() {
        let s = DpopState::new(&DpopConfig::default());
        let first = s.nonce(0).unwrap();
        assert_eq!(s.nonce(1000).unwrap(), first);
        assert!(s.nonce_ok(&first, 1000).unwrap());
        let second = s.nonce(300_000).unwrap();
        assert_ne!(first, second);
        assert!(s.nonce_ok(&first, 300_001).unwrap(), "the previous one");
        s.nonce(600_000).unwrap();
        assert!(!s.nonce_ok(&first, 600_001).unwrap(), "two periods old");
        assert!(!s.nonce_ok("", 600_001).unwrap());
    }
}
