//! CIBA poll and ping flows through the real server against a fake Authlete,
//! with the ping notification delivered to a client endpoint on loopback.

mod common;

use authlete_grpc::pb::{
    self, backchannel_authentication_complete_request::Result as Verdict,
    backchannel_authentication_complete_response::Action as CompleteAction,
    backchannel_authentication_response::Action,
};
use common::client_endpoint::client_endpoint;
use common::*;
use serde_json::json;
use tokio::net::TcpListener;

fn complete_reply(mode: &str, action: &str, endpoint: &str) -> String {
    json!({
        "action": action, "resultCode": "A198001", "resultMessage": "m",
        "deliveryMode": mode, "authReqId": "arid-1",
        "clientNotificationEndpoint": endpoint,
        "clientNotificationToken": "notif-token-1",
        "responseContent": "{\"auth_req_id\":\"arid-1\"}",
    })
    .to_string()
}

/// The first two steps, common to every mode: the request, then the
/// `auth_req_id` once the web tier has identified the user.
async fn start_flow(env: &Env, mode: &str) -> String {
    let identification = fixture_with(
        "backchannel_authentication/user_identification.json",
        json!({"deliveryMode": mode}),
    );
    env.fake
        .reply("/backchannel/authentication", 200, identification);
    env.fake.reply(
        "/backchannel/authentication/issue",
        200,
        fixture("backchannel_authentication_issue/ok.json"),
    );
    let first = env
        .backchannel()
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: "login_hint=john&scope=openid".to_owned(),
            client_id: "c".to_owned(),
            client_secret: "s".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(first.action, Action::UserIdentification as i32);
    assert_eq!(first.delivery_mode, mode);
    let issued = env
        .backchannel()
        .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
            ticket: first.ticket.clone(),
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(issued.http.as_ref().map(|h| h.status), Some(200));
    first.ticket
}

fn authorized(ticket: String) -> pb::BackchannelAuthenticationCompleteRequest {
    pb::BackchannelAuthenticationCompleteRequest {
        ticket,
        result: Verdict::Authorized as i32,
        subject: "john".to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn ping_flow_delivers_the_notification_to_the_client() {
    let env = start(V3).await;
    let (endpoint, received) = client_endpoint(204).await;
    let ticket = start_flow(&env, "PING").await;
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        complete_reply("PING", "NOTIFICATION", &endpoint),
    );
    let done = env
        .backchannel()
        .backchannel_authentication_complete(authorized(ticket))
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(done.action, CompleteAction::Notification as i32);
    assert_eq!(done.http, None);
    let n = done
        .client_notification
        .expect("the service notified the client");
    assert_eq!((n.delivered, n.status, n.error.as_str()), (true, 204, ""));
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "exactly one notification, never retried");
    assert_eq!(got[0].authorization, "Bearer notif-token-1");
    assert_eq!(got[0].content_type, "application/json");
    assert_eq!(got[0].body, r#"{"auth_req_id":"arid-1"}"#);
}

#[tokio::test]
async fn poll_flow_notifies_nobody() {
    let env = start(V2).await;
    let (endpoint, received) = client_endpoint(204).await;
    let ticket = start_flow(&env, "POLL").await;
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        complete_reply("POLL", "NO_ACTION", &endpoint),
    );
    let done = env
        .backchannel()
        .backchannel_authentication_complete(authorized(ticket))
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(done.action, CompleteAction::NoAction as i32);
    assert_eq!(done.client_notification, None);
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_notification_is_reported_not_retried() {
    let env = start(V3).await;
    let (endpoint, received) = client_endpoint(500).await;
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        complete_reply("PUSH", "NOTIFICATION", &endpoint),
    );
    let done = env
        .backchannel()
        .backchannel_authentication_complete(authorized("t".to_owned()))
        .await
        .expect("OK")
        .into_inner();
    let n = done.client_notification.expect("reported");
    assert!(!n.delivered);
    assert_eq!(n.status, 500);
    assert!(n.error.contains("500"), "{}", n.error);
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unreachable_client_is_reported() {
    let env = start(V3).await;
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/notify", closed.local_addr().unwrap());
    drop(closed);
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        complete_reply("PING", "NOTIFICATION", &endpoint),
    );
    let done = env
        .backchannel()
        .backchannel_authentication_complete(authorized("t".to_owned()))
        .await
        .expect("OK")
        .into_inner();
    let n = done.client_notification.expect("reported");
    assert_eq!((n.delivered, n.status), (false, 0));
    assert!(!n.error.contains("notif-token-1"), "no token in errors");
}

