//! The introspection cache through the real server against the recording
//! fake Authlete: hits for equal inputs only, never past `expiresAt` nor the
//! TTL (an injectable clock), DPoP bypass, nothing but `OK` kept, no errors
//! kept nor stale answers served, one upstream call for concurrent misses.

mod common;

use std::time::Duration;

use authlete_grpc::pb;
use common::introspected::{INTROSPECTION, TTL, request, started};
use common::*;
use tonic::Code;

const TOKEN: &str = "Ww9Tu2Bd5N8ZfCbFx1hJqL3mRkVs6YpA0eGi7QjXo4U";
const HOUR_MS: i64 = 3_600_000;

#[tokio::test]
async fn equal_inputs_are_answered_from_the_cache() {
    let c = started().await;
    let answer = c.ok(HOUR_MS);
    c.answer(answer.clone());
    for _ in 0..3 {
        assert_eq!(c.introspect(TOKEN, &["read"]).await.unwrap(), answer);
    }
    assert_eq!(
        c.upstream(),
        1,
        "one Authlete call for three equal requests"
    );
    assert_eq!(c.metrics.misses_of("stored"), 1);
    assert_eq!(c.metrics.hits_total(), 2);
}

#[tokio::test]
async fn any_other_input_is_another_entry() {
    let c = started().await;
    c.answer(c.ok(HOUR_MS));
    c.introspect(TOKEN, &["read"]).await.unwrap();
    // A lookup needing `write` never gets the answer for `read`.
    c.introspect(TOKEN, &["write"]).await.unwrap();
    c.introspect(TOKEN, &["read", "write"]).await.unwrap();
    c.introspect("another-token", &["read"]).await.unwrap();
    let with = |f: fn(&mut pb::IntrospectionRequest)| {
        let mut r = request(TOKEN, &["read"]);
        f(&mut r);
        r
    };
    for r in [
        with(|r| r.resources = vec!["https://rs.example".to_owned()]),
        with(|r| r.subject = "john".to_owned()),
        with(|r| r.acr_values = vec!["urn:acr:silver".to_owned()]),
        with(|r| r.max_age = 300),
        with(|r| r.client_certificate = "-----BEGIN CERTIFICATE-----".to_owned()),
        with(|r| r.target_uri = "https://rs.example/a".to_owned()),
    ] {
        c.introspect_with(r).await.unwrap();
    }
    assert_eq!(c.upstream(), 10, "each input set asks Authlete once");
    c.introspect(TOKEN, &["write"]).await.unwrap();
    c.introspect_with(with(|r| r.max_age = 300)).await.unwrap();
    assert_eq!(c.upstream(), 10, "and is then cached");
}

#[tokio::test]
async fn an_answer_is_never_served_past_the_tokens_expiry() {
    let c = started().await;
    let answer = c.ok(2_000);
    c.answer(answer);
    c.introspect(TOKEN, &[]).await.unwrap();
    c.clock.advance(Duration::from_millis(1_900));
    c.introspect(TOKEN, &[]).await.unwrap();
    assert_eq!(c.upstream(), 1, "still valid: from the cache");

    c.clock.advance(Duration::from_millis(200));
    c.introspect(TOKEN, &[]).await.unwrap();
    assert_eq!(c.upstream(), 2, "expired: Authlete again");
    assert_eq!(c.metrics.evictions_of("expired"), 1);
}

#[tokio::test]
async fn an_answer_is_never_served_past_the_ttl() {
    let c = started().await;
    c.answer(c.ok(24 * HOUR_MS));
    c.introspect(TOKEN, &[]).await.unwrap();
    c.clock.advance(TTL - Duration::from_millis(1));
    c.introspect(TOKEN, &[]).await.unwrap();
    assert_eq!(c.upstream(), 1);
    c.clock.advance(Duration::from_millis(1));
    c.introspect(TOKEN, &[]).await.unwrap();
    assert_eq!(c.upstream(), 2);
}

#[tokio::test]
async fn a_request_with_a_dpop_proof_always_reaches_authlete() {
    let c = started().await;
    c.answer(c.ok(HOUR_MS));
    let mut r = request(TOKEN, &["read"]);
    r.dpop = "eyJ0eXAiOiJkcG9wK2p3dCJ9.proof.sig".to_owned();
    r.htm = "GET".to_owned();
    r.htu = "https://rs.example/a".to_owned();
    for _ in 0..2 {
        c.introspect_with(r.clone()).await.unwrap();
    }
    assert_eq!(c.upstream(), 2, "a proof is single-use");
    assert_eq!(c.metrics.bypasses_of("dpop"), 2);
    let sent = c.env.fake.requests();
    assert!(sent.iter().all(|s| s.json()["dpop"] == r.dpop.as_str()));
}

