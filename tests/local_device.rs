//! The device authorization grant (RFC 8628) on the local engine, through
//! the real gRPC service: DeviceAuthorization, token polling, verification
//! of the typed user code, the end-user's decision, the tokens (directly and
//! over the HTTP API), a refusal, and discovery. The error branches are in
//! local_device_errors.rs.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::backend::local::LocalConfig;
use authlete_grpc::pb;
use authlete_grpc::pb::device_decision_request::Decision;
use local_common::device::*;
use local_common::idtoken::{self, header};
use local_common::*;
use serde_json::Value;

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
async fn discovery_advertises_the_device_endpoint_and_the_demo_client_has_the_grant() {
    let env = start(Via::Direct).await;
    let doc = discovery_doc(&env).await;
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
