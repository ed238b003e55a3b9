//! Prometheus metrics through the real server: a known mix of RPCs (OK,
//! INVALID_ARGUMENT, a refused caller, an Authlete 503, an unknown action,
//! a continuation this service never handed out, health), then `/metrics` scraped over HTTP holds
//! exactly those calls under the right labels.

mod common;
#[path = "common/metered.rs"]
mod metered;

use authlete_grpc::pb;
use common::*;
use metered::*;
use tonic::Code;

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
            r#"authlete_grpc_continuation_refusals_total{reason="malformed"}"#
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

#[tokio::test]
async fn the_histograms_time_the_whole_call() {
    let (env, url) = metered_env(V2).await;
    env.fake.script(
        "/auth/introspection",
        Scripted::new(200, fixture("introspection/ok.json"))
            .delay(std::time::Duration::from_millis(150)),
    );
    env.introspection()
        .introspection(authed(introspection()))
        .await
        .expect("OK");
    let (_, text) = scrape(&url, "application/openmetrics-text").await;
    let bucket = |le: &str| {
        value(
            &text,
            &format!("grpc_server_handling_seconds_bucket{{le=\"{le}\",{INTROSPECTION}}}"),
        )
    };
    assert_eq!(bucket("0.1"), 0.0, "the call took 150 ms:\n{text}");
    assert_eq!(bucket("0.25"), 1.0);
    let upstream = |le: &str| {
        value(
            &text,
            &format!(
                "authlete_grpc_upstream_duration_seconds_bucket{{le=\"{le}\",api=\"/auth/introspection\"}}"
            ),
        )
    };
    assert_eq!(upstream("0.1"), 0.0);
    assert_eq!(upstream("0.25"), 1.0);
}