#[tokio::test]
async fn answers_other_than_ok_are_not_kept() {
    let c = started().await;
    let expired = fixture_with(
        "introspection/ok.json",
        serde_json::json!({"action": "UNAUTHORIZED", "usable": false, "expiresAt": c.now_ms() + HOUR_MS}),
    );
    c.answer(expired);
    for _ in 0..2 {
        c.introspect(TOKEN, &[]).await.unwrap();
    }
    // An OK for a token already past its expiry is not kept either.
    c.answer(c.ok(-1));
    for _ in 0..2 {
        c.introspect(TOKEN, &[]).await.unwrap();
    }
    assert_eq!(c.upstream(), 4);
    assert_eq!(c.metrics.misses_of("not_stored"), 4);
    assert_eq!(c.metrics.hits_total(), 0);
}

#[tokio::test]
async fn authlete_errors_are_not_kept_and_no_stale_answer_stands_in() {
    let c = started().await;
    c.env.fake.queue(
        INTROSPECTION,
        [Scripted::new(500, r#"{"resultCode":"A001201"}"#)],
    );
    c.answer(c.ok(2_000));
    let status = c.introspect(TOKEN, &[]).await.expect_err("Authlete failed");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        c.introspect(TOKEN, &[]).await.is_ok(),
        "the error was not kept"
    );
    assert_eq!(c.upstream(), 2);
    assert_eq!(c.metrics.misses_of("error"), 1);

    // Past expiry, Authlete down: an error, never the old OK.
    c.clock.advance(Duration::from_secs(3));
    c.env.fake.reply(INTROSPECTION, 500, "{}");
    let status = c.introspect(TOKEN, &[]).await.expect_err("no stale answer");
    assert_eq!(status.code(), Code::Unavailable);
}

/// 100 callers of one key while Authlete takes 300 ms: `answer` comes from
/// one upstream call, for every caller.
async fn hundred_concurrent(c: &introspected::Cached, answer: String) {
    c.env.fake.script(
        INTROSPECTION,
        Scripted::new(200, answer.clone()).delay(Duration::from_millis(300)),
    );
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let mut client = c.env.introspection();
            tokio::spawn(async move {
                client
                    .introspection(request(TOKEN, &["read"]))
                    .await
                    .map(|r| r.into_inner().authlete_response)
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().expect("OK"), answer);
    }
    assert_eq!(c.upstream(), 1, "exactly one upstream call");
    assert_eq!(c.metrics.hits_total(), 99);
}

#[tokio::test]
async fn a_hundred_concurrent_misses_make_one_upstream_call() {
    let c = started().await;
    hundred_concurrent(&c, c.ok(HOUR_MS)).await;
    assert_eq!(c.metrics.misses_of("stored"), 1);
}

#[tokio::test]
async fn concurrent_callers_share_even_an_answer_that_is_not_kept() {
    let c = started().await;
    let unauthorized = fixture_with(
        "introspection/ok.json",
        serde_json::json!({"action": "UNAUTHORIZED", "usable": false}),
    );
    hundred_concurrent(&c, unauthorized).await;
    assert_eq!(c.metrics.misses_of("not_stored"), 1);
    c.introspect(TOKEN, &["read"]).await.unwrap();
    assert_eq!(c.upstream(), 2, "and kept nothing");
}

#[tokio::test]
async fn off_by_default() {
    let env = Setup::new(V3)
        .decorate(|b| {
            let options = authlete_grpc::backend::IntrospectionCacheOptions::default();
            std::sync::Arc::new(authlete_grpc::backend::IntrospectionCache::new(
                b,
                options,
                Default::default(),
            )) as std::sync::Arc<dyn authlete_grpc::backend::Backend>
        })
        .start()
        .await;
    let far = 4_102_444_800_000i64; // 2100-01-01: a token that would be kept
    let answer = fixture_with(
        "introspection/ok.json",
        serde_json::json!({"expiresAt": far}),
    );
    env.fake.reply(INTROSPECTION, 200, answer);
    for _ in 0..2 {
        env.introspection()
            .introspection(request(TOKEN, &[]))
            .await
            .unwrap();
    }
    assert_eq!(env.fake.requests().len(), 2);
}
