//! UserInfoService through the real server against a fake Authlete.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{self, user_info_issue_response, user_info_response::Action};
use common::*;
use serde_json::json;

/// `src/api/userinfo.rs` `MISSING_TOKEN_CHALLENGE`.
const MISSING_TOKEN: &str = "Bearer error=\"invalid_token\",error_description=\"An access token must be sent as a Bearer Token. See OpenID Connect Core 1.0, 5.3.1. UserInfo Request for details.\"";

async fn ok(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("userinfo/ok.json");
    env.fake.reply("/auth/userinfo", 200, reply.clone());

    let r = env
        .userinfo()
        .user_info(pb::UserInfoRequest {
            token: "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI".to_owned(),
            client_certificate: "-----BEGIN CERTIFICATE-----".to_owned(),
            dpop: "dpop-proof".to_owned(),
            htm: "GET".to_owned(),
            htu: "https://as.example.com/userinfo".to_owned(),
            uri: "https://as.example.com/userinfo".to_owned(),
            headers: vec![pb::Pair {
                key: "Signature-Input".to_owned(),
                value: "sig1=(\"@method\")".to_owned(),
            }],
            request_body_contained: true,
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/userinfo",
        json!({
            "token": "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI",
            "clientCertificate": "-----BEGIN CERTIFICATE-----",
            "dpop": "dpop-proof",
            "htm": "GET",
            "htu": "https://as.example.com/userinfo",
            "uri": "https://as.example.com/userinfo",
            "headers": [{"key": "Signature-Input", "value": "sig1=(\"@method\")"}],
            "requestBodyContained": true,
        }),
    );
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.action_name, "OK");
    assert_eq!(
        r.http, None,
        "OK: the web tier collects claims and calls UserInfoIssue"
    );
    assert_eq!(r.result_code, "A091001");
    assert_eq!(r.authlete_response, reply);
    assert_eq!(r.subject, "john");
    assert_eq!(r.scopes, ["openid"]);
    assert_eq!(r.token, "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI");
    assert_eq!(r.client_id, 15518267821);
}

#[tokio::test]
async fn userinfo_ok_v2() {
    ok(V2).await;
}

#[tokio::test]
async fn userinfo_ok_v3() {
    ok(V3).await;
}

