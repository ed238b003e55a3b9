//! BackchannelAuthenticationService (CIBA) through the real server against a
//! fake Authlete: v3 paths and JSON bodies, typed fields, ready responses.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{
    self, backchannel_authentication_complete_request::Result as Verdict,
    backchannel_authentication_complete_response::Action as CompleteAction,
    backchannel_authentication_fail_request::Reason,
    backchannel_authentication_fail_response::Action as FailAction,
    backchannel_authentication_issue_response::Action as IssueAction,
    backchannel_authentication_response::Action,
};
use common::*;
use serde_json::json;
use tonic::Code;

async fn authentication(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("backchannel_authentication/user_identification.json");
    env.fake
        .reply("/backchannel/authentication", 200, reply.clone());
    let r = env
        .backchannel()
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: "login_hint=john&scope=openid&client_notification_token=tok".to_owned(),
            client_id: "26862190133482".to_owned(),
            client_secret: "SECRET-ciba".to_owned(),
            client_certificate: "-----BEGIN CERTIFICATE-----".to_owned(),
            client_certificate_path: vec!["chain-1".to_owned()],
            oauth_client_attestation: "att".to_owned(),
            oauth_client_attestation_pop: "att-pop".to_owned(),
            cimd_options: Some(pb::CimdOptions {
                always_retrieved: Some(true),
                ..Default::default()
            }),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/backchannel/authentication",
        json!({
            "parameters": "login_hint=john&scope=openid&client_notification_token=tok",
            "clientId": "26862190133482",
            "clientSecret": "SECRET-ciba",
            "clientCertificate": "-----BEGIN CERTIFICATE-----",
            "clientCertificatePath": ["chain-1"],
            "oauthClientAttestation": "att",
            "oauthClientAttestationPop": "att-pop",
            "cimdOptions": {"alwaysRetrieved": true},
        }),
    );
    assert_eq!(r.action, Action::UserIdentification as i32);
    assert_eq!(r.action_name, "USER_IDENTIFICATION");
    assert_eq!(r.http, None, "the web tier identifies the user first");
    assert_eq!(r.result_code, "A179001");
    assert_eq!(r.authlete_response, reply);
    assert_eq!(r.ticket, "Y1qeCf0A-JUz6caceaBfd2AaBYNZ-X-WGTP5Qv47cQI");
    assert_eq!(r.client_id, 26862190133482);
    assert_eq!(r.client_name, "My CIBA Client");
    assert_eq!(r.client_notification_token, "my-client-notification-token");
    assert_eq!(r.delivery_mode, "POLL");
    assert_eq!(
        (r.hint_type.as_str(), r.hint.as_str()),
        ("LOGIN_HINT", "john")
    );
    assert_eq!(r.user_code, "my-user-code");
    assert!(!r.user_code_required);
    assert_eq!(r.scopes.len(), 1);
    assert_eq!(r.scopes[0].name, "openid");
}

#[tokio::test]
async fn backchannel_authentication_v2() {
    authentication(V2).await;
}

#[tokio::test]
async fn backchannel_authentication_v3() {
    authentication(V3).await;
}

#[tokio::test]
async fn backchannel_authentication_unauthorized_has_the_basic_challenge_and_attestation() {
    let env = start(V3).await;
    let reply = json!({
        "action": "UNAUTHORIZED", "resultCode": "A180301", "resultMessage": "m",
        "responseContent": "{\"error\":\"invalid_client\"}",
        "attestationChallenge": "ch-1",
    })
    .to_string();
    env.fake.reply("/backchannel/authentication", 200, reply);
    let r = env
        .backchannel()
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: "login_hint=john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Unauthorized as i32);
    assert_eq!(r.attestation_challenge, "ch-1");
    assert_http(
        r.http.as_ref(),
        401,
        &json_headers(&[
            (
                "WWW-Authenticate",
                r#"Basic realm="backchannel/authentication""#,
            ),
            ("OAuth-Client-Attestation-Challenge", "ch-1"),
        ]),
        r#"{"error":"invalid_client"}"#,
    );
}

