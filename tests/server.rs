//! Operations: health, reflection, graceful shutdown and message limits.

mod common;

use std::time::{Duration, Instant};

use authlete_grpc::pb;
use authlete_grpc::server::{SERVICE_NAMES, ServerOptions};
use common::*;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

#[tokio::test]
async fn health_is_serving_overall_and_per_service() {
    let env = start(V2).await;
    assert_eq!(env.health_of("").await, ServingStatus::Serving);
    assert_eq!(SERVICE_NAMES.len(), 18);
    assert!(SERVICE_NAMES.contains(&"authlete.v1.BackchannelLogoutService"));
    assert!(SERVICE_NAMES.contains(&"authlete.v1.ClientAttestationService"));
    assert!(SERVICE_NAMES.contains(&"authlete.v1.BackchannelAuthenticationService"));
    assert!(SERVICE_NAMES.contains(&"authlete.v1.DeviceFlowService"));
    for name in SERVICE_NAMES {
        assert!(name.starts_with("authlete.v1."), "{name}");
        assert_eq!(env.health_of(name).await, ServingStatus::Serving, "{name}");
    }
    let unknown = env
        .health()
        .check(HealthCheckRequest {
            service: "authlete.v1.NoSuchService".to_owned(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn reflection_v1_lists_every_service() {
    let env = start(V3).await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = ServerReflectionClient::new(env.channel.clone())
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let reply = replies
        .message()
        .await
        .expect("a reply")
        .expect("one message");
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("not a list_services reply: {reply:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for name in SERVICE_NAMES
        .iter()
        .copied()
        .chain(["grpc.health.v1.Health"])
    {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}

#[tokio::test]
async fn shutdown_goes_not_serving_for_the_delay_then_completes() {
    let delay = Duration::from_millis(300);
    let mut env = Setup::new(V2)
        .server(ServerOptions {
            shutdown_delay: delay,
            drain_timeout: Duration::from_secs(5),
            ..ServerOptions::default()
        })
        .start()
        .await;
    let mut watch = env
        .health()
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("status").expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32);

    let started = Instant::now();
    env.begin_shutdown();
    let next = tokio::time::timeout(Duration::from_secs(2), watch.message())
        .await
        .expect("health changes promptly")
        .expect("status")
        .expect("a status");
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    drop(watch);

    // Still answering during the delay, and saying NOT_SERVING everywhere.
    assert_eq!(env.health_of("").await, ServingStatus::NotServing);
    for name in SERVICE_NAMES {
        assert_eq!(
            env.health_of(name).await,
            ServingStatus::NotServing,
            "{name}"
        );
    }

    let served = tokio::time::timeout(Duration::from_secs(4), env.server_task())
        .await
        .expect("serve completes after the delay");
    served.expect("serve ends cleanly");
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
}

#[tokio::test]
async fn oversized_request_is_rejected_before_authlete() {
    let env = Setup::new(V3)
        .server(ServerOptions {
            max_message_bytes: 1024,
            ..ServerOptions::default()
        })
        .start()
        .await;
    env.fake.reply("/auth/token", 200, fixture("token/ok.json"));

    let err = env
        .token()
        .token(pb::TokenRequest {
            parameters: format!("grant_type=client_credentials&pad={}", "x".repeat(4096)),
            ..Default::default()
        })
        .await
        .expect_err("too large");
    assert!(
        matches!(err.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{err:?}"
    );
    env.fake.assert_no_request();

    // A request within the limit still works.
    env.token()
        .token(pb::TokenRequest {
            parameters: "grant_type=client_credentials".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK");
    assert_eq!(env.fake.requests().len(), 1);
}
