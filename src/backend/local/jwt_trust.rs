//! JWTs that come back to the engine or from others: the trusted issuers of
//! `[[jwt_bearer_issuers]]` (RFC 7523 assertion issuers, also trusted for
//! `jwt` subject tokens of token exchange) with their public keys, parsed at
//! startup; and the checks an incoming JWT gets: not encrypted, signed with
//! an asymmetric algorithm by a key of its issuer (the engine's own keys for
//! the engine's issuer), and `exp`, `iat`, `nbf` against the engine's clock.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::alg::Algorithm;
use super::client_keys::ClientKeys;
use super::jws::{self, Parsed};

/// A `[[jwt_bearer_issuers]]` entry: an issuer and its JWK Set, inline or
/// in a file (exactly one of the two).
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtIssuerConfig {
    /// The `iss` of the JWTs this entry's keys verify.
    pub issuer: String,
    /// The public JWK Set, JSON text: `{"keys":[...]}`.
    pub jwks: Option<String>,
    /// A file holding the JWK Set.
    pub jwks_file: Option<String>,
}

impl std::fmt::Debug for JwtIssuerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the JWK Set: a mistaken private key must not reach a log.
        f.debug_struct("JwtIssuerConfig")
            .field("issuer", &self.issuer)
            .field("jwks", &self.jwks.as_ref().map(|_| "[given]"))
            .field("jwks_file", &self.jwks_file)
            .finish()
    }
}

/// The trusted issuers and their keys.
#[derive(Default)]
pub(super) struct Trusted {
    issuers: Vec<(String, ClientKeys)>,
}

impl std::fmt::Debug for Trusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = self.issuers.iter().map(|(name, _)| name);
        f.debug_list().entries(names).finish()
    }
}

impl Trusted {
    /// Reads every entry's keys; a bad entry is a startup error naming it.
    pub(super) fn from_config(entries: &[JwtIssuerConfig], own: &str) -> Result<Self, String> {
        let mut issuers: Vec<(String, ClientKeys)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let who = format!("jwt_bearer_issuers[{i}]");
            if e.issuer.is_empty() {
                return Err(format!("{who}: `issuer` is required"));
            }
            if e.issuer == own {
                return Err(format!(
                    "{who}: the engine's own issuer uses the engine's keys"
                ));
            }
            if issuers.iter().any(|(name, _)| *name == e.issuer) {
                return Err(format!("{who}: the issuer is listed twice"));
            }
            let text = match (&e.jwks, &e.jwks_file) {
                (Some(t), None) => t.clone(),
                (None, Some(path)) => std::fs::read_to_string(path)
                    .map_err(|err| format!("{who}: cannot read {path}: {err}"))?,
                _ => {
                    return Err(format!(
                        "{who}: exactly one of `jwks` and `jwks_file` is required"
                    ));
                }
            };
            let keys = parse_set(&text).map_err(|m| format!("{who}: {m}"))?;
            issuers.push((e.issuer.clone(), keys));
        }
        Ok(Self { issuers })
    }

    /// Whether any issuer is trusted (JWT bearer can then succeed).
    pub(super) fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    fn keys(&self, issuer: &str) -> Option<&ClientKeys> {
        self.issuers
            .iter()
            .find(|(name, _)| name == issuer)
            .map(|(_, keys)| keys)
    }
}

/// A JWK Set's signing keys, checked strictly (an operator's mistake is
/// a startup error, not a key silently left out); encryption keys are
/// skipped. The set is then held and used as a client's is.
fn parse_set(text: &str) -> Result<ClientKeys, String> {
    let set: Value = serde_json::from_str(text).map_err(|_| "the JWK Set is not JSON")?;
    let list = set["keys"]
        .as_array()
        .ok_or("the JWK Set has no `keys` array")?;
    let mut signing = 0;
    for (i, k) in list.iter().enumerate() {
        let jwk = k.as_object().ok_or(format!("key {i} is not an object"))?;
        if jwk.get("use").and_then(Value::as_str) == Some("enc") {
            continue;
        }
        check_key(jwk).map_err(|m| format!("key {i}: {m}"))?;
        signing += 1;
    }
    if signing == 0 {
        return Err("the JWK Set has no signing key".to_owned());
    }
    ClientKeys::parse(text)
}

