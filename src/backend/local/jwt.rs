//! Compact JWS encoding of ID tokens and signed UserInfo, PKCE's S256, and
//! unguessable identifiers for tickets, codes and tokens.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::keys::SigningKey;
use super::reply::Fault;

/// A signed JWT: `base64url(header).base64url(claims).base64url(signature)`.
pub(super) fn sign(key: &SigningKey, claims: &Value) -> Result<String, Fault> {
    sign_typed(key, "JWT", claims)
}

/// A signed JWT with the `typ` header `typ` (`at+jwt` for RFC 9068).
pub(super) fn sign_typed(key: &SigningKey, typ: &str, claims: &Value) -> Result<String, Fault> {
    let header = json!({"alg": key.alg().name(), "typ": typ, "kid": key.kid()});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(input.as_bytes()).map_err(Fault::Server)?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// 256 bits from the system CSPRNG, base64url: tickets, codes, tokens.
pub(super) fn random_token() -> Result<String, Fault> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Fault::Server("The system random generator failed.".to_owned()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The PKCE S256 transform: base64url(SHA-256(verifier)).
pub(super) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