#[tokio::test]
async fn backchannel_authentication_issue_ok() {
    let env = start(V3).await;
    let reply = fixture("backchannel_authentication_issue/ok.json");
    env.fake
        .reply("/backchannel/authentication/issue", 200, reply.clone());
    let r = env
        .backchannel()
        .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
            ticket: "t-1".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/backchannel/authentication/issue",
        json!({"ticket": "t-1"}),
    );
    assert_eq!(r.action, IssueAction::Ok as i32);
    assert_eq!(r.auth_req_id, "_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE");
    assert_eq!((r.expires_in, r.interval), (3600, 0));
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn backchannel_authentication_fail_forbidden() {
    let env = start(V3).await;
    let reply = fixture("backchannel_authentication_fail/forbidden.json");
    env.fake
        .reply("/backchannel/authentication/fail", 200, reply.clone());
    let r = env
        .backchannel()
        .backchannel_authentication_fail(pb::BackchannelAuthenticationFailRequest {
            ticket: "t-1".to_owned(),
            reason: Reason::AccessDenied as i32,
            error_description: "no".to_owned(),
            error_uri: "https://as.example/e".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/backchannel/authentication/fail",
        json!({"ticket": "t-1", "reason": "ACCESS_DENIED", "errorDescription": "no",
               "errorUri": "https://as.example/e"}),
    );
    assert_eq!(r.action, FailAction::Forbidden as i32);
    assert_http(
        r.http.as_ref(),
        403,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn backchannel_authentication_fail_needs_a_reason() {
    let env = start(V3).await;
    let status = env
        .backchannel()
        .backchannel_authentication_fail(pb::BackchannelAuthenticationFailRequest {
            ticket: "t-1".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("reason"), "{}", status.message());
    env.fake.assert_no_request();
}

#[tokio::test]
async fn backchannel_authentication_complete_authorized() {
    let env = start(V3).await;
    let reply = fixture("backchannel_authentication_complete/no_action.json");
    env.fake
        .reply("/backchannel/authentication/complete", 200, reply.clone());
    let r = env
        .backchannel()
        .backchannel_authentication_complete(pb::BackchannelAuthenticationCompleteRequest {
            ticket: "t-1".to_owned(),
            result: Verdict::Authorized as i32,
            subject: "john".to_owned(),
            sub: "pairwise-john".to_owned(),
            auth_time: 1_700_000_000,
            acr: "urn:acr:pwd".to_owned(),
            claims: r#"{"name":"John"}"#.to_owned(),
            properties: vec![pb::Property {
                key: "k".to_owned(),
                value: "v".to_owned(),
                hidden: true,
            }],
            scopes: vec!["openid".to_owned()],
            idt_header_params: r#"{"kid":"k1"}"#.to_owned(),
            consented_claims: vec!["name".to_owned()],
            jwt_at_claims: r#"{"x":1}"#.to_owned(),
            access_token: "at-given".to_owned(),
            access_token_duration: 600,
            refresh_token_duration: 3600,
            id_token_aud_type: "string".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/backchannel/authentication/complete",
        json!({
            "ticket": "t-1", "result": "AUTHORIZED", "subject": "john", "sub": "pairwise-john",
            "authTime": 1_700_000_000, "acr": "urn:acr:pwd", "claims": "{\"name\":\"John\"}",
            "properties": [{"key": "k", "value": "v", "hidden": true}], "scopes": ["openid"],
            "idtHeaderParams": "{\"kid\":\"k1\"}", "consentedClaims": ["name"],
            "jwtAtClaims": "{\"x\":1}", "accessToken": "at-given", "accessTokenDuration": 600,
            "refreshTokenDuration": 3600, "idTokenAudType": "string",
        }),
    );
    assert_eq!(r.action, CompleteAction::NoAction as i32);
    assert_eq!(r.http, None, "never an HTTP response to the client");
    assert_eq!(r.auth_req_id, "_mzc-ZQdAhSPuMxTlO-MC_oqaOqYCrdNQ39PVxisaiE");
    assert_eq!(r.delivery_mode, "POLL");
    assert_eq!(r.client_name, "My CIBA Client");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn backchannel_authentication_complete_denied_sends_no_subject() {
    let env = start(V3).await;
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        fixture("backchannel_authentication_complete/no_action.json"),
    );
    env.backchannel()
        .backchannel_authentication_complete(pb::BackchannelAuthenticationCompleteRequest {
            ticket: "t-1".to_owned(),
            result: Verdict::AccessDenied as i32,
            error_description: "the user said no".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK");
    env.assert_posted(
        "/backchannel/authentication/complete",
        json!({"ticket": "t-1", "result": "ACCESS_DENIED", "errorDescription": "the user said no"}),
    );
}

#[tokio::test]
async fn backchannel_authentication_complete_authorized_needs_a_subject() {
    let env = start(V3).await;
    let status = env
        .backchannel()
        .backchannel_authentication_complete(pb::BackchannelAuthenticationCompleteRequest {
            ticket: "t-1".to_owned(),
            result: Verdict::Authorized as i32,
            ..Default::default()
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("subject"), "{}", status.message());
    env.fake.assert_no_request();
}
