//! The device authorization grant (RFC 8628) on the local engine, through
//! the real gRPC service: DeviceAuthorization, token polling, verification
//! of the typed user code, the end-user's decision, the tokens; and the
//! error branches (refusal, expiry, slow_down, unknown codes, clients
//! without the grant, the live-object cap).

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::backend::local::{ClientConfig, LocalConfig};
use authlete_grpc::pb;
use authlete_grpc::pb::device_decision_request::Decision;
use authlete_grpc::pb::device_flow_service_client::DeviceFlowServiceClient;
use local_common::idtoken::{self, header};
use local_common::*;
use serde_json::Value;
use tonic::transport::Channel;

/// Confidential, client_secret_basic, device_code and refresh_token.
const TV: &str = "tv";
const TV_SECRET: &str = "tv-secret-0123456789";
/// Public, device_code only.
const KIOSK: &str = "kiosk";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn device_config() -> LocalConfig {
    let mut c = config();
    c.clients.push(ClientConfig {
        client_id: TV.to_owned(),
        client_secret: Some(TV_SECRET.to_owned()),
        client_name: "Living room TV".to_owned(),
        grant_types: vec![GRANT.to_owned(), "refresh_token".to_owned()],
        ..ClientConfig::default()
    });
    c.clients.push(ClientConfig {
        client_id: KIOSK.to_owned(),
        client_type: Some("public".to_owned()),
        grant_types: vec![GRANT.to_owned()],
        ..ClientConfig::default()
    });
    c
}

async fn start(via: Via) -> Env {
    Env::start_with(via, device_config()).await
}

fn device(env: &Env) -> DeviceFlowServiceClient<Channel> {
    DeviceFlowServiceClient::new(env.channel())
}

/// `/device/authorization` as the TV (Basic credentials).
async fn authorize_device(env: &Env, parameters: &str) -> pb::DeviceAuthorizationResponse {
    authorize_as(env, parameters, TV, TV_SECRET).await
}

