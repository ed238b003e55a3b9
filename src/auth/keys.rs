//! Bearer caller keys. Only their SHA-256 hashes are configured, each with
//! the identity it stands for; a presented key is hashed and compared with
//! every configured hash in constant time.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};

use super::Source;

const HASH_BYTES: usize = 32;

/// The configured caller keys: (SHA-256 of the key, identity).
#[derive(Clone, Default)]
pub struct CallerKeys {
    entries: Vec<([u8; HASH_BYTES], Arc<str>)>,
}

impl fmt::Debug for CallerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hashes are not keys, but there is no reason to print them either.
        let names: Vec<&str> = self.entries.iter().map(|(_, n)| n.as_ref()).collect();
        f.debug_struct("CallerKeys").field("names", &names).finish()
    }
}

impl CallerKeys {
    /// Parses entries `NAME=SHA256HEX`, separated by newlines, commas or
    /// spaces; `#` starts a comment that runs to the end of the line. One
    /// identity may have several keys (rotation); a hash may appear once.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Self::default();
        keys.add(text)?;
        Ok(keys)
    }

    /// Adds the entries of `text` (same format as [`CallerKeys::parse`]).
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default();
            for entry in line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|e| !e.is_empty())
            {
                let (name, hex) = entry.split_once('=').ok_or_else(|| {
                    format!(
                        "line {}: `{}` is not NAME=SHA256HEX",
                        number + 1,
                        shorten(entry)
                    )
                })?;
                let name = name.trim();
                if name.is_empty() {
                    return Err(format!("line {}: an entry has no name", number + 1));
                }
                let hash = parse_hash(hex.trim()).ok_or_else(|| {
                    format!(
                        "line {}: the hash of `{name}` is not 64 hexadecimal digits (the SHA-256 of the key, \
                         e.g. `printf %s \"$KEY\" | sha256sum`)",
                        number + 1
                    )
                })?;
                if self.entries.iter().any(|(h, _)| *h == hash) {
                    return Err(format!(
                        "line {}: the key hash of `{name}` is configured twice",
                        number + 1
                    ));
                }
                self.entries.push((hash, Source::Key.name(name).into()));
            }
        }
        Ok(())
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The identities that have keys (`key:NAME`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(_, n)| n.as_ref())
    }

    /// The identity (`key:NAME`) whose key this is. Every configured hash is compared, in
    /// constant time, whatever matches.
    pub fn identify(&self, key: &str) -> Option<Arc<str>> {
        let presented = digest(&SHA256, key.as_bytes());
        let mut found = None;
        for (hash, name) in &self.entries {
            let equal =
                aws_lc_rs::constant_time::verify_slices_are_equal(presented.as_ref(), hash).is_ok();
            if equal {
                found = Some(name.clone());
            }
        }
        found
    }
}

fn parse_hash(hex: &str) -> Option<[u8; HASH_BYTES]> {
    let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
    if hex.len() != HASH_BYTES * 2 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; HASH_BYTES];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A malformed entry may be a plaintext key pasted by mistake: show only
/// its first characters.
fn shorten(entry: &str) -> String {
    let head: String = entry.chars().take(4).collect();
    format!("{head}...")
}

/// The hex SHA-256 of a key, as the configuration expects it.
pub fn hash_hex(key: &str) -> String {
    digest(&SHA256, key.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifies_by_hash_and_supports_rotation() {
        let text = format!(
            "# callers\nweb={}\nweb={}, rs=sha256:{}\n",
            hash_hex("k1"),
            hash_hex("k2"),
            hash_hex("k3").to_uppercase()
        );
        let keys = CallerKeys::parse(&text).unwrap();
        assert_eq!(keys.identify("k1").as_deref(), Some("key:web"));
        assert_eq!(keys.identify("k2").as_deref(), Some("key:web"));
        assert_eq!(keys.identify("k3").as_deref(), Some("key:rs"));
        assert_eq!(keys.identify("k4"), None);
        assert_eq!(keys.identify(""), None);
        assert_eq!(
            keys.names().collect::<Vec<_>>(),
            ["key:web", "key:web", "key:rs"]
        );
    }

    #[test]
    fn rejects_plaintext_and_duplicates_without_echoing_the_key() {
        let err = CallerKeys::parse("web=my-plaintext-secret-key").unwrap_err();
        assert!(err.contains("64 hexadecimal"), "{err}");
        assert!(!err.contains("plaintext-secret"), "{err}");
        let err = CallerKeys::parse("my-plaintext-secret-key").unwrap_err();
        assert!(!err.contains("plaintext-secret"), "{err}");
        let h = hash_hex("k");
        let err = CallerKeys::parse(&format!("a={h}\nb={h}")).unwrap_err();
        assert!(err.contains("twice"), "{err}");
        assert!(!format!("{:?}", CallerKeys::parse(&format!("a={h}")).unwrap()).contains(&h));
    }
}
