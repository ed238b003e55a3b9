//! The whole CIBA flow as the service finishes it, through the real server
//! against a fake Authlete: identification, then the user's verdict from
//! their authentication device with the requested claims picked from the
//! profile, `/backchannel/authentication/complete`, and the ping
//! notification delivered to a client endpoint on loopback.

mod common;

use authlete_grpc::pb::{
    self, backchannel_authentication_complete_response::Action as CompleteAction,
    backchannel_authentication_user_decision_request::Decision,
};
use common::client_endpoint::client_endpoint;
use common::*;
use serde_json::json;
use tonic::Code;

const TICKET: &str = "Y1qeCf0A-JUz6caceaBfd2AaBYNZ-X-WGTP5Qv47cQI";

/// Identification and issue: the continuation of the completion.
async fn issued(env: &Env, claim_names: serde_json::Value) -> String {
    env.fake.reply(
        "/backchannel/authentication",
        200,
        fixture_with(
            "backchannel_authentication/user_identification.json",
            json!({"deliveryMode": "PING", "claimNames": claim_names}),
        ),
    );
    env.fake.reply(
        "/backchannel/authentication/issue",
        200,
        fixture("backchannel_authentication_issue/ok.json"),
    );
    let first = env
        .backchannel()
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: "login_hint=john&scope=openid+email".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    let decided = env
        .backchannel()
        .backchannel_authentication_decision(pb::BackchannelAuthenticationDecisionRequest {
            continuation: first.continuation,
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(decided.http.expect("http").status, 200);
    assert!(!decided.continuation.is_empty(), "issued: a continuation");
    decided.continuation
}

async fn user_decision(
    env: &Env,
    continuation: String,
    decision: Decision,
) -> Result<pb::BackchannelAuthenticationCompleteResponse, tonic::Status> {
    env.backchannel()
        .backchannel_authentication_user_decision(
            pb::BackchannelAuthenticationUserDecisionRequest {
                continuation,
                decision: Some(decision),
            },
        )
        .await
        .map(|r| r.into_inner().complete.expect("complete"))
}

fn notification(endpoint: &str) -> String {
    json!({"action": "NOTIFICATION", "resultCode": "A198001", "resultMessage": "m",
           "deliveryMode": "PING", "authReqId": "arid-1",
           "clientNotificationEndpoint": endpoint,
           "clientNotificationToken": "notif-token-1",
           "responseContent": "{\"auth_req_id\":\"arid-1\"}"})
    .to_string()
}

#[tokio::test]
async fn approval_completes_with_the_requested_claims_and_notifies_the_client() {
    let env = start(V3).await;
    let (endpoint, received) = client_endpoint(204).await;
    let continuation = issued(&env, json!(["email", "name#ja", "phone_number"])).await;
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        notification(&endpoint),
    );
    let profile = r#"{"email":"john@example.com","name":"John","name#ja":"ジョン","address":"x"}"#;
    let done = user_decision(
        &env,
        continuation,
        Decision::Approved(pb::BackchannelAuthenticationApproval {
            auth_time: 1_700_000_000,
            acr: "urn:acr:pwd".to_owned(),
            claims: profile.to_owned(),
            ..Default::default()
        }),
    )
    .await
    .expect("OK");
    let complete = env.fake.requests().pop().expect("complete");
    assert_eq!(
        complete.path,
        env.path("/backchannel/authentication/complete")
    );
    assert_eq!(
        complete.json(),
        json!({"ticket": TICKET, "result": "AUTHORIZED", "subject": "john",
               "authTime": 1_700_000_000, "acr": "urn:acr:pwd",
               "claims": "{\"email\":\"john@example.com\",\"name#ja\":\"ジョン\"}"})
    );
    assert_eq!(done.action, CompleteAction::Notification as i32);
    let n = done.client_notification.expect("delivered");
    assert_eq!((n.delivered, n.status), (true, 204));
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].authorization, "Bearer notif-token-1");
}

#[tokio::test]
async fn denial_completes_with_the_identified_subject_and_the_error() {
    let env = start(V2).await;
    let continuation = issued(&env, json!([])).await;
    let no_action = json!({"action": "NO_ACTION", "resultCode": "A", "resultMessage": "m"});
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        no_action.to_string(),
    );
    use pb::backchannel_authentication_denial::Result as R;
    let done = user_decision(
        &env,
        continuation,
        Decision::Denied(pb::BackchannelAuthenticationDenial {
            result: R::TransactionFailed as i32,
            error_description: "the device did not answer".to_owned(),
            error_uri: String::new(),
        }),
    )
    .await
    .expect("OK");
    let complete = env.fake.requests().pop().expect("complete");
    assert_eq!(
        complete.json(),
        json!({"ticket": TICKET, "result": "TRANSACTION_FAILED", "subject": "john",
               "errorDescription": "the device did not answer"})
    );
    assert_eq!(done.action, CompleteAction::NoAction as i32);
    assert_eq!(done.client_notification, None);
}

#[tokio::test]
async fn bad_verdicts_and_continuations_never_reach_authlete() {
    let env = start(V3).await;
    let continuation = issued(&env, json!(["email"])).await;
    let calls = env.fake.requests().len();
    let someone_else = Decision::Approved(pb::BackchannelAuthenticationApproval {
        subject: "mallory".to_owned(),
        ..Default::default()
    });
    let not_json = Decision::Approved(pb::BackchannelAuthenticationApproval {
        claims: "[1]".to_owned(),
        ..Default::default()
    });
    for (decision, field) in [
        (someone_else, "approved.subject"),
        (not_json, "approved.claims"),
    ] {
        let status = user_decision(&env, continuation.clone(), decision)
            .await
            .expect_err("INVALID_ARGUMENT");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(field), "{}", status.message());
    }
    // The identification step's continuation is of another kind.
    let first = env
        .backchannel()
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: "login_hint=john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    let approve = Decision::Approved(pb::BackchannelAuthenticationApproval::default());
    let status = user_decision(&env, first.continuation, approve)
        .await
        .expect_err("a foreign continuation");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = env
        .backchannel()
        .backchannel_authentication_user_decision(
            pb::BackchannelAuthenticationUserDecisionRequest {
                continuation,
                decision: None,
            },
        )
        .await
        .expect_err("no decision");
    assert!(status.message().contains("decision"));
    // Only the extra /backchannel/authentication call above reached Authlete.
    assert_eq!(env.fake.requests().len(), calls + 1);
}