async fn authorize_as(
    env: &Env,
    parameters: &str,
    id: &str,
    secret: &str,
) -> pb::DeviceAuthorizationResponse {
    device(env)
        .device_authorization(pb::DeviceAuthorizationRequest {
            parameters: parameters.to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .expect("DeviceAuthorization RPC")
        .into_inner()
}

/// A started flow: the device code and the user code.
async fn started(env: &Env, scope: &str) -> (String, String) {
    let r = authorize_device(env, &format!("scope={scope}")).await;
    assert_eq!(r.action_name, "OK", "{}", r.result_message);
    (r.device_code, r.user_code)
}

async fn verify(env: &Env, user_code: &str) -> pb::DeviceVerificationResponse {
    device(env)
        .device_verification(pb::DeviceVerificationRequest {
            user_code: user_code.to_owned(),
        })
        .await
        .expect("DeviceVerification RPC")
        .into_inner()
}

async fn complete(env: &Env, request: pb::DeviceCompleteRequest) -> pb::DeviceCompleteResponse {
    device(env)
        .device_complete(request)
        .await
        .expect("DeviceComplete RPC")
        .into_inner()
}

/// A token request of the device_code grant, as the TV.
async fn poll(env: &Env, device_code: &str) -> pb::TokenResponse {
    let params = format!("grant_type={}&device_code={device_code}", enc(GRANT));
    token(env, &params, Some((TV, TV_SECRET))).await
}

/// The OAuth `error` of a BAD_REQUEST token reply (HTTP 400).
#[track_caller]
fn error_of(t: &pb::TokenResponse) -> String {
    assert_eq!(t.action_name, "BAD_REQUEST", "{}", t.result_message);
    assert_eq!(t.http.as_ref().expect("http").status, 400);
    let body: Value = serde_json::from_str(&t.response_content).expect("JSON error");
    body["error"].as_str().expect("error").to_owned()
}

/// The whole flow, the way a TV, a phone and the web tier run it.
async fn full_flow(via: Via) {
    let env = start(via).await;
    let a = authorize_device(&env, "scope=openid+profile+email&acr_values=urn:acr:pwd").await;
    assert_eq!(a.action_name, "OK", "{}", a.result_message);
    let http = a.http.clone().expect("http");
    assert_eq!(http.status, 200);
    let content: Value = serde_json::from_str(&a.response_content).unwrap();
    assert_eq!(content["device_code"], a.device_code.as_str());
    assert_eq!(content["user_code"], a.user_code.as_str());
    assert_eq!(content["verification_uri"], format!("{ISSUER}/device"));
    assert_eq!(
        content["verification_uri_complete"],
        format!("{ISSUER}/device?user_code={}", a.user_code)
    );
    assert_eq!(content["expires_in"], 600);
    assert_eq!(content["interval"], 5);
    assert_eq!((a.expires_in, a.interval), (600, 5));
    assert_eq!(
        a.verification_uri_complete,
        content["verification_uri_complete"]
    );
    assert_eq!(a.user_code.len(), 8);
    assert!(
        a.user_code
            .bytes()
            .all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b))
    );
    assert!(a.device_code.len() >= 43);
    assert_eq!(a.client_id_alias, TV);
    assert!(a.client_id_alias_used);
    assert_eq!(a.client_name, "Living room TV");
    assert_eq!(a.client_auth_method, "CLIENT_SECRET_BASIC");
    let names: Vec<&str> = a.scopes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["openid", "profile", "email"]);
    assert!(a.claim_names.contains(&"name".to_owned()));
    assert!(a.claim_names.contains(&"email".to_owned()));
    assert_eq!(a.acrs, ["urn:acr:pwd"]);

    assert_eq!(
        error_of(&poll(&env, &a.device_code).await),
        "authorization_pending"
    );
    env.advance(5);

    // The user types the code as people do: lower case, with a hyphen.
    let typed = format!("{}-{}", &a.user_code[..4], &a.user_code[4..]).to_ascii_lowercase();
    let v = verify(&env, &typed).await;
    assert_eq!(v.action_name, "VALID", "{}", v.result_message);
    assert_eq!(v.client_name, "Living room TV");
    assert_eq!(v.client_id, a.client_id);
    assert_eq!(v.scopes.len(), 3);
    assert_eq!(v.claim_names, a.claim_names);
    assert_eq!(v.expires_at / 1000, env.clock_seconds() - 5 + 600);
    assert!(!v.continuation.is_empty());

    let d = device(&env)
        .device_decision(pb::DeviceDecisionRequest {
            continuation: v.continuation,
            decision: Some(Decision::Approved(pb::DeviceApproval {
                subject: "alice".to_owned(),
                auth_time: 1_700_000_000,
                acr: "urn:acr:pwd".to_owned(),
                claims: r#"{"name":"Alice","email":"alice@example.com","phone_number":"+1"}"#
                    .to_owned(),
                ..Default::default()
            })),
        })
        .await
        .expect("DeviceDecision RPC")
        .into_inner()
        .complete
        .expect("complete");
    assert_eq!(d.action_name, "SUCCESS", "{}", d.result_message);
    // The user code served its one decision.
    assert_eq!(verify(&env, &a.user_code).await.action_name, "NOT_EXIST");

    let t = poll(&env, &a.device_code).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    assert_eq!(t.http.as_ref().unwrap().status, 200);
    assert_eq!(t.grant_type, "DEVICE_CODE");
    assert_eq!(t.subject, "alice");
    assert_eq!(t.scopes, ["openid", "profile", "email"]);
    assert!(
        !t.refresh_token.is_empty(),
        "the TV has the refresh_token grant"
    );
    let body: Value = serde_json::from_str(&t.response_content).unwrap();
    assert_eq!(body["access_token"], t.access_token.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        header(t.http.as_ref().unwrap(), "Cache-Control"),
        Some("no-store")
    );

    let jwks = idtoken::jwks(&env).await;
    let claims = idtoken::verify(&jwks, &t.id_token);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], TV);
    assert_eq!(claims["auth_time"], 1_700_000_000);
    assert_eq!(claims["acr"], "urn:acr:pwd");
    assert_eq!(claims["name"], "Alice");
    assert_eq!(claims["email"], "alice@example.com");
    assert!(
        claims.get("phone_number").is_none(),
        "not requested: {claims}"
    );
    assert!(claims.get("nonce").is_none());
    assert_eq!(claims["at_hash"], idtoken::half_hash(&t.access_token));

    let i = introspect(&env, &t.access_token, &["email"]).await;
    assert_eq!(i.action_name, "OK", "{}", i.result_message);
    assert_eq!(i.subject, "alice");
    assert_eq!(i.client_id, a.client_id);
    assert_eq!(i.scopes, ["openid", "profile", "email"]);

    // The device code works once.
    assert_eq!(error_of(&poll(&env, &a.device_code).await), "invalid_grant");
    // The refresh token works.
    let refresh = format!("grant_type=refresh_token&refresh_token={}", t.refresh_token);
    assert_eq!(
        token(&env, &refresh, Some((TV, TV_SECRET)))
            .await
            .action_name,
        "OK"
    );
}