#[tokio::test]
async fn userinfo_error_is_a_bodiless_challenge_with_the_dpop_nonce() {
    let env = start(V2).await;
    let reply = fixture("userinfo/unauthorized_dpop_nonce.json");
    env.fake.reply("/auth/userinfo", 200, reply.clone());
    let r = env
        .userinfo()
        .user_info(pb::UserInfoRequest {
            token: "t".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/auth/userinfo", json!({"token": "t"}));
    assert_eq!(r.action, Action::Unauthorized as i32);
    assert_eq!(r.dpop_nonce, "nonce-userinfo-2Fd6");
    assert_http(
        r.http.as_ref(),
        401,
        &cache_headers(&[
            ("WWW-Authenticate", &response_content(&reply)),
            ("DPoP-Nonce", "nonce-userinfo-2Fd6"),
        ]),
        "",
    );
}

#[tokio::test]
async fn userinfo_without_token_answers_400_without_calling_authlete() {
    let env = start(V3).await;
    let r = env
        .userinfo()
        .user_info(pb::UserInfoRequest {
            dpop: "dpop-proof".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.fake.assert_no_request();
    assert_eq!(r.action, Action::BadRequest as i32);
    assert_eq!(r.action_name, "BAD_REQUEST");
    assert_eq!(r.authlete_response, "");
    assert_http(
        r.http.as_ref(),
        400,
        &cache_headers(&[("WWW-Authenticate", MISSING_TOKEN)]),
        "",
    );
}

async fn issue(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("userinfo_issue/json.json");
    env.fake.reply("/auth/userinfo/issue", 200, reply.clone());

    let r = env
        .userinfo()
        .user_info_issue(pb::UserInfoIssueRequest {
            token: "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI".to_owned(),
            claims: r#"{"name":"John Smith","email":"john@example.com"}"#.to_owned(),
            sub: "pairwise-123".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/userinfo/issue",
        json!({
            "token": "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI",
            "claims": "{\"name\":\"John Smith\",\"email\":\"john@example.com\"}",
            "sub": "pairwise-123",
        }),
    );
    assert_eq!(r.action, user_info_issue_response::Action::Json as i32);
    assert_eq!(r.action_name, "JSON");
    assert_eq!(r.result_code, "A096001");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn userinfo_issue_v2() {
    issue(V2).await;
}

#[tokio::test]
async fn userinfo_issue_v3() {
    issue(V3).await;
}

#[tokio::test]
async fn userinfo_issue_jwt_carries_the_signature_headers() {
    let env = start(V3).await;
    let reply = fixture_with(
        "userinfo_issue/json.json",
        json!({
            "action": "JWT",
            "responseContent": "eyJhbGciOiJSUzI1NiJ9.e30.sig",
            "signature": "sig1=:MEUCIQ==:",
            "signatureInput": "sig1=(\"@status\" \"content-digest\");created=1700000000",
            "contentDigest": "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
        }),
    );
    env.fake.reply("/auth/userinfo/issue", 200, reply.clone());
    let r = env
        .userinfo()
        .user_info_issue(pb::UserInfoIssueRequest {
            token: "t".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/auth/userinfo/issue", json!({"token": "t"}));
    assert_eq!(r.action, user_info_issue_response::Action::Jwt as i32);
    assert_eq!(r.signature, "sig1=:MEUCIQ==:");
    assert_http(
        r.http.as_ref(),
        200,
        &cache_headers(&[
            ("Content-Type", "application/jwt"),
            ("Signature", "sig1=:MEUCIQ==:"),
            (
                "Signature-Input",
                "sig1=(\"@status\" \"content-digest\");created=1700000000",
            ),
            (
                "Content-Digest",
                "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
            ),
        ]),
        "eyJhbGciOiJSUzI1NiJ9.e30.sig",
    );
}

#[tokio::test]
async fn userinfo_issue_error_is_a_bodiless_challenge() {
    let env = start(V2).await;
    let challenge = r#"Bearer error="invalid_token",error_description="expired""#;
    let reply = fixture_with(
        "userinfo_issue/json.json",
        json!({"action": "UNAUTHORIZED", "responseContent": challenge}),
    );
    env.fake.reply("/auth/userinfo/issue", 200, reply);
    let r = env
        .userinfo()
        .user_info_issue(pb::UserInfoIssueRequest {
            token: "t".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(
        r.action,
        user_info_issue_response::Action::Unauthorized as i32
    );
    assert_http(
        r.http.as_ref(),
        401,
        &cache_headers(&[("WWW-Authenticate", challenge)]),
        "",
    );
}

/// The DPoP nonce of `/auth/userinfo` is carried to the final response of the
/// issue step, success or challenge (action-mapping.md §2.6).
#[tokio::test]
async fn userinfo_issue_carries_the_dpop_nonce_of_the_first_step() {
    let env = start(V3).await;
    let challenge =
        r#"Bearer error="invalid_token",error_description="The access token has expired.""#;
    let reply = fixture_with(
        "userinfo_issue/json.json",
        json!({"action": "UNAUTHORIZED", "responseContent": challenge}),
    );
    env.fake.reply("/auth/userinfo/issue", 200, reply);
    let r = env
        .userinfo()
        .user_info_issue(pb::UserInfoIssueRequest {
            token: "t".to_owned(),
            dpop_nonce: "nonce-from-userinfo".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/auth/userinfo/issue", json!({"token": "t"}));
    assert_eq!(
        r.action,
        user_info_issue_response::Action::Unauthorized as i32
    );
    let headers = cache_headers(&[
        ("WWW-Authenticate", challenge),
        ("DPoP-Nonce", "nonce-from-userinfo"),
    ]);
    assert_http(r.http.as_ref(), 401, &headers, "");
}
