//! ID token checks shared by the flow tests: the JWK Set through
//! `ServiceJwks`, ES256 verification, `at_hash`/`c_hash`, response headers.

use authlete_grpc::pb;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
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

/// Verifies an ES256 JWT against the JWK Set; returns its claims.
pub fn verify(jwks: &Value, jwt: &str) -> Value {
    let (header, claims) = jwt_parts(jwt);
    assert_eq!(header["alg"], "ES256");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the kid is in the JWK Set");
    let b64 = |m: &str| URL_SAFE_NO_PAD.decode(key[m].as_str().unwrap()).unwrap();
    let point = [vec![4u8], b64("x"), b64("y")].concat();
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .expect("the ID token signature verifies");
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
