//! ID token checks shared by the flow tests: the JWK Set through
//! `ServiceJwks`, RS256, PS256, ES256 and EdDSA verification, `at_hash`/`c_hash`,
//! response headers.

use authlete_grpc::pb;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
    RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{Env, jwt_parts};

/// The engine's JWK Set, through `ServiceJwks`.
pub async fn jwks(env: &Env) -> Value {
    let r = env
        .discovery()
        .service_jwks(pb::ServiceJwksRequest::default())
        .await
        .expect("ServiceJwks")
        .into_inner();
    serde_json::from_str(&r.authlete_response).expect("JWKS JSON")
}

/// Verifies an RS256 JWT (the engine's default) against the JWK Set;
/// returns its claims.
pub fn verify(jwks: &Value, jwt: &str) -> Value {
    verify_alg(jwks, jwt, "RS256")
}

/// Verifies a JWT signed with `alg` (RS256, PS256, ES256 or EdDSA) by the
/// key its `kid` names in the JWK Set; returns its claims.
pub fn verify_alg(jwks: &Value, jwt: &str, alg: &str) -> Value {
    let (header, claims) = jwt_parts(jwt);
    assert_eq!(header["alg"], alg);
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the kid is in the JWK Set");
    assert_eq!(key["alg"], alg, "the key of the kid is for {alg}");
    let b64 = |m: &str| URL_SAFE_NO_PAD.decode(key[m].as_str().unwrap()).unwrap();
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let verified = match alg {
        "ES256" => UnparsedPublicKey::new(
            &ECDSA_P256_SHA256_FIXED,
            [vec![4u8], b64("x"), b64("y")].concat(),
        )
        .verify(input.as_bytes(), &signature),
        "EdDSA" => {
            assert_eq!(key["crv"], "Ed25519");
            UnparsedPublicKey::new(&ED25519, b64("x")).verify(input.as_bytes(), &signature)
        }
        "RS256" | "PS256" => RsaPublicKeyComponents {
            n: b64("n"),
            e: b64("e"),
        }
        .verify(
            if alg == "PS256" {
                &RSA_PSS_2048_8192_SHA256
            } else {
                &RSA_PKCS1_2048_8192_SHA256
            },
            input.as_bytes(),
            &signature,
        ),
        other => panic!("unexpected alg {other}"),
    };
    verified.expect("the ID token signature verifies");
    claims
}

pub fn half_hash(value: &str) -> String {
    half_hash_for("RS256", value)
}

/// `at_hash` / `c_hash` for `alg`: SHA-512 for EdDSA (Ed25519), else SHA-256.
pub fn half_hash_for(alg: &str, value: &str) -> String {
    use aws_lc_rs::digest::{SHA256, SHA512, digest};
    let d = digest(
        if alg == "EdDSA" { &SHA512 } else { &SHA256 },
        value.as_bytes(),
    );
    let d = d.as_ref();
    URL_SAFE_NO_PAD.encode(&d[..d.len() / 2])
}

pub fn header<'a>(http: &'a pb::HttpResponse, name: &str) -> Option<&'a str> {
    http.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}
