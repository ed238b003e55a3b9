//! Which cache entries belong to a token and to a client, so that a
//! revocation finds them. Each entry is listed under its token's hash and
//! under every identifier of its client (ID, alias, entity ID).
//!
//! An entry is listed before it enters the cache and unlisted when the cache
//! drops it, so the index never misses a cached entry and holds no more than
//! the cache does. Each listing carries the fill that made it: the drop of an
//! older value of a key must not unlist its newer value.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Key, TokenHash};

/// One cached answer's place in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub token: TokenHash,
    /// The client's identifiers as Authlete names them (ID, alias, entity ID).
    pub clients: Vec<String>,
    /// Which fill made the entry (unique per process).
    pub fill: u64,
}

#[derive(Default)]
struct Maps {
    tokens: HashMap<TokenHash, HashMap<Key, u64>>,
    clients: HashMap<String, HashMap<Key, u64>>,
}

/// See the module documentation.
#[derive(Default)]
pub struct Index {
    maps: Mutex<Maps>,
}

impl Index {
    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lists `key` under its token and clients.
    pub fn add(&self, key: Key, listing: &Listing) {
        let mut maps = self.maps();
        maps.tokens
            .entry(listing.token)
            .or_default()
            .insert(key, listing.fill);
        for client in &listing.clients {
            maps.clients
                .entry(client.clone())
                .or_default()
                .insert(key, listing.fill);
        }
    }

    /// Unlists `key` where the listing is still the one of `listing`'s fill.
    pub fn remove(&self, key: &Key, listing: &Listing) {
        let mut maps = self.maps();
        unlist(&mut maps.tokens, &listing.token, key, listing.fill);
        for client in &listing.clients {
            unlist(&mut maps.clients, client, key, listing.fill);
        }
    }

    /// Takes the keys listed under `token`; `None` when it has none.
    pub fn take_token(&self, token: &TokenHash) -> Option<Vec<Key>> {
        let keys = self.maps().tokens.remove(token)?;
        Some(keys.into_keys().collect())
    }

    /// Takes the keys listed under the client identifier `client`.
    pub fn take_client(&self, client: &str) -> Vec<Key> {
        self.maps()
            .clients
            .remove(client)
            .map(|keys| keys.into_keys().collect())
            .unwrap_or_default()
    }

    /// Forgets everything.
    pub fn clear(&self) {
        *self.maps() = Maps::default();
    }

    /// Entries listed (each is listed under exactly one token).
    pub fn len(&self) -> usize {
        self.maps().tokens.values().map(HashMap::len).sum()
    }

    /// Whether a client identifier still lists anything (tests).
    #[cfg(test)]
    pub fn lists_client(&self, client: &str) -> bool {
        self.maps().clients.contains_key(client)
    }
}

fn unlist<N: std::hash::Hash + Eq + ?Sized, O: std::borrow::Borrow<N> + std::hash::Hash + Eq>(
    map: &mut HashMap<O, HashMap<Key, u64>>,
    name: &N,
    key: &Key,
    fill: u64,
) {
    if let Some(keys) = map.get_mut(name) {
        if keys.get(key) == Some(&fill) {
            keys.remove(key);
        }
        if keys.is_empty() {
            map.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(token: u8, client: &str, fill: u64) -> Listing {
        Listing {
            token: [token; 32],
            clients: vec![client.to_owned()],
            fill,
        }
    }

    #[test]
    fn the_drop_of_an_older_fill_keeps_the_newer_listing() {
        let index = Index::default();
        let key = [9; 32];
        index.add(key, &listing(1, "c", 1));
        index.add(key, &listing(1, "c", 2));
        index.remove(&key, &listing(1, "c", 1));
        assert_eq!(index.take_token(&[1; 32]), Some(vec![key]));
        assert_eq!(index.take_client("c"), vec![key]);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn removing_the_current_fill_unlists_everywhere() {
        let index = Index::default();
        let key = [9; 32];
        index.add(key, &listing(1, "c", 7));
        index.remove(&key, &listing(1, "c", 7));
        assert_eq!(index.len(), 0);
        assert!(!index.lists_client("c"));
        assert_eq!(index.take_token(&[1; 32]), None);
        assert!(index.take_client("c").is_empty());
    }
}
