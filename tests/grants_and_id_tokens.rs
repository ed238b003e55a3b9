//! GrantManagementService, IdTokenService and NativeSsoService through the
//! real server against a fake Authlete: v3 paths and JSON bodies, typed
//! fields, ready responses.

mod common;

use authlete_grpc::pb::{self, grant_management_request::GmAction};
use common::*;
use serde_json::json;
use tonic::Code;

#[tokio::test]
async fn grant_management_query_carries_the_dpop_nonce() {
    let env = start(V3).await;
    let reply = json!({"action": "OK", "resultCode": "A", "resultMessage": "m",
                       "responseContent": "{\"scopes\":[{\"scope\":\"openid\"}]}",
                       "dpopNonce": "nonce-gm"})
    .to_string();
    env.fake.reply("/gm", 200, reply.clone());
    let r = env
        .grants()
        .grant_management(pb::GrantManagementRequest {
            access_token: "at".to_owned(),
            client_certificate: "cert".to_owned(),
            dpop: "proof".to_owned(),
            htm: "GET".to_owned(),
            htu: "https://as.example/grants/g-1".to_owned(),
            gm_action: GmAction::Query as i32,
            grant_id: "g-1".to_owned(),
            dpop_nonce_required: true,
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/gm",
        json!({"gmAction": "QUERY", "grantId": "g-1", "accessToken": "at",
               "clientCertificate": "cert", "dpop": "proof", "htm": "GET",
               "htu": "https://as.example/grants/g-1", "dpopNonceRequired": true}),
    );
    use pb::grant_management_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.dpop_nonce, "nonce-gm");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[("DPoP-Nonce", "nonce-gm")]),
        r#"{"scopes":[{"scope":"openid"}]}"#,
    );
}

#[tokio::test]
async fn grant_management_revoke_is_204() {
    let env = start(V2).await;
    env.fake.reply(
        "/gm",
        200,
        json!({"action": "NO_CONTENT", "resultCode": "A", "resultMessage": "m"}).to_string(),
    );
    let r = env
        .grants()
        .grant_management(pb::GrantManagementRequest {
            access_token: "at".to_owned(),
            gm_action: GmAction::Revoke as i32,
            grant_id: "g-1".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/gm",
        json!({"gmAction": "REVOKE", "grantId": "g-1", "accessToken": "at"}),
    );
    assert_http(r.http.as_ref(), 204, &cache_headers(&[]), "");
}

#[tokio::test]
async fn grant_management_needs_an_action() {
    let env = start(V3).await;
    let status = env
        .grants()
        .grant_management(pb::GrantManagementRequest {
            grant_id: "g-1".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("gm_action"),
        "{}",
        status.message()
    );
    env.fake.assert_no_request();
}

#[tokio::test]
async fn id_token_reissue_ok() {
    let env = start(V3).await;
    let reply = json!({"action": "OK", "resultCode": "A", "resultMessage": "m",
                       "responseContent": "{\"access_token\":\"at\",\"id_token\":\"idt\"}",
                       "idToken": "idt"})
    .to_string();
    env.fake.reply("/idtoken/reissue", 200, reply.clone());
    let r = env
        .id_token()
        .id_token_reissue(pb::IdTokenReissueRequest {
            access_token: "at".to_owned(),
            refresh_token: "rt".to_owned(),
            sub: "s".to_owned(),
            claims: r#"{"name":"John"}"#.to_owned(),
            idt_header_params: r#"{"kid":"k"}"#.to_owned(),
            id_token_aud_type: "string".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/idtoken/reissue",
        json!({"accessToken": "at", "refreshToken": "rt", "sub": "s",
               "claims": "{\"name\":\"John\"}", "idtHeaderParams": "{\"kid\":\"k\"}",
               "idTokenAudType": "string"}),
    );
    use pb::id_token_reissue_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.id_token, "idt");
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        r#"{"access_token":"at","id_token":"idt"}"#,
    );
}

#[tokio::test]
async fn id_token_reissue_needs_both_tokens() {
    let env = start(V3).await;
    let status = env
        .id_token()
        .id_token_reissue(pb::IdTokenReissueRequest {
            access_token: "at".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert!(
        status.message().contains("refresh_token"),
        "{}",
        status.message()
    );
    env.fake.assert_no_request();
}

#[tokio::test]
async fn native_sso_ok() {
    let env = start(V3).await;
    let reply = fixture("nativesso/ok.json");
    env.fake.reply("/nativesso", 200, reply.clone());
    let r = env
        .native_sso()
        .native_sso(pb::NativeSsoRequest {
            access_token: "at".to_owned(),
            refresh_token: "rt".to_owned(),
            device_secret: "ds".to_owned(),
            device_secret_hash: "dsh".to_owned(),
            sub: "s".to_owned(),
            claims: "{}".to_owned(),
            idt_header_params: "{}".to_owned(),
            id_token_aud_type: "array".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/nativesso",
        json!({"accessToken": "at", "deviceSecret": "ds", "refreshToken": "rt",
               "deviceSecretHash": "dsh", "sub": "s", "claims": "{}",
               "idtHeaderParams": "{}", "idTokenAudType": "array"}),
    );
    use pb::native_sso_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert!(!r.id_token.is_empty());
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn native_sso_logout_reports_the_count() {
    let env = start(V3).await;
    let reply = fixture("nativesso_logout/ok.json");
    env.fake.reply("/nativesso/logout", 200, reply.clone());
    let r = env
        .native_sso()
        .native_sso_logout(pb::NativeSsoLogoutRequest {
            session_id: "sid-1".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/nativesso/logout", json!({"sessionId": "sid-1"}));
    use pb::native_sso_logout_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.count, 2);
    assert_eq!(r.http, None);
    assert_eq!(r.authlete_response, reply);
}
