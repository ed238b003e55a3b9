//! The caller's deadline bounds the Authlete call; the circuit breaker fails
//! fast while Authlete is unreachable and closes after one good probe.

mod common;

use std::time::{Duration, Instant};

use authlete_grpc::backend::{BreakerOptions, ResilienceMetrics, ResilienceOptions};
use common::raw_upstream::{Misbehaviour, RawUpstream};
use common::resilience::{self, introspection, retry_delay};
use common::*;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

#[tokio::test]
async fn a_200_ms_deadline_against_a_2_s_upstream_ends_in_200_ms_and_closes_the_connection() {
    let mut upstream = RawUpstream::start(Misbehaviour::Hang).await;
    // A wide margin: the client's own timer (tonic enforces grpc-timeout on
    // both sides) never beats the service's answer, even on a loaded machine.
    let options = ResilienceOptions {
        deadline_margin: Duration::from_millis(60),
        ..resilience::options()
    };
    let (setup, _) = resilience::resilient(V3, options);
    let env = setup.base_url(upstream.base_url()).start().await;

    let mut request = tonic::Request::new(introspection());
    request.set_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let err = env
        .introspection()
        .introspection(request)
        .await
        .expect_err("deadline");
    let elapsed = started.elapsed();

    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    let info = err
        .get_details_error_info()
        .expect("ErrorInfo from the service, not the client");
    assert_eq!(info.reason, "DEADLINE_EXCEEDED");
    assert!(
        elapsed >= Duration::from_millis(120) && elapsed < Duration::from_millis(1000),
        "took {elapsed:?}"
    );
    assert!(
        upstream.closed_within(Duration::from_millis(500)).await,
        "the upstream connection is closed"
    );
}

#[tokio::test]
async fn without_a_deadline_the_request_timeout_applies() {
    let upstream = RawUpstream::start(Misbehaviour::Hang).await;
    let options = ResilienceOptions {
        request_timeout: Duration::from_millis(300),
        ..resilience::options()
    };
    let (setup, _) = resilience::resilient(V2, options);
    let env = setup.base_url(upstream.base_url()).start().await;
    let err = env
        .introspection()
        .introspection(introspection())
        .await
        .expect_err("timeout");
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(
        err.get_details_error_info().unwrap().reason,
        "AUTHLETE_TIMEOUT"
    );
}

fn breaker_options() -> ResilienceOptions {
    ResilienceOptions {
        retries: 0,
        breaker: BreakerOptions {
            failures: 3,
            open: Duration::from_millis(300),
            max_open: Duration::from_secs(2),
        },
        ..resilience::options()
    }
}

#[tokio::test]
async fn refused_connections_open_the_breaker_and_one_probe_closes_it() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (setup, metrics) = resilience::resilient(V3, breaker_options());
    let env = setup.base_url(format!("http://{closed}")).start().await;

    for _ in 0..3 {
        let err = env
            .introspection()
            .introspection(introspection())
            .await
            .expect_err("refused");
        assert_eq!(
            err.get_details_error_info().unwrap().reason,
            "AUTHLETE_UNREACHABLE"
        );
        assert_eq!(retry_delay(&err), None, "a real connection failure");
    }
    assert_eq!(metrics.breaker_state.get(), 1, "open");

    // Open: fail fast, with RetryInfo, never touching the network.
    let started = Instant::now();
    let n = 50;
    for _ in 0..n {
        let err = env
            .introspection()
            .introspection(introspection())
            .await
            .expect_err("open");
        assert_eq!(err.code(), Code::Unavailable);
        assert_eq!(
            err.get_details_error_info().unwrap().reason,
            "AUTHLETE_UNREACHABLE"
        );
        let delay = retry_delay(&err).expect("RetryInfo");
        assert!(delay <= Duration::from_millis(300), "{delay:?}");
    }
    let per_call = started.elapsed() / n;
    let rejected = ResilienceMetrics::value(&metrics.breaker_rejections, "/auth/introspection");
    assert_eq!(rejected, u64::from(n));
    assert_eq!(
        env.health_of("").await,
        ServingStatus::Serving,
        "health stays SERVING"
    );
    println!("fail-fast RPC while open: {per_call:?} (whole gRPC round trip)");
    assert!(
        per_call < Duration::from_millis(20),
        "{per_call:?} per call"
    );

    // Authlete comes back on the same address; after the window, one probe closes it.
    let fake = FakeAuthlete::start_on(closed).await;
    fake.reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    tokio::time::sleep(Duration::from_millis(320)).await;
    env.introspection()
        .introspection(introspection())
        .await
        .expect("the probe goes through");
    assert_eq!(metrics.breaker_state.get(), 0, "closed");
    env.introspection()
        .introspection(introspection())
        .await
        .expect("closed");
    assert_eq!(fake.requests().len(), 2);
}
