//! The dynamically registered clients (RFC 7591), held by the client
//! registry next to the configured ones so that they work at every
//! endpoint. Bounded by `registration.max_clients`. Of the registration
//! access tokens and the initial access token only SHA-256 hashes are
//! kept, compared in constant time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};

use super::client::Client;
use super::registration_meta::Metadata;

/// The SHA-256 of a token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Hash([u8; 32]);

impl Hash {
    pub(super) fn of(token: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        Self(out)
    }

    /// Whether `presented` is the token, in constant time.
    pub(super) fn matches(&self, presented: &str) -> bool {
        verify_slices_are_equal(&self.0, &Self::of(presented).0).is_ok()
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hash]")
    }
}

/// A registered client and what its management needs.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub client: Arc<Client>,
    pub metadata: Arc<Metadata>,
    /// Of the registration access token.
    pub token: Hash,
    /// Epoch milliseconds.
    pub issued_at: i64,
    pub modified_at: i64,
}

/// Dynamic client IDs start above the numbers assigned to configured
/// clients, and are never reused: a deleted client's ID stays dead.
const FIRST_DYNAMIC_ID: i64 = 2_000_001;

#[derive(Default)]
struct State {
    entries: HashMap<i64, Entry>,
    last_id: i64,
}

/// The registered clients and the initial access token's hash.
#[derive(Default)]
pub(super) struct Dynamic {
    state: RwLock<State>,
    initial_token: Option<Hash>,
}

impl std::fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dynamic")
            .field("clients", &self.read().entries.len())
            .finish_non_exhaustive()
    }
}

impl Dynamic {
    /// No clients yet; registration requires `initial_token` when set.
    pub(super) fn new(initial_token: Option<&str>) -> Self {
        Self {
            state: RwLock::default(),
            initial_token: initial_token.map(Hash::of),
        }
    }

    /// The initial access token's hash, when registration requires one.
    pub(super) fn initial_token(&self) -> Option<&Hash> {
        self.initial_token.as_ref()
    }

    pub(super) fn client(&self, id: i64) -> Option<Arc<Client>> {
        self.read().entries.get(&id).map(|e| e.client.clone())
    }

    pub(super) fn entry(&self, id: i64) -> Option<Entry> {
        self.read().entries.get(&id).cloned()
    }

    /// A fresh ID, none that `taken` (a configured client) uses.
    pub(super) fn next_id(&self, taken: impl Fn(i64) -> bool) -> i64 {
        let mut state = self.write();
        let mut id = state.last_id.max(FIRST_DYNAMIC_ID - 1) + 1;
        while taken(id) {
            id += 1;
        }
        state.last_id = id;
        id
    }

    /// Adds a client unless `cap` clients exist already.
    pub(super) fn insert(&self, entry: Entry, cap: usize) -> Result<(), usize> {
        let mut state = self.write();
        if state.entries.len() >= cap {
            return Err(cap);
        }
        state.entries.insert(entry.client.id, entry);
        Ok(())
    }

    /// Replaces a client's entry; false when it was deleted meanwhile.
    pub(super) fn replace(&self, entry: Entry) -> bool {
        let mut state = self.write();
        match state.entries.get_mut(&entry.client.id) {
            Some(slot) => {
                *slot = entry;
                true
            }
            None => false,
        }
    }

    /// Deletes a client; false when it did not exist.
    pub(super) fn remove(&self, id: i64) -> bool {
        self.write().entries.remove(&id).is_some()
    }

    /// Nothing panics while the lock is held, so a poisoned lock still
    /// guards a consistent map and is reused (as the store does).
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_the_token_only() {
        let h = Hash::of("rat-1");
        assert!(h.matches("rat-1"));
        assert!(!h.matches("rat-2"));
        assert!(!h.matches(""));
        assert_eq!(format!("{h:?}"), "[hash]");
    }

    #[test]
    fn ids_skip_configured_ones_and_are_never_reused() {
        let d = Dynamic::new(None);
        assert_eq!(d.next_id(|id| id == FIRST_DYNAMIC_ID), FIRST_DYNAMIC_ID + 1);
        assert_eq!(d.next_id(|_| false), FIRST_DYNAMIC_ID + 2);
    }
}
