//! CIBA (OpenID Connect CIBA Core 1.0) poll and ping flows on the local
//! engine, through the real gRPC service, with the engine directly and over
//! its HTTP API (v2 and v3): the backchannel RPCs, the decision RPCs the
//! service finishes, and Token; the ping notification delivered to a real
//! listener on 127.0.0.1. Every engine reply is checked against Authlete's
//! OpenAPI schemas (local_common::schema). Error branches: local_ciba_errors.rs.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use local_common::ciba::*;
use local_common::*;
use serde_json::Value;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

#[tokio::test]
async fn poll_flow_every_way() {
    for via in VIAS {
        let (env, _) = start(via).await;
        let params =
            "login_hint=alice&scope=openid+email&binding_message=W4SCT&acr_values=urn:acr:device";
        let first = authenticate(&env, params, POLLER, POLLER_SECRET).await;
        assert_eq!(
            first.action_name, "USER_IDENTIFICATION",
            "{via:?}: {}",
            first.result_message
        );
        assert_eq!(first.http, None, "the service continues");
        assert_eq!(
            (first.hint_type.as_str(), first.hint.as_str()),
            ("LOGIN_HINT", "alice")
        );
        assert_eq!(first.delivery_mode, "POLL");
        assert_eq!(first.binding_message, "W4SCT");
        assert_eq!(first.acrs, ["urn:acr:device"]);
        assert_eq!(first.client_auth_method, "CLIENT_SECRET_BASIC");
        assert!(first.claim_names.contains(&"email".to_owned()));
        assert!(!first.user_code_required);
        let decided = decide(&env, &first.continuation, "alice").await;
        let http = decided.http.expect("http");
        assert_eq!(http.status, 200, "{}", http.body);
        let body = json(&http.body);
        assert_eq!(
            (body["expires_in"].as_i64(), body["interval"].as_i64()),
            (Some(600), Some(5))
        );
        let id = body["auth_req_id"]
            .as_str()
            .expect("auth_req_id")
            .to_owned();

        let pending = poll(&env, &id, POLLER, POLLER_SECRET).await;
        assert_eq!(pending.http.as_ref().map(|h| h.status), Some(400));
        assert_eq!(error(&pending), "authorization_pending");
        assert_eq!(
            error(&poll(&env, &id, POLLER, POLLER_SECRET).await),
            "slow_down"
        );
        env.advance(5);
        assert_eq!(
            error(&poll(&env, &id, POLLER, POLLER_SECRET).await),
            "authorization_pending"
        );

        let done = user_decision(&env, &decided.continuation, approved()).await;
        assert_eq!(done.action_name, "NO_ACTION", "{}", done.result_message);
        assert_eq!(
            (done.auth_req_id.as_str(), done.delivery_mode.as_str()),
            (id.as_str(), "POLL")
        );
        assert_eq!(done.client_notification, None, "poll: nobody is notified");

        env.advance(5);
        let t = poll(&env, &id, POLLER, POLLER_SECRET).await;
        assert_eq!(t.action_name, "OK", "{via:?}: {}", t.result_message);
        assert_eq!(t.http.as_ref().map(|h| h.status), Some(200));
        assert_eq!(t.grant_type, "CIBA");
        assert_eq!(t.subject, "alice");
        assert!(!t.refresh_token.is_empty());
        let (_, claims) = jwt_parts(&t.id_token);
        assert_eq!(
            (claims["sub"].as_str(), claims["aud"].as_str()),
            (Some("alice"), Some(POLLER))
        );
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["acr"], "urn:acr:device");
        assert!(claims["at_hash"].is_string() && claims.get("nonce").is_none());
        assert_eq!(
            introspect(&env, &t.access_token, &[]).await.action_name,
            "OK"
        );

        let replay = poll(&env, &id, POLLER, POLLER_SECRET).await;
        assert_eq!(error(&replay), "invalid_grant", "single use");
        let counts = env.checked.counts();
        for api in [
            "/backchannel/authentication",
            "/backchannel/authentication/issue",
            "/backchannel/authentication/complete",
        ] {
            assert!(
                counts.get(api).copied().unwrap_or(0) >= 1,
                "{via:?}: {api} checked"
            );
        }
    }
}

