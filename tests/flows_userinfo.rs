//! The userinfo flow the service finishes itself, end to end through the real
//! server and a recording fake Authlete: JSON and JWT responses, the requested
//! claims picked from the profile, the DPoP nonce carried along, and the
//! second step served by another replica.

mod common;

use authlete_grpc::pb::{self, user_info_response::Action};
use common::*;
use serde_json::{Value, json};

const TOKEN: &str = "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI";

async fn first_step(env: &Env) -> String {
    let reply = fixture_with(
        "userinfo/ok.json",
        json!({"claims": ["name", "email", "name#ja"], "dpopNonce": "n-7"}),
    );
    env.fake.reply("/auth/userinfo", 200, reply);
    let r = env
        .userinfo()
        .user_info(pb::UserInfoRequest {
            token: TOKEN.into(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.http, None);
    r.continuation
}

async fn release(env: &Env, continuation: String) -> pb::UserInfoDecisionResponse {
    let profile = json!({"name": "Alice", "name#ja": "アリス", "email": "a@example.com", "phone_number": "+1"});
    env.userinfo()
        .user_info_decision(pb::UserInfoDecisionRequest {
            continuation,
            claims: profile.to_string(),
            sub: "p-1".into(),
        })
        .await
        .expect("OK")
        .into_inner()
}

fn issue_body(env: &Env) -> Value {
    let requests = env.fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].path, env.path("/auth/userinfo/issue"));
    requests[1].json()
}

#[tokio::test]
async fn a_json_userinfo_response_with_the_requested_claims_and_the_nonce() {
    let env = start(V3).await;
    let issued = fixture("userinfo_issue/json.json");
    env.fake.reply("/auth/userinfo/issue", 200, issued.clone());
    let continuation = first_step(&env).await;
    let r = release(&env, continuation).await;
    let body = issue_body(&env);
    assert_eq!(
        (body["token"].as_str(), body["sub"].as_str()),
        (Some(TOKEN), Some("p-1"))
    );
    let claims: Value = serde_json::from_str(body["claims"].as_str().unwrap()).unwrap();
    // No claims-locales fallback at userinfo: `name` is the plain value.
    assert_eq!(
        claims,
        json!({"name": "Alice", "email": "a@example.com", "name#ja": "アリス"})
    );
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[("DPoP-Nonce", "n-7")]),
        &response_content(&issued),
    );
    assert_eq!(r.completion.unwrap().action_name, "JSON");
}

#[tokio::test]
async fn a_jwt_userinfo_response_from_another_replica() {
    let first = start(V2).await;
    let jwt = json!({"resultCode": "A096001", "action": "JWT", "responseContent": "eyJhbGciOiJFUzI1NiJ9.e30.sig"});
    first
        .fake
        .reply("/auth/userinfo/issue", 200, jwt.to_string());
    let continuation = first_step(&first).await;
    let second = Setup::new(V2).base_url(first.fake.base_url()).start().await;
    let r = release(&second, continuation).await;
    issue_body(&first);
    let headers = cache_headers(&[("Content-Type", "application/jwt"), ("DPoP-Nonce", "n-7")]);
    assert_http(
        r.http.as_ref(),
        200,
        &headers,
        "eyJhbGciOiJFUzI1NiJ9.e30.sig",
    );
}

#[tokio::test]
async fn an_error_at_issue_is_a_challenge_with_the_nonce() {
    let env = start(V3).await;
    let challenge =
        r#"Bearer error="invalid_token",error_description="The access token has expired.""#;
    env.fake.reply(
        "/auth/userinfo/issue",
        200,
        json!({"action": "UNAUTHORIZED", "responseContent": challenge}).to_string(),
    );
    let continuation = first_step(&env).await;
    let r = release(&env, continuation).await;
    let headers = cache_headers(&[("WWW-Authenticate", challenge), ("DPoP-Nonce", "n-7")]);
    assert_http(r.http.as_ref(), 401, &headers, "");
}

#[tokio::test]
async fn a_profile_that_is_not_an_object_is_rejected_before_the_issue_call() {
    let env = start(V3).await;
    let continuation = first_step(&env).await;
    let status = env
        .userinfo()
        .user_info_decision(pb::UserInfoDecisionRequest {
            continuation,
            claims: "\"alice\"".into(),
            sub: String::new(),
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().starts_with("claims"),
        "{}",
        status.message()
    );
    assert_eq!(env.fake.requests().len(), 1);
}
