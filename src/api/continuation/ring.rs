//! The continuation key ring: AES-256-GCM keys, each with a key ID derived
//! from it, the first one sealing and all of them opening.
//!
//! Every configured key is input keying material, not the AEAD key itself:
//! HKDF-SHA256 derives from it the AES key, the key ID written into the
//! envelope and the key that tags the caller a continuation was handed to.
//! So a value that worked as the old HMAC key (32 bytes or more, any
//! length) keeps working, and the ID reveals nothing about the key.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use aws_lc_rs::hmac;

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// Bytes of the key ID in the envelope.
pub const KID_BYTES: usize = 8;
/// Bytes of the caller tag in the envelope.
pub const CALLER_TAG_BYTES: usize = 8;

const SALT: &[u8] = b"authlete-grpc continuation";

/// One key of the ring.
pub struct RingKey {
    pub kid: [u8; KID_BYTES],
    aead: LessSafeKey,
    caller: hmac::Key,
}

impl RingKey {
    /// Derives the key's parts from `ikm`; `None` when it is too short.
    pub fn new(ikm: &[u8]) -> Option<Self> {
        if ikm.len() < MIN_KEY_BYTES {
            return None;
        }
        let prk = Salt::new(HKDF_SHA256, SALT).extract(ikm);
        let derive = |info: &[u8]| {
            let mut out = [0u8; 32];
            // 32 bytes is the output length HKDF_SHA256 names: cannot fail.
            prk.expand(&[info], HKDF_SHA256)
                .and_then(|okm| okm.fill(&mut out))
                .expect("HKDF-SHA256 yields 32 bytes");
            out
        };
        let aes = derive(b"aes-256-gcm");
        let mut kid = [0u8; KID_BYTES];
        kid.copy_from_slice(&derive(b"key id")[..KID_BYTES]);
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &aes).expect("a 32-byte key"));
        let caller = hmac::Key::new(hmac::HMAC_SHA256, &derive(b"caller tag"));
        Some(Self { kid, aead, caller })
    }

    /// A keyed tag of the caller identity: lets `open` tell "another caller"
    /// from "forged" without showing the identity to whoever holds the text.
    pub fn caller_tag(&self, caller: &str) -> [u8; CALLER_TAG_BYTES] {
        let mut tag = [0u8; CALLER_TAG_BYTES];
        tag.copy_from_slice(
            &hmac::sign(&self.caller, caller.as_bytes()).as_ref()[..CALLER_TAG_BYTES],
        );
        tag
    }

    /// Encrypts `in_out` in place (appending the tag), authenticating `aad`.
    pub fn seal(&self, nonce: [u8; NONCE_LEN], aad: &[u8], in_out: &mut Vec<u8>) {
        // Fails only for plaintexts beyond GCM's 64 GiB limit.
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
            .expect("a continuation is far below the GCM limit");
    }

    /// Decrypts `in_out` in place; `None` when it or `aad` was altered.
    pub fn open<'a>(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Option<&'a mut [u8]> {
        self.aead
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
            .ok()
    }
}

/// Why a set of keys is not a ring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("no key")]
    Empty,
    #[error("key {position} must be at least {MIN_KEY_BYTES} bytes, not {len}")]
    Short { position: usize, len: usize },
    #[error("key {position} is configured twice")]
    Duplicate { position: usize },
}

/// The keys: the first seals, every one opens.
pub struct KeyRing {
    keys: Vec<RingKey>,
}

impl KeyRing {
    /// A ring of these keys (raw bytes), sealing with the first.
    pub fn new<K: AsRef<[u8]>>(keys: &[K]) -> Result<Self, RingError> {
        if keys.is_empty() {
            return Err(RingError::Empty);
        }
        let mut ring = Vec::with_capacity(keys.len());
        for (i, ikm) in keys.iter().enumerate() {
            let ikm = ikm.as_ref();
            let position = i + 1;
            let key = RingKey::new(ikm).ok_or(RingError::Short {
                position,
                len: ikm.len(),
            })?;
            if ring.iter().any(|k: &RingKey| k.kid == key.kid) {
                return Err(RingError::Duplicate { position });
            }
            ring.push(key);
        }
        Ok(Self { keys: ring })
    }

    /// The key that seals.
    pub fn sealing(&self) -> &RingKey {
        &self.keys[0]
    }

    /// The key with this ID, if the ring holds it.
    pub fn find(&self, kid: &[u8]) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}
