//! Authlete replies that are too large, not HTTP, or cut short: each fails
//! with a documented code and reason, and a huge one is never buffered.

mod common;

use std::time::Duration;

use authlete_grpc::pb;
use common::raw_upstream::{Misbehaviour, RawUpstream};
use common::*;
use tonic::Code;
use tonic_types::StatusExt;

/// The peak resident memory of this process, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

async fn configuration_error(env: &Env) -> tonic::Status {
    env.discovery()
        .service_configuration(pb::ServiceConfigurationRequest::default())
        .await
        .expect_err("an error")
}

#[track_caller]
fn assert_reason(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, reason, "{status:?}");
    assert_eq!(info.metadata["api"], "/service/configuration");
}

#[tokio::test]
async fn a_64_mib_reply_fails_as_bad_reply_without_being_buffered() {
    let upstream = RawUpstream::start(Misbehaviour::Huge(64 * 1024 * 1024)).await;
    let env = Setup::new(V3).base_url(upstream.base_url()).start().await;
    // Warm the channel and the pools before measuring.
    assert_eq!(
        env.health_of("").await,
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );
    let before = vm_hwm_kib();

    let err = configuration_error(&env).await;

    let after = vm_hwm_kib();
    assert_reason(&err, Code::Internal, "AUTHLETE_BAD_REPLY");
    assert!(
        err.message().contains("larger than 4194304 bytes"),
        "{}",
        err.message()
    );
    assert!(
        after.saturating_sub(before) < 20 * 1024,
        "VmHWM grew from {before} KiB to {after} KiB"
    );
}

#[tokio::test]
async fn a_reply_that_is_not_http_is_bad_reply() {
    let upstream = RawUpstream::start(Misbehaviour::NotHttp).await;
    let env = Setup::new(V2).base_url(upstream.base_url()).start().await;
    let err = configuration_error(&env).await;
    assert_reason(&err, Code::Internal, "AUTHLETE_BAD_REPLY");
    assert!(err.message().contains("not HTTP"), "{}", err.message());
}

#[tokio::test]
async fn a_body_cut_mid_way_is_connection_lost() {
    let upstream = RawUpstream::start(Misbehaviour::CutBody).await;
    let env = Setup::new(V3)
        .request_timeout(Duration::from_secs(5))
        .base_url(upstream.base_url())
        .start()
        .await;
    let err = configuration_error(&env).await;
    assert_reason(&err, Code::Unavailable, "AUTHLETE_CONNECTION_LOST");
}

#[tokio::test]
async fn a_reply_over_a_smaller_bound_fails_and_one_under_it_passes() {
    let env = Setup::new(V2).max_reply_bytes(1024).start().await;
    env.fake.reply(
        "/service/configuration",
        200,
        format!(r#"{{"issuer":"{}"}}"#, "x".repeat(2000)),
    );
    let err = configuration_error(&env).await;
    assert_reason(&err, Code::Internal, "AUTHLETE_BAD_REPLY");
    env.fake.reply(
        "/service/configuration",
        200,
        r#"{"issuer":"https://as.example"}"#,
    );
    env.discovery()
        .service_configuration(pb::ServiceConfigurationRequest::default())
        .await
        .expect("a reply under the bound");
}
