//! The continuation a first step hands the caller and the second step takes
//! back: everything the second step needs, so no replica keeps state between
//! the two RPCs.
//!
//! A continuation is `base64url(JSON).base64url(HMAC-SHA256)`. The MAC matters:
//! a token continuation leads to `/auth/token/create`, which no plain RPC
//! offers, so a forged one (another client, other scopes) must be refused.
//! The JSON carries the flow kind and an expiry, so a continuation works only
//! for its own flow and only for a short while. It is not encrypted: it holds
//! nothing the caller did not already receive in the first reply.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Error;

const FIELD: &str = "continuation";

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// Seals and opens continuations with one HMAC key. Every replica that may
/// serve a second step must hold the same key.
#[derive(Clone)]
pub struct Sealer {
    key: hmac::Key,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

#[derive(Serialize, serde::Deserialize)]
struct Envelope<T> {
    /// Which flow this continues, so a token continuation is never taken for
    /// an authorization one.
    kind: String,
    /// Expiry, in seconds since the Unix epoch.
    exp: u64,
    #[serde(flatten)]
    state: T,
}

impl Sealer {
    /// A sealer with this key; `None` when it is shorter than [`MIN_KEY_BYTES`].
    pub fn new(key: &[u8]) -> Option<Self> {
        (key.len() >= MIN_KEY_BYTES).then(|| Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        })
    }

    /// A sealer with a fresh random key, good for one process only.
    pub fn random() -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        // Key generation from the system CSPRNG fails only when the OS has no
        // randomness at all, in which case nothing secure can run.
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("the system CSPRNG works");
        Self { key }
    }

    /// Seals the state of a `kind` flow, valid for `lifetime`.
    pub(crate) fn seal<T: Serialize>(&self, kind: &str, state: T, lifetime: Duration) -> String {
        let exp = now().saturating_add(lifetime.as_secs());
        let envelope = Envelope {
            kind: kind.to_owned(),
            exp,
            state,
        };
        // Serializing plain structs of strings and numbers cannot fail.
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&envelope).unwrap_or_default());
        let tag = hmac::sign(&self.key, payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Opens a continuation of a `kind` flow; anything else, a forged or
    /// altered one, or an expired one is INVALID_ARGUMENT.
    pub(crate) fn open<T: DeserializeOwned>(&self, kind: &str, text: &str) -> Result<T, Error> {
        self.open_at(kind, text, now())
    }

    fn open_at<T: DeserializeOwned>(&self, kind: &str, text: &str, now: u64) -> Result<T, Error> {
        let invalid = |reason: &str| Error::InvalidArgument {
            field: FIELD,
            reason: reason.to_owned(),
        };
        let refused = |metric: &'static str, reason: &str| {
            crate::metrics::continuation_refused(metric);
            invalid(reason)
        };
        if text.is_empty() {
            return Err(invalid("is required"));
        }
        let (payload, tag) = text
            .trim()
            .split_once('.')
            .ok_or_else(|| refused("forged", "is not one this service handed out"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| refused("forged", "is not one this service handed out"))?;
        hmac::verify(&self.key, payload.as_bytes(), &tag).map_err(|_| {
            refused(
                "forged",
                "was not handed out by this deployment or was altered",
            )
        })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| refused("malformed", "is malformed"))?;
        let envelope: Envelope<T> =
            serde_json::from_slice(&bytes).map_err(|_| refused("malformed", "is malformed"))?;
        if envelope.kind != kind {
            return Err(refused(
                "wrong_flow",
                &format!("continues a {} flow, not a {kind} flow", envelope.kind),
            ));
        }
        if envelope.exp < now {
            return Err(refused("expired", "has expired: start the flow again"));
        }
        Ok(envelope.state)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
