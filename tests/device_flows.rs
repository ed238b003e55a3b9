//! The device flow the service finishes: verification, then the end-user's
//! decision, then `/device/complete`, against a fake Authlete.

mod common;

use authlete_grpc::pb::{
    self, device_decision_request::Decision, device_denial::Result as Denial,
    device_verification_response::Action,
};
use common::*;
use serde_json::json;
use tonic::Code;

async fn verified(env: &Env) -> pb::DeviceVerificationResponse {
    env.fake.reply(
        "/device/verification",
        200,
        fixture_with(
            "device_verification/valid.json",
            json!({"claimNames": ["name", "email"]}),
        ),
    );
    let r = env
        .device()
        .device_verification(pb::DeviceVerificationRequest {
            user_code: "XWWKPBWVXQ".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Valid as i32);
    assert!(!r.continuation.is_empty());
    r
}

#[tokio::test]
async fn approval_sends_the_requested_claims_to_device_complete() {
    let env = start(V3).await;
    let first = verified(&env).await;
    env.fake.reply(
        "/device/complete",
        200,
        fixture("device_complete/success.json"),
    );
    let r = env
        .device()
        .device_decision(pb::DeviceDecisionRequest {
            continuation: first.continuation,
            decision: Some(Decision::Approved(pb::DeviceApproval {
                subject: "john".to_owned(),
                auth_time: 1_700_000_000,
                claims: r#"{"name":"John","email":"john@example.com","phone_number":"1"}"#
                    .to_owned(),
                ..Default::default()
            })),
        })
        .await
        .expect("OK")
        .into_inner();
    let sent = env.fake.requests().pop().expect("complete");
    assert_eq!(sent.path, env.path("/device/complete"));
    let body = sent.json();
    assert_eq!(body["userCode"], "XWWKPBWVXQ");
    assert_eq!(body["result"], "AUTHORIZED");
    assert_eq!(body["subject"], "john");
    assert_eq!(body["authTime"], 1_700_000_000);
    // Only the claims the request asked for leave the service.
    let claims: serde_json::Value =
        serde_json::from_str(body["claims"].as_str().expect("claims text")).unwrap();
    assert_eq!(claims, json!({"name": "John", "email": "john@example.com"}));
    let complete = r.complete.expect("complete");
    assert_eq!(complete.action_name, "SUCCESS");
    assert_eq!(complete.http, None);
}

#[tokio::test]
async fn denial_sends_the_result_without_a_subject() {
    let env = start(V2).await;
    let first = verified(&env).await;
    env.fake.reply(
        "/device/complete",
        200,
        fixture("device_complete/success.json"),
    );
    env.device()
        .device_decision(pb::DeviceDecisionRequest {
            continuation: first.continuation,
            decision: Some(Decision::Denied(pb::DeviceDenial {
                result: Denial::TransactionFailed as i32,
                error_description: "the user could not log in".to_owned(),
                error_uri: String::new(),
            })),
        })
        .await
        .expect("OK");
    let sent = env.fake.requests().pop().expect("complete");
    assert_eq!(sent.path, env.path("/device/complete"));
    assert_eq!(
        sent.json(),
        json!({"userCode": "XWWKPBWVXQ", "result": "TRANSACTION_FAILED",
               "errorDescription": "the user could not log in"})
    );
}

#[tokio::test]
async fn a_verification_that_is_not_valid_has_no_continuation() {
    let env = start(V3).await;
    env.fake.reply(
        "/device/verification",
        200,
        json!({"action": "EXPIRED", "resultCode": "A", "resultMessage": "m"}).to_string(),
    );
    let r = env
        .device()
        .device_verification(pb::DeviceVerificationRequest {
            user_code: "OLD".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Expired as i32);
    assert_eq!(r.continuation, "");
}

#[tokio::test]
async fn decision_refuses_a_forged_continuation_or_no_decision() {
    let env = start(V3).await;
    let forged = env
        .device()
        .device_decision(pb::DeviceDecisionRequest {
            continuation: "x.y".to_owned(),
            decision: Some(Decision::Denied(pb::DeviceDenial::default())),
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(forged.code(), Code::InvalidArgument);
    let first = verified(&env).await;
    let missing = env
        .device()
        .device_decision(pb::DeviceDecisionRequest {
            continuation: first.continuation,
            decision: None,
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert!(
        missing.message().contains("decision"),
        "{}",
        missing.message()
    );
    // Only the verification reached Authlete.
    assert_eq!(env.fake.requests().len(), 1);
}
