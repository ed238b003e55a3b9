//! The local engine's signing algorithms through the real gRPC service, the
//! engine directly and over its HTTP API (v2 and v3): ID tokens in RS256,
//! PS256, ES256 and EdDSA chosen per client, the JWK Set listing every key
//! with `kid` and `alg`, signed UserInfo (`application/jwt`) through the
//! two-step `UserInfoDecision`, and dynamic registration honouring or
//! refusing `id_token_signed_response_alg` / `userinfo_signed_response_alg`.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use local_common::idtoken::{half_hash_for, header, jwks, verify_alg};
use local_common::registration::{dcr_config, register};
use local_common::*;
use serde_json::{Value, json};

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];
const ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

/// The configuration with the WEB client's ID token and UserInfo algorithms.
fn config_with(
    id_token: Option<&str>,
    userinfo: Option<&str>,
) -> authlete_grpc::backend::local::LocalConfig {
    let mut c = config();
    c.clients[0].id_token_signed_response_alg = id_token.map(str::to_owned);
    c.clients[0].userinfo_signed_response_alg = userinfo.map(str::to_owned);
    c
}

#[tokio::test]
async fn id_tokens_are_signed_with_each_algorithm_a_client_asks_for() {
    for via in VIAS {
        for alg in ALGS {
            let env = Env::start_with(via, config_with(Some(alg), None)).await;
            let keys = jwks(&env).await;
            let t = tokens(&env).await;
            let claims = verify_alg(&keys, &t.id_token, alg);
            assert_eq!(claims["sub"], "alice", "{via:?} {alg}");
            assert_eq!(claims["aud"], WEB);
            // The hash of at_hash is the algorithm's (SHA-512 for Ed25519).
            assert_eq!(
                claims["at_hash"],
                half_hash_for(alg, &t.access_token),
                "{alg}"
            );
        }
    }
}

#[tokio::test]
async fn a_tampered_or_re_labelled_id_token_does_not_verify() {
    let env = Env::start_with(Via::Direct, config_with(Some("PS256"), None)).await;
    let keys = jwks(&env).await;
    let t = tokens(&env).await;
    let (header_b64, rest) = t.id_token.split_once('.').unwrap();
    // Claiming RS256 for a PSS signature must fail against the same key.
    let (head, _) = jwt_parts(&t.id_token);
    assert_eq!(head["alg"], "PS256");
    let mut relabelled = head.clone();
    relabelled["alg"] = "RS256".into();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forged = format!("{}.{rest}", b64.encode(relabelled.to_string()));
    assert_ne!(header_b64, b64.encode(relabelled.to_string()));
    let outcome = std::panic::catch_unwind(|| verify_alg(&keys, &forged, "RS256"));
    assert!(outcome.is_err(), "a PS256 signature is no RS256 signature");
}

#[tokio::test]
async fn the_jwk_set_and_discovery_list_every_algorithm() {
    for via in VIAS {
        let env = Env::start(via).await;
        let keys = jwks(&env).await;
        let list = keys["keys"].as_array().unwrap();
        let algs: Vec<&str> = list.iter().map(|k| k["alg"].as_str().unwrap()).collect();
        assert_eq!(algs, ALGS, "{via:?}: the default (RS256) first");
        let mut kids: Vec<&str> = list.iter().map(|k| k["kid"].as_str().unwrap()).collect();
        kids.sort_unstable();
        kids.dedup();
        assert_eq!(kids.len(), 4, "one kid per key");
        for k in list {
            assert_eq!(k["use"], "sig");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(k.get(private).is_none(), "{k}");
            }
        }
        assert_eq!(list[3]["kty"], "OKP");
        assert_eq!(list[3]["crv"], "Ed25519");
        let doc = discovery_doc(&env).await;
        assert_eq!(doc["id_token_signing_alg_values_supported"], json!(ALGS));
        assert_eq!(doc["userinfo_signing_alg_values_supported"], json!(ALGS));
    }
}

/// UserInfo, then `UserInfoDecision` with the profile: the final response.
async fn userinfo_http(env: &Env, access_token: &str) -> pb::HttpResponse {
    let u = env
        .userinfo()
        .user_info(pb::UserInfoRequest {
            token: access_token.to_owned(),
            ..Default::default()
        })
        .await
        .expect("UserInfo")
        .into_inner();
    assert_eq!(u.action_name, "OK", "{}", u.result_message);
    env.userinfo()
        .user_info_decision(pb::UserInfoDecisionRequest {
            continuation: u.continuation,
            claims: r#"{"name":"Alice","email":"alice@example.com","iss":"https://evil.example"}"#
                .to_owned(),
            ..Default::default()
        })
        .await
        .expect("UserInfoDecision")
        .into_inner()
        .http
        .expect("http")
}

