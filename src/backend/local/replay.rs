//! A replay cache for one-time JWTs (DPoP proofs, client assertions): a
//! `jti` is accepted once while it could still be presented, bounded in time
//! by the token's own expiry and in size by a cap. Only hashes are kept: a
//! `jti` is harmless, but the cache need not hold what callers sent.

use std::collections::{HashMap, VecDeque};
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
    /// The same, in insertion order: the sweep. Expiries need not grow with
    /// it, so an entry may outlive its time until those before it go; the
    /// cap bounds that.
    order: VecDeque<([u8; 32], i64)>,
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
        while let Some((k, at)) = seen.order.front().copied() {
            if at > now {
                break;
            }
            seen.order.pop_front();
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
        seen.order.push_back((key, until));
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