/// The algorithms a public JWK verifies, or why the engine cannot use it.
fn check_key(jwk: &Map<String, Value>) -> Result<Vec<Algorithm>, String> {
    if jws::is_private(jwk) {
        return Err("it holds private key material; give the public key only".to_owned());
    }
    let text = |m: &str| jwk.get(m).and_then(Value::as_str);
    let algs = match (text("alg"), text("kty"), text("crv")) {
        (Some(name), _, _) => vec![
            Algorithm::from_name(name)
                .ok_or(format!("`alg` {name} is not one of {}", Algorithm::names()))?,
        ],
        (None, Some("EC"), Some("P-256")) => vec![Algorithm::ES256],
        (None, Some("OKP"), Some("Ed25519")) => vec![Algorithm::EdDSA],
        (None, Some("RSA"), _) => vec![Algorithm::RS256, Algorithm::PS256],
        _ => return Err("not a P-256, Ed25519 or RSA public key".to_owned()),
    };
    for alg in &algs {
        let public = jws::public_members(*alg, jwk).map_err(str::to_owned)?;
        if matches!(alg, Algorithm::RS256 | Algorithm::PS256) {
            let n = URL_SAFE_NO_PAD
                .decode(public["n"].as_str().unwrap_or_default())
                .map_err(|_| "the RSA modulus is not base64url".to_owned())?;
            let bytes = n.iter().skip_while(|b| **b == 0).count();
            // aws-lc-rs verifies 2048 to 8192 bits: refuse others now, not at each use.
            if !(256..=1024).contains(&bytes) {
                return Err("RSA keys must have 2048 to 8192 bits".to_owned());
            }
        }
    }
    Ok(algs)
}

/// Parses `jwt` (bounded by [`jws::MAX_JWS_BYTES`]); an encrypted JWT (JWE,
/// five parts) is refused: the engine has no key to decrypt it with.
pub(super) fn parse(jwt: &str) -> Result<Parsed<'_>, &'static str> {
    if jwt.len() <= jws::MAX_JWS_BYTES && jwt.split('.').count() == 5 {
        return Err("Encrypted JWTs are not accepted.");
    }
    jws::parse(jwt).map_err(|m| match m {
        "The JWS is too large." => "The JWT is too large.",
        _ => "The JWT is malformed.",
    })
}

/// Verifies the signature of `p` (parsed from `jwt`) by a key of its `iss`:
/// a trusted issuer's or, when `own` (tokens the engine issued), the
/// engine's keys (one already made: a key never made signed nothing).
/// Unsigned and symmetric JWTs are refused.
pub(super) fn verify(
    engine: &LocalBackend,
    jwt: &str,
    p: &Parsed<'_>,
    own: bool,
) -> Result<(), &'static str> {
    let alg = match p.header.get("alg").and_then(Value::as_str) {
        None | Some("none") => return Err("The JWT is not signed."),
        Some(name) => Algorithm::from_name(name)
            .ok_or("The JWT is not signed with RS256, PS256, ES256 or EdDSA.")?,
    };
    let iss = p
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or("The JWT has no 'iss' string.")?;
    let kid = p.header.get("kid").and_then(Value::as_str);
    if own && iss == engine.config.issuer {
        let key = kid
            .and_then(|k| engine.keys.made(k))
            .filter(|k| k.alg() == alg)
            .ok_or("The JWT's key is not one of the engine's.")?;
        let jwk = key
            .public_jwk()
            .as_object()
            .ok_or("The engine's key is broken.")?;
        let public = jws::public_members(alg, jwk)?;
        return jws::verify(alg, &public, p).map_err(|_| "The JWT's signature does not verify.");
    }
    let keys = engine
        .trusted
        .keys(iss)
        .ok_or("The JWT's issuer is not trusted.")?;
    // The key by `kid`, else each key that fits `alg`, as for a client's keys.
    keys.verify(jwt)
        .map(|_| ())
        .map_err(|_| "The JWT's signature does not verify by a key of its issuer.")
}

/// RFC 7519 §4.1.4-6 against `now` (seconds): `exp` passed, `iat` or `nbf`
/// in the future. `exp` (and `iat`) must be present when `required`.
pub(super) fn check_times(
    claims: &Map<String, Value>,
    now: i64,
    exp_required: bool,
    iat_required: bool,
) -> Result<(), &'static str> {
    let time = |name: &str| -> Result<Option<i64>, &'static str> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or("A time claim of the JWT is not a number."),
        }
    };
    match time("exp")? {
        None if exp_required => return Err("The JWT has no 'exp'."),
        Some(exp) if exp <= now => return Err("The JWT has expired."),
        _ => {}
    }
    match time("iat")? {
        None if iat_required => return Err("The JWT has no 'iat'."),
        Some(iat) if iat > now => return Err("The JWT was issued in the future ('iat')."),
        _ => {}
    }
    match time("nbf")? {
        Some(nbf) if nbf > now => Err("The JWT is not valid yet ('nbf')."),
        _ => Ok(()),
    }
}

/// Whether `aud` is a string or an array of strings holding one of `wanted`.
pub(super) fn audience_has(aud: Option<&Value>, wanted: &[&str]) -> bool {
    match aud {
        Some(Value::String(a)) => wanted.contains(&a.as_str()),
        Some(Value::Array(list)) => list
            .iter()
            .any(|a| a.as_str().is_some_and(|a| wanted.contains(&a))),
        _ => false,
    }
}

