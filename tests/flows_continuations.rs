//! Continuations under attack, through the real server and the recording
//! fake Authlete: what a first step hands out is unreadable, and a tampered,
//! expired, retired-key, other-caller or replayed continuation is refused
//! with INVALID_ARGUMENT naming `continuation`, before any Authlete call.
//! Keys rotate: a flow started under key A finishes on a replica whose ring
//! is B,A.

mod common;

use std::sync::Arc;
use std::time::Duration;

use authlete_grpc::api::Sealer;
use authlete_grpc::auth::keys::hash_hex;
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy};
use authlete_grpc::pb::{self, token_decision_request::Decision};
use authlete_grpc::server::ServerOptions;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use serde_json::json;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;

const KEY_B: &[u8] = b"the-next-continuation-key-of-the-deployment";
const TICKET: &str = "TICKET-must-not-be-readable";
const ACCESS_TOKEN: &str = "AT-must-not-be-readable";

fn exchange() -> String {
    fixture_with(
        "token/ok.json",
        json!({"action": "TOKEN_EXCHANGE", "responseContent": null, "ticket": TICKET,
               "accessToken": ACCESS_TOKEN, "clientId": 7, "scopes": ["read"]}),
    )
}

fn created() -> String {
    json!({"action": "OK", "accessToken": "AT-new", "tokenType": "Bearer", "expiresIn": 60})
        .to_string()
}

async fn first_step(env: &Env) -> String {
    env.fake.reply("/auth/token", 200, exchange());
    env.token()
        .token(pb::TokenRequest::default())
        .await
        .expect("OK")
        .into_inner()
        .continuation
}

fn decision(continuation: &str) -> pb::TokenDecisionRequest {
    pb::TokenDecisionRequest {
        continuation: continuation.to_owned(),
        decision: Some(Decision::Granted(pb::TokenGrant {
            subject: "alice".into(),
            ..Default::default()
        })),
    }
}

async fn decide(env: &Env, continuation: &str) -> Result<pb::TokenDecisionResponse, tonic::Status> {
    env.fake.reply("/auth/token/create", 200, created());
    env.token()
        .token_decision(decision(continuation))
        .await
        .map(tonic::Response::into_inner)
}

/// The refusal is INVALID_ARGUMENT naming `continuation`, saying `why`.
#[track_caller]
fn assert_refused(result: Result<pb::TokenDecisionResponse, tonic::Status>, why: &str) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with("continuation") && status.message().contains(why),
        "{}",
        status.message()
    );
}

fn token_creates(env: &Env) -> usize {
    let requests = env.fake.requests();
    requests
        .iter()
        .filter(|r| r.path.ends_with("/auth/token/create"))
        .count()
}

fn with_ring(keys: &[&[u8]]) -> Setup {
    let base = Setup::new(V3);
    let server = ServerOptions {
        sealer: Sealer::ring(keys).unwrap(),
        ..base.server.clone()
    };
    base.server(server)
}

