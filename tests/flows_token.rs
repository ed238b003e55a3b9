//! The token-endpoint flows the service finishes itself, end to end through
//! the real server and a recording fake Authlete: password right and wrong,
//! token exchange and JWT bearer approved and refused, ID token reissue with
//! and without claims, Native SSO, and the endpoint headers carried along.

mod common;

use authlete_grpc::pb::{self, token_decision_request::Decision, token_response::Action};
use common::*;
use serde_json::{Value, json};

const NONCE: &str = "nonce-from-token";
const CLIENT_ID: i64 = 26478243745571;

/// Runs `Token` against a reply built from `token/ok.json` and `changes`.
async fn first_step(env: &Env, changes: Value) -> pb::TokenResponse {
    let reply = fixture_with("token/ok.json", changes);
    env.fake.reply("/auth/token", 200, reply);
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

fn second_call(env: &Env) -> (String, Value) {
    let requests = env.fake.requests();
    assert_eq!(requests.len(), 2, "one first call and one second call");
    (requests[1].path.clone(), requests[1].json())
}

fn grant(subject: &str) -> Decision {
    Decision::Granted(pb::TokenGrant {
        subject: subject.into(),
        ..Default::default()
    })
}

fn deny(error: &str, description: &str) -> Decision {
    Decision::Denied(pb::TokenDenial {
        error: error.into(),
        error_description: description.into(),
    })
}

async fn password(env: &Env) -> String {
    let reply = fixture_with("token/password.json", json!({"dpopNonce": NONCE}));
    env.fake.reply("/auth/token", 200, reply);
    let r = env
        .token()
        .token(pb::TokenRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Password as i32);
    assert_eq!(
        (r.username.as_str(), r.password.as_str()),
        ("alice", "wonderland")
    );
    assert_eq!(r.http, None);
    r.continuation
}

#[tokio::test]
async fn a_right_password_issues_tokens_with_the_dpop_nonce() {
    let env = start(V3).await;
    let issued = fixture("token_issue/ok.json");
    env.fake.reply("/auth/token/issue", 200, issued.clone());
    let continuation = password(&env).await;
    let r = decide(&env, continuation, grant("alice")).await;
    let ticket = "Cl5XUUfQrhajc8b1jzzQmTfEm4H4p_gsBPiwB-IiyTY";
    assert_eq!(
        second_call(&env),
        (
            env.path("/auth/token/issue"),
            json!({"ticket": ticket, "subject": "alice"})
        )
    );
    let headers = json_headers(&[("DPoP-Nonce", NONCE)]);
    assert_http(r.http.as_ref(), 200, &headers, &response_content(&issued));
    assert_eq!(r.completion.unwrap().api, "/auth/token/issue");
}

#[tokio::test]
async fn a_wrong_password_fails_with_invalid_resource_owner_credentials() {
    let env = start(V2).await;
    let failed = fixture("token_fail/bad_request.json");
    env.fake.reply("/auth/token/fail", 200, failed.clone());
    let continuation = password(&env).await;
    let r = decide(&env, continuation, deny("", "")).await;
    let ticket = "Cl5XUUfQrhajc8b1jzzQmTfEm4H4p_gsBPiwB-IiyTY";
    let expected = json!({"ticket": ticket, "reason": "INVALID_RESOURCE_OWNER_CREDENTIALS"});
    assert_eq!(second_call(&env), (env.path("/auth/token/fail"), expected));
    assert_http(
        r.http.as_ref(),
        400,
        &json_headers(&[("DPoP-Nonce", NONCE)]),
        &response_content(&failed),
    );
    assert_eq!(
        r.completion.unwrap().reason,
        "INVALID_RESOURCE_OWNER_CREDENTIALS"
    );
}

fn exchange_changes(action: &str) -> Value {
    json!({"action": action, "responseContent": null, "clientId": CLIENT_ID, "subject": null,
           "scopes": ["read"], "resources": ["https://api.example.com"], "dpopNonce": NONCE,
           "attestationChallenge": "ch-1"})
}

fn created() -> String {
    json!({"resultCode": "A109001", "resultMessage": "created", "action": "OK", "accessToken": "AT-1",
           "refreshToken": "RT-1", "tokenType": "Bearer", "expiresIn": 3600, "scopes": ["read"]})
    .to_string()
}

#[tokio::test]
async fn an_approved_token_exchange_mints_tokens_and_answers_rfc_8693() {
    let env = start(V3).await;
    env.fake.reply("/auth/token/create", 200, created());
    let first = first_step(&env, exchange_changes("TOKEN_EXCHANGE")).await;
    assert_eq!(first.action, Action::TokenExchange as i32);
    assert_eq!(first.http, None);
    let r = decide(&env, first.continuation, grant("alice")).await;
    let expected = json!({"grantType": "TOKEN_EXCHANGE", "clientId": CLIENT_ID, "subject": "alice",
                          "scopes": ["read"], "resources": ["https://api.example.com"]});
    assert_eq!(
        second_call(&env),
        (env.path("/auth/token/create"), expected)
    );
    let headers = json_headers(&[
        ("DPoP-Nonce", NONCE),
        ("OAuth-Client-Attestation-Challenge", "ch-1"),
    ]);
    let body = json!({"access_token": "AT-1", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                      "token_type": "Bearer", "expires_in": 3600, "scope": "read", "refresh_token": "RT-1"});
    assert_http(r.http.as_ref(), 200, &headers, &body.to_string());
    let c = r.completion.unwrap();
    assert_eq!(
        (c.api.as_str(), c.action_name.as_str()),
        ("/auth/token/create", "OK")
    );
}

#[tokio::test]
async fn an_approved_jwt_bearer_grant_uses_the_granted_scopes() {
    let env = start(V2).await;
    env.fake.reply("/auth/token/create", 200, created());
    let first = first_step(&env, exchange_changes("JWT_BEARER")).await;
    let granted = pb::TokenGrant {
        subject: "svc".into(),
        scopes: vec!["write".into()],
        access_token_duration: 60,
        ..Default::default()
    };
    let r = decide(&env, first.continuation, Decision::Granted(granted)).await;
    let (path, body) = second_call(&env);
    assert_eq!(path, env.path("/auth/token/create"));
    assert_eq!(body["grantType"], "JWT_BEARER");
    assert_eq!(body["scopes"], json!(["write"]));
    assert_eq!(body["accessTokenDuration"], 60);
    let sent: Value = serde_json::from_str(&r.http.unwrap().body).unwrap();
    assert!(sent.get("issued_token_type").is_none(), "{sent}");
}

#[tokio::test]
async fn a_refused_token_exchange_is_a_400_without_a_second_call() {
    let env = start(V3).await;
    let first = first_step(&env, exchange_changes("TOKEN_EXCHANGE")).await;
    let r = decide(
        &env,
        first.continuation,
        deny("invalid_target", "Unknown audience."),
    )
    .await;
    assert_eq!(env.fake.requests().len(), 1);
    let headers = json_headers(&[
        ("DPoP-Nonce", NONCE),
        ("OAuth-Client-Attestation-Challenge", "ch-1"),
    ]);
    let body = r#"{"error":"invalid_target","error_description":"Unknown audience."}"#;
    assert_http(r.http.as_ref(), 400, &headers, body);
    let c = r.completion.unwrap();
    assert_eq!((c.api.as_str(), c.reason.as_str()), ("", "invalid_target"));
}

#[tokio::test]
async fn a_refused_jwt_bearer_grant_defaults_to_invalid_grant() {
    // RFC 7523 section 3.1; token exchange keeps invalid_request (RFC 8693
    // section 2.2.2 names it for a request the server will not honour).
    for (action, default) in [
        ("JWT_BEARER", "invalid_grant"),
        ("TOKEN_EXCHANGE", "invalid_request"),
    ] {
        let env = start(V3).await;
        let first = first_step(&env, exchange_changes(action)).await;
        let r = decide(&env, first.continuation, deny("", "")).await;
        let body: Value = serde_json::from_str(&r.http.unwrap().body).unwrap();
        assert_eq!(body, json!({"error": default}), "{action}");
    }
}

fn reissuable() -> Value {
    json!({"action": "ID_TOKEN_REISSUABLE", "accessToken": "AT-2", "refreshToken": "RT-2",
           "requestedIdTokenClaims": ["name", "email"], "dpopNonce": NONCE})
}

#[tokio::test]
async fn an_id_token_is_reissued_with_the_requested_claims() {
    let env = start(V3).await;
    let reissued = json!({"resultCode": "A300001", "action": "OK",
                          "responseContent": "{\"access_token\":\"AT-2\",\"id_token\":\"eyJ.new\"}"});
    env.fake
        .reply("/idtoken/reissue", 200, reissued.to_string());
    let first = first_step(&env, reissuable()).await;
    assert_eq!(
        first.http.as_ref().map(|h| h.status),
        Some(200),
        "the plain answer is ready too"
    );
    let profile = json!({"name": "Alice", "email": "a@example.com", "phone_number": "+1"});
    let granted = pb::TokenGrant {
        claims: profile.to_string(),
        ..Default::default()
    };
    let r = decide(&env, first.continuation, Decision::Granted(granted)).await;
    let (path, body) = second_call(&env);
    assert_eq!(path, env.path("/idtoken/reissue"));
    let claims: Value = serde_json::from_str(body["claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims, json!({"name": "Alice", "email": "a@example.com"}));
    assert_eq!(
        (body["accessToken"].as_str(), body["refreshToken"].as_str()),
        (Some("AT-2"), Some("RT-2"))
    );
    let content = r#"{"access_token":"AT-2","id_token":"eyJ.new"}"#;
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[("DPoP-Nonce", NONCE)]),
        content,
    );
}

#[tokio::test]
async fn without_claims_the_reissue_sends_none_and_the_plain_answer_stands() {
    let env = start(V2).await;
    env.fake.reply(
        "/idtoken/reissue",
        200,
        json!({"action": "OK", "responseContent": "{}"}).to_string(),
    );
    let first = first_step(&env, reissuable()).await;
    // The web tier that has no claims to add just sends the first reply.
    let content = response_content(&fixture("token/ok.json"));
    assert_http(
        first.http.as_ref(),
        200,
        &json_headers(&[("DPoP-Nonce", NONCE)]),
        &content,
    );
    let r = decide(
        &env,
        first.continuation,
        Decision::Granted(pb::TokenGrant::default()),
    )
    .await;
    assert_eq!(
        second_call(&env),
        (
            env.path("/idtoken/reissue"),
            json!({"accessToken": "AT-2", "refreshToken": "RT-2"})
        )
    );
    assert_eq!(r.http.unwrap().status, 200);
}

#[tokio::test]
async fn native_sso_sends_the_device_secret_and_refusal_is_invalid_grant() {
    let env = start(V3).await;
    env.fake.reply(
        "/nativesso",
        200,
        json!({"action": "OK", "responseContent": "{\"device_secret\":\"ds\"}"}).to_string(),
    );
    let changes = json!({"action": "NATIVE_SSO", "accessToken": "AT-3", "refreshToken": "RT-3", "sessionId": "s-9"});
    let first = first_step(&env, changes.clone()).await;
    let granted = pb::TokenGrant {
        device_secret: "ds".into(),
        device_secret_hash: "h".into(),
        ..Default::default()
    };
    let r = decide(&env, first.continuation, Decision::Granted(granted)).await;
    let expected = json!({"accessToken": "AT-3", "refreshToken": "RT-3", "deviceSecret": "ds", "deviceSecretHash": "h"});
    assert_eq!(second_call(&env), (env.path("/nativesso"), expected));
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        r#"{"device_secret":"ds"}"#,
    );

    let env = start(V3).await;
    let first = first_step(&env, changes).await;
    let r = decide(&env, first.continuation, deny("", "")).await;
    assert_http(
        r.http.as_ref(),
        400,
        &json_headers(&[]),
        r#"{"error":"invalid_grant"}"#,
    );
    assert_eq!(env.fake.requests().len(), 1);
}

