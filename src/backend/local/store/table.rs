//! A table of the store: values by key, each with an expiry and a weight,
//! and the sum of the weights kept as entries come and go.

use std::collections::HashMap;

/// What an entry costs besides its strings: map slots, `Arc`s, small fields.
pub(in crate::backend::local) const ENTRY_OVERHEAD: usize = 256;

pub(in crate::backend::local) struct Expiring<T> {
    expires_at: i64,
    /// The weight it was stored with (key included).
    bytes: usize,
    value: T,
}

/// Values by key, each with an expiry and a weight.
pub(in crate::backend::local) struct Table<T> {
    pub(in crate::backend::local) map: HashMap<String, Expiring<T>>,
    pub(in crate::backend::local) bytes: usize,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            bytes: 0,
        }
    }
}

impl<T> Table<T> {
    /// Stores `value`, weighing `bytes` besides its key and [`ENTRY_OVERHEAD`].
    pub(in crate::backend::local) fn insert(
        &mut self,
        key: String,
        value: T,
        expires_at: i64,
        bytes: usize,
    ) {
        let bytes = weight(&key, bytes);
        self.bytes += bytes;
        let entry = Expiring {
            expires_at,
            bytes,
            value,
        };
        if let Some(old) = self.map.insert(key, entry) {
            self.bytes -= old.bytes;
        }
    }

    /// Removes and returns a live value: what makes tickets single use.
    pub(in crate::backend::local) fn take(&mut self, key: &str, now: i64) -> Option<T> {
        let entry = self.map.remove(key)?;
        self.bytes -= entry.bytes;
        (entry.expires_at > now).then_some(entry.value)
    }

    /// A live value and its expiry.
    pub(in crate::backend::local) fn get(&self, key: &str, now: i64) -> Option<(&T, i64)> {
        self.map
            .get(key)
            .filter(|e| e.expires_at > now)
            .map(|e| (&e.value, e.expires_at))
    }

    /// Replaces the value of a live entry, keeping its expiry.
    pub(in crate::backend::local) fn replace(&mut self, key: &str, value: T) {
        if let Some(e) = self.map.get_mut(key) {
            e.value = value;
        }
    }

    pub(in crate::backend::local) fn sweep(&mut self, now: i64) {
        self.retain_entries(|e| e.expires_at > now);
        shrink(&mut self.map);
    }

    /// Keeps the values `keep` accepts.
    pub(in crate::backend::local) fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        self.retain_entries(|e| keep(&e.value));
    }

    fn retain_entries(&mut self, keep: impl Fn(&Expiring<T>) -> bool) {
        let mut freed = 0;
        self.map.retain(|_, e| {
            let kept = keep(e);
            if !kept {
                freed += e.bytes;
            }
            kept
        });
        self.bytes -= freed;
    }

    pub(in crate::backend::local) fn len(&self) -> usize {
        self.map.len()
    }
}

/// The weight of an entry: its key, `bytes` of content, the overhead.
pub(in crate::backend::local) fn weight(key: &str, bytes: usize) -> usize {
    key.len()
        .saturating_add(bytes)
        .saturating_add(ENTRY_OVERHEAD)
}

/// Gives memory back after a sweep emptied most of a map.
pub(in crate::backend::local) fn shrink<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 1024 && map.len() * 4 < map.capacity() {
        map.shrink_to_fit();
    }
}
