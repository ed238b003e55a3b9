//! The continuation a first step hands the caller and the second step takes
//! back: everything the second step needs, so no replica keeps state between
//! the two RPCs.
//!
//! A continuation is `base64url(version | key ID | caller tag | nonce |
//! AES-256-GCM(JSON))`. It is encrypted because it carries tickets, tokens,
//! the device secret and user codes, and a web tier may keep it in a browser
//! cookie. It is authenticated because a token continuation leads to
//! `/auth/token/create`, which no plain RPC offers, so a forged one (another
//! client, other scopes) must be refused. The JSON carries the flow kind and
//! an expiry, so a continuation works only for its own flow and only for a
//! short while; the associated data binds it to the caller identity that
//! received it, so with caller authentication it works for that caller only.
//!
//! The key ID picks the key of the ring ([`ring`]) that opens it, so keys
//! rotate without breaking flows in progress: seal with B while A still
//! opens. Continuations that mint tokens without an Authlete ticket (whose
//! single use Authlete enforces) are spent through [`replay`]: once per
//! process.

mod replay;
mod ring;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::NONCE_LEN;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use replay::Unspent;
use ring::{CALLER_TAG_BYTES, KID_BYTES, KeyRing};
pub use ring::{MIN_KEY_BYTES, RingError};

use super::Error;

const FIELD: &str = "continuation";
/// The first byte of every continuation of this format.
const VERSION: u8 = 2;
const HEADER: usize = 1 + KID_BYTES + CALLER_TAG_BYTES;
/// The tag GCM appends.
const TAG_BYTES: usize = 16;
/// Single-use continuations remembered per process, by default.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Why a continuation was refused: a closed set, so that a counter can label
/// refusals with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The request has none.
    Missing,
    /// Not something this service hands out (bad base64, too short, an
    /// unknown version, or JSON that does not fit the flow).
    Malformed,
    /// Sealed by a key this deployment holds, but altered.
    Forged,
    /// Sealed by a key the ring no longer holds (or never did).
    RetiredKey,
    /// Handed out to another caller identity.
    WrongCaller,
    /// Continues another kind of flow.
    WrongFlow,
    /// Past its expiry.
    Expired,
    /// A single-use continuation used a second time.
    Replayed,
    /// The replay cache is full of live entries (fails closed).
    ReplayCacheFull,
}

impl Refused {
    /// The label of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Missing => "missing",
            Refused::Malformed => "malformed",
            Refused::Forged => "forged",
            Refused::RetiredKey => "retired_key",
            Refused::WrongCaller => "wrong_caller",
            Refused::WrongFlow => "wrong_flow",
            Refused::Expired => "expired",
            Refused::Replayed => "replayed",
            Refused::ReplayCacheFull => "replay_cache_full",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Refused::Missing => "is required",
            Refused::Malformed => "is not one this service handed out",
            Refused::Forged => "was not handed out by this deployment or was altered",
            Refused::RetiredKey => {
                "was sealed with a key this deployment no longer holds: start the flow again"
            }
            Refused::WrongCaller => "was handed out to another caller",
            Refused::WrongFlow => "continues another flow",
            Refused::Expired => "has expired: start the flow again",
            Refused::Replayed => "was already used: start the flow again",
            Refused::ReplayCacheFull => {
                "cannot be checked for reuse now (too many in flight): try again shortly"
            }
        }
    }
}

/// The one place a refusal becomes an error (and where it can be counted).
fn refuse(reason: Refused, detail: Option<String>) -> Error {
    // A missing continuation is plain bad input, not a refusal to watch.
    if reason != Refused::Missing {
        crate::metrics::continuation_refused(reason.as_str());
    }
    Error::InvalidArgument {
        field: FIELD,
        reason: detail.unwrap_or_else(|| reason.message().to_owned()),
    }
}

/// Seals and opens continuations with a key ring, for one caller identity.
/// Every replica that may serve a second step must hold the keys.
#[derive(Clone)]
pub struct Sealer {
    ring: Arc<KeyRing>,
    replay: Arc<replay::ReplayCache>,
    /// The caller identity continuations are bound to ("" without caller
    /// authentication).
    caller: Arc<str>,
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
    /// A sealer with this one key; `None` when it is shorter than [`MIN_KEY_BYTES`].
    pub fn new(key: &[u8]) -> Option<Self> {
        Self::ring(&[key]).ok()
    }

    /// A sealer with a ring of keys: the first seals, every one opens.
    pub fn ring<K: AsRef<[u8]>>(keys: &[K]) -> Result<Self, RingError> {
        Ok(Self {
            ring: Arc::new(KeyRing::new(keys)?),
            replay: Arc::new(replay::ReplayCache::new(DEFAULT_REPLAY_CAPACITY)),
            caller: "".into(),
        })
    }

