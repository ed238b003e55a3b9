//! The signing keys of ID tokens and signed UserInfo: the default one, loaded
//! from a PEM file or generated at startup (RS256 by default, which OpenID
//! Connect Discovery requires), plus a generated key for each other algorithm
//! so a client can ask for it (`id_token_signed_response_alg`,
//! `userinfo_signed_response_alg`). Each key serves one algorithm (RFC 7517
//! §4.4), so PS256 has its own RSA key. Their public JWKs are what
//! `/service/jwks/get` returns.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RSA_PSS_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::sync::OnceLock;

use serde_json::{Value, json};

pub use super::alg::Algorithm;

/// The engine's keys: the default first, then one per other algorithm.
/// The others are generated on first use (a JWK Set request, or a client
/// asking for the algorithm): RSA key generation takes a noticeable part of
/// a second, which an engine that never needs them should not pay at start.
#[derive(Debug)]
pub(super) struct KeyRing {
    default: SigningKey,
    others: Vec<(Algorithm, OnceLock<Result<SigningKey, String>>)>,
}

impl KeyRing {
    /// `default` plus a key to come for every other algorithm.
    pub(super) fn around(default: SigningKey) -> Self {
        let others = Algorithm::ALL
            .into_iter()
            .filter(|a| *a != default.alg())
            .map(|a| (a, OnceLock::new()))
            .collect();
        Self { default, others }
    }

    /// The default key (the configured one).
    pub(super) fn default_key(&self) -> &SigningKey {
        &self.default
    }

    /// The key for `alg` (`None`: the default one).
    pub(super) fn for_alg(&self, alg: Option<Algorithm>) -> Result<&SigningKey, String> {
        match alg {
            None => Ok(&self.default),
            Some(a) if a == self.default.alg() => Ok(&self.default),
            Some(a) => {
                let (_, cell) = self
                    .others
                    .iter()
                    .find(|(b, _)| *b == a)
                    .ok_or_else(|| format!("no {} key", a.name()))?;
                cell.get_or_init(|| SigningKey::generate(a))
                    .as_ref()
                    .map_err(Clone::clone)
            }
        }
    }

    /// The key with this `kid` among those in use. A key not generated yet
    /// is not looked at: verifying a token never generates a key.
    pub(super) fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        let generated = self
            .others
            .iter()
            .filter_map(|(_, cell)| cell.get().and_then(|k| k.as_ref().ok()));
        std::iter::once(&self.default)
            .chain(generated)
            .find(|k| k.kid() == kid)
    }

    /// The algorithm of `alg` (`None`: the default key's).
    pub(super) fn alg_or_default(&self, alg: Option<Algorithm>) -> Algorithm {
        alg.unwrap_or(self.default.alg())
    }

    /// The algorithms, the default first.
    pub(super) fn algs(&self) -> Vec<&'static str> {
        std::iter::once(self.default.alg())
            .chain(self.others.iter().map(|(a, _)| *a))
            .map(Algorithm::name)
            .collect()
    }

    /// The public JWKs, the default first.
    pub(super) fn public_jwks(&self) -> Result<Vec<Value>, String> {
        std::iter::once(Ok(&self.default))
            .chain(self.others.iter().map(|(a, _)| self.for_alg(Some(*a))))
            .map(|k| k.map(|k| k.public_jwk().clone()))
            .collect()
    }
}

enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private signing key with its public JWK.
pub struct SigningKey {
    pair: Pair,
    alg: Algorithm,
    kid: String,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        write!(f, "SigningKey({}, kid {})", self.alg.name(), self.kid)
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate(alg: Algorithm) -> Result<Self, String> {
        let pair = match alg {
            Algorithm::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map(Pair::Ec)
                .map_err(|_| "cannot generate an ES256 key".to_owned())?,
            Algorithm::RS256 | Algorithm::PS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .map(Pair::Rsa)
                .map_err(|_| format!("cannot generate an {} key", alg.name()))?,
            Algorithm::EdDSA => Ed25519KeyPair::generate()
                .map(Pair::Ed)
                .map_err(|_| "cannot generate an Ed25519 key".to_owned())?,
        };
        Self::with(pair, alg)
    }

