//! DeviceFlowService (RFC 8628) through the real server against a fake
//! Authlete: v3 paths and JSON bodies, typed fields, ready responses.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{
    self, device_authorization_response::Action, device_complete_request::Result as Verdict,
    device_complete_response::Action as CompleteAction,
    device_verification_response::Action as VerificationAction,
};
use common::*;
use serde_json::json;
use tonic::Code;

async fn authorization(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("device_authorization/ok.json");
    env.fake.reply("/device/authorization", 200, reply.clone());
    let r = env
        .device()
        .device_authorization(pb::DeviceAuthorizationRequest {
            parameters: "scope=history.read".to_owned(),
            client_id: "26888344961664".to_owned(),
            client_secret: "SECRET-device".to_owned(),
            client_certificate: "cert".to_owned(),
            client_certificate_path: vec!["chain".to_owned()],
            oauth_client_attestation: "att".to_owned(),
            oauth_client_attestation_pop: "att-pop".to_owned(),
            cimd_options: None,
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/device/authorization",
        json!({
            "parameters": "scope=history.read", "clientId": "26888344961664",
            "clientSecret": "SECRET-device", "clientCertificate": "cert",
            "clientCertificatePath": ["chain"], "oauthClientAttestation": "att",
            "oauthClientAttestationPop": "att-pop",
        }),
    );
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.device_code, "p0qzXeRav8u6lJY9omjzR47KK58VwYN7j8xGUD7sq5I");
    assert_eq!(r.user_code, "XWWKPBWVXQ");
    assert_eq!(r.verification_uri, "https://my-service.com/df/verification");
    assert_eq!(
        r.verification_uri_complete,
        "https://my-service.com/df/verification?XWWKPBWVXQ"
    );
    assert_eq!(r.expires_in, 3600);
    assert_eq!(r.client_name, "My Device Flow Client");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn device_authorization_v2() {
    authorization(V2).await;
}

#[tokio::test]
async fn device_authorization_v3() {
    authorization(V3).await;
}

#[tokio::test]
async fn device_authorization_unauthorized_has_the_basic_challenge() {
    let env = start(V3).await;
    let reply = json!({"action": "UNAUTHORIZED", "resultCode": "A", "resultMessage": "m",
                       "responseContent": "{\"error\":\"invalid_client\"}"});
    env.fake
        .reply("/device/authorization", 200, reply.to_string());
    let r = env
        .device()
        .device_authorization(pb::DeviceAuthorizationRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Unauthorized as i32);
    assert_http(
        r.http.as_ref(),
        401,
        &json_headers(&[("WWW-Authenticate", r#"Basic realm="device/authorization""#)]),
        r#"{"error":"invalid_client"}"#,
    );
}

#[tokio::test]
async fn device_verification_valid() {
    let env = start(V3).await;
    let reply = fixture("device_verification/valid.json");
    env.fake.reply("/device/verification", 200, reply.clone());
    let r = env
        .device()
        .device_verification(pb::DeviceVerificationRequest {
            user_code: "XWWKPBWVXQ".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/device/verification", json!({"userCode": "XWWKPBWVXQ"}));
    assert_eq!(r.action, VerificationAction::Valid as i32);
    assert_eq!(r.http, None, "the web tier shows its consent page");
    assert_eq!(r.client_name, "My Device Flow Client");
    assert_eq!(r.expires_at, 1642001978000);
    assert_eq!(r.scopes[0].name, "history.read");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn device_verification_accepts_both_server_error_spellings() {
    for (name, expected) in [
        ("SERVER_ERROR", VerificationAction::ServerError),
        (
            "INTERNAL_SERVER_ERROR",
            VerificationAction::InternalServerError,
        ),
    ] {
        let env = start(V3).await;
        let reply = json!({"action": name, "resultCode": "A", "resultMessage": "m"});
        env.fake
            .reply("/device/verification", 200, reply.to_string());
        let r = env
            .device()
            .device_verification(pb::DeviceVerificationRequest {
                user_code: "X".to_owned(),
            })
            .await
            .expect("OK")
            .into_inner();
        assert_eq!(r.action, expected as i32, "{name}");
        assert_eq!(r.action_name, name);
    }
}

#[tokio::test]
async fn device_verification_needs_a_user_code() {
    let env = start(V3).await;
    let status = env
        .device()
        .device_verification(pb::DeviceVerificationRequest::default())
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("user_code"),
        "{}",
        status.message()
    );
    env.fake.assert_no_request();
}

#[tokio::test]
async fn device_complete_authorized() {
    let env = start(V3).await;
    let reply = fixture("device_complete/success.json");
    env.fake.reply("/device/complete", 200, reply.clone());
    let r = env
        .device()
        .device_complete(pb::DeviceCompleteRequest {
            user_code: "XWWKPBWVXQ".to_owned(),
            result: Verdict::Authorized as i32,
            subject: "john".to_owned(),
            sub: "s".to_owned(),
            auth_time: 1_700_000_000,
            acr: "a".to_owned(),
            claims: r#"{"name":"John"}"#.to_owned(),
            properties: vec![pb::Property {
                key: "k".to_owned(),
                value: "v".to_owned(),
                hidden: false,
            }],
            scopes: vec!["history.read".to_owned()],
            idt_header_params: "{}".to_owned(),
            consented_claims: vec!["name".to_owned()],
            jwt_at_claims: "{}".to_owned(),
            access_token_duration: 60,
            refresh_token_duration: 120,
            id_token_aud_type: "array".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/device/complete",
        json!({
            "userCode": "XWWKPBWVXQ", "result": "AUTHORIZED", "subject": "john", "sub": "s",
            "authTime": 1_700_000_000, "acr": "a", "claims": "{\"name\":\"John\"}",
            "properties": [{"key": "k", "value": "v"}], "scopes": ["history.read"],
            "idtHeaderParams": "{}", "consentedClaims": ["name"], "jwtAtClaims": "{}",
            "accessTokenDuration": 60, "refreshTokenDuration": 120, "idTokenAudType": "array",
        }),
    );
    assert_eq!(r.action, CompleteAction::Success as i32);
    assert_eq!(r.http, None, "the web tier shows its result page");
    assert_eq!(r.result_code, "A241001");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn device_complete_denied() {
    let env = start(V3).await;
    env.fake.reply(
        "/device/complete",
        200,
        fixture("device_complete/success.json"),
    );
    env.device()
        .device_complete(pb::DeviceCompleteRequest {
            user_code: "X".to_owned(),
            result: Verdict::AccessDenied as i32,
            error_description: "no".to_owned(),
            error_uri: "https://as.example/e".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK");
    env.assert_posted(
        "/device/complete",
        json!({"userCode": "X", "result": "ACCESS_DENIED", "errorDescription": "no",
               "errorUri": "https://as.example/e"}),
    );
}

#[tokio::test]
async fn device_complete_needs_a_result() {
    let env = start(V3).await;
    let status = env
        .device()
        .device_complete(pb::DeviceCompleteRequest {
            user_code: "X".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("result"), "{}", status.message());
    env.fake.assert_no_request();
}
