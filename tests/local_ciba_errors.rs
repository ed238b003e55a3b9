//! Error branches of CIBA on the local engine, through the real gRPC
//! service: client authentication and the CIBA grant, hints, user codes,
//! ping without a notification token, the token endpoint's pending /
//! slow_down / expired / denied / replayed answers, misuse of the ticket,
//! the configuration's refusals and the store's bound.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use std::sync::Arc;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::backend::local::{ClientConfig, LocalBackend, ManualClock};
use authlete_grpc::pb;
use local_common::ciba::*;
use local_common::*;
use serde_json::Value;

/// The reply's `http`: status and OAuth `error`.
fn outcome(r: &pb::BackchannelAuthenticationResponse) -> (i32, String) {
    let http = r.http.as_ref().expect("http");
    let body: Value = serde_json::from_str(&http.body).expect("JSON");
    (
        http.status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn backchannel_requests_are_checked() {
    for via in [Via::Direct, Via::Http(ApiVersion::V3)] {
        let (env, _) = start(via).await;
        let nobody = authenticate(&env, "login_hint=a&scope=openid", "nobody", "x").await;
        assert_eq!(nobody.action_name, "UNAUTHORIZED");
        assert_eq!(outcome(&nobody), (401, "invalid_client".to_owned()));
        let headers = &nobody.http.as_ref().expect("http").headers;
        assert!(
            headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("www-authenticate")
                    && h.value == "Basic realm=\"backchannel/authentication\"")
        );
        let wrong = authenticate(&env, "login_hint=a&scope=openid", POLLER, "wrong").await;
        assert_eq!(outcome(&wrong), (401, "invalid_client".to_owned()));
        let no_grant = authenticate(&env, "login_hint=a&scope=openid", WEB, WEB_SECRET).await;
        assert_eq!(outcome(&no_grant), (400, "unauthorized_client".to_owned()));
        for (params, error) in [
            ("scope=openid", "invalid_request"),
            (
                "login_hint=a&login_hint_token=b&scope=openid",
                "invalid_request",
            ),
            (
                "login_hint=a&id_token_hint=b&scope=openid",
                "invalid_request",
            ),
            ("login_hint=a&scope=email", "invalid_scope"),
            ("login_hint=a&scope=openid+unknown", "invalid_scope"),
            (
                "login_hint=a&scope=openid&requested_expiry=-5",
                "invalid_request",
            ),
            (
                "login_hint=a&scope=openid&requested_expiry=soon",
                "invalid_request",
            ),
            (
                "login_hint=a&scope=openid&resource=relative",
                "invalid_target",
            ),
            (
                "login_hint=a&scope=openid&request=eyJ.x.y",
                "invalid_request",
            ),
        ] {
            let r = authenticate(&env, params, POLLER, POLLER_SECRET).await;
            assert_eq!(r.action_name, "BAD_REQUEST", "{params}");
            assert_eq!(outcome(&r), (400, error.to_owned()), "{params}");
        }
        let no_code = authenticate(&env, "login_hint=a&scope=openid", CODED, CODED_SECRET).await;
        assert_eq!(outcome(&no_code), (400, "missing_user_code".to_owned()));
        let no_token = authenticate(&env, "login_hint=a&scope=openid", PINGER, PINGER_SECRET).await;
        assert_eq!(outcome(&no_token), (400, "invalid_request".to_owned()));
        assert!(
            no_token
                .result_message
                .contains("client_notification_token")
        );
        let long = format!(
            "login_hint=a&scope=openid&client_notification_token={}",
            "t".repeat(1025)
        );
        let too_long = authenticate(&env, &long, PINGER, PINGER_SECRET).await;
        assert_eq!(outcome(&too_long), (400, "invalid_request".to_owned()));
    }
}

#[tokio::test]
async fn id_token_hints_must_be_this_servers_for_this_client() {
    let (env, _) = start(Via::Direct).await;
    let (id, continuation) =
        started(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
    user_decision(&env, &continuation, approved()).await;
    let id_token = poll(&env, &id, POLLER, POLLER_SECRET).await.id_token;
    // Another client cannot use the poller's ID token.
    let theirs = authenticate(
        &env,
        &format!("id_token_hint={id_token}&scope=openid&user_code=1"),
        CODED,
        CODED_SECRET,
    )
    .await;
    assert_eq!(outcome(&theirs), (400, "invalid_request".to_owned()));
    assert!(
        theirs.result_message.contains("'aud'"),
        "{}",
        theirs.result_message
    );
    // A changed payload does not verify.
    let parts: Vec<&str> = id_token.split('.').collect();
    let (_, mut claims) = jwt_parts(&id_token);
    claims["sub"] = "mallory".into();
    use base64::Engine as _;
    let forged_payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    let r = authenticate(
        &env,
        &format!("id_token_hint={forged}&scope=openid"),
        POLLER,
        POLLER_SECRET,
    )
    .await;
    assert_eq!(outcome(&r), (400, "invalid_request".to_owned()));
    assert!(
        r.result_message.contains("signature"),
        "{}",
        r.result_message
    );
    for junk in ["not-a-jwt", "e30.e30.AAAA"] {
        let r = authenticate(
            &env,
            &format!("id_token_hint={junk}&scope=openid"),
            POLLER,
            POLLER_SECRET,
        )
        .await;
        assert_eq!(outcome(&r), (400, "invalid_request".to_owned()), "{junk}");
    }
    // Expired ID tokens still name the user (a hint, not a credential).
    env.advance(7200);
    let late = authenticate(
        &env,
        &format!("id_token_hint={id_token}&scope=openid"),
        POLLER,
        POLLER_SECRET,
    )
    .await;
    assert_eq!(late.sub, "alice", "{}", late.result_message);
}

#[tokio::test]
async fn token_requests_before_during_and_after() {
    let (env, _) = start(Via::Direct).await;
    let (id, continuation) =
        started(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
    assert_eq!(
        error(&poll(&env, &id, POLLER, POLLER_SECRET).await),
        "authorization_pending"
    );
    assert_eq!(
        error(&poll(&env, &id, POLLER, POLLER_SECRET).await),
        "slow_down"
    );
    env.advance(3);
    assert_eq!(
        error(&poll(&env, &id, POLLER, POLLER_SECRET).await),
        "slow_down",
        "counted from the last poll"
    );
    assert_eq!(
        error(&poll(&env, "unknown", POLLER, POLLER_SECRET).await),
        "invalid_grant"
    );
    assert_eq!(
        error(&poll(&env, &id, PINGER, PINGER_SECRET).await),
        "invalid_grant",
        "another client's"
    );
    let missing = token(
        &env,
        &format!("grant_type={}", enc(GRANT)),
        Some((POLLER, POLLER_SECRET)),
    )
    .await;
    assert_eq!(error(&missing), "invalid_request");
    let not_allowed = poll(&env, &id, WEB, WEB_SECRET).await;
    assert_eq!(error(&not_allowed), "unauthorized_client");
    // Expired: the entry is kept a while, so the client is told so.
    env.advance(601);
    assert_eq!(
        error(&poll(&env, &id, POLLER, POLLER_SECRET).await),
        "expired_token"
    );
    let late = user_decision(&env, &continuation, approved()).await;
    assert_eq!(late.action_name, "SERVER_ERROR", "{}", late.result_message);
    env.advance(601);
    assert_eq!(
        error(&poll(&env, &id, POLLER, POLLER_SECRET).await),
        "invalid_grant",
        "swept"
    );
}

#[tokio::test]
async fn denied_and_failed_decisions() {
    let (env, _) = start(Via::Http(ApiVersion::V2)).await;
    for (failed, expected) in [(false, "access_denied"), (true, "expired_token")] {
        let (id, continuation) =
            started(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
        let done = user_decision(&env, &continuation, denied(failed)).await;
        assert_eq!(done.action_name, "NO_ACTION");
        let t = poll(&env, &id, POLLER, POLLER_SECRET).await;
        assert_eq!(
            (t.http.as_ref().expect("http").status, error(&t)),
            (400, expected.to_owned())
        );
    }
}

#[tokio::test]
async fn tickets_are_used_in_order() {
    let (env, _) = start(Via::Direct).await;
    let first = authenticate(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
    use pb::backchannel_authentication_complete_request::Result as R;
    let early = backchannel(&env)
        .backchannel_authentication_complete(pb::BackchannelAuthenticationCompleteRequest {
            ticket: first.ticket.clone(),
            result: R::Authorized as i32,
            subject: "alice".to_owned(),
            ..Default::default()
        })
        .await
        .expect("Complete RPC")
        .into_inner();
    assert_eq!(early.action_name, "SERVER_ERROR", "not issued yet");
    backchannel(&env)
        .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
            ticket: first.ticket.clone(),
        })
        .await
        .expect("Issue RPC");
    let fail = |ticket: &str| pb::BackchannelAuthenticationFailRequest {
        ticket: ticket.to_owned(),
        reason: pb::backchannel_authentication_fail_request::Reason::UnknownUserId as i32,
        ..Default::default()
    };
    let late = backchannel(&env)
        .backchannel_authentication_fail(fail(&first.ticket))
        .await
        .expect("Fail RPC")
        .into_inner();
    assert_eq!(
        late.action_name, "INTERNAL_SERVER_ERROR",
        "Authlete's answer to a wrong ticket"
    );
    assert!(
        late.result_message.contains("complete"),
        "{}",
        late.result_message
    );
    let unknown = backchannel(&env)
        .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
            ticket: "nope".to_owned(),
        })
        .await
        .expect("Issue RPC")
        .into_inner();
    assert_eq!(unknown.action_name, "INVALID_TICKET");
    // An unissued ticket expires with the authorization ticket lifetime.
    let stale = authenticate(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
    env.advance(601);
    let gone = backchannel(&env)
        .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
            ticket: stale.ticket,
        })
        .await
        .expect("Issue RPC")
        .into_inner();
    assert_eq!(gone.action_name, "INVALID_TICKET");
}