    /// A key from PEM text: `PRIVATE KEY` (PKCS#8, what `openssl genpkey`
    /// writes), `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY` (PKCS#1). The
    /// algorithm follows the key type: ES256 for P-256, EdDSA for Ed25519,
    /// and for RSA `rsa_alg` (RS256 or PS256).
    pub fn from_pem(text: &str, rsa_alg: Algorithm) -> Result<Self, String> {
        let (label, der) = pem(text)?;
        let ec = || EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der);
        let rsa_pkcs8 = || RsaKeyPair::from_pkcs8(&der).map(Pair::Rsa);
        let pair = match label.as_str() {
            "EC PRIVATE KEY" => ec().map(Pair::Ec).map_err(|e| e.to_string()),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
                .map(Pair::Rsa)
                .map_err(|e| e.to_string()),
            "PRIVATE KEY" => ec()
                .map(Pair::Ec)
                .or_else(|_| rsa_pkcs8())
                .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map(Pair::Ed))
                .map_err(|e| e.to_string()),
            other => Err(format!("unsupported PEM block `{other}`")),
        }
        .map_err(|e| format!("not a P-256, RSA or Ed25519 private key ({e})"))?;
        let alg = match pair {
            Pair::Ec(_) => Algorithm::ES256,
            Pair::Rsa(_) if rsa_alg == Algorithm::PS256 => Algorithm::PS256,
            Pair::Rsa(_) => Algorithm::RS256,
            Pair::Ed(_) => Algorithm::EdDSA,
        };
        Self::with(pair, alg)
    }

    fn with(pair: Pair, alg: Algorithm) -> Result<Self, String> {
        let public = match &pair {
            Pair::Ec(k) => ec_public(k.public_key().as_ref())?,
            Pair::Rsa(k) => {
                let p = k.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(p.modulus().big_endian_without_leading_zero()),
                    "e": b64(p.exponent().big_endian_without_leading_zero()),
                })
            }
            Pair::Ed(k) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64(k.public_key().as_ref()),
            }),
        };
        let kid = thumbprint(&public);
        let mut jwk = public;
        jwk["kid"] = kid.clone().into();
        jwk["alg"] = alg.name().into();
        jwk["use"] = "sig".into();
        Ok(Self {
            pair,
            alg,
            kid,
            jwk,
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key ID: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK (`kty`, key members, `kid`, `alg`, `use`).
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `message` (the JWS signing input).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Ec(k) => k
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "ES256 signing failed".to_owned()),
            Pair::Rsa(k) => {
                // PSS's salt is as long as the hash, as RFC 7518 §3.5 asks.
                let padding = match self.alg {
                    Algorithm::PS256 => &RSA_PSS_SHA256,
                    _ => &RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(padding, &rng, message, &mut out)
                    .map_err(|_| format!("{} signing failed", self.alg.name()))?;
                Ok(out)
            }
            Pair::Ed(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

/// The public JWK of an uncompressed P-256 point (`04 || x || y`).
fn ec_public(point: &[u8]) -> Result<Value, String> {
    if point.len() != 65 || point[0] != 4 {
        return Err("unexpected P-256 public key encoding".to_owned());
    }
    Ok(json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64(&point[1..33]),
        "y": b64(&point[33..]),
    }))
}

/// RFC 7638: SHA-256 over the required members in lexicographic order.
pub(super) fn thumbprint(public: &Value) -> String {
    let members: &[&str] = match public["kty"].as_str() {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("OKP") => &["crv", "kty", "x"],
        _ => &["e", "kty", "n"],
    };
    let mut canonical = serde_json::Map::new();
    for m in members {
        canonical.insert((*m).to_owned(), public[*m].clone());
    }
    // serde_json's Map keeps keys sorted (no preserve_order feature), which
    // is the order RFC 7638 asks for.
    let text = Value::Object(canonical).to_string();
    b64(digest(&SHA256, text.as_bytes()).as_ref())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The label and DER bytes of the first PEM block.
fn pem(text: &str) -> Result<(String, Vec<u8>), String> {
    const BEGIN: &str = "-----BEGIN ";
    let start = text.find(BEGIN).ok_or("no `-----BEGIN ...-----` line")?;
    let rest = &text[start + BEGIN.len()..];
    let label_end = rest.find("-----").ok_or("malformed BEGIN line")?;
    let label = rest[..label_end].to_owned();
    let body = &rest[label_end + 5..];
    let end = body
        .find(&format!("-----END {label}-----"))
        .ok_or("no matching END line")?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(b64)
        .map_err(|_| "the PEM body is not base64".to_owned())?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    #[test]
    fn generated_es256_key_signs_verifiably() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk["kid"], key.kid());
        let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
        let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap();
        let point = [&[4u8][..], &x, &y].concat();
        let sig = key.sign(b"hello").unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(b"hello", &sig)
            .unwrap();
    }

    #[test]
    fn pkcs8_pem_round_trips() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = pair.to_pkcs8v1().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der.as_ref())
        );
        let key = SigningKey::from_pem(&pem, Algorithm::RS256).unwrap();
        assert_eq!(key.alg(), Algorithm::ES256);
        assert!(SigningKey::from_pem("nothing", Algorithm::RS256).is_err());
        let ed = Ed25519KeyPair::generate().unwrap().to_pkcs8().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(ed.as_ref())
        );
        let key = SigningKey::from_pem(&pem, Algorithm::RS256).unwrap();
        assert_eq!(key.alg(), Algorithm::EdDSA);
        assert_eq!(key.public_jwk()["crv"], "Ed25519");
    }

    #[test]
    fn rfc8037_ed25519_thumbprint() {
        // RFC 8037 appendix A.3.
        let jwk = json!({"kty": "OKP", "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            thumbprint(&jwk),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn ps256_and_eddsa_keys_sign_verifiably() {
        use aws_lc_rs::signature::{ED25519, RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents};
        let ps = SigningKey::generate(Algorithm::PS256).unwrap();
        let sig = ps.sign(b"m").unwrap();
        let b = |m: &str| {
            URL_SAFE_NO_PAD
                .decode(ps.public_jwk()[m].as_str().unwrap())
                .unwrap()
        };
        let public = RsaPublicKeyComponents {
            n: b("n"),
            e: b("e"),
        };
        public
            .verify(&RSA_PSS_2048_8192_SHA256, b"m", &sig)
            .unwrap();
        // PKCS#1 v1.5 verification must not accept a PSS signature.
        assert!(
            public
                .verify(
                    &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                    b"m",
                    &sig
                )
                .is_err()
        );
        let ed = SigningKey::generate(Algorithm::EdDSA).unwrap();
        let x = URL_SAFE_NO_PAD
            .decode(ed.public_jwk()["x"].as_str().unwrap())
            .unwrap();
        UnparsedPublicKey::new(&ED25519, x)
            .verify(b"m", &ed.sign(b"m").unwrap())
            .unwrap();
        assert_eq!(ed.public_jwk()["alg"], "EdDSA");
    }

    #[test]
    fn rsa_jwk_has_modulus_and_exponent() {
        let key = SigningKey::generate(Algorithm::RS256).unwrap();
        assert_eq!(key.public_jwk()["e"], "AQAB");
        assert_eq!(key.sign(b"x").unwrap().len(), 256);
    }
}