#[tokio::test]
async fn ping_flow_notifies_the_client_endpoint_every_way() {
    for via in VIAS {
        let (env, inbox) = start(via).await;
        let params =
            format!("login_hint=alice&scope=openid&client_notification_token={NOTIFICATION_TOKEN}");
        let first = authenticate(&env, &params, PINGER, PINGER_SECRET).await;
        assert_eq!(
            first.action_name, "USER_IDENTIFICATION",
            "{}",
            first.result_message
        );
        assert_eq!(first.delivery_mode, "PING");
        assert_eq!(first.client_notification_token, NOTIFICATION_TOKEN);
        let decided = decide(&env, &first.continuation, "alice").await;
        let id = json(&decided.http.expect("http").body)["auth_req_id"]
            .as_str()
            .expect("auth_req_id")
            .to_owned();
        assert_eq!(
            error(&poll(&env, &id, PINGER, PINGER_SECRET).await),
            "authorization_pending"
        );

        let done = user_decision(&env, &decided.continuation, approved()).await;
        assert_eq!(done.action_name, "NOTIFICATION", "{}", done.result_message);
        assert_eq!(done.client_notification_token, NOTIFICATION_TOKEN);
        assert!(
            done.client_notification_endpoint
                .starts_with("http://127.0.0.1:")
        );
        let n = done
            .client_notification
            .expect("the service notified the client");
        assert_eq!(
            (n.delivered, n.status, n.error.as_str()),
            (true, 204, ""),
            "{via:?}"
        );
        let got = inbox.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "exactly one notification");
        assert_eq!(got[0].authorization, format!("Bearer {NOTIFICATION_TOKEN}"));
        assert_eq!(got[0].content_type, "application/json");
        assert_eq!(json(&got[0].body), serde_json::json!({"auth_req_id": id}));

        env.advance(5);
        let t = poll(&env, &id, PINGER, PINGER_SECRET).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        assert_eq!(jwt_parts(&t.id_token).1["sub"], "alice");
    }
}

#[tokio::test]
async fn a_denial_reaches_the_ping_client_and_its_token_request() {
    let (env, inbox) = start(Via::Direct).await;
    let params =
        format!("login_hint=alice&scope=openid&client_notification_token={NOTIFICATION_TOKEN}");
    let (id, continuation) = started(&env, &params, PINGER, PINGER_SECRET).await;
    let done = user_decision(&env, &continuation, denied(false)).await;
    assert_eq!(done.action_name, "NOTIFICATION");
    assert!(done.client_notification.expect("notified").delivered);
    // CIBA Core §10.2: the ping says only which request is done.
    assert_eq!(
        json(&inbox.lock().unwrap()[0].body),
        serde_json::json!({"auth_req_id": id})
    );
    let t = poll(&env, &id, PINGER, PINGER_SECRET).await;
    assert_eq!(
        (t.action_name.as_str(), error(&t).as_str()),
        ("BAD_REQUEST", "access_denied")
    );
}

/// The raw APIs, as a web tier that calls them itself would.
#[tokio::test]
async fn issue_fail_and_complete_by_ticket() {
    for via in [Via::Direct, Via::Http(ApiVersion::V3)] {
        let (env, _) = start(via).await;
        let first = authenticate(&env, "login_hint=bob&scope=openid", POLLER, POLLER_SECRET).await;
        let issued = backchannel(&env)
            .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
                ticket: first.ticket.clone(),
            })
            .await
            .expect("Issue RPC")
            .into_inner();
        assert_eq!(issued.action_name, "OK", "{}", issued.result_message);
        assert_eq!((issued.expires_in, issued.interval), (600, 5));
        assert_eq!(
            json(&issued.response_content)["auth_req_id"],
            issued.auth_req_id.as_str()
        );
        let again = backchannel(&env)
            .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
                ticket: first.ticket.clone(),
            })
            .await
            .expect("Issue RPC")
            .into_inner();
        assert_eq!(again.action_name, "INVALID_TICKET");
        assert_eq!(again.http.expect("http").status, 500);
        let complete = |result: i32| pb::BackchannelAuthenticationCompleteRequest {
            ticket: first.ticket.clone(),
            result,
            subject: "bob".to_owned(),
            ..Default::default()
        };
        use pb::backchannel_authentication_complete_request::Result as R;
        let done = backchannel(&env)
            .backchannel_authentication_complete(complete(R::TransactionFailed as i32))
            .await
            .expect("Complete RPC")
            .into_inner();
        assert_eq!(done.action_name, "NO_ACTION");
        let twice = backchannel(&env)
            .backchannel_authentication_complete(complete(R::Authorized as i32))
            .await
            .expect("Complete RPC")
            .into_inner();
        assert_eq!(
            twice.action_name, "SERVER_ERROR",
            "one decision per request"
        );
        let t = poll(&env, &issued.auth_req_id, POLLER, POLLER_SECRET).await;
        assert_eq!(
            error(&t),
            "expired_token",
            "a failed transaction reads as expired"
        );

        // Fail: each reason is the client's error; ACCESS_DENIED is a 403.
        use pb::backchannel_authentication_fail_request::Reason;
        for (reason, status, error) in [
            (Reason::UnknownUserId, 400, "unknown_user_id"),
            (Reason::AccessDenied, 403, "access_denied"),
            (Reason::ServerError, 500, "server_error"),
        ] {
            let first =
                authenticate(&env, "login_hint=bob&scope=openid", POLLER, POLLER_SECRET).await;
            let failed = backchannel(&env)
                .backchannel_authentication_fail(pb::BackchannelAuthenticationFailRequest {
                    ticket: first.ticket.clone(),
                    reason: reason as i32,
                    error_description: "nobody by that name".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("Fail RPC")
                .into_inner();
            let http = failed.http.expect("http");
            assert_eq!(http.status, status, "{reason:?}: {}", http.body);
            assert_eq!(json(&http.body)["error"], error);
            assert_eq!(json(&http.body)["error_description"], "nobody by that name");
        }
    }
}

