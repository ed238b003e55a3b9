//! Error branches of the device flow on the local engine, through the real
//! gRPC service: expiry, slow_down, unknown and used codes, clients without
//! the grant or not authenticated, invalid completions, the live-object cap.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::pb;
use local_common::device::*;
use local_common::idtoken::header;
use local_common::*;
use serde_json::Value;

#[tokio::test]
async fn expired_codes_are_reported_as_expired() {
    let env = start(Via::Direct).await;
    let (code, user_code) = started(&env, "openid").await;
    env.advance(601);
    let v = verify(&env, &user_code).await;
    assert_eq!(v.action_name, "EXPIRED", "{}", v.result_message);
    assert!(v.continuation.is_empty());
    assert_eq!(error_of(&poll(&env, &code).await), "expired_token");
    let c = complete(
        &env,
        pb::DeviceCompleteRequest {
            user_code: user_code.clone(),
            result: pb::device_complete_request::Result::Authorized as i32,
            subject: "alice".to_owned(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.action_name, "USER_CODE_EXPIRED", "{}", c.result_message);
    // Approved but not redeemed in time: expired too.
    let (code, user_code) = started(&env, "openid").await;
    let c = complete(
        &env,
        pb::DeviceCompleteRequest {
            user_code,
            result: pb::device_complete_request::Result::Authorized as i32,
            subject: "alice".to_owned(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.action_name, "SUCCESS");
    env.advance(600);
    assert_eq!(error_of(&poll(&env, &code).await), "expired_token");
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_told_to_slow_down() {
    let env = start(Via::Direct).await;
    let (code, _) = started(&env, "openid").await;
    assert_eq!(error_of(&poll(&env, &code).await), "authorization_pending");
    assert_eq!(error_of(&poll(&env, &code).await), "slow_down");
    env.advance(4);
    assert_eq!(
        error_of(&poll(&env, &code).await),
        "slow_down",
        "4 s after the last poll"
    );
    env.advance(5);
    assert_eq!(error_of(&poll(&env, &code).await), "authorization_pending");
}

#[tokio::test]
async fn unknown_and_used_user_codes_do_not_exist() {
    let env = start(Via::Direct).await;
    let v = verify(&env, "BCDFGHJK").await;
    assert_eq!(v.action_name, "NOT_EXIST", "{}", v.result_message);
    assert!(v.continuation.is_empty());
    let c = complete(
        &env,
        pb::DeviceCompleteRequest {
            user_code: "BCDFGHJK".to_owned(),
            result: pb::device_complete_request::Result::AccessDenied as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.action_name, "USER_CODE_NOT_EXIST");
    assert_eq!(c.http, None, "the web tier renders its own page");
    assert_eq!(
        error_of(&poll(&env, "no-such-device-code").await),
        "invalid_grant"
    );
    // A second decision on the same user code finds nothing.
    let (_, user_code) = started(&env, "openid").await;
    let denied = pb::DeviceCompleteRequest {
        user_code,
        result: pb::device_complete_request::Result::AccessDenied as i32,
        ..Default::default()
    };
    assert_eq!(complete(&env, denied.clone()).await.action_name, "SUCCESS");
    assert_eq!(
        complete(&env, denied).await.action_name,
        "USER_CODE_NOT_EXIST"
    );
}

#[tokio::test]
async fn device_authorization_errors() {
    let env = start(Via::Direct).await;
    let oauth_error = |r: &pb::DeviceAuthorizationResponse| -> (String, i32) {
        let body: Value = serde_json::from_str(&r.response_content).expect("JSON");
        (
            body["error"].as_str().unwrap_or_default().to_owned(),
            r.http.as_ref().expect("http").status,
        )
    };
    // A client without the device_code grant.
    let web = authorize_as(&env, "scope=openid", WEB, WEB_SECRET).await;
    assert_eq!(web.action_name, "BAD_REQUEST");
    assert_eq!(oauth_error(&web), ("unauthorized_client".to_owned(), 400));
    // Wrong secret, unknown client: UNAUTHORIZED with a Basic challenge.
    for (id, secret) in [(TV, "wrong"), ("nobody", "x")] {
        let r = authorize_as(&env, "scope=openid", id, secret).await;
        assert_eq!(r.action_name, "UNAUTHORIZED");
        assert_eq!(oauth_error(&r), ("invalid_client".to_owned(), 401));
        let http = r.http.unwrap();
        assert!(header(&http, "WWW-Authenticate").is_some_and(|h| h.starts_with("Basic")));
    }
    let r = authorize_device(&env, "scope=openid+admin").await;
    assert_eq!(oauth_error(&r), ("invalid_scope".to_owned(), 400));
    let r = authorize_device(&env, "scope=openid&resource=not-absolute").await;
    assert_eq!(oauth_error(&r), ("invalid_target".to_owned(), 400));
    // A public client identifies itself with client_id and has no refresh token.
    let k = authorize_as(&env, &format!("client_id={KIOSK}&scope=profile"), "", "").await;
    assert_eq!(k.action_name, "OK", "{}", k.result_message);
    assert_eq!(k.client_auth_method, "NONE");
    assert!(k.claim_names.is_empty(), "no openid: no claim names");
    // Another client cannot redeem it, nor a client without the grant.
    let theirs = format!("grant_type={}&device_code={}", enc(GRANT), k.device_code);
    assert_eq!(
        error_of(&token(&env, &theirs, Some((TV, TV_SECRET))).await),
        "invalid_grant"
    );
    assert_eq!(
        error_of(&token(&env, &theirs, Some((WEB, WEB_SECRET))).await),
        "unauthorized_client"
    );
    let c = complete(
        &env,
        pb::DeviceCompleteRequest {
            user_code: k.user_code,
            result: pb::device_complete_request::Result::Authorized as i32,
            subject: "bob".to_owned(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.action_name, "SUCCESS");
    let kiosk = format!("{theirs}&client_id={KIOSK}");
    let t = token(&env, &kiosk, None).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    assert!(t.refresh_token.is_empty());
    assert!(t.id_token.is_empty(), "no openid: no ID token");
    assert_eq!(t.scopes, ["profile"]);
}

#[tokio::test]
async fn completion_checks_its_request_and_may_narrow_the_scopes() {
    let env = start(Via::Direct).await;
    let (code, user_code) = started(&env, "openid+profile+email").await;
    let authorized = |scopes: &[&str], claims: &str| pb::DeviceCompleteRequest {
        user_code: user_code.clone(),
        result: pb::device_complete_request::Result::Authorized as i32,
        subject: "alice".to_owned(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        claims: claims.to_owned(),
        ..Default::default()
    };
    let c = complete(&env, authorized(&["openid", "admin"], "")).await;
    assert_eq!(c.action_name, "INVALID_REQUEST", "{}", c.result_message);
    assert_eq!(c.http, None);
    // The flow is still pending after an invalid request.
    assert_eq!(error_of(&poll(&env, &code).await), "authorization_pending");
    let c = complete(&env, authorized(&["openid", "email"], r#"{"email":"a@x"}"#)).await;
    assert_eq!(c.action_name, "SUCCESS", "{}", c.result_message);
    env.advance(5);
    let t = poll(&env, &code).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    assert_eq!(t.scopes, ["openid", "email"]);
    let (_, claims) = jwt_parts(&t.id_token);
    assert_eq!(claims["email"], "a@x");
}

#[tokio::test]
async fn device_flows_count_against_the_cap_and_are_swept() {
    let mut config = device_config();
    config.max_live_objects = 3;
    let env = Env::start_with(Via::Direct, config).await;
    started(&env, "openid").await;
    assert_eq!(
        env.engine.live_objects(),
        2,
        "a device code and a user code"
    );
    let full = authorize_device(&env, "scope=openid").await;
    assert_eq!(full.action_name, "INTERNAL_SERVER_ERROR");
    assert!(
        full.result_message.contains("max_live_objects"),
        "{}",
        full.result_message
    );
    assert_eq!(full.http.unwrap().status, 500);
    assert_eq!(
        env.engine.live_objects(),
        2,
        "the half-made flow was taken back"
    );
    // Expired flows are kept one more lifetime (to say "expired"), then swept.
    env.advance(1201);
    started(&env, "openid").await;
    assert_eq!(env.engine.live_objects(), 2);
}