    /// A sealer with a fresh random key, good for one process only.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        // The system CSPRNG fails only when the OS has no randomness at all,
        // in which case nothing secure can run.
        aws_lc_rs::rand::fill(&mut key).expect("the system CSPRNG works");
        Self::new(&key).expect("32 bytes is long enough")
    }

    /// The same keys with a replay cache of this capacity (fresh, empty).
    pub fn with_replay_capacity(mut self, capacity: usize) -> Self {
        self.replay = Arc::new(replay::ReplayCache::new(capacity));
        self
    }

    /// The same keys and replay cache, binding continuations to `caller`.
    pub fn for_caller(&self, caller: Arc<str>) -> Self {
        Self {
            caller,
            ..self.clone()
        }
    }

    /// Seals the state of a `kind` flow, valid for `lifetime`. Public so that
    /// tests can seal what a first step would; sealing needs the keys anyway.
    pub fn seal<T: Serialize>(&self, kind: &str, state: T, lifetime: Duration) -> String {
        let envelope = Envelope {
            kind: kind.to_owned(),
            exp: now().saturating_add(lifetime.as_secs()),
            state,
        };
        // Serializing plain structs of strings and numbers cannot fail.
        let mut body = serde_json::to_vec(&envelope).unwrap_or_default();
        let key = self.ring.sealing();
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system CSPRNG works");
        let mut out = Vec::with_capacity(HEADER + NONCE_LEN + body.len() + TAG_BYTES);
        out.push(VERSION);
        out.extend_from_slice(&key.kid);
        out.extend_from_slice(&key.caller_tag(&self.caller));
        key.seal(nonce, &self.aad(&out), &mut body);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The associated data: the header and the caller identity itself.
    fn aad(&self, header: &[u8]) -> Vec<u8> {
        [header, self.caller.as_bytes()].concat()
    }

    /// Opens a continuation of a `kind` flow; anything else, a forged or
    /// altered one, one of another caller, or an expired one is
    /// INVALID_ARGUMENT naming `continuation`.
    pub(crate) fn open<T: DeserializeOwned>(&self, kind: &str, text: &str) -> Result<T, Error> {
        self.open_at(kind, text, now()).map(|(state, _)| state)
    }

    /// [`Sealer::open`], then, when `single_use` says so of the state, spends
    /// the continuation: a second use in this process is refused.
    pub(crate) fn open_once_if<T: DeserializeOwned>(
        &self,
        kind: &str,
        text: &str,
        single_use: impl FnOnce(&T) -> bool,
    ) -> Result<T, Error> {
        let now = now();
        let (state, opened) = self.open_at(kind, text, now)?;
        if single_use(&state) {
            self.replay
                .spend(opened.id, opened.exp, now)
                .map_err(|e| match e {
                    Unspent::Replayed => refuse(Refused::Replayed, None),
                    Unspent::Full => refuse(Refused::ReplayCacheFull, None),
                })?;
        }
        Ok(state)
    }

    fn open_at<T: DeserializeOwned>(
        &self,
        kind: &str,
        text: &str,
        now: u64,
    ) -> Result<(T, Opened), Error> {
        let text = text.trim();
        if text.is_empty() {
            return Err(refuse(Refused::Missing, None));
        }
        let malformed = || refuse(Refused::Malformed, None);
        let mut bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
        if bytes.len() < HEADER + NONCE_LEN + TAG_BYTES || bytes[0] != VERSION {
            return Err(malformed());
        }
        let (header, rest) = bytes.split_at_mut(HEADER);
        let key = self
            .ring
            .find(&header[1..1 + KID_BYTES])
            .ok_or_else(|| refuse(Refused::RetiredKey, None))?;
        if header[1 + KID_BYTES..] != key.caller_tag(&self.caller) {
            return Err(refuse(Refused::WrongCaller, None));
        }
        let (nonce, sealed) = rest.split_at_mut(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = (&*nonce).try_into().map_err(|_| malformed())?;
        let plain = key
            .open(nonce, &self.aad(header), sealed)
            .ok_or_else(|| refuse(Refused::Forged, None))?;
        let envelope: Envelope<T> = serde_json::from_slice(plain).map_err(|_| malformed())?;
        if envelope.kind != kind {
            let detail = format!("continues a {} flow, not a {kind} flow", envelope.kind);
            return Err(refuse(Refused::WrongFlow, Some(detail)));
        }
        if envelope.exp < now {
            return Err(refuse(Refused::Expired, None));
        }
        let opened = Opened {
            id: nonce,
            exp: envelope.exp,
        };
        Ok((envelope.state, opened))
    }
}

/// What identifies an opened continuation.
struct Opened {
    id: replay::Id,
    exp: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