#[tokio::test]
async fn a_continuation_from_another_flow_or_a_missing_subject_is_rejected() {
    let env = start(V3).await;
    let first = first_step(&env, exchange_changes("TOKEN_EXCHANGE")).await;
    let status = env
        .token()
        .token_decision(pb::TokenDecisionRequest {
            continuation: first.continuation,
            decision: Some(grant("")),
        })
        .await
        .expect_err("no subject");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().starts_with("granted.subject"),
        "{}",
        status.message()
    );

    let authorization = fixture("authorization/interaction.json");
    env.fake.reply("/auth/authorization", 200, authorization);
    let other = env
        .authorization()
        .authorization(pb::AuthorizationRequest::default())
        .await
        .unwrap()
        .into_inner();
    let status = env
        .token()
        .token_decision(pb::TokenDecisionRequest {
            continuation: other.continuation,
            decision: Some(grant("a")),
        })
        .await
        .expect_err("an authorization continuation");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("not a token flow"),
        "{}",
        status.message()
    );
    assert_eq!(
        env.fake.requests().len(),
        2,
        "no second step reached Authlete"
    );
}

#[tokio::test]
async fn plain_ok_answers_hand_out_no_continuation() {
    let env = start(V3).await;
    let r = first_step(&env, json!({})).await;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.continuation, "");
}

