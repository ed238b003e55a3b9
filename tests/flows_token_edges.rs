//! The edges of the token flows the service finishes itself, end to end on
//! the recording fake: jaxrs's ready answer for a grant the web tier does not
//! support, clients Authlete could not identify or refused to mint for, and
//! the device secret the service mints for Native SSO.

mod common;

use authlete_grpc::pb::{self, token_decision_request::Decision};
use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

const NONCE: &str = "nonce-from-token";

async fn first_step(env: &Env, changes: Value) -> pb::TokenResponse {
    env.fake
        .reply("/auth/token", 200, fixture_with("token/ok.json", changes));
    env.token()
        .token(pb::TokenRequest {
            parameters: "grant_type=x".into(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner()
}

async fn decide(env: &Env, continuation: String, decision: Decision) -> pb::TokenDecisionResponse {
    env.token()
        .token_decision(pb::TokenDecisionRequest {
            continuation,
            decision: Some(decision),
        })
        .await
        .expect("OK")
        .into_inner()
}

fn grant(subject: &str) -> Decision {
    Decision::Granted(pb::TokenGrant {
        subject: subject.into(),
        ..Default::default()
    })
}

fn changes(action: &str, client_id: i64) -> Value {
    json!({"action": action, "responseContent": null, "clientId": client_id, "scopes": ["read"],
           "dpopNonce": NONCE, "attestationChallenge": "ch-1", "accessToken": "AT", "refreshToken": "RT"})
}

#[tokio::test]
async fn an_unsupported_grant_has_jaxrs_ready_answer_without_endpoint_headers() {
    let native = concat!(
        r#"{"error":"invalid_grant","error_description":"The token request appears to comply "#,
        r#"with the Native SSO specification, but this authorization server has not implemented "#,
        r#"support for it yet."}"#
    );
    let cases = [
        ("TOKEN_EXCHANGE", r#"{"error":"unsupported_grant_type"}"#),
        ("JWT_BEARER", r#"{"error":"unsupported_grant_type"}"#),
        ("NATIVE_SSO", native),
    ];
    for (action, body) in cases {
        let env = start(V3).await;
        let first = first_step(&env, changes(action, 7)).await;
        assert_eq!(first.http, None, "{action}: the web tier decides");
        assert!(!first.continuation.is_empty(), "{action}");
        // No DPoP-Nonce nor attestation challenge: jaxrs sends none on it.
        assert_http(
            first.unsupported_http.as_ref(),
            400,
            &json_headers(&[]),
            body,
        );
        assert_eq!(env.fake.requests().len(), 1, "{action}: no second call");
    }
    for action in ["OK", "PASSWORD", "ID_TOKEN_REISSUABLE", "BAD_REQUEST"] {
        let env = start(V2).await;
        let first = first_step(&env, changes(action, 7)).await;
        assert_eq!(first.unsupported_http, None, "{action}");
    }
}

#[tokio::test]
async fn an_unidentified_client_is_invalid_request_without_token_create() {
    let cases = [
        (
            "TOKEN_EXCHANGE",
            "This authorization server does not allow unidentifiable clients to make token exchange requests.",
        ),
        (
            "JWT_BEARER",
            "This authorization server does not allow unidentifiable clients to make token requests with the grant type 'urn:ietf:params:oauth:grant-type:jwt-bearer'.",
        ),
    ];
    for (action, description) in cases {
        let env = start(V3).await;
        let first = first_step(&env, changes(action, 0)).await;
        let r = decide(&env, first.continuation, grant("alice")).await;
        assert_eq!(
            env.fake.requests().len(),
            1,
            "{action}: no /auth/token/create"
        );
        let headers = json_headers(&[
            ("DPoP-Nonce", NONCE),
            ("OAuth-Client-Attestation-Challenge", "ch-1"),
        ]);
        let body = json!({"error": "invalid_request", "error_description": description});
        assert_http(r.http.as_ref(), 400, &headers, &body.to_string());
        assert_eq!(r.completion.unwrap().reason, "invalid_request");
    }
}

#[tokio::test]
async fn token_create_refusing_the_client_is_invalid_request_and_its_failure_a_server_error() {
    for (create_action, status, error) in [
        ("BAD_REQUEST", 400, "invalid_request"),
        ("FORBIDDEN", 400, "invalid_request"),
        ("INTERNAL_SERVER_ERROR", 500, "server_error"),
    ] {
        let env = start(V3).await;
        let refused = json!({"action": create_action, "resultCode": "A000", "resultMessage": "no"});
        env.fake
            .reply("/auth/token/create", 200, refused.to_string());
        let first = first_step(&env, changes("JWT_BEARER", 42)).await;
        let r = decide(&env, first.continuation, grant("svc")).await;
        let http = r.http.unwrap();
        assert_eq!(http.status, status, "{create_action}");
        let body: Value = serde_json::from_str(&http.body).unwrap();
        assert_eq!(body["error"], error, "{create_action}");
        let c = r.completion.unwrap();
        assert_eq!(
            (c.api.as_str(), c.action_name.as_str()),
            ("/auth/token/create", create_action)
        );
    }
}

#[tokio::test]
async fn native_sso_without_a_device_secret_gets_a_fresh_256_bit_one() {
    let mut sent = Vec::new();
    for _ in 0..2 {
        let env = start(V3).await;
        let minted = json!({"action": "OK", "responseContent": "{\"device_secret\":\"x\"}"});
        env.fake.reply("/nativesso", 200, minted.to_string());
        let first = first_step(&env, changes("NATIVE_SSO", 7)).await;
        let r = decide(
            &env,
            first.continuation,
            Decision::Granted(Default::default()),
        )
        .await;
        assert_eq!(r.http.unwrap().status, 200);
        let requests = env.fake.requests();
        assert_eq!(requests[1].path, env.path("/nativesso"));
        let body = requests[1].json();
        let secret = body["deviceSecret"]
            .as_str()
            .expect("a device secret")
            .to_owned();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&secret)
            .expect("base64url without padding");
        assert_eq!(raw.len(), 32, "256 bits");
        assert!(body.get("deviceSecretHash").is_none(), "Authlete hashes it");
        sent.push(secret);
    }
    assert_ne!(sent[0], sent[1], "each one is new");
}