#[tokio::test]
async fn a_login_hint_token_goes_to_the_web_tier_which_may_find_it_expired() {
    let (env, _) = start(Via::Direct).await;
    let first = authenticate(
        &env,
        "login_hint_token=opaque-lht&scope=openid",
        POLLER,
        POLLER_SECRET,
    )
    .await;
    assert_eq!(
        (first.hint_type.as_str(), first.hint.as_str()),
        ("LOGIN_HINT_TOKEN", "opaque-lht")
    );
    let decided = backchannel(&env)
        .backchannel_authentication_decision(pb::BackchannelAuthenticationDecisionRequest {
            continuation: first.continuation,
            subject: "alice".to_owned(),
            login_hint_token_expired: true,
            ..Default::default()
        })
        .await
        .expect("Decision RPC")
        .into_inner();
    let http = decided.http.expect("http");
    assert_eq!(
        (http.status, json(&http.body)["error"].as_str()),
        (400, Some("expired_login_hint_token"))
    );
}

#[tokio::test]
async fn an_id_token_hint_names_the_user_by_its_sub() {
    let (env, _) = start(Via::Http(ApiVersion::V2)).await;
    let (id, continuation) =
        started(&env, "login_hint=alice&scope=openid", POLLER, POLLER_SECRET).await;
    user_decision(&env, &continuation, approved()).await;
    let id_token = poll(&env, &id, POLLER, POLLER_SECRET).await.id_token;
    let params = format!("id_token_hint={id_token}&scope=openid");
    let first = authenticate(&env, &params, POLLER, POLLER_SECRET).await;
    assert_eq!(
        first.action_name, "USER_IDENTIFICATION",
        "{}",
        first.result_message
    );
    assert_eq!(
        (first.hint_type.as_str(), first.sub.as_str()),
        ("ID_TOKEN_HINT", "alice")
    );
    assert_eq!(first.hint, id_token);
}

#[tokio::test]
async fn user_codes_and_requested_expiry() {
    let (env, _) = start(Via::Direct).await;
    let first = authenticate(
        &env,
        "login_hint=alice&scope=openid&user_code=4711&requested_expiry=30",
        CODED,
        CODED_SECRET,
    )
    .await;
    assert_eq!(
        first.action_name, "USER_IDENTIFICATION",
        "{}",
        first.result_message
    );
    assert!(first.user_code_required);
    assert_eq!(
        (first.user_code.as_str(), first.requested_expiry),
        ("4711", 30)
    );
    // The service asks the web tier whether the user code is the user's.
    let refused = backchannel(&env)
        .backchannel_authentication_decision(pb::BackchannelAuthenticationDecisionRequest {
            continuation: first.continuation.clone(),
            subject: "alice".to_owned(),
            ..Default::default()
        })
        .await
        .expect("Decision RPC")
        .into_inner();
    assert_eq!(
        json(&refused.http.expect("http").body)["error"],
        "invalid_user_code"
    );
    let first = authenticate(
        &env,
        "login_hint=alice&scope=openid&user_code=4711&requested_expiry=30",
        CODED,
        CODED_SECRET,
    )
    .await;
    let decided = decide(&env, &first.continuation, "alice").await;
    assert_eq!(
        json(&decided.http.expect("http").body)["expires_in"],
        30,
        "at most what was asked"
    );
    let first = authenticate(
        &env,
        "login_hint=alice&scope=openid&requested_expiry=99999",
        POLLER,
        POLLER_SECRET,
    )
    .await;
    let decided = decide(&env, &first.continuation, "alice").await;
    assert_eq!(
        json(&decided.http.expect("http").body)["expires_in"],
        600,
        "never past the setting"
    );
}

#[tokio::test]
async fn discovery_lists_ciba() {
    let (env, _) = start(Via::Direct).await;
    let doc = discovery_doc(&env).await;
    assert_eq!(
        doc["backchannel_authentication_endpoint"],
        format!("{ISSUER}/backchannel")
    );
    assert_eq!(
        doc["backchannel_token_delivery_modes_supported"],
        serde_json::json!(["poll", "ping"])
    );
    assert_eq!(doc["backchannel_user_code_parameter_supported"], true);
    let grants = doc["grant_types_supported"]
        .as_array()
        .expect("grant types");
    assert!(grants.iter().any(|g| g == GRANT));
}