/// A token continuation leads to `/auth/token/create`, which no plain RPC
/// offers: one sealed by another deployment, or altered, is refused.
#[tokio::test]
async fn forged_or_foreign_continuations_never_reach_token_create() {
    let env = start(V3).await;
    let first = first_step(&env, exchange_changes("TOKEN_EXCHANGE")).await;
    let other = Setup::new(V3)
        .base_url(env.fake.base_url())
        .server(authlete_grpc::server::ServerOptions::default())
        .start()
        .await;
    let status = other
        .token()
        .token_decision(pb::TokenDecisionRequest {
            continuation: first.continuation.clone(),
            decision: Some(grant("alice")),
        })
        .await
        .expect_err("another deployment's key");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("no longer holds"),
        "{}",
        status.message()
    );

    // Flip one bit of the sealed state.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = b64.decode(&first.continuation).unwrap();
    let last = bytes.len() - 20;
    bytes[last] ^= 1;
    let forged = b64.encode(bytes);
    let status = env
        .token()
        .token_decision(pb::TokenDecisionRequest {
            continuation: forged,
            decision: Some(grant("alice")),
        })
        .await
        .expect_err("an altered continuation");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("altered"), "{}", status.message());
    assert!(
        env.fake
            .requests()
            .iter()
            .all(|r| !r.path.ends_with("/auth/token/create"))
    );
}

#[tokio::test]
async fn a_token_exchange_reply_types_what_authlete_knows_of_the_tokens() {
    let env = start(V3).await;
    let mut changes = exchange_changes("TOKEN_EXCHANGE");
    changes["subjectToken"] = json!("st-1");
    changes["subjectTokenType"] = json!("ACCESS_TOKEN");
    changes["subjectTokenInfo"] = json!({"clientId": 77, "subject": "alice", "scopes": ["read"],
        "expiresAt": 1_900_000_000_000_i64, "properties": [{"key": "k", "value": "v"}]});
    let r = first_step(&env, changes).await;
    assert_eq!(
        (r.subject_token.as_str(), r.subject_token_type.as_str()),
        ("st-1", "ACCESS_TOKEN")
    );
    let info = r.subject_token_info.expect("typed subject token info");
    assert_eq!((info.client_id, info.subject.as_str()), (77, "alice"));
    assert_eq!(info.scopes, ["read"]);
    assert_eq!(info.expires_at, 1_900_000_000_000);
    assert_eq!(info.properties[0].key, "k");
    assert_eq!(r.actor_token_info, None);
}
