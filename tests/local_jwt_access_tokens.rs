//! JWT access tokens (RFC 9068) on the local engine through the real gRPC
//! service, directly and over the HTTP API (v2 and v3): engine-wide and per
//! client, `typ` `at+jwt`, signed with the engine's keys (verified here
//! against the JWK Set), the RFC 9068 §2.2 claims, `cnf` for DPoP-bound ones,
//! and introspection, refresh and revocation working on them.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::backend::local::LocalConfig;
use authlete_grpc::pb;
use local_common::dpop::{self as d, DpopKey, Proof, TOKEN_URL};
use local_common::idtoken::{jwks, verify_alg};
use local_common::*;
use serde_json::Value;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

fn engine_wide(alg: &str) -> LocalConfig {
    let mut c = config();
    c.access_token_sign_alg = Some(alg.to_owned());
    c
}

async fn revoke(env: &Env, token: &str) {
    let rev = env
        .revocation()
        .revocation(pb::RevocationRequest {
            parameters: format!("token={token}"),
            client_id: WEB.to_owned(),
            client_secret: WEB_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rev.action_name, "OK", "{}", rev.result_message);
}

#[tokio::test]
async fn engine_wide_jwt_access_tokens_introspect_refresh_and_revoke() {
    for via in VIAS {
        let env = Env::start_with(via, engine_wide("ES256")).await;
        let keys = jwks(&env).await;
        let t = tokens(&env).await;
        let (header, _) = jwt_parts(&t.access_token);
        assert_eq!(header["typ"], "at+jwt", "{via:?}");
        let claims = verify_alg(&keys, &t.access_token, "ES256");
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["aud"], WEB);
        assert_eq!(claims["client_id"], WEB);
        assert_eq!(claims["scope"], "openid profile email");
        assert_eq!(claims["auth_time"], 1_700_000_000);
        let now = env.clock_seconds();
        assert!(claims["exp"].as_i64().unwrap() > now && claims["iat"].as_i64().unwrap() <= now);
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 32));
        assert!(claims.get("cnf").is_none(), "not bound");
        assert_eq!(t.jwt_access_token, t.access_token);
        let body: Value = serde_json::from_str(&t.response_content).unwrap();
        assert_eq!(body["access_token"], t.access_token.as_str());

        let i = introspect(&env, &t.access_token, &["openid"]).await;
        assert_eq!(i.action_name, "OK", "{}", i.result_message);
        assert_eq!(i.subject, "alice");

        // A refresh gives another JWT; the old one stops working.
        let r = token(
            &env,
            &format!("grant_type=refresh_token&refresh_token={}", t.refresh_token),
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(r.action_name, "OK", "{}", r.result_message);
        let again = verify_alg(&keys, &r.access_token, "ES256");
        assert_ne!(again["jti"], claims["jti"]);
        assert_eq!(
            introspect(&env, &t.access_token, &[]).await.action_name,
            "UNAUTHORIZED"
        );

        revoke(&env, &r.access_token).await;
        assert_eq!(
            introspect(&env, &r.access_token, &[]).await.action_name,
            "UNAUTHORIZED"
        );
    }
}

#[tokio::test]
async fn per_client_jwt_access_tokens_and_the_client_as_subject() {
    let mut c = config();
    c.clients[0].access_token_sign_alg = Some("PS256".to_owned());
    let env = Env::start_with(Via::Http(ApiVersion::V3), c).await;
    let keys = jwks(&env).await;
    let t = token(
        &env,
        "grant_type=client_credentials&resource=https%3A%2F%2Frs.example",
        Some((WEB, WEB_SECRET)),
    )
    .await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    let claims = verify_alg(&keys, &t.access_token, "PS256");
    assert_eq!(claims["sub"], WEB, "no user: the client");
    assert_eq!(
        claims["aud"], "https://rs.example",
        "the resource (RFC 8707)"
    );
    // Another client keeps opaque tokens.
    let other = token(
        &env,
        &format!("grant_type=client_credentials&client_id={POSTER}&client_secret={POSTER_SECRET}"),
        None,
    )
    .await;
    assert_eq!(other.action_name, "OK", "{}", other.result_message);
    assert!(!other.access_token.contains('.'), "opaque");
    assert!(other.jwt_access_token.is_empty());
}

#[tokio::test]
async fn a_dpop_bound_jwt_access_token_carries_the_key_thumbprint() {
    let env = Env::start_with(Via::Direct, engine_wide("EdDSA")).await;
    let keys = jwks(&env).await;
    let key = DpopKey::es256();
    let proof = key.sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()));
    let t = d::token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
        &proof,
    )
    .await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    let claims = verify_alg(&keys, &t.access_token, "EdDSA");
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
}

#[tokio::test]
async fn an_unknown_access_token_algorithm_is_a_startup_error() {
    let err = authlete_grpc::backend::LocalBackend::new(engine_wide("HS256")).expect_err("HS256");
    assert!(err.contains("access_token_sign_alg"), "{err}");
    let mut c = config();
    c.clients[1].access_token_sign_alg = Some("none".to_owned());
    let err = authlete_grpc::backend::LocalBackend::new(c).expect_err("none");
    assert!(err.contains("access_token_sign_alg"), "{err}");
}
