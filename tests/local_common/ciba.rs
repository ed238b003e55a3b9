//! Helpers of the CIBA tests: a poll client, a ping client (whose
//! notification endpoint is a listener on 127.0.0.1 recording what it
//! receives) and a poll client that must send user codes, on top of the
//! standard test configuration; and the RPCs of the flow.

use std::sync::{Arc, Mutex};

use authlete_grpc::backend::local::{ClientConfig, LocalConfig};
use authlete_grpc::pb;
use authlete_grpc::pb::backchannel_authentication_service_client::BackchannelAuthenticationServiceClient;
use axum::http::{HeaderMap, StatusCode};
use tokio::net::TcpListener;
use tonic::transport::Channel;

use super::{Env, Via, config, token};

pub const GRANT: &str = "urn:openid:params:grant-type:ciba";
/// Poll mode, client_secret_basic, with refresh tokens.
pub const POLLER: &str = "poller";
pub const POLLER_SECRET: &str = "poller-secret-0123456789";
/// Ping mode, its endpoint on loopback.
pub const PINGER: &str = "pinger";
pub const PINGER_SECRET: &str = "pinger-secret-0123456789";
/// Poll mode, `backchannel_user_code_parameter`.
pub const CODED: &str = "coded";
pub const CODED_SECRET: &str = "coded-secret-0123456789";
pub const NOTIFICATION_TOKEN: &str = "notification-token-8f2a61c4e9b0";

/// What a notification endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub authorization: String,
    pub content_type: String,
    pub body: String,
}

pub type Inbox = Arc<Mutex<Vec<Received>>>;

/// A client notification endpoint on 127.0.0.1 answering 204.
pub async fn notification_endpoint() -> (String, Inbox) {
    let got: Inbox = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/cb/ciba",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                seen.lock().unwrap().push(Received {
                    authorization: h("authorization"),
                    content_type: h("content-type"),
                    body,
                });
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb/ciba", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// The test configuration plus the three CIBA clients.
pub fn ciba_config(ping_endpoint: &str) -> LocalConfig {
    let mut c = config();
    let client = |id: &str, secret: &str| ClientConfig {
        client_id: id.to_owned(),
        client_secret: Some(secret.to_owned()),
        client_name: format!("CIBA {id}"),
        grant_types: vec![GRANT.to_owned(), "refresh_token".to_owned()],
        ..ClientConfig::default()
    };
    c.clients.push(client(POLLER, POLLER_SECRET));
    c.clients.push(ClientConfig {
        backchannel_token_delivery_mode: Some("ping".to_owned()),
        backchannel_client_notification_endpoint: Some(ping_endpoint.to_owned()),
        ..client(PINGER, PINGER_SECRET)
    });
    c.clients.push(ClientConfig {
        backchannel_user_code_parameter: true,
        ..client(CODED, CODED_SECRET)
    });
    c
}

/// An engine with the CIBA clients, and the ping client's inbox.
pub async fn start(via: Via) -> (Env, Inbox) {
    let (url, inbox) = notification_endpoint().await;
    (Env::start_with(via, ciba_config(&url)).await, inbox)
}

pub fn backchannel(env: &Env) -> BackchannelAuthenticationServiceClient<Channel> {
    BackchannelAuthenticationServiceClient::new(env.channel())
}

/// `BackchannelAuthentication` with Basic credentials.
pub async fn authenticate(
    env: &Env,
    parameters: &str,
    id: &str,
    secret: &str,
) -> pb::BackchannelAuthenticationResponse {
    backchannel(env)
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: parameters.to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .expect("BackchannelAuthentication RPC")
        .into_inner()
}

/// `BackchannelAuthenticationDecision`: the web tier found `subject` and
/// accepted the binding message and the user code.
pub async fn decide(
    env: &Env,
    continuation: &str,
    subject: &str,
) -> pb::BackchannelAuthenticationDecisionResponse {
    backchannel(env)
        .backchannel_authentication_decision(pb::BackchannelAuthenticationDecisionRequest {
            continuation: continuation.to_owned(),
            subject: subject.to_owned(),
            user_code_verified: true,
            binding_message_accepted: true,
            ..Default::default()
        })
        .await
        .expect("BackchannelAuthenticationDecision RPC")
        .into_inner()
}

/// `BackchannelAuthenticationUserDecision`: the user's verdict.
pub async fn user_decision(
    env: &Env,
    continuation: &str,
    decision: pb::backchannel_authentication_user_decision_request::Decision,
) -> pb::BackchannelAuthenticationCompleteResponse {
    backchannel(env)
        .backchannel_authentication_user_decision(
            pb::BackchannelAuthenticationUserDecisionRequest {
                continuation: continuation.to_owned(),
                decision: Some(decision),
            },
        )
        .await
        .expect("BackchannelAuthenticationUserDecision RPC")
        .into_inner()
        .complete
        .expect("complete")
}

/// The user approves, with a profile to pick claims from.
pub fn approved() -> pb::backchannel_authentication_user_decision_request::Decision {
    pb::backchannel_authentication_user_decision_request::Decision::Approved(
        pb::BackchannelAuthenticationApproval {
            auth_time: 1_700_000_000,
            acr: "urn:acr:device".to_owned(),
            claims: r#"{"email":"alice@example.com","name":"Alice"}"#.to_owned(),
            ..Default::default()
        },
    )
}

/// The user denies (or the transaction fails).
pub fn denied(failed: bool) -> pb::backchannel_authentication_user_decision_request::Decision {
    use pb::backchannel_authentication_denial::Result as R;
    pb::backchannel_authentication_user_decision_request::Decision::Denied(
        pb::BackchannelAuthenticationDenial {
            result: if failed {
                R::TransactionFailed
            } else {
                R::AccessDenied
            } as i32,
            ..Default::default()
        },
    )
}

/// Request and identification: the `auth_req_id` and the continuation of
/// the user's decision.
pub async fn started(env: &Env, parameters: &str, id: &str, secret: &str) -> (String, String) {
    let first = authenticate(env, parameters, id, secret).await;
    assert_eq!(
        first.action_name, "USER_IDENTIFICATION",
        "{}",
        first.result_message
    );
    let decided = decide(env, &first.continuation, "alice").await;
    let http = decided.http.expect("http");
    assert_eq!(http.status, 200, "{}", http.body);
    let body: serde_json::Value = serde_json::from_str(&http.body).expect("JSON");
    let id = body["auth_req_id"]
        .as_str()
        .expect("auth_req_id")
        .to_owned();
    (id, decided.continuation)
}

/// The token request of the CIBA grant.
pub async fn poll(env: &Env, auth_req_id: &str, id: &str, secret: &str) -> pb::TokenResponse {
    let parameters = format!("grant_type={}&auth_req_id={auth_req_id}", super::enc(GRANT));
    token(env, &parameters, Some((id, secret))).await
}

/// The OAuth `error` of a token reply.
pub fn error(t: &pb::TokenResponse) -> String {
    let body: serde_json::Value = serde_json::from_str(&t.response_content).expect("JSON");
    body["error"].as_str().unwrap_or_default().to_owned()
}