#[tokio::test]
async fn userinfo_is_a_signed_jwt_when_the_client_asks_for_one() {
    for via in VIAS {
        for alg in ["ES256", "EdDSA"] {
            let env = Env::start_with(via, config_with(None, Some(alg))).await;
            let keys = jwks(&env).await;
            let t = tokens(&env).await;
            let http = userinfo_http(&env, &t.access_token).await;
            assert_eq!(http.status, 200, "{via:?}");
            assert_eq!(header(&http, "Content-Type"), Some("application/jwt"));
            let claims = verify_alg(&keys, &http.body, alg);
            assert_eq!(claims["sub"], "alice");
            assert_eq!(claims["email"], "alice@example.com");
            assert_eq!(claims["iss"], ISSUER, "the engine's, not the profile's");
            assert_eq!(claims["aud"], WEB);
        }
    }
    // Without the setting: JSON, as before.
    let env = Env::start(Via::Direct).await;
    let t = tokens(&env).await;
    let http = userinfo_http(&env, &t.access_token).await;
    assert!(
        header(&http, "Content-Type")
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = serde_json::from_str(&http.body).unwrap();
    assert_eq!(body["sub"], "alice");
}

#[tokio::test]
async fn a_configured_algorithm_outside_the_list_is_a_startup_error() {
    let err = authlete_grpc::backend::LocalBackend::new(config_with(None, Some("none")))
        .expect_err("none");
    assert!(err.contains("userinfo_signed_response_alg"), "{err}");
    assert!(err.contains("EdDSA"), "names what is supported: {err}");
}

/// A code flow of a registered client: its token reply.
async fn registered_tokens(env: &Env, id: &str, secret: &str) -> pb::TokenResponse {
    let r = authorize(
        env,
        &format!(
            "response_type=code&client_id={id}&redirect_uri={}&scope=openid+email&nonce=n",
            enc("https://rp.example/cb")
        ),
    )
    .await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    let i = issue(env, &r.ticket, "bob", r#"{"email":"bob@example.com"}"#).await;
    let code = param(&i.response_content, "code").expect("code");
    let t = token(
        env,
        &format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}",
            enc("https://rp.example/cb")
        ),
        Some((id, secret)),
    )
    .await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    t
}

#[tokio::test]
async fn registration_honours_both_signing_algorithms() {
    for via in VIAS {
        let env = Env::start_with(via, dcr_config(None)).await;
        let keys = jwks(&env).await;
        let r = register(
            &env,
            r#"{"redirect_uris":["https://rp.example/cb"],"id_token_signed_response_alg":"EdDSA",
                "userinfo_signed_response_alg":"PS256"}"#,
            "",
        )
        .await;
        r.expect("CREATED", 201);
        assert_eq!(r.s("id_token_signed_response_alg"), "EdDSA");
        assert_eq!(r.s("userinfo_signed_response_alg"), "PS256");
        let t = registered_tokens(&env, &r.s("client_id"), &r.s("client_secret")).await;
        verify_alg(&keys, &t.id_token, "EdDSA");
        let http = userinfo_http(&env, &t.access_token).await;
        assert_eq!(header(&http, "Content-Type"), Some("application/jwt"));
        let claims = verify_alg(&keys, &http.body, "PS256");
        assert_eq!(claims["aud"], r.s("client_id"));
        assert_eq!(claims["sub"], "bob");

        // A client that did not ask for signed UserInfo is not told it has it.
        let plain = register(&env, r#"{"redirect_uris":["https://rp.example/cb"]}"#, "").await;
        plain.expect("CREATED", 201);
        assert!(plain.content.get("userinfo_signed_response_alg").is_none());
        assert_eq!(plain.s("id_token_signed_response_alg"), "RS256");
    }
}

#[tokio::test]
async fn registration_refuses_algorithms_the_engine_does_not_sign_with() {
    let env = Env::start_with(Via::Http(ApiVersion::V3), dcr_config(None)).await;
    for (member, alg) in [
        ("id_token_signed_response_alg", "HS256"),
        ("id_token_signed_response_alg", "none"),
        ("userinfo_signed_response_alg", "RS512"),
        ("userinfo_signed_response_alg", "none"),
    ] {
        let json = format!(r#"{{"redirect_uris":["https://rp.example/cb"],"{member}":"{alg}"}}"#);
        let r = register(&env, &json, "").await;
        r.expect_error("BAD_REQUEST", 400, "invalid_client_metadata");
        assert!(r.s("error_description").contains(alg), "{r:?}");
    }
    let r = register(
        &env,
        r#"{"redirect_uris":["https://rp.example/cb"],"userinfo_signed_response_alg":7}"#,
        "",
    )
    .await;
    r.expect_error("BAD_REQUEST", 400, "invalid_client_metadata");
}