async fn identification(
    env: &Env,
    changes: serde_json::Value,
) -> pb::BackchannelAuthenticationResponse {
    env.fake.reply(
        "/backchannel/authentication",
        200,
        fixture_with(
            "backchannel_authentication/user_identification.json",
            changes,
        ),
    );
    env.backchannel()
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: "login_hint=john&scope=openid".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner()
}

#[tokio::test]
async fn decision_issues_the_auth_req_id_for_an_identified_user() {
    let env = start(V3).await;
    let first = identification(&env, json!({"deliveryMode": "POLL"})).await;
    assert!(!first.continuation.is_empty());
    env.fake.reply(
        "/backchannel/authentication/issue",
        200,
        fixture("backchannel_authentication_issue/ok.json"),
    );
    let done = env
        .backchannel()
        .backchannel_authentication_decision(pb::BackchannelAuthenticationDecisionRequest {
            continuation: first.continuation,
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    let issue = env.fake.requests().pop().expect("issue");
    assert_eq!(issue.path, env.path("/backchannel/authentication/issue"));
    assert_eq!(
        issue.json(),
        json!({"ticket": "Y1qeCf0A-JUz6caceaBfd2AaBYNZ-X-WGTP5Qv47cQI"})
    );
    assert_eq!(done.http.expect("http").status, 200);
    let c = done.completion.expect("completion");
    assert_eq!(
        (c.api.as_str(), c.action_name.as_str(), c.reason.as_str()),
        ("/backchannel/authentication/issue", "OK", "")
    );
}

#[tokio::test]
async fn decision_fails_with_the_first_failed_check() {
    let cases = [
        (json!({}), "", "UNKNOWN_USER_ID"),
        (
            json!({"hintType": "LOGIN_HINT_TOKEN"}),
            "john",
            "EXPIRED_LOGIN_HINT_TOKEN",
        ),
        (
            json!({"userCodeRequired": true}),
            "john",
            "INVALID_USER_CODE",
        ),
        (
            json!({"bindingMessage": "BIND-42"}),
            "john",
            "INVALID_BINDING_MESSAGE",
        ),
    ];
    for (changes, subject, reason) in cases {
        let env = start(V3).await;
        let first = identification(&env, changes).await;
        env.fake.reply(
            "/backchannel/authentication/fail",
            200,
            fixture("backchannel_authentication_fail/forbidden.json"),
        );
        let done = env
            .backchannel()
            .backchannel_authentication_decision(pb::BackchannelAuthenticationDecisionRequest {
                continuation: first.continuation,
                subject: subject.to_owned(),
                login_hint_token_expired: true,
                ..Default::default()
            })
            .await
            .expect("OK")
            .into_inner();
        let fail = env.fake.requests().pop().expect("fail");
        assert_eq!(fail.path, env.path("/backchannel/authentication/fail"));
        assert_eq!(
            fail.json(),
            json!({"ticket": "Y1qeCf0A-JUz6caceaBfd2AaBYNZ-X-WGTP5Qv47cQI", "reason": reason})
        );
        assert!(done.continuation.is_empty(), "nothing to complete");
        assert_eq!(done.http.expect("http").status, 403);
        assert_eq!(done.completion.expect("completion").reason, reason);
    }
}

#[tokio::test]
async fn decision_refuses_a_forged_continuation() {
    let env = start(V3).await;
    let status = env
        .backchannel()
        .backchannel_authentication_decision(pb::BackchannelAuthenticationDecisionRequest {
            continuation: "forged.continuation".to_owned(),
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    env.fake.assert_no_request();
}
