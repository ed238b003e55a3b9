//! Prometheus metrics through the real server: a known mix of RPCs (OK,
//! INVALID_ARGUMENT, a refused caller, an Authlete 503, an unknown action,
//! a forged continuation, health), then `/metrics` scraped over HTTP holds
//! exactly those calls under the right labels.

mod common;

use std::sync::Arc;

use authlete_grpc::auth::keys::hash_hex;
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy};
use authlete_grpc::metrics::{self, Metrics};
use authlete_grpc::pb::{self, token_decision_request::Decision};
use authlete_grpc::server::ServerOptions;
use common::*;
use tokio::net::TcpListener;
use tonic::Code;

const KEY: &str = "metrics-test-caller-key-0123";

/// A request from the `web` caller.
fn authed<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    request
}

fn caller_auth() -> Arc<CallerAuth> {
    let policy = r#"
[callers.web]
allow = ["authlete.v1.TokenService", "authlete.v1.IntrospectionService"]
"#;
    Arc::new(CallerAuth {
        keys: CallerKeys::parse(&format!("web={}", hash_hex(KEY))).unwrap(),
        xfcc: None,
        policy: Policy::parse(policy).unwrap(),
    })
}

/// A server with metrics and caller authentication, and its `/metrics` URL.
pub async fn metered_env(version: authlete_grpc::backend::ApiVersion) -> (Env, String) {
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

async fn scrape(url: &str, accept: &str) -> (String, String) {
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
fn value(text: &str, series: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"));
    line[series.len()..].trim().parse().unwrap()
}

fn introspection() -> pb::IntrospectionRequest {
    pb::IntrospectionRequest {
        token: "SECRET-access-token-metrics".to_owned(),
        ..Default::default()
    }
}

/// Runs the known mix: two OK introspections (one with an unknown action),
/// a token RPC Authlete answers 503, an invalid argument, a forged
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
        .expect_err("a forged continuation");
    assert_eq!(status.code(), Code::InvalidArgument);

    let status = env
        .introspection()
        .introspection(introspection())
        .await
        .expect_err("no caller key");
    assert_eq!(status.code(), Code::Unauthenticated);

    env.health_of("").await;
}

const INTROSPECTION: &str = r#"grpc_type="unary",grpc_service="authlete.v1.IntrospectionService",grpc_method="Introspection""#;
const TOKEN: &str =
    r#"grpc_type="unary",grpc_service="authlete.v1.TokenService",grpc_method="Token""#;
const DECISION: &str =
    r#"grpc_type="unary",grpc_service="authlete.v1.TokenService",grpc_method="TokenDecision""#;
const HEALTH: &str =
    r#"grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check""#;

#[tokio::test]
async fn the_scrape_counts_exactly_the_calls_made() {
    let (env, url) = metered_env(V2).await;
    known_mix(&env).await;
    let (content_type, text) = scrape(&url, "application/openmetrics-text;version=1.0.0").await;
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );

    let started = |labels: &str| value(&text, &format!("grpc_server_started_total{{{labels}}}"));
    let handled = |labels: &str, code: &str| {
        value(
            &text,
            &format!("grpc_server_handled_total{{{labels},grpc_code=\"{code}\"}}"),
        )
    };
    assert_eq!(started(INTROSPECTION), 3.0);
    assert_eq!(handled(INTROSPECTION, "OK"), 2.0);
    assert_eq!(handled(INTROSPECTION, "Unauthenticated"), 1.0);
    assert_eq!(started(TOKEN), 1.0);
    assert_eq!(handled(TOKEN, "Unavailable"), 1.0);
    assert_eq!(started(DECISION), 2.0);
    assert_eq!(handled(DECISION, "InvalidArgument"), 2.0);
    assert_eq!(handled(HEALTH, "OK"), 1.0);
    let handled_lines = text
        .lines()
        .filter(|l| l.starts_with("grpc_server_handled_total{"))
        .count();
    assert_eq!(handled_lines, 5, "no other method or code:\n{text}");

    // One message each way for every unary call that reached a handler; the
    // refused call was answered before its message was read.
    let received = |labels: &str| {
        value(
            &text,
            &format!("grpc_server_msg_received_total{{{labels}}}"),
        )
    };
    let sent = |labels: &str| value(&text, &format!("grpc_server_msg_sent_total{{{labels}}}"));
    assert_eq!(sent(INTROSPECTION), 2.0);
    assert!(received(INTROSPECTION) >= 2.0);
    assert_eq!(sent(TOKEN), 0.0);
    assert_eq!(sent(HEALTH), 1.0);

    let count = |labels: &str| {
        value(
            &text,
            &format!("grpc_server_handling_seconds_count{{{labels}}}"),
        )
    };
    assert_eq!(count(INTROSPECTION), 3.0);
    assert_eq!(count(TOKEN), 1.0);
    assert_eq!(count(DECISION), 2.0);
    assert_eq!(
        value(
            &text,
            &format!("grpc_server_handling_seconds_bucket{{le=\"+Inf\",{INTROSPECTION}}}")
        ),
        3.0
    );

    let rpc = "authlete.v1.IntrospectionService/Introspection";
    let action = |a: &str| {
        value(
            &text,
            &format!("authlete_grpc_actions_total{{rpc=\"{rpc}\",action=\"{a}\"}}"),
        )
    };
    assert_eq!(action("OK"), 1.0);
    assert_eq!(action("UNKNOWN"), 1.0);
    assert!(
        !text.contains("BRAND_NEW_ACTION"),
        "unknown actions are UNKNOWN"
    );
    assert_eq!(
        value(
            &text,
            r#"authlete_grpc_caller_refusals_total{reason="unauthenticated"}"#
        ),
        1.0
    );
    let refusals = text
        .lines()
        .filter(|l| l.starts_with("authlete_grpc_continuation_refusals_total{"))
        .count();
    assert_eq!(
        refusals, 1,
        "a missing continuation is bad input, not a refusal"
    );
    assert_eq!(
        value(
            &text,
            r#"authlete_grpc_continuation_refusals_total{reason="forged"}"#
        ),
        1.0
    );

    let upstream = |api: &str, status: &str| {
        value(
            &text,
            &format!("authlete_grpc_upstream_requests_total{{api=\"{api}\",status=\"{status}\"}}"),
        )
    };
    assert_eq!(upstream("/auth/introspection", "200"), 2.0);
    assert_eq!(upstream("/auth/token", "503"), 1.0);
    assert_eq!(
        value(
            &text,
            r#"authlete_grpc_upstream_duration_seconds_count{api="/auth/introspection"}"#
        ),
        2.0
    );
    assert!(!text.contains("SECRET"), "no request contents in /metrics");
}

