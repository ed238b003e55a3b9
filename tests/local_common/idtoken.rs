//! ID token checks shared by the flow tests: the JWK Set through
//! `ServiceJwks`, RS256 and ES256 verification, `at_hash`/`c_hash`, response headers.

use authlete_grpc::pb;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
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

/// Verifies a JWT signed with `alg` (RS256 or ES256) by the key its `kid`
/// names in the JWK Set; returns its claims.
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
        _ => RsaPublicKeyComponents {
            n: b64("n"),
            e: b64("e"),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature),
    };
    verified.expect("the ID token signature verifies");
    claims
}

pub fn half_hash(value: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

pub fn header<'a>(http: &'a pb::HttpResponse, name: &str) -> Option<&'a str> {
    http.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}
