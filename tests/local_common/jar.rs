//! The client side of request objects (RFC 9101) for the engine tests:
//! clients with a registered JWK Set, request objects with every header
//! member and claim under the test's control, signed by any key.

use authlete_grpc::backend::local::{Algorithm, ClientConfig, LocalConfig, SigningKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{CHALLENGE, ISSUER, REDIRECT};

/// Confidential (client_secret_basic), registered with [`Keys::jwks`].
pub const JAR: &str = "jar";
pub const JAR_SECRET: &str = "jar-secret-0123456789";
/// Also registered with its keys, and `require_signed_request_object`.
pub const STRICT: &str = "strict";
pub const STRICT_SECRET: &str = "strict-secret-0123456789";
/// Registered with a key of its own, and `request_object_signing_alg` PS256.
pub const OTHER: &str = "other";

/// The keys of the test clients: `jar` and `strict` register ES256 and
/// PS256 keys, `other` a PS256 key of its own.
pub struct Keys {
    pub es256: SigningKey,
    pub ps256: SigningKey,
    pub other: SigningKey,
}

impl Keys {
    pub fn generate() -> Self {
        Self {
            es256: SigningKey::generate(Algorithm::ES256).unwrap(),
            ps256: SigningKey::generate(Algorithm::PS256).unwrap(),
            other: SigningKey::generate(Algorithm::PS256).unwrap(),
        }
    }

    /// A JWK Set of the public keys.
    pub fn jwks(keys: &[&SigningKey]) -> String {
        let keys: Vec<Value> = keys.iter().map(|k| k.public_jwk().clone()).collect();
        json!({ "keys": keys }).to_string()
    }

    /// The engine configuration of the tests plus the three clients.
    pub fn config(&self) -> LocalConfig {
        let mut c = super::config();
        let shared = Self::jwks(&[&self.es256, &self.ps256]);
        let client = |id: &str, secret: &str, jwks: String| ClientConfig {
            client_id: id.to_owned(),
            client_secret: Some(secret.to_owned()),
            redirect_uris: vec![REDIRECT.to_owned()],
            grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
            jwks: Some(jwks),
            ..ClientConfig::default()
        };
        c.clients.push(client(JAR, JAR_SECRET, shared.clone()));
        c.clients.push(ClientConfig {
            require_signed_request_object: true,
            ..client(STRICT, STRICT_SECRET, shared)
        });
        c.clients.push(ClientConfig {
            request_object_signing_alg: Some("PS256".to_owned()),
            ..client(OTHER, "other-secret-0123456789", Self::jwks(&[&self.other]))
        });
        c
    }
}

/// The claims of a valid request object of `client` at `now`: the test's
/// standard code request (PKCE S256, openid, state `st-ro`, nonce `n-ro`).
pub fn claims(client: &str, now: i64) -> Value {
    json!({
        "iss": client, "aud": ISSUER, "client_id": client,
        "iat": now, "nbf": now, "exp": now + 300, "jti": format!("jti-{now}"),
        "response_type": "code", "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "st-ro", "nonce": "n-ro",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256",
        "max_age": 3600, "claims": {"userinfo": {"email": {"essential": true}}},
    })
}

/// A compact JWS of `claims` by `key`, with `header` merged over the
/// default (`alg` of the key, its `kid`, `typ` `oauth-authz-req+jwt`).
pub fn sign(key: &SigningKey, header: Value, claims: &Value) -> String {
    let mut h = json!({"alg": key.alg().name(), "kid": key.kid(), "typ": "oauth-authz-req+jwt"});
    for (k, v) in header.as_object().cloned().unwrap_or_default() {
        if v.is_null() {
            h.as_object_mut().unwrap().remove(&k);
        } else {
            h[k] = v;
        }
    }
    let input = format!("{}.{}", b64(&h.to_string()), b64(&claims.to_string()));
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// An unsigned request object (`alg` `none`, empty signature).
pub fn unsigned(claims: &Value) -> String {
    format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&claims.to_string()))
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}
