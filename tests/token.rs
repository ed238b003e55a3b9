//! TokenService through the real server against a fake Authlete.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{
    self, token_fail_request::Reason, token_fail_response, token_issue_response,
    token_response::Action,
};
use common::*;
use serde_json::json;

const PARAMETERS: &str = "grant_type=authorization_code&code=Xv_su944auuBgc5mfUnxXayiiQU9Z4&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb";

async fn token_ok(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("token/ok.json");
    env.fake.reply("/auth/token", 200, reply.clone());

    let r = env
        .token()
        .token(pb::TokenRequest {
            parameters: PARAMETERS.to_owned(),
            client_id: "26478243745571".to_owned(),
            client_secret: "SECRET-client-secret-QQQ".to_owned(),
            dpop: "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.sig".to_owned(),
            htm: "POST".to_owned(),
            htu: "https://as.example.com/token".to_owned(),
            properties: vec![pb::Property {
                key: "tenant".to_owned(),
                value: "blue".to_owned(),
                hidden: true,
            }],
            cimd_options: Some(pb::CimdOptions {
                query_permitted: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/token",
        json!({
            "parameters": PARAMETERS,
            "clientId": "26478243745571",
            "clientSecret": "SECRET-client-secret-QQQ",
            "dpop": "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.sig",
            "htm": "POST",
            "htu": "https://as.example.com/token",
            "properties": [{"key": "tenant", "value": "blue", "hidden": true}],
            "cimdOptions": {"queryPermitted": true},
        }),
    );
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.action_name, "OK");
    assert_eq!(r.result_code, "A050001");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
    assert_eq!(
        r.access_token,
        "C4SrUTijIj2IxqE1xBASr3dxQWgso3BpY49g8CyjGjQ"
    );
    assert_eq!(
        r.refresh_token,
        "60k0cZ38sJcpTgdxvG9Sqa-3RG5AmGExGpFB-1imSxo"
    );
    assert_eq!(r.access_token_duration, 3600);
    assert_eq!(r.access_token_expires_at, 1640252942736);
    assert_eq!(r.grant_type, "AUTHORIZATION_CODE");
    assert_eq!(r.client_id, 26478243745571);
    assert_eq!(r.client_id_alias, "my-client");
    assert_eq!(r.subject, "john");
    assert_eq!(r.scopes, ["history.read", "timeline.read"]);
}

#[tokio::test]
async fn token_ok_v2() {
    token_ok(V2).await;
}

#[tokio::test]
async fn token_ok_v3() {
    token_ok(V3).await;
}

#[tokio::test]
async fn token_sends_parameters_even_when_empty() {
    let env = start(V2).await;
    env.fake.reply("/auth/token", 200, fixture("token/ok.json"));
    env.token()
        .token(pb::TokenRequest::default())
        .await
        .expect("OK");
    env.assert_posted("/auth/token", json!({"parameters": ""}));
}

#[tokio::test]
async fn token_invalid_client_carries_the_endpoint_headers() {
    let env = start(V3).await;
    let reply = fixture("token/invalid_client_dpop_nonce.json");
    env.fake.reply("/auth/token", 200, reply.clone());

    let r = env
        .token()
        .token(pb::TokenRequest {
            parameters: PARAMETERS.to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    assert_eq!(r.action, Action::InvalidClient as i32);
    assert_eq!(r.action_name, "INVALID_CLIENT");
    assert_eq!(r.result_code, "A057301");
    assert_eq!(r.authlete_response, reply);
    assert_eq!(r.dpop_nonce, "nonce-token-6Lw2");
    assert_eq!(r.attestation_challenge, "challenge-token-9Qk1");
    assert_http(
        r.http.as_ref(),
        401,
        &json_headers(&[
            ("WWW-Authenticate", r#"Basic realm="token""#),
            ("DPoP-Nonce", "nonce-token-6Lw2"),
            ("OAuth-Client-Attestation-Challenge", "challenge-token-9Qk1"),
        ]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn token_ok_carries_a_dpop_nonce() {
    let env = start(V2).await;
    let reply = fixture_with("token/ok.json", json!({"dpopNonce": "nonce-ok-1"}));
    env.fake.reply("/auth/token", 200, reply.clone());
    let r = env
        .token()
        .token(pb::TokenRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[("DPoP-Nonce", "nonce-ok-1")]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn token_password_asks_the_web_tier_to_continue() {
    let env = start(V2).await;
    let reply = fixture("token/password.json");
    env.fake.reply("/auth/token", 200, reply.clone());
    let r = env
        .token()
        .token(pb::TokenRequest {
            parameters: "grant_type=password&username=alice&password=wonderland".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Password as i32);
    assert_eq!(r.action_name, "PASSWORD");
    assert_eq!(r.http, None, "PASSWORD has no ready response");
    assert_eq!(r.ticket, "Cl5XUUfQrhajc8b1jzzQmTfEm4H4p_gsBPiwB-IiyTY");
    assert_eq!(r.username, "alice");
    assert_eq!(r.password, "wonderland");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn token_unknown_action_is_unspecified_with_a_500() {
    let env = start(V3).await;
    let reply = fixture_with("token/ok.json", json!({"action": "SOMETHING_NEW"}));
    env.fake.reply("/auth/token", 200, reply.clone());
    let r = env
        .token()
        .token(pb::TokenRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, 0);
    assert_eq!(r.action_name, "SOMETHING_NEW");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        500,
        &json_headers(&[]),
        UNKNOWN_ACTION_BODY,
    );
}

async fn issue(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("token_issue/ok.json");
    env.fake.reply("/auth/token/issue", 200, reply.clone());

    let r = env
        .token()
        .token_issue(pb::TokenIssueRequest {
            ticket: "Cl5XUUfQrhajc8b1jzzQmTfEm4H4p_gsBPiwB-IiyTY".to_owned(),
            subject: "john".to_owned(),
            properties: vec![pb::Property {
                key: "k".to_owned(),
                value: "v".to_owned(),
                hidden: false,
            }],
            jwt_at_claims: r#"{"tier":"gold"}"#.to_owned(),
            access_token_duration: 300,
            refresh_token_duration: 86400,
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/token/issue",
        json!({
            "ticket": "Cl5XUUfQrhajc8b1jzzQmTfEm4H4p_gsBPiwB-IiyTY",
            "subject": "john",
            "properties": [{"key": "k", "value": "v"}],
            "jwtAtClaims": "{\"tier\":\"gold\"}",
            "accessTokenDuration": 300,
            "refreshTokenDuration": 86400,
        }),
    );
    assert_eq!(r.action, token_issue_response::Action::Ok as i32);
    assert_eq!(r.action_name, "OK");
    assert_eq!(r.result_code, "A054001");
    assert_eq!(r.authlete_response, reply);
    assert_eq!(
        r.access_token,
        "OthV6TlZ2pPUtlBBvBSGFYzSdgVy87SSIPz2Zjwi-m0"
    );
    assert_eq!(
        r.refresh_token,
        "ICPN0-sG3BH4szqiNqaFHZrWUGt7e0zaPuhys3ejQow"
    );
    assert_eq!(r.subject, "john");
    assert_eq!(r.client_id, 26478243745571);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn token_issue_v2() {
    issue(V2).await;
}

#[tokio::test]
async fn token_issue_v3() {
    issue(V3).await;
}

async fn fail(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("token_fail/bad_request.json");
    env.fake.reply("/auth/token/fail", 200, reply.clone());

    let r = env
        .token()
        .token_fail(pb::TokenFailRequest {
            ticket: "t-3".to_owned(),
            reason: Reason::InvalidResourceOwnerCredentials as i32,
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/token/fail",
        json!({"ticket": "t-3", "reason": "INVALID_RESOURCE_OWNER_CREDENTIALS"}),
    );
    assert_eq!(r.action, token_fail_response::Action::BadRequest as i32);
    assert_eq!(r.action_name, "BAD_REQUEST");
    assert_eq!(r.result_code, "A067301");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        400,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn token_fail_v2() {
    fail(V2).await;
}

#[tokio::test]
async fn token_fail_v3() {
    fail(V3).await;
}

/// The second step of the password flow carries the first reply's endpoint
/// headers: they are not sent to Authlete but end up on the final response,
/// as authlete-java-jaxrs forwards them (action-mapping.md §2.3).
#[tokio::test]
async fn issue_carries_the_endpoint_headers_of_the_first_step() {
    let env = start(V3).await;
    env.fake
        .reply("/auth/token/issue", 200, fixture("token_issue/ok.json"));
    let issued = env
        .token()
        .token_issue(pb::TokenIssueRequest {
            ticket: "t-1".to_owned(),
            subject: "john".to_owned(),
            dpop_nonce: "nonce-from-token".to_owned(),
            attestation_challenge: "challenge-from-token".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/auth/token/issue",
        json!({"ticket": "t-1", "subject": "john"}),
    );
    let headers = json_headers(&[
        ("DPoP-Nonce", "nonce-from-token"),
        ("OAuth-Client-Attestation-Challenge", "challenge-from-token"),
    ]);
    let content = response_content(&fixture("token_issue/ok.json"));
    assert_http(issued.http.as_ref(), 200, &headers, &content);
}

#[tokio::test]
async fn fail_carries_the_endpoint_headers_of_the_first_step() {
    let env = start(V2).await;
    env.fake.reply(
        "/auth/token/fail",
        200,
        fixture("token_fail/bad_request.json"),
    );
    let failed = env
        .token()
        .token_fail(pb::TokenFailRequest {
            ticket: "t-2".to_owned(),
            reason: Reason::InvalidResourceOwnerCredentials as i32,
            dpop_nonce: "nonce-from-token".to_owned(),
            attestation_challenge: String::new(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/auth/token/fail",
        json!({"ticket": "t-2", "reason": "INVALID_RESOURCE_OWNER_CREDENTIALS"}),
    );
    let content = response_content(&fixture("token_fail/bad_request.json"));
    let headers = json_headers(&[("DPoP-Nonce", "nonce-from-token")]);
    assert_http(failed.http.as_ref(), 400, &headers, &content);
}
