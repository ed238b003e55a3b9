//! Retries toward Authlete: only idempotent APIs, only after a 503, 429 or a
//! connection failure, honouring Retry-After and the caller's deadline,
//! within the retry budget.

mod common;

use std::time::{Duration, Instant};

use authlete_grpc::backend::ResilienceMetrics;
use authlete_grpc::pb;
use common::resilience::{self, count, introspection, retry_delay};
use common::*;
use tonic::Code;
use tonic_types::StatusExt;

const INTROSPECTION: &str = "/auth/introspection";

fn unavailable() -> Scripted {
    Scripted::new(503, r#"{"resultCode":"A001","resultMessage":"busy"}"#)
}

#[tokio::test]
async fn a_503_then_200_on_introspection_succeeds_with_two_upstream_calls() {
    let (setup, metrics) = resilience::resilient(V3, resilience::options());
    let env = setup.start().await;
    env.fake.queue(INTROSPECTION, [unavailable()]);
    env.fake
        .reply(INTROSPECTION, 200, fixture("introspection/ok.json"));

    let r = env
        .introspection()
        .introspection(introspection())
        .await
        .expect("OK after a retry");

    assert_eq!(r.into_inner().action_name, "OK");
    assert_eq!(env.fake.requests().len(), 2);
    assert_eq!(count(&metrics, |m| &m.retries, INTROSPECTION), 1);
}

#[tokio::test]
async fn token_issue_and_revocation_are_never_retried() {
    let (setup, metrics) = resilience::resilient(V2, resilience::options());
    let env = setup.start().await;
    for path in [
        "/auth/token",
        "/auth/authorization/issue",
        "/auth/revocation",
    ] {
        env.fake.queue(path, [unavailable()]);
        env.fake.reply(path, 200, r#"{"action":"OK"}"#);
    }
    let token = env
        .token()
        .token(pb::TokenRequest {
            parameters: "grant_type=client_credentials".to_owned(),
            ..Default::default()
        })
        .await
        .map(|_| ());
    let issue = env
        .authorization()
        .authorization_issue(pb::AuthorizationIssueRequest {
            ticket: "t-1".to_owned(),
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .map(|_| ());
    let revocation = env
        .revocation()
        .revocation(pb::RevocationRequest {
            parameters: "token=abc".to_owned(),
            ..Default::default()
        })
        .await
        .map(|_| ());
    let results = [
        ("/auth/token", token),
        ("/auth/authorization/issue", issue),
        ("/auth/revocation", revocation),
    ];
    for (path, result) in results {
        let err = result.expect_err(path);
        assert_eq!(err.code(), Code::Unavailable, "{path}: {err:?}");
        let sent = env
            .fake
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(path))
            .count();
        assert_eq!(sent, 1, "{path} is called once");
        assert_eq!(count(&metrics, |m| &m.retries, path), 0);
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (setup, _) = resilience::resilient(V3, resilience::options());
    let env = setup.start().await;
    env.fake
        .queue(INTROSPECTION, [unavailable().header("Retry-After", "1")]);
    env.fake
        .reply(INTROSPECTION, 200, fixture("introspection/ok.json"));

    let started = Instant::now();
    env.introspection()
        .introspection(introspection())
        .await
        .expect("OK after a retry");

    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1),
        "retried after {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(env.fake.requests().len(), 2);
}

#[tokio::test]
async fn a_caller_deadline_shorter_than_the_backoff_stops_retrying() {
    let (setup, _) = resilience::resilient(V3, resilience::options());
    let env = setup.start().await;
    env.fake
        .script(INTROSPECTION, unavailable().header("Retry-After", "1"));

    let mut request = tonic::Request::new(introspection());
    request.set_timeout(Duration::from_millis(800));
    let started = Instant::now();
    let err = env
        .introspection()
        .introspection(request)
        .await
        .expect_err("an error");

    assert!(
        started.elapsed() < Duration::from_millis(400),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert_eq!(
        err.get_details_error_info().unwrap().reason,
        "AUTHLETE_SERVER_ERROR"
    );
    assert_eq!(retry_delay(&err), Some(Duration::from_secs(1)));
    assert_eq!(env.fake.requests().len(), 1, "no retry");
}

#[tokio::test]
async fn the_budget_caps_retries_under_a_sustained_503() {
    let (setup, metrics) = resilience::resilient(V2, resilience::options());
    let env = setup.start().await;
    env.fake.script(INTROSPECTION, unavailable());

    let calls = 100;
    for _ in 0..calls {
        env.introspection()
            .introspection(introspection())
            .await
            .expect_err("503");
    }

    let sent = env.fake.requests().len() as u64;
    let retries = count(&metrics, |m| &m.retries, INTROSPECTION);
    assert_eq!(sent, calls + retries);
    // Without a budget: 200 retries. With 10% of 100 calls and the reserve
    // of one a second over 10 s: about 20.
    assert!((10..=25).contains(&retries), "{retries} retries");
    assert!(ResilienceMetrics::value(&metrics.retry_budget_exhausted, INTROSPECTION) > 0);
}

#[tokio::test]
async fn a_429_and_a_503_carry_retry_info_from_retry_after() {
    let env = start(V3).await;
    for (status, after) in [(429, "7"), (503, "120")] {
        env.fake.script(
            "/auth/token",
            Scripted::new(status, "{}").header("Retry-After", after),
        );
        let err = env
            .token()
            .token(pb::TokenRequest {
                parameters: "grant_type=client_credentials".to_owned(),
                ..Default::default()
            })
            .await
            .expect_err("an error");
        assert_eq!(err.code(), Code::Unavailable);
        let secs: u64 = after.parse().unwrap();
        assert_eq!(
            retry_delay(&err),
            Some(Duration::from_secs(secs)),
            "{status}"
        );
    }
    env.fake.script(
        "/auth/token",
        Scripted::new(500, "{}").header("Retry-After", "7"),
    );
    let err = env
        .token()
        .token(pb::TokenRequest::default())
        .await
        .expect_err("500");
    assert_eq!(retry_delay(&err), None, "only 429 and 503 carry RetryInfo");
}
