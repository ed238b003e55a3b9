//! Connect errors through the real server: the same code, message and
//! details as over gRPC, with Connect's HTTP status; and the Connect-only
//! refusals (body, content type, size, timeout), none of which calls Authlete.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy, keys::hash_hex};
use authlete_grpc::pb;
use authlete_grpc::server::ServerOptions;
use base64::Engine as _;
use common::connect::{Answer, Connect, Version};
use common::*;
use prost::Message as _;
use serde_json::{Value, json};
use tonic::Status;
use tonic_types::StatusExt;

const TOKEN: &str = "/authlete.v1.TokenService/Token";
const INTROSPECTION: &str = "/authlete.v1.IntrospectionService/Introspection";
const ISSUE: &str = "/authlete.v1.AuthorizationService/AuthorizationIssue";

/// Asserts that `answer` is the Connect form of the gRPC `status`.
#[track_caller]
fn assert_same_error(answer: &Answer, status: &Status, http: u16, code: &str) {
    assert_eq!(
        answer.status,
        http,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let body = answer.json();
    assert_eq!(body["code"], code);
    assert_eq!(body["message"], status.message());
    let info = status
        .get_details_error_info()
        .expect("ErrorInfo over gRPC");
    let detail = details(&body)
        .into_iter()
        .find(|d| d["type"] == "google.rpc.ErrorInfo")
        .expect("ErrorInfo over Connect");
    assert_eq!(detail["debug"]["reason"], info.reason.as_str());
    let value = detail["value"].as_str().expect("a base64 value");
    let value = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(value)
        .expect("unpadded base64");
    let decoded = tonic_types::pb::ErrorInfo::decode(value.as_slice()).unwrap();
    assert_eq!(decoded.reason, info.reason);
    assert_eq!(decoded.metadata, info.metadata);
}

fn details(body: &Value) -> Vec<Value> {
    body["details"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn invalid_argument_names_the_field_with_bad_request_details() {
    let env = start(V2).await;
    let request = pb::AuthorizationIssueRequest {
        subject: "john".to_owned(),
        ..Default::default()
    };
    let grpc = env.authorization().authorization_issue(request).await;
    let grpc = grpc.expect_err("no ticket");
    let connect = Connect::new(env.addr, Version::Http1);
    let a = connect.json(ISSUE, &json!({"subject": "john"}), &[]).await;
    assert_same_error(&a, &grpc, 400, "invalid_argument");
    let bad = details(&a.json())
        .into_iter()
        .find(|d| d["type"] == "google.rpc.BadRequest")
        .expect("BadRequest");
    assert_eq!(bad["debug"]["fieldViolations"][0]["field"], "ticket");
    env.fake.assert_no_request();
}

#[tokio::test]
async fn an_authlete_failure_is_the_same_error_as_over_grpc() {
    let env = start(V3).await;
    env.fake
        .reply("/auth/token", 500, r#"{"resultCode":"A001201"}"#);
    let request = pb::TokenRequest {
        parameters: "grant_type=client_credentials".to_owned(),
        ..Default::default()
    };
    let grpc = env.token().token(request).await.expect_err("UNAVAILABLE");
    let connect = Connect::new(env.addr, Version::Http2);
    let body = json!({"parameters": "grant_type=client_credentials"});
    let a = connect.json(TOKEN, &body, &[]).await;
    assert_same_error(&a, &grpc, 503, "unavailable");
    assert_eq!(
        a.json()["details"][0]["debug"]["metadata"]["http_status"],
        "500"
    );
    assert!(!String::from_utf8_lossy(&a.body).contains(ACCESS_TOKEN));
    assert_eq!(env.fake.requests().len(), 2);
}

#[tokio::test]
async fn an_unknown_method_is_unimplemented() {
    let env = start(V3).await;
    let connect = Connect::new(env.addr, Version::Http1);
    let a = connect
        .json("/authlete.v1.TokenService/Nope", &json!({}), &[])
        .await;
    assert_eq!(a.status, 501);
    assert_eq!(a.json()["code"], "unimplemented");
    env.fake.assert_no_request();
}

const POLICY: &str = r#"
[callers."key:resource-server"]
allow = ["authlete.v1.IntrospectionService"]
"#;
const RS_KEY: &str = "rs-caller-key-0123456789";

#[tokio::test]
async fn callers_are_refused_over_http1_exactly_as_over_grpc() {
    let base = Setup::new(V3);
    let auth = CallerAuth {
        keys: CallerKeys::parse(&format!("resource-server={}", hash_hex(RS_KEY))).unwrap(),
        xfcc: None,
        policy: Policy::parse(POLICY).unwrap(),
    };
    let server = ServerOptions {
        caller_auth: Some(Arc::new(auth)),
        ..base.server.clone()
    };
    let env = base.server(server).start().await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let connect = Connect::new(env.addr, Version::Http1);
    let token = json!({"token": "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI"});

    // No credentials: UNAUTHENTICATED, before the body is even read.
    let request = pb::IntrospectionRequest {
        token: "t".to_owned(),
        ..Default::default()
    };
    let grpc = env.introspection().introspection(request).await;
    let grpc = grpc.expect_err("no key");
    let a = connect.json(INTROSPECTION, &token, &[]).await;
    assert_same_error(&a, &grpc, 401, "unauthenticated");
    let b = connect.post(INTROSPECTION, "application/json", b"{oops".to_vec(), &[]);
    assert_eq!(b.await.json()["code"], "unauthenticated");

    // A known caller outside its grant: PERMISSION_DENIED.
    let bearer = format!("Bearer {RS_KEY}");
    let auth = [("authorization", bearer.as_str())];
    let c = connect
        .json(TOKEN, &json!({"parameters": "x"}), &auth)
        .await;
    assert_eq!(
        (c.status, c.json()["code"].clone()),
        (403, json!("permission_denied"))
    );
    env.fake.assert_no_request();

    // Granted: served.
    let d = connect.json(INTROSPECTION, &token, &auth).await;
    assert_eq!(d.status, 200, "{}", String::from_utf8_lossy(&d.body));
    assert_eq!(d.json()["action"], "ACTION_OK");
    assert_eq!(env.fake.requests().len(), 1);
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_and_no_authlete_call() {
    let env = start(V3).await;
    let connect = Connect::new(env.addr, Version::Http1);
    let post = |ct: &'static str, body: &[u8]| connect.post(TOKEN, ct, body.to_vec(), &[]);

    let malformed = post("application/json", b"{\"parameters\": ").await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json()["code"], "invalid_argument");
    let message = malformed.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("authlete.v1.TokenRequest"), "{message}");

    let unknown = post("application/json", br#"{"parameters":"x","grantType":"y"}"#).await;
    assert_eq!(unknown.status, 400);
    let message = unknown.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("unknown field `grantType`"), "{message}");

    let text = post("text/plain", b"grant_type=x").await;
    assert_eq!(text.status, 415);
    assert!(
        text.header("accept-post")
            .unwrap()
            .contains("application/json")
    );
    assert_eq!(text.json()["code"], "invalid_argument");

    let max = ServerOptions::default().max_message_bytes;
    let big = json!({"parameters": "a".repeat(max)}).to_string();
    let oversized = post("application/json", big.as_bytes()).await;
    assert_eq!(oversized.status, 429);
    let body = oversized.json();
    assert_eq!(body["code"], "resource_exhausted");
    assert_eq!(body["details"][0]["debug"]["reason"], "REQUEST_TOO_LARGE");

    let version = [("connect-protocol-version", "2")];
    let v2 = connect.post(TOKEN, "application/json", b"{}".to_vec(), &version);
    assert_eq!(v2.await.status, 400);
    env.fake.assert_no_request();
}

#[tokio::test]
async fn connect_timeout_ms_is_the_deadline() {
    let env = start(V3).await;
    let slow = Scripted::new(200, fixture("token/ok.json")).delay(Duration::from_secs(3));
    env.fake.script("/auth/token", slow);
    let connect = Connect::new(env.addr, Version::Http1);
    let started = Instant::now();
    let timeout = [("connect-timeout-ms", "200")];
    let a = connect
        .json(TOKEN, &json!({"parameters": "grant_type=x"}), &timeout)
        .await;
    let elapsed = started.elapsed();
    assert_eq!(a.status, 504, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["code"], "deadline_exceeded");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    let bad = [("connect-timeout-ms", "soon")];
    let b = connect.json(TOKEN, &json!({}), &bad).await;
    assert_eq!(
        (b.status, b.json()["code"].clone()),
        (400, json!("invalid_argument"))
    );
}