#[tokio::test]
async fn a_full_device_flow_on_the_engine() {
    full_flow(Via::Direct).await;
}

#[tokio::test]
async fn a_full_device_flow_over_the_http_api_v3() {
    full_flow(Via::Http(ApiVersion::V3)).await;
}

#[tokio::test]
async fn a_full_device_flow_over_the_http_api_v2() {
    full_flow(Via::Http(ApiVersion::V2)).await;
}

#[tokio::test]
async fn a_denial_reaches_the_device_and_a_failed_transaction_reads_as_expired() {
    let env = start(Via::Direct).await;
    let (code, user_code) = started(&env, "openid").await;
    let v = verify(&env, &user_code).await;
    let d = device(&env)
        .device_decision(pb::DeviceDecisionRequest {
            continuation: v.continuation,
            decision: Some(Decision::Denied(pb::DeviceDenial {
                result: pb::device_denial::Result::AccessDenied as i32,
                error_description: "The user said no".to_owned(),
                error_uri: "https://as.example/why".to_owned(),
                ..Default::default()
            })),
        })
        .await
        .unwrap()
        .into_inner()
        .complete
        .unwrap();
    assert_eq!(d.action_name, "SUCCESS", "{}", d.result_message);
    for _ in 0..2 {
        let t = poll(&env, &code).await;
        assert_eq!(error_of(&t), "access_denied");
        let body: Value = serde_json::from_str(&t.response_content).unwrap();
        assert_eq!(body["error_description"], "The user said no");
        assert_eq!(body["error_uri"], "https://as.example/why");
        env.advance(5);
    }
    // Authlete: TRANSACTION_FAILED gives the device expired_token.
    let (code, user_code) = started(&env, "openid").await;
    let c = complete(
        &env,
        pb::DeviceCompleteRequest {
            user_code,
            result: pb::device_complete_request::Result::TransactionFailed as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.action_name, "SUCCESS", "{}", c.result_message);
    assert_eq!(error_of(&poll(&env, &code).await), "expired_token");
}

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

#[tokio::test]
async fn discovery_advertises_the_device_endpoint_and_the_demo_client_has_the_grant() {
    let env = start(Via::Direct).await;
    let c = env
        .discovery()
        .service_configuration(pb::ServiceConfigurationRequest::default())
        .await
        .unwrap()
        .into_inner();
    let doc: Value = serde_json::from_str(&c.authlete_response).unwrap();
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{ISSUER}/device_authorization")
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&Value::from(GRANT))
    );
    let demo = authlete_grpc::backend::LocalBackend::new(LocalConfig::default()).unwrap();
    let summary = demo.startup_summary().join("\n");
    let line = summary
        .lines()
        .find(|l| l.contains("client_id demo-confidential"))
        .expect("demo client");
    assert!(line.contains(GRANT), "{line}");
}