/// Whether `aud` is a string or a non-empty array of strings.
pub(super) fn audience_shaped(aud: Option<&Value>) -> bool {
    match aud {
        Some(Value::String(_)) => true,
        Some(Value::Array(list)) => !list.is_empty() && list.iter().all(Value::is_string),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::keys::SigningKey;
    use super::*;
    use serde_json::json;

    fn set_of(key: &SigningKey) -> String {
        json!({"keys": [key.public_jwk()]}).to_string()
    }

    #[test]
    fn issuers_need_one_key_source_and_public_keys() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let entry = |jwks: Option<String>, file: Option<String>| JwtIssuerConfig {
            issuer: "https://idp.example".to_owned(),
            jwks,
            jwks_file: file,
        };
        let ok = Trusted::from_config(&[entry(Some(set_of(&key)), None)], "https://as").unwrap();
        assert!(!ok.keys("https://idp.example").unwrap().is_empty());
        let err = |e: JwtIssuerConfig| Trusted::from_config(&[e], "https://as").unwrap_err();
        assert!(err(entry(None, None)).contains("exactly one"));
        assert!(err(entry(Some("x".into()), Some("f".into()))).contains("exactly one"));
        assert!(err(entry(None, Some("/nonexistent/jwks".into()))).contains("cannot read"));
        assert!(err(entry(Some("{}".into()), None)).contains("keys"));
        let mut private = key.public_jwk().clone();
        private["d"] = "c2VjcmV0".into();
        let e = err(entry(Some(json!({"keys": [private]}).to_string()), None));
        assert!(e.contains("private") && !e.contains("c2VjcmV0"), "{e}");
        let hs = json!({"keys": [{"kty": "oct", "k": "a"}]}).to_string();
        assert!(err(entry(Some(hs), None)).contains("key 0"));
        let small_rsa = json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}).to_string();
        assert!(err(entry(Some(small_rsa), None)).contains("2048"));
        let enc_only = json!({"keys": [{"use": "enc", "kty": "EC"}]}).to_string();
        assert!(err(entry(Some(enc_only), None)).contains("no signing key"));
        let twice = [
            entry(Some(set_of(&key)), None),
            entry(Some(set_of(&key)), None),
        ];
        assert!(
            Trusted::from_config(&twice, "https://as")
                .unwrap_err()
                .contains("twice")
        );
        let own = JwtIssuerConfig {
            issuer: "https://as".to_owned(),
            ..entry(Some(set_of(&key)), None)
        };
        assert!(err(own).contains("own issuer"));
        let shown = format!("{:?}", entry(Some("{\"d\":\"SECRET\"}".into()), None));
        assert!(
            !shown.contains("SECRET") && shown.contains("idp.example"),
            "{shown}"
        );
    }

    #[test]
    fn rsa_keys_without_alg_verify_both_rsa_algorithms() {
        let key = SigningKey::generate(Algorithm::RS256).unwrap();
        let mut jwk = key.public_jwk().as_object().unwrap().clone();
        jwk.remove("alg");
        let algs = check_key(&jwk).unwrap();
        assert_eq!(algs, [Algorithm::RS256, Algorithm::PS256]);
    }

    #[test]
    fn times_are_checked_against_the_clock() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        let now = 1_000;
        assert!(check_times(&claims(json!({"exp": 1001, "iat": 1000})), now, true, true).is_ok());
        assert_eq!(
            check_times(&claims(json!({"exp": 1000})), now, true, false),
            Err("The JWT has expired.")
        );
        assert_eq!(
            check_times(&claims(json!({})), now, true, false),
            Err("The JWT has no 'exp'.")
        );
        assert!(check_times(&claims(json!({})), now, false, false).is_ok());
        assert!(check_times(&claims(json!({"exp": 2000})), now, true, true).is_err());
        assert!(check_times(&claims(json!({"iat": 1001})), now, false, false).is_err());
        assert!(check_times(&claims(json!({"nbf": 1001})), now, false, false).is_err());
        assert!(check_times(&claims(json!({"exp": "soon"})), now, true, false).is_err());
    }

    #[test]
    fn audiences_and_encrypted_jwts() {
        let aud = json!(["a", "b"]);
        assert!(audience_has(Some(&aud), &["b"]));
        assert!(!audience_has(Some(&json!("c")), &["a"]));
        assert!(!audience_has(Some(&json!([1])), &["1"]));
        assert!(audience_shaped(Some(&aud)) && !audience_shaped(Some(&json!([]))));
        assert!(!audience_shaped(None));
        assert_eq!(
            parse("a.b.c.d.e").err(),
            Some("Encrypted JWTs are not accepted.")
        );
        assert_eq!(
            parse(&"a".repeat(jws::MAX_JWS_BYTES + 1)).err(),
            Some("The JWT is too large.")
        );
        assert_eq!(parse("a.b").err(), Some("The JWT is malformed."));
    }
}