#[tokio::test]
async fn a_plain_scraper_gets_the_prometheus_text_type() {
    let (_env, url) = metered_env(V3).await;
    let (content_type, text) = scrape(&url, "text/plain").await;
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        text.contains("# TYPE authlete_grpc_build_info gauge"),
        "{text}"
    );
    let missing = reqwest::get(url.replace("/metrics", "/other"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn an_unknown_path_is_counted_under_unknown_never_its_name() {
    let (env, url) = metered_env(V2).await;
    let mut grpc = tonic::client::Grpc::new(env.channel.clone());
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/secret.Service/SECRET-method");
    let codec =
        tonic_prost::ProstCodec::<pb::IntrospectionRequest, pb::IntrospectionResponse>::default();
    let status = grpc
        .unary(authed(introspection()), path, codec)
        .await
        .expect_err("no such method");
    assert!(
        matches!(
            status.code(),
            Code::Unauthenticated | Code::PermissionDenied | Code::Unimplemented
        ),
        "{status:?}"
    );
    let (_, text) = scrape(&url, "application/openmetrics-text").await;
    assert!(!text.contains("SECRET"), "{text}");
    assert_eq!(
        value(
            &text,
            r#"grpc_server_started_total{grpc_type="unknown",grpc_service="unknown",grpc_method="unknown"}"#
        ),
        1.0
    );
}
