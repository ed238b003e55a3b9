//! BackchannelLogoutService and ClientAttestationService through the real
//! server against a fake Authlete. Both APIs are in Authlete's Java library
//! but not in the OpenAPI spec: the replies are written inline from the
//! library's response classes.

mod common;

use authlete_grpc::pb;
use authlete_grpc::pb::backchannel_logout_service_client::BackchannelLogoutServiceClient;
use authlete_grpc::pb::client_attestation_service_client::ClientAttestationServiceClient;
use common::*;
use serde_json::json;
use tonic::Code;

fn logout(env: &Env) -> BackchannelLogoutServiceClient<tonic::transport::Channel> {
    BackchannelLogoutServiceClient::new(env.channel.clone())
}

fn attestation(env: &Env) -> ClientAttestationServiceClient<tonic::transport::Channel> {
    ClientAttestationServiceClient::new(env.channel.clone())
}

async fn logout_token(version: authlete_grpc::backend::ApiVersion) {
    let env = start(version).await;
    let reply = json!({"action": "OK", "resultCode": "A392001", "resultMessage": "m",
                       "logoutToken": "eyJ.logout.token",
                       "backchannelLogoutUri": "https://rp.example/logout"})
    .to_string();
    env.fake
        .reply("/backchannel/logout/token", 200, reply.clone());
    let r = logout(&env)
        .backchannel_logout_token(pb::BackchannelLogoutTokenRequest {
            client_identifier: "rp".to_owned(),
            subject: "alice".to_owned(),
            session_id: "sid-1".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/backchannel/logout/token",
        json!({"clientIdentifier": "rp", "subject": "alice", "sessionId": "sid-1"}),
    );
    use pb::backchannel_logout_token_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.http, None);
    assert_eq!(r.logout_token, "eyJ.logout.token");
    assert_eq!(r.backchannel_logout_uri, "https://rp.example/logout");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn backchannel_logout_token_v2() {
    logout_token(V2).await;
}

#[tokio::test]
async fn backchannel_logout_token_v3() {
    logout_token(V3).await;
}

#[tokio::test]
async fn backchannel_logout_token_errors_are_actions() {
    let env = start(V3).await;
    for name in ["SERVER_ERROR", "CALLER_ERROR"] {
        let reply = json!({"action": name, "resultCode": "A", "resultMessage": "m"});
        env.fake
            .reply("/backchannel/logout/token", 200, reply.to_string());
        let r = logout(&env)
            .backchannel_logout_token(pb::BackchannelLogoutTokenRequest {
                client_identifier: "rp".to_owned(),
                session_id: "sid-1".to_owned(),
                ..Default::default()
            })
            .await
            .expect("an action")
            .into_inner();
        assert_eq!(r.action_name, name);
        assert_ne!(r.action, 0);
        assert_eq!(r.http, None);
    }
}

#[tokio::test]
async fn backchannel_logout_token_needs_a_client_and_a_subject_or_session() {
    let env = start(V3).await;
    let cases = [
        (
            pb::BackchannelLogoutTokenRequest {
                subject: "alice".to_owned(),
                ..Default::default()
            },
            "client_identifier",
        ),
        (
            pb::BackchannelLogoutTokenRequest {
                client_identifier: "rp".to_owned(),
                ..Default::default()
            },
            "subject",
        ),
    ];
    for (request, field) in cases {
        let status = logout(&env)
            .backchannel_logout_token(request)
            .await
            .expect_err("INVALID_ARGUMENT");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(field), "{}", status.message());
    }
    env.fake.assert_no_request();
}

async fn challenge(version: authlete_grpc::backend::ApiVersion) {
    let env = start(version).await;
    let content = r#"{"attestation_challenge":"AYjcyMzY3ZDhiNmJkNTZ"}"#;
    let reply = json!({"action": "OK", "resultCode": "A", "resultMessage": "m",
                       "responseContent": content,
                       "attestationChallenge": "AYjcyMzY3ZDhiNmJkNTZ"})
    .to_string();
    env.fake.reply("/attestation/challenge", 200, reply.clone());
    let r = attestation(&env)
        .attestation_challenge(pb::AttestationChallengeRequest { pretty: true })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/attestation/challenge", json!({"pretty": true}));
    use pb::attestation_challenge_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.attestation_challenge, "AYjcyMzY3ZDhiNmJkNTZ");
    assert_eq!(r.authlete_response, reply);
    assert_http(r.http.as_ref(), 200, &json_headers(&[]), content);
}

#[tokio::test]
async fn attestation_challenge_v2() {
    challenge(V2).await;
}

#[tokio::test]
async fn attestation_challenge_v3() {
    challenge(V3).await;
}

#[tokio::test]
async fn attestation_challenge_internal_server_error_is_a_500() {
    let env = start(V3).await;
    let content = r#"{"error":"server_error"}"#;
    let reply = json!({"action": "INTERNAL_SERVER_ERROR", "resultCode": "A",
                       "resultMessage": "m", "responseContent": content});
    env.fake
        .reply("/attestation/challenge", 200, reply.to_string());
    let r = attestation(&env)
        .attestation_challenge(pb::AttestationChallengeRequest::default())
        .await
        .expect("an action")
        .into_inner();
    env.assert_posted("/attestation/challenge", json!({}));
    use pb::attestation_challenge_response::Action;
    assert_eq!(r.action, Action::InternalServerError as i32);
    assert_http(r.http.as_ref(), 500, &json_headers(&[]), content);
}
