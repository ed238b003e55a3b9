//! The signing keys of ID tokens: the default one, loaded from a PEM file or
//! generated at startup (RS256 by default, which OpenID Connect Discovery
//! requires; ES256 available), plus a generated key for each other algorithm
//! so a client can ask for it (`id_token_signed_response_alg`). Their public
//! JWKs are what `/service/jwks/get` returns.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// JWS algorithms the engine signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256 (small keys, fast generation).
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the default); 2048-bit keys when generated.
    RS256,
}

impl Algorithm {
    /// Every algorithm, in the order discovery lists them.
    pub const ALL: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }

    /// The algorithm of a JWS `alg` name the engine signs with.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// The engine's keys: the default first, then one per other algorithm.
#[derive(Debug)]
pub(super) struct KeyRing(Vec<SigningKey>);

impl KeyRing {
    /// `default` plus a generated key for every other algorithm.
    pub(super) fn around(default: SigningKey) -> Result<Self, String> {
        let mut keys = vec![default];
        for alg in Algorithm::ALL {
            if keys.iter().all(|k| k.alg() != alg) {
                keys.push(SigningKey::generate(alg)?);
            }
        }
        Ok(Self(keys))
    }

    /// The default key (the configured one).
    pub(super) fn default_key(&self) -> &SigningKey {
        &self.0[0]
    }

    /// The key for `alg`, or the default one.
    pub(super) fn for_alg(&self, alg: Option<Algorithm>) -> &SigningKey {
        alg.and_then(|a| self.0.iter().find(|k| k.alg() == a))
            .unwrap_or(self.default_key())
    }

    /// The algorithms, the default first.
    pub(super) fn algs(&self) -> Vec<&'static str> {
        self.0.iter().map(|k| k.alg().name()).collect()
    }

    /// The public JWKs, the default first.
    pub(super) fn public_jwks(&self) -> Vec<Value> {
        self.0.iter().map(|k| k.public_jwk().clone()).collect()
    }
}

enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
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
            Algorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .map(Pair::Rsa)
                .map_err(|_| "cannot generate an RS256 key".to_owned())?,
        };
        Self::with(pair, alg)
    }

    /// A key from PEM text: `PRIVATE KEY` (PKCS#8, what `openssl genpkey`
    /// writes), `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY` (PKCS#1). The
    /// algorithm follows the key type: ES256 for P-256, RS256 for RSA.
    pub fn from_pem(text: &str) -> Result<Self, String> {
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
                .map_err(|e| e.to_string()),
            other => Err(format!("unsupported PEM block `{other}`")),
        }
        .map_err(|e| format!("not a P-256 or RSA private key ({e})"))?;
        let alg = match pair {
            Pair::Ec(_) => Algorithm::ES256,
            Pair::Rsa(_) => Algorithm::RS256,
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
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, message, &mut out)
                    .map_err(|_| "RS256 signing failed".to_owned())?;
                Ok(out)
            }
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
fn thumbprint(public: &Value) -> String {
    let members: &[&str] = if public["kty"] == "EC" {
        &["crv", "kty", "x", "y"]
    } else {
        &["e", "kty", "n"]
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
        let key = SigningKey::from_pem(&pem).unwrap();
        assert_eq!(key.alg(), Algorithm::ES256);
        assert!(SigningKey::from_pem("nothing").is_err());
    }

    #[test]
    fn rsa_jwk_has_modulus_and_exponent() {
        let key = SigningKey::generate(Algorithm::RS256).unwrap();
        assert_eq!(key.public_jwk()["e"], "AQAB");
        assert_eq!(key.sign(b"x").unwrap().len(), 256);
    }
}
