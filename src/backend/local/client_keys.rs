//! A client's registered public keys (its `jwks`, or the JWK Set file its
//! `jwks_uri` names), and verifying a JWS the client signed with one of
//! them: `private_key_jwt` assertions (RFC 7523) and request objects
//! (RFC 9101). `client_secret_jwt` assertions are checked by [`verify_hmac`]
//! with the client's secret.

use aws_lc_rs::hmac;
use serde_json::{Map, Value};

use super::alg::Algorithm;
use super::jws;

/// The most keys one client may register: a JWK Set is read at startup or
/// registration, and each JWS is checked against at most this many.
pub(super) const MAX_KEYS: usize = 16;

/// One verification key: its `kid`, the algorithm it is for (from `alg`, or
/// every algorithm its `kty` fits) and the public members.
#[derive(Clone)]
struct Key {
    kid: Option<String>,
    alg: Option<Algorithm>,
    jwk: Map<String, Value>,
}

/// A client's public signing keys. Keys for encryption (`use` `enc`) and
/// keys of a type the engine cannot verify are left out.
#[derive(Clone, Default)]
pub(super) struct ClientKeys {
    keys: Vec<Key>,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKeys")
            .field("count", &self.keys.len())
            .finish()
    }
}

impl ClientKeys {
    /// Parses a JWK Set. A private key in it is an error: the set is public.
    pub(super) fn parse(jwks: &str) -> Result<Self, String> {
        let set: Value = serde_json::from_str(jwks).map_err(|_| "jwks is not JSON".to_owned())?;
        let list = set["keys"].as_array().ok_or("jwks has no `keys` array")?;
        if list.len() > MAX_KEYS {
            return Err(format!("jwks has more than {MAX_KEYS} keys"));
        }
        let mut keys = Vec::new();
        for (i, k) in list.iter().enumerate() {
            let jwk = k
                .as_object()
                .ok_or_else(|| format!("jwks key #{} is not an object", i + 1))?;
            if jws::is_private(jwk) {
                return Err(format!("jwks key #{} holds private key material", i + 1));
            }
            if jwk.get("use").and_then(Value::as_str) == Some("enc") {
                continue;
            }
            let alg = match jwk.get("alg").and_then(Value::as_str) {
                None => None,
                Some(name) => match Algorithm::from_name(name) {
                    Some(a) => Some(a),
                    None => continue,
                },
            };
            let fits = Algorithm::ALL
                .iter()
                .filter(|a| alg.is_none_or(|x| x == **a))
                .any(|a| jws::public_members(*a, jwk).is_ok());
            if !fits {
                // An x5c-only entry (self_signed_tls_client_auth) or a key
                // type the engine does not verify.
                continue;
            }
            keys.push(Key {
                kid: jwk.get("kid").and_then(Value::as_str).map(str::to_owned),
                alg,
                jwk: jwk.clone(),
            });
        }
        Ok(Self { keys })
    }

    /// Whether the set holds no signing key.
    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies the compact JWS `token` with the key its `kid` names, or
    /// with each key that fits its `alg`; returns the algorithm and claims.
    pub(super) fn verify(
        &self,
        token: &str,
    ) -> Result<(Algorithm, Map<String, Value>), &'static str> {
        let parsed = jws::parse(token)?;
        let alg = header_alg(&parsed.header)?;
        let kid = parsed.header.get("kid").and_then(Value::as_str);
        let candidates = self
            .keys
            .iter()
            .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))
            .filter(|k| k.alg.is_none_or(|a| a == alg))
            .filter_map(|k| jws::public_members(alg, &k.jwk).ok());
        let mut any = false;
        for public in candidates {
            any = true;
            if jws::verify(alg, &public, &parsed).is_ok() {
                return Ok((alg, parsed.claims));
            }
        }
        Err(if any {
            "The JWS signature does not verify with the client's keys."
        } else {
            "None of the client's registered keys fits the JWS's 'kid' and 'alg'."
        })
    }
}

/// The JWS header's `alg`, one the engine verifies; `none` and HMAC are
/// refused here (HMAC has its own path).
fn header_alg(header: &Map<String, Value>) -> Result<Algorithm, &'static str> {
    match header.get("alg").and_then(Value::as_str) {
        None => Err("The JWS header has no 'alg'."),
        Some("none") => Err("The JWS is not signed ('alg' is 'none')."),
        Some(name) => Algorithm::from_name(name).ok_or("The JWS 'alg' is not supported."),
    }
}

/// The HMAC algorithms of `client_secret_jwt` (RFC 7518 §3.2).
pub(super) const HMAC_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];

