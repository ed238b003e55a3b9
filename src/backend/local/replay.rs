//! A replay cache for one-time JWTs (DPoP proofs, client assertions): a
//! `jti` is accepted once while it could still be presented, bounded in time
//! by the token's own expiry and in size by a cap. Only hashes are kept: a
//! `jti` is harmless, but the cache need not hold what callers sent.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Mutex, MutexGuard};

use aws_lc_rs::digest::{SHA256, digest};

use super::reply::Fault;

/// Remembered `jti`s, per scope (a key thumbprint, a client ID).
pub(super) struct ReplayCache {
    seen: Mutex<Seen>,
    max: usize,
    /// What a full cache's error names: the things and the setting.
    what: &'static str,
}

#[derive(Default)]
struct Seen {
    /// SHA-256 of `scope.jti` -> when it may be forgotten.
    until: HashMap<[u8; 32], i64>,
    /// The same, soonest expiry first: the sweep. Expiries do not grow with
    /// insertion (each token has its own), so a queue in insertion order
    /// would let one long-lived entry hold back the sweep of every later one.
    order: BinaryHeap<Reverse<(i64, [u8; 32])>>,
}

impl ReplayCache {
    pub(super) fn new(max: usize, what: &'static str) -> Self {
        Self {
            seen: Mutex::new(Seen::default()),
            max,
            what,
        }
    }

    /// Records `jti` in `scope` until `until`; `Ok(false)` when it was seen
    /// already (a replay). A full cache is a server error, not a refusal of
    /// the caller's token.
    pub(super) fn first_use(
        &self,
        scope: &str,
        jti: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, Fault> {
        let key: [u8; 32] = digest(&SHA256, format!("{scope}.{jti}").as_bytes())
            .as_ref()
            .try_into()
            .map_err(|_| Fault::Server("SHA-256 failed.".to_owned()))?;
        let mut seen = lock(&self.seen);
        while let Some(Reverse((at, k))) = seen.order.peek().copied() {
            if at > now {
                break;
            }
            seen.order.pop();
            if seen.until.get(&k) == Some(&at) {
                seen.until.remove(&k);
            }
        }
        if seen.until.get(&key).is_some_and(|at| *at > now) {
            return Ok(false);
        }
        if seen.until.len() >= self.max {
            return Err(Fault::Server(format!(
                "The local engine remembers its maximum of {} {}; retry later or raise the limit.",
                self.max, self.what
            )));
        }
        seen.until.insert(key, until);
        seen.order.push(Reverse((until, key)));
        Ok(true)
    }

    /// How many `jti`s are remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        lock(&self.seen).until.len()
    }
}

/// Nothing panics under these locks, so a poisoned one is still consistent.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_lived_entry_does_not_hold_back_the_sweep_of_later_ones() {
        let cache = ReplayCache::new(2, "things (max)");
        assert!(cache.first_use("c", "long", 0, 1_000_000).unwrap());
        assert!(cache.first_use("c", "short", 0, 100).unwrap());
        assert!(cache.first_use("c", "third", 50, 150).is_err(), "full");
        // At 100 the short entry has gone although the long one came first.
        assert!(cache.first_use("c", "third", 100, 200).unwrap());
        assert!(
            !cache.first_use("c", "long", 150, 250).unwrap(),
            "still a replay"
        );
        assert_eq!(cache.len(), 2);
    }
}
