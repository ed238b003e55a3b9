//! What the metrics tests share: a server with metrics and caller
//! authentication, its `/metrics` URL, a scrape, and a known mix of RPCs.

#![allow(dead_code)]

use std::sync::Arc;

use authlete_grpc::auth::keys::hash_hex;
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy};
use authlete_grpc::backend::ApiVersion;
use authlete_grpc::metrics::{self, Metrics};
use authlete_grpc::pb::{self, token_decision_request::Decision};
use authlete_grpc::server::ServerOptions;
use tokio::net::TcpListener;
use tonic::Code;

use super::common::*;

pub const KEY: &str = "metrics-test-caller-key-0123";

/// A request from the `web` caller.
pub fn authed<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    request
}

fn caller_auth() -> Arc<CallerAuth> {
    let policy = r#"
[callers."key:web"]
allow = ["authlete.v1.TokenService", "authlete.v1.IntrospectionService"]
"#;
    Arc::new(CallerAuth {
        keys: CallerKeys::parse(&format!("web={}", hash_hex(KEY))).unwrap(),
        xfcc: None,
        policy: Policy::parse(policy).unwrap(),
    })
}

/// A server with metrics and caller authentication, and its `/metrics` URL.
pub async fn metered_env(version: ApiVersion) -> (Env, String) {
    let metrics = Arc::new(Metrics::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(metrics::serve_endpoint(
        listener,
        metrics.clone(),
        std::future::pending(),
    ));
    let base = Setup::new(version).server;
    let env = Setup::new(version)
        .server(ServerOptions {
            metrics: Some(metrics),
            caller_auth: Some(caller_auth()),
            ..base
        })
        .start()
        .await;
    (env, url)
}

pub async fn scrape(url: &str, accept: &str) -> (String, String) {
    let response = reqwest::Client::new()
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .expect("the metrics endpoint answers");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.unwrap())
}

/// The value of the sample `name{labels}` (labels in registration order).
#[track_caller]
pub fn value(text: &str, series: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"));
    line[series.len()..].trim().parse().unwrap()
}

pub fn introspection() -> pb::IntrospectionRequest {
    pb::IntrospectionRequest {
        token: "SECRET-access-token-metrics".to_owned(),
        ..Default::default()
    }
}

/// Runs the known mix: two OK introspections (one with an unknown action),
/// a token RPC Authlete answers 503, an invalid argument, a never handed out
/// continuation, a refused caller and a health check.
pub async fn known_mix(env: &Env) {
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    env.introspection()
        .introspection(authed(introspection()))
        .await
        .expect("OK");
    env.fake.reply(
        "/auth/introspection",
        200,
        r#"{"action":"BRAND_NEW_ACTION","resultCode":"A000","resultMessage":"new"}"#,
    );
    let r = env
        .introspection()
        .introspection(authed(introspection()))
        .await
        .expect("an unknown action is still an OAuth outcome");
    assert_eq!(r.into_inner().action_name, "BRAND_NEW_ACTION");

    env.fake.reply(
        "/auth/token",
        503,
        r#"{"resultCode":"A001","resultMessage":"down"}"#,
    );
    let status = env
        .token()
        .token(authed(pb::TokenRequest {
            parameters: "grant_type=client_credentials".to_owned(),
            ..Default::default()
        }))
        .await
        .expect_err("Authlete 503");
    assert_eq!(status.code(), Code::Unavailable);

    let status = env
        .token()
        .token_decision(authed(pb::TokenDecisionRequest {
            continuation: String::new(),
            decision: None,
        }))
        .await
        .expect_err("no continuation");
    assert_eq!(status.code(), Code::InvalidArgument);

    let status = env
        .token()
        .token_decision(authed(pb::TokenDecisionRequest {
            continuation: "eyJmb3JnZWQiOnRydWV9.Zm9yZ2Vk".to_owned(),
            decision: Some(Decision::Granted(pb::TokenGrant {
                subject: "john".to_owned(),
                ..Default::default()
            })),
        }))
        .await
        .expect_err("a continuation never handed out");
    assert_eq!(status.code(), Code::InvalidArgument);

    let status = env
        .introspection()
        .introspection(introspection())
        .await
        .expect_err("no caller key");
    assert_eq!(status.code(), Code::Unauthenticated);

    env.health_of("").await;
}