/// Verifies a JWS MACed with the client's secret (`client_secret_jwt`);
/// returns the claims. The comparison is constant-time (aws-lc-rs).
pub(super) fn verify_hmac(secret: &str, token: &str) -> Result<Map<String, Value>, &'static str> {
    let parsed = jws::parse(token)?;
    let (algorithm, bytes) = match parsed.header.get("alg").and_then(Value::as_str) {
        Some("HS256") => (hmac::HMAC_SHA256, 32),
        Some("HS384") => (hmac::HMAC_SHA384, 48),
        Some("HS512") => (hmac::HMAC_SHA512, 64),
        Some("none") => return Err("The JWS is not signed ('alg' is 'none')."),
        _ => return Err("The JWS 'alg' is not an HMAC algorithm."),
    };
    // RFC 7518 §3.2: the key is at least as long as the hash.
    if secret.len() < bytes {
        return Err("The client secret is too short for the JWS's HMAC algorithm.");
    }
    let key = hmac::Key::new(algorithm, secret.as_bytes());
    hmac::verify(&key, parsed.input.as_bytes(), &parsed.signature)
        .map_err(|_| "The JWS signature does not verify with the client's secret.")?;
    Ok(parsed.claims)
}

/// Whether the JWS's header names an HMAC algorithm (without verifying it).
pub(super) fn is_hmac(token: &str) -> bool {
    jws::parse(token).is_ok_and(|p| {
        p.header
            .get("alg")
            .and_then(Value::as_str)
            .is_some_and(|a| HMAC_ALGS.contains(&a))
    })
}

#[cfg(test)]
mod tests {
    use super::super::jwt;
    use super::super::keys::SigningKey;
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn set(keys: &[&SigningKey]) -> String {
        let keys: Vec<Value> = keys.iter().map(|k| k.public_jwk().clone()).collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    #[test]
    fn verifies_with_the_key_its_kid_names_and_refuses_others() {
        let es = SigningKey::generate(Algorithm::ES256).unwrap();
        let rs = SigningKey::generate(Algorithm::PS256).unwrap();
        let other = SigningKey::generate(Algorithm::ES256).unwrap();
        let keys = ClientKeys::parse(&set(&[&es, &rs])).unwrap();
        for key in [&es, &rs] {
            let token = jwt::sign(key, &serde_json::json!({"iss": "c"})).unwrap();
            let (alg, claims) = keys.verify(&token).unwrap();
            assert_eq!(alg, key.alg());
            assert_eq!(claims["iss"], "c");
        }
        let foreign = jwt::sign(&other, &serde_json::json!({})).unwrap();
        assert!(keys.verify(&foreign).is_err());
        // A `kid` that names no registered key, or one of another type, is
        // never tried against the other keys.
        let token = jwt::sign(&es, &serde_json::json!({})).unwrap();
        let (h, rest) = token.split_once('.').unwrap();
        let mut header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
        for kid in ["nobody", rs.kid()] {
            header["kid"] = kid.into();
            let renamed = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
            assert!(keys.verify(&renamed).is_err(), "{kid}");
        }
    }

    #[test]
    fn refuses_private_keys_unsigned_tokens_and_too_many_keys() {
        let bad = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#;
        assert!(ClientKeys::parse(bad).is_err());
        let many: Vec<Value> = (0..=MAX_KEYS).map(|_| serde_json::json!({})).collect();
        assert!(ClientKeys::parse(&serde_json::json!({ "keys": many }).to_string()).is_err());
        assert!(ClientKeys::parse("[]").is_err());
        let keys = ClientKeys::parse(r#"{"keys":[{"kty":"EC","x5c":["AA"]}]}"#).unwrap();
        assert!(keys.is_empty(), "an x5c-only entry is no signing key");
        let b64 = |v: &str| URL_SAFE_NO_PAD.encode(v);
        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert!(keys.verify(&none).is_err());
    }

    #[test]
    fn hmac_verifies_with_the_secret_only() {
        let b64 = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
        let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(br#"{"sub":"c"}"#));
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"s3cret");
        let tag = hmac::sign(&key, input.as_bytes());
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert!(is_hmac(&token));
        assert!(
            verify_hmac("s3cret", &token).is_err(),
            "shorter than SHA-256"
        );
        let secret = "s3cret-s3cret-s3cret-s3cret-s3cret";
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let tag = hmac::sign(&key, input.as_bytes());
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert_eq!(verify_hmac(secret, &token).unwrap()["sub"], "c");
        assert!(verify_hmac("wrong-wrong-wrong-wrong-wrong-wrong", &token).is_err());
    }
}
