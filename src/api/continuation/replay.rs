//! The continuations of this process that were already spent: a
//! continuation that mints tokens without an Authlete ticket is good once.
//!
//! Hand-written rather than a general cache (moka and the like) because the
//! bound must fail closed: a cache that evicts a live entry to make room
//! would let that continuation be replayed. Here an entry lives until its
//! continuation expires (after which `open` refuses it anyway), expired
//! entries are dropped from the front as new ones arrive, and when the
//! capacity is reached with nothing expired, new single-use continuations
//! are refused until room frees up.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use aws_lc_rs::aead::NONCE_LEN;

/// A continuation ID: the random nonce of its seal.
pub type Id = [u8; NONCE_LEN];

/// Why a continuation cannot be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unspent {
    /// It was spent before.
    Replayed,
    /// The cache holds `capacity` live entries.
    Full,
}

/// The spent continuation IDs, each until its expiry.
#[derive(Debug)]
pub struct ReplayCache {
    capacity: usize,
    state: Mutex<Spent>,
}

#[derive(Debug, Default)]
struct Spent {
    ids: HashSet<Id>,
    /// (expiry, id) in the order spent. All single-use continuations have
    /// one lifetime, so this is also (nearly) expiry order; an entry stuck
    /// behind a later one only lives a little longer than needed.
    order: VecDeque<(u64, Id)>,
}

impl ReplayCache {
    /// A cache holding at most `capacity` live entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(Spent::default()),
        }
    }

    /// Records `id` (valid until `expires`) as spent at `now`.
    pub fn spend(&self, id: Id, expires: u64, now: u64) -> Result<(), Unspent> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(&(exp, old)) = state.order.front() {
            if exp >= now {
                break;
            }
            state.order.pop_front();
            state.ids.remove(&old);
        }
        if state.ids.contains(&id) {
            return Err(Unspent::Replayed);
        }
        if state.ids.len() >= self.capacity {
            return Err(Unspent::Full);
        }
        state.ids.insert(id);
        state.order.push_back((expires, id));
        Ok(())
    }

    /// How many entries are held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.ids.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_spent_once_until_it_expires_and_the_bound_fails_closed() {
        let cache = ReplayCache::new(2);
        assert_eq!(cache.spend([1; NONCE_LEN], 100, 10), Ok(()));
        assert_eq!(cache.spend([1; NONCE_LEN], 100, 11), Err(Unspent::Replayed));
        assert_eq!(cache.spend([2; NONCE_LEN], 50, 12), Ok(()));
        // Full of live entries: refused, and nothing live was evicted.
        assert_eq!(cache.spend([3; NONCE_LEN], 100, 13), Err(Unspent::Full));
        assert_eq!(cache.spend([1; NONCE_LEN], 100, 13), Err(Unspent::Replayed));
        // Once the first entry has expired, it and what follows it go.
        assert_eq!(cache.spend([3; NONCE_LEN], 200, 101), Ok(()));
        assert_eq!(cache.len(), 1);
    }
}