#[tokio::test]
async fn a_continuation_shows_no_ticket_or_token() {
    let env = start(V2).await;
    let continuation = first_step(&env).await;
    let bytes = URL_SAFE_NO_PAD.decode(&continuation).expect("base64url");
    let shown = String::from_utf8_lossy(&bytes);
    for secret in [TICKET, ACCESS_TOKEN, "TOKEN_EXCHANGE", "client_id"] {
        assert!(!shown.contains(secret), "{secret} is readable");
    }
    env.fake.reply(
        "/auth/authorization",
        200,
        fixture("authorization/interaction.json"),
    );
    let authorization = env
        .authorization()
        .authorization(pb::AuthorizationRequest::default())
        .await
        .unwrap()
        .into_inner();
    let ticket = fixture_json("authorization/interaction.json")["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = URL_SAFE_NO_PAD.decode(&authorization.continuation).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(&ticket));
}

#[tokio::test]
async fn tampered_expired_and_replayed_continuations_are_refused_without_a_call() {
    let env = start(V3).await;
    let continuation = first_step(&env).await;
    let mut bytes = URL_SAFE_NO_PAD.decode(&continuation).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    assert_refused(
        decide(&env, &URL_SAFE_NO_PAD.encode(&bytes)).await,
        "altered",
    );
    assert_refused(decide(&env, "not-a-continuation").await, "not one");
    assert_eq!(token_creates(&env), 0);

    // Token exchange mints tokens with no Authlete ticket: good once.
    decide(&env, &continuation).await.expect("first use");
    assert_refused(decide(&env, &continuation).await, "already used");
    assert_eq!(token_creates(&env), 1);

    // Sealed with this deployment's key but already past its expiry.
    let sealer = Sealer::new(CONTINUATION_KEY).unwrap();
    let state = json!({"action": "TOKEN_EXCHANGE", "client_id": 7});
    let expired = sealer.seal("token", state, Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_refused(decide(&env, &expired).await, "expired");
    assert_eq!(token_creates(&env), 1);
}

#[tokio::test]
async fn a_flow_started_under_key_a_finishes_after_the_ring_becomes_b_a() {
    let old = start(V3).await; // the test deployment's key, A
    let continuation = first_step(&old).await;
    let rotated = with_ring(&[KEY_B, CONTINUATION_KEY]).start().await;
    let r = decide(&rotated, &continuation)
        .await
        .expect("A still opens");
    assert_eq!(r.http.unwrap().status, 200);
    assert_eq!(token_creates(&rotated), 1);
    // What the rotated replica seals, it seals under B.
    let under_b = first_step(&rotated).await;
    let retired = with_ring(&[KEY_B]).start().await;
    assert_refused(decide(&retired, &continuation).await, "no longer holds");
    decide(&retired, &under_b).await.expect("B opens");
    assert_refused(decide(&old, &under_b).await, "no longer holds");
    assert_eq!(token_creates(&old), 0);
}

type Keyed = InterceptedService<
    tonic::transport::Channel,
    Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send + Sync>,
>;

fn as_caller(env: &Env, key: &'static str) -> pb::token_service_client::TokenServiceClient<Keyed> {
    let bearer = MetadataValue::try_from(format!("Bearer {key}")).unwrap();
    let add: Box<dyn FnMut(_) -> _ + Send + Sync> = Box::new(move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", bearer.clone());
        Ok(r)
    });
    pb::token_service_client::TokenServiceClient::new(InterceptedService::new(
        env.channel.clone(),
        add,
    ))
}

#[tokio::test]
async fn a_continuation_opens_only_for_the_caller_that_received_it() {
    let keys = format!(
        "web={}\nother={}",
        hash_hex("web-key"),
        hash_hex("other-key")
    );
    let policy = r#"
        [callers."key:web"]
        allow = ["authlete.v1.TokenService"]
        [callers."key:other"]
        allow = ["authlete.v1.TokenService"]
    "#;
    let base = Setup::new(V3);
    let server = ServerOptions {
        caller_auth: Some(Arc::new(CallerAuth {
            keys: CallerKeys::parse(&keys).unwrap(),
            xfcc: None,
            policy: Policy::parse(policy).unwrap(),
        })),
        ..base.server.clone()
    };
    let env = base.server(server).start().await;
    env.fake.reply("/auth/token", 200, exchange());
    env.fake.reply("/auth/token/create", 200, created());
    let continuation = as_caller(&env, "web-key")
        .token(pb::TokenRequest::default())
        .await
        .unwrap()
        .into_inner()
        .continuation;
    let refused = as_caller(&env, "other-key")
        .token_decision(decision(&continuation))
        .await
        .map(tonic::Response::into_inner);
    assert_refused(refused, "another caller");
    assert_eq!(token_creates(&env), 0);
    as_caller(&env, "web-key")
        .token_decision(decision(&continuation))
        .await
        .expect("its own caller");
    assert_eq!(token_creates(&env), 1);
}
