//! The discovery cache through the real server: single flight, TTL and
//! refresh-ahead on an injectable clock, stale-if-error, distinct keys.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use authlete_grpc::backend::{CacheOptions, ResilienceMetrics};
use authlete_grpc::cache::ManualClock;
use authlete_grpc::pb;
use common::resilience;
use common::*;
use tonic::Code;

const CONFIGURATION: &str = "/service/configuration";
const TTL: Duration = Duration::from_secs(10);
const STALE: Duration = Duration::from_secs(60);

fn document(n: u32) -> String {
    format!(r#"{{"issuer":"https://as.example","version":{n}}}"#)
}

async fn started() -> (Env, ResilienceMetrics, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let (setup, metrics) = resilience::cached(
        V3,
        CacheOptions {
            ttl: TTL,
            stale_if_error: STALE,
            clock: clock.clone(),
            ..CacheOptions::default()
        },
    );
    (setup.start().await, metrics, clock)
}

async fn configuration(env: &Env) -> Result<String, tonic::Status> {
    env.discovery()
        .service_configuration(pb::ServiceConfigurationRequest::default())
        .await
        .map(|r| r.into_inner().authlete_response)
}

fn upstream_calls(env: &Env) -> usize {
    env.fake.requests().len()
}

#[tokio::test]
async fn a_hundred_concurrent_calls_after_expiry_make_one_upstream_call() {
    let (env, metrics, clock) = started().await;
    env.fake.reply(CONFIGURATION, 200, document(1));
    assert_eq!(configuration(&env).await.unwrap(), document(1));
    clock.advance(TTL + Duration::from_secs(1));
    env.fake.script(
        CONFIGURATION,
        Scripted::new(200, document(2)).delay(Duration::from_millis(300)),
    );

    let calls: Vec<_> = (0..100)
        .map(|_| {
            let mut client = env.discovery();
            tokio::spawn(async move {
                client
                    .service_configuration(pb::ServiceConfigurationRequest::default())
                    .await
                    .map(|r| r.into_inner().authlete_response)
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().expect("OK"), document(2));
    }

    assert_eq!(
        upstream_calls(&env),
        2,
        "one call to fill, one after expiry"
    );
    assert_eq!(
        ResilienceMetrics::value(&metrics.cache_misses, CONFIGURATION),
        2
    );
    assert_eq!(
        ResilienceMetrics::value(&metrics.cache_hits, CONFIGURATION),
        99
    );
}

#[tokio::test]
async fn entries_expire_after_the_ttl_and_hot_ones_refresh_ahead_in_the_background() {
    let (env, metrics, clock) = started().await;
    env.fake.reply(CONFIGURATION, 200, document(1));
    configuration(&env).await.unwrap();
    clock.advance(Duration::from_secs(5));
    assert_eq!(configuration(&env).await.unwrap(), document(1));
    assert_eq!(upstream_calls(&env), 1, "fresh: served from the cache");

    // In the last tenth of the TTL: served at once, refreshed behind.
    clock.advance(Duration::from_millis(4500));
    let delay = Duration::from_secs(1);
    env.fake
        .script(CONFIGURATION, Scripted::new(200, document(2)).delay(delay));
    let started = Instant::now();
    assert_eq!(configuration(&env).await.unwrap(), document(1));
    assert!(
        started.elapsed() < delay,
        "the caller does not wait for the refresh"
    );
    assert_eq!(
        configuration(&env).await.unwrap(),
        document(1),
        "served while refreshing"
    );
    // Wait for the refresh to land: its reply replaces the entry.
    let until = Instant::now() + Duration::from_secs(10);
    while configuration(&env).await.unwrap() != document(2) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(upstream_calls(&env), 2, "one background refresh");
    assert_eq!(
        ResilienceMetrics::value(&metrics.cache_refreshes, CONFIGURATION),
        1
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        configuration(&env).await.unwrap(),
        document(2),
        "the refreshed entry"
    );
    assert_eq!(upstream_calls(&env), 2);

    // Past the TTL of the refreshed entry: fetched again.
    env.fake.reply(CONFIGURATION, 200, document(3));
    clock.advance(TTL);
    assert_eq!(configuration(&env).await.unwrap(), document(3));
    assert_eq!(upstream_calls(&env), 3);
}

#[tokio::test]
async fn an_expired_entry_stands_in_for_a_failure_within_the_window_only() {
    let (env, metrics, clock) = started().await;
    env.fake.reply(CONFIGURATION, 200, document(1));
    configuration(&env).await.unwrap();
    env.fake.reply(CONFIGURATION, 503, "{}");

    clock.advance(TTL + Duration::from_secs(30));
    assert_eq!(
        configuration(&env).await.unwrap(),
        document(1),
        "stale-if-error"
    );
    assert_eq!(
        ResilienceMetrics::value(&metrics.cache_stale_served, CONFIGURATION),
        1
    );

    clock.advance(STALE);
    let err = configuration(&env)
        .await
        .expect_err("past the stale window");
    assert_eq!(err.code(), Code::Unavailable);

    // A reply that is wrong rather than unavailable gets no stale stand-in.
    let (env, _, clock) = started().await;
    env.fake.reply(CONFIGURATION, 200, document(1));
    configuration(&env).await.unwrap();
    env.fake.reply(CONFIGURATION, 400, "{}");
    clock.advance(TTL);
    assert_eq!(
        configuration(&env).await.unwrap_err().code(),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn different_request_fields_never_share_an_entry() {
    let (env, _, _) = started().await;
    env.fake.reply(CONFIGURATION, 200, document(1));
    env.fake.reply("/service/jwks/get", 200, r#"{"keys":[]}"#);
    let patch = r#"[{"op":"add","path":"/x","value":1}]"#;
    let configurations = [(false, ""), (true, ""), (false, patch), (true, patch)];
    let jwks = [false, true];
    for _ in 0..2 {
        for (pretty, patch) in configurations {
            let request = pb::ServiceConfigurationRequest {
                pretty,
                patch: patch.to_owned(),
            };
            env.discovery()
                .service_configuration(request)
                .await
                .expect("OK");
        }
        for include_private_keys in jwks {
            let request = pb::ServiceJwksRequest {
                pretty: false,
                include_private_keys,
            };
            env.discovery().service_jwks(request).await.expect("OK");
        }
        assert_eq!(
            upstream_calls(&env),
            6,
            "one upstream call per distinct request"
        );
    }
}

#[tokio::test]
async fn a_zero_ttl_turns_the_cache_off() {
    let (setup, _) = resilience::cached(
        V2,
        CacheOptions {
            ttl: Duration::ZERO,
            ..CacheOptions::default()
        },
    );
    let env = setup.start().await;
    env.fake.reply(CONFIGURATION, 200, document(1));
    for _ in 0..3 {
        configuration(&env).await.unwrap();
    }
    assert_eq!(upstream_calls(&env), 3);
}