#[tokio::test]
async fn requests_count_against_the_cap_and_are_swept() {
    let (url, _) = notification_endpoint().await;
    let mut config = ciba_config(&url);
    config.max_live_objects = 2;
    let env = Env::start_with(Via::Direct, config).await;
    let (_, _) = started(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
    assert_eq!(
        env.engine.live_objects(),
        2,
        "the request and its auth_req_id"
    );
    let kinds = env.engine.live_objects_by_kind();
    assert!(kinds.contains(&("backchannel_request", 1)) && kinds.contains(&("auth_req_id", 1)));
    let full = authenticate(&env, "login_hint=bob&scope=openid", POLLER, POLLER_SECRET).await;
    assert_eq!(full.action_name, "INTERNAL_SERVER_ERROR");
    assert_eq!(full.result_code, "L001102");
    assert!(
        full.result_message.contains("max_live_objects"),
        "{}",
        full.result_message
    );
    assert_eq!(full.http.expect("http").status, 500);
    // Kept one more lifetime after expiry (to say "expired"), then swept.
    env.advance(1201);
    let again = authenticate(&env, "login_hint=bob&scope=openid", POLLER, POLLER_SECRET).await;
    assert_eq!(
        again.action_name, "USER_IDENTIFICATION",
        "{}",
        again.result_message
    );
    assert_eq!(env.engine.live_objects(), 1);
}

#[tokio::test]
async fn the_store_refuses_heavy_requests() {
    let (url, _) = notification_endpoint().await;
    let mut config = ciba_config(&url);
    config.max_request_bytes = 2048;
    let env = Env::start_with(Via::Direct, config).await;
    let params = format!(
        "login_hint=alice&scope=openid&binding_message={}",
        "b".repeat(3000)
    );
    let heavy = authenticate(&env, &params, POLLER, POLLER_SECRET).await;
    assert_eq!(heavy.action_name, "INTERNAL_SERVER_ERROR");
    assert!(
        heavy.result_message.contains("max_request_bytes"),
        "{}",
        heavy.result_message
    );
    assert_eq!(env.engine.live_objects(), 0);
}

#[test]
fn push_and_incomplete_ping_clients_are_refused_at_startup() {
    let engine = |client: ClientConfig| {
        let mut c = config();
        c.clients.push(ClientConfig {
            client_id: "c".to_owned(),
            grant_types: vec![GRANT.to_owned()],
            ..client
        });
        LocalBackend::with_clock(c, Arc::new(ManualClock::starting_now())).map(|_| ())
    };
    let push = engine(ClientConfig {
        backchannel_token_delivery_mode: Some("push".to_owned()),
        backchannel_client_notification_endpoint: Some("https://c.example/n".to_owned()),
        ..ClientConfig::default()
    });
    assert!(push.unwrap_err().contains("`push` is not supported"));
    let ping = engine(ClientConfig {
        backchannel_token_delivery_mode: Some("ping".to_owned()),
        ..ClientConfig::default()
    });
    assert!(
        ping.unwrap_err()
            .contains("backchannel_client_notification_endpoint")
    );
    let toml = "[[clients]]\nclient_id = \"c\"\ngrant_types = [\"urn:openid:params:grant-type:ciba\"]\n\
                backchannel_token_delivery_mode = \"push\"\n";
    let parsed = authlete_grpc::backend::local::LocalConfig::from_toml(toml).expect("TOML");
    assert!(LocalBackend::new(parsed).unwrap_err().contains("push"));
}

#[tokio::test]
async fn a_jwt_access_token_is_no_id_token_hint() {
    let (url, _inbox) = notification_endpoint().await;
    let mut config = ciba_config(&url);
    config.access_token_sign_alg = Some("ES256".into());
    let env = Env::start_with(Via::Direct, config).await;
    let (id, continuation) =
        started(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
    user_decision(&env, &continuation, approved()).await;
    let t = poll(&env, &id, POLLER, POLLER_SECRET).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    // Signed by the engine, issued to this client, with a `sub`: still not an ID token.
    let (_, claims) = jwt_parts(&t.access_token);
    assert_eq!(claims["sub"], "alice");
    let r = authenticate(
        &env,
        &format!("id_token_hint={}&scope=openid", t.access_token),
        POLLER,
        POLLER_SECRET,
    )
    .await;
    assert_eq!(outcome(&r), (400, "invalid_request".to_owned()));
    assert!(r.result_message.contains("at+jwt"), "{}", r.result_message);
    let ok = authenticate(
        &env,
        &format!("id_token_hint={}&scope=openid", t.id_token),
        POLLER,
        POLLER_SECRET,
    )
    .await;
    assert_eq!(ok.sub, "alice", "{}", ok.result_message);
}
