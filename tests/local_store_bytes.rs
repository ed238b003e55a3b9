//! The local engine's store is bounded by bytes, not only by count, through
//! the real gRPC service: a large anonymous authorization (or pushed) request
//! is refused before anything is stored, requests that fit are weighed until
//! the total bound refuses more with Authlete's shape, and their bytes come
//! back once they expire.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::pb;
use local_common::*;

/// A request for the public client (no client authentication: anyone on the
/// Internet can send it) with a `state` of `size` bytes.
fn anonymous(size: usize) -> String {
    format!(
        "response_type=code&client_id={SPA}&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}\
         &code_challenge_method=S256&state={}",
        enc(SPA_REDIRECT),
        "s".repeat(size)
    )
}

#[tokio::test]
async fn a_large_anonymous_authorization_request_is_refused_before_it_is_stored() {
    let env = Env::start(Via::Direct).await;
    // Under the gRPC message bound (256 KiB), it was stored for ten minutes
    // before the byte bound.
    let r = authorize(&env, &anonymous(200_000)).await;
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    let http = r.http.expect("a ready response");
    assert_eq!(http.status, 400);
    let body: serde_json::Value = serde_json::from_str(&http.body).unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        (env.engine.live_objects(), env.engine.stored_bytes()),
        (0, 0)
    );

    // The same through PAR: RFC 9126's 413.
    let pushed = env
        .par()
        .pushed_authorization(pb::PushedAuthorizationRequest {
            parameters: anonymous(200_000),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(pushed.action_name, "PAYLOAD_TOO_LARGE");
    assert_eq!(pushed.http.map(|h| h.status), Some(413));
    assert_eq!(env.engine.live_objects(), 0);

    // A request within the default bound (64 KiB) is served and weighed.
    let r = authorize(&env, &anonymous(60_000)).await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    assert!(env.engine.stored_bytes() > 60_000);
}

#[tokio::test]
async fn the_total_bound_refuses_with_authletes_shape_until_entries_expire() {
    let mut config = config();
    config.max_request_bytes = 16 * 1024;
    config.max_store_bytes = 50 * 1024;
    let env = Env::start_with(Via::Direct, config).await;
    for _ in 0..4 {
        let r = authorize(&env, &anonymous(10_000)).await;
        assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    }
    let held = env.engine.stored_bytes();
    assert!((40_000..=50 * 1024).contains(&held), "{held}");
    let full = authorize(&env, &anonymous(10_000)).await;
    assert_eq!(full.action_name, "INTERNAL_SERVER_ERROR");
    assert!(
        full.result_message.contains("max_store_bytes"),
        "{}",
        full.result_message
    );
    assert_eq!(full.http.map(|h| h.status), Some(500));
    assert_eq!(env.engine.stored_bytes(), held, "nothing more was stored");
    // Small requests still fit in what is left.
    assert_eq!(
        authorize(&env, &anonymous(10)).await.action_name,
        "INTERACTION"
    );

    env.advance(601);
    let r = authorize(&env, &anonymous(10_000)).await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    assert_eq!(
        env.engine.live_objects(),
        1,
        "the expired tickets were swept"
    );
    assert!(env.engine.stored_bytes() < 11_000);
}

#[tokio::test]
async fn expired_entries_are_swept_in_the_background() {
    let env = Env::start(Via::Direct).await;
    assert_eq!(
        authorize(&env, &anonymous(100)).await.action_name,
        "INTERACTION"
    );
    assert_eq!(env.engine.live_objects(), 1);
    env.advance(601);
    // No call touches the store: the sweep thread (once a second) does it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while env.engine.live_objects() != 0 {
        assert!(std::time::Instant::now() < deadline, "not swept within 5 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(env.engine.stored_bytes(), 0);
}
