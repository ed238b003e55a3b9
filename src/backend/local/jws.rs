//! Verifying compact JWSs signed by someone else's key (DPoP proofs): the
//! parts, bounded in size, and the signature checked against a public JWK
//! with aws-lc-rs. Only asymmetric algorithms the engine also signs with.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
    RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::alg::Algorithm;

/// The largest JWS accepted: a proof with a 4096-bit RSA key fits easily.
pub(super) const MAX_JWS_BYTES: usize = 8 * 1024;

/// A compact JWS, split and decoded; not yet verified.
pub(super) struct Parsed<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `base64url(header).base64url(payload)`, what the signature covers.
    pub input: &'a str,
    pub signature: Vec<u8>,
}

/// Splits and decodes `jws`; the error says what is wrong.
pub(super) fn parse(jws: &str) -> Result<Parsed<'_>, &'static str> {
    if jws.len() > MAX_JWS_BYTES {
        return Err("The JWS is too large.");
    }
    let (input, signature) = jws.rsplit_once('.').ok_or("The JWS is malformed.")?;
    let (header, claims) = input.split_once('.').ok_or("The JWS is malformed.")?;
    let object = |part: &str| -> Result<Map<String, Value>, &'static str> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "The JWS is not base64url.")?;
        serde_json::from_slice(&bytes)
            .map_err(|_| "The JWS header or payload is not a JSON object.")
    };
    let header = object(header)?;
    // RFC 7515 §4.1.11: extensions named critical must be understood; the
    // engine understands none.
    if header.contains_key("crit") {
        return Err(
            "The JWS header names critical extensions ('crit') the server does not understand.",
        );
    }
    Ok(Parsed {
        header,
        claims: object(claims)?,
        input,
        signature: URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| "The JWS signature is not base64url.")?,
    })
}

/// Whether the header says an RFC 9068 access token (`typ` `at+jwt`): such a
/// JWT is signed by the same keys as ID tokens but is not one.
pub(super) fn is_access_token(header: &Map<String, Value>) -> bool {
    header.get("typ").and_then(Value::as_str).is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    })
}

/// Whether `jwk` holds private key material (it must not, in a header).
pub(super) fn is_private(jwk: &Map<String, Value>) -> bool {
    ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| jwk.contains_key(*m))
}

/// The public JWK's members that RFC 7638 hashes, checked for `alg`: an
/// EC P-256 key for ES256, RSA for RS256/PS256, an Ed25519 OKP for EdDSA.
pub(super) fn public_members(
    alg: Algorithm,
    jwk: &Map<String, Value>,
) -> Result<Value, &'static str> {
    let text = |m: &str| {
        jwk.get(m)
            .and_then(Value::as_str)
            .ok_or("The JWK is incomplete.")
    };
    let (kty, members): (&str, &[&str]) = match alg {
        Algorithm::ES256 => ("EC", &["crv", "kty", "x", "y"]),
        Algorithm::RS256 | Algorithm::PS256 => ("RSA", &["e", "kty", "n"]),
        Algorithm::EdDSA => ("OKP", &["crv", "kty", "x"]),
    };
    if text("kty")? != kty {
        return Err("The JWK does not fit the algorithm.");
    }
    let crv = match alg {
        Algorithm::ES256 => Some("P-256"),
        Algorithm::EdDSA => Some("Ed25519"),
        _ => None,
    };
    if crv.is_some_and(|c| text("crv") != Ok(c)) {
        return Err("The JWK's curve does not fit the algorithm.");
    }
    let mut public = Map::new();
    for m in members {
        public.insert((*m).to_owned(), text(m)?.into());
    }
    Ok(Value::Object(public))
}

/// Verifies `p`'s signature by `public` (from [`public_members`]) for `alg`.
pub(super) fn verify(alg: Algorithm, public: &Value, p: &Parsed<'_>) -> Result<(), &'static str> {
    let b64 = |m: &str| {
        URL_SAFE_NO_PAD
            .decode(public[m].as_str().unwrap_or_default())
            .map_err(|_| "The JWK is not base64url.")
    };
    let message = p.input.as_bytes();
    let verified = match alg {
        Algorithm::ES256 => {
            let point = [vec![4u8], b64("x")?, b64("y")?].concat();
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, &p.signature)
        }
        Algorithm::EdDSA => {
            UnparsedPublicKey::new(&ED25519, b64("x")?).verify(message, &p.signature)
        }
        Algorithm::RS256 | Algorithm::PS256 => {
            let padding = if alg == Algorithm::PS256 {
                &RSA_PSS_2048_8192_SHA256
            } else {
                &RSA_PKCS1_2048_8192_SHA256
            };
            RsaPublicKeyComponents {
                n: b64("n")?,
                e: b64("e")?,
            }
            .verify(padding, message, &p.signature)
        }
    };
    verified.map_err(|_| "The JWS signature does not verify.")
}

#[cfg(test)]
mod tests {
    use super::super::jwt;
    use super::super::keys::SigningKey;
    use super::*;

    #[test]
    fn every_algorithm_verifies_and_a_changed_payload_does_not() {
        for alg in Algorithm::ALL {
            let key = SigningKey::generate(alg).unwrap();
            let jws = jwt::sign(&key, &serde_json::json!({"a": 1})).unwrap();
            let jwk = key.public_jwk().as_object().unwrap();
            let public = public_members(alg, jwk).unwrap();
            let p = parse(&jws).unwrap();
            verify(alg, &public, &p).unwrap();
            let (_, sig) = jws.rsplit_once('.').unwrap();
            let forged = format!("{}.{}.{sig}", jws.split('.').next().unwrap(), "eyJhIjoyfQ");
            assert!(
                verify(alg, &public, &parse(&forged).unwrap()).is_err(),
                "{alg:?}"
            );
        }
        let ec = SigningKey::generate(Algorithm::ES256).unwrap();
        let jwk = ec.public_jwk().as_object().unwrap();
        assert!(public_members(Algorithm::RS256, jwk).is_err());
        assert!(!is_private(jwk));
        assert!(parse(&"a".repeat(MAX_JWS_BYTES + 1)).is_err());
        assert!(parse("a.b").is_err());
        let crit = format!(
            "{}.e30.AAAA",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","crit":["exp"]}"#)
        );
        assert!(parse(&crit).is_err(), "crit is refused");
    }
}
