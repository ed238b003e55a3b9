//! The authorization flows the service finishes itself, end to end through
//! the real server and a recording fake Authlete: NO_INTERACTION with each
//! failed check and with success, and the decision after INTERACTION.

mod common;

use authlete_grpc::pb::{
    self, authorization_decision_request::Decision, authorization_fail_request::Reason,
    authorization_response::Action,
};
use common::*;
use serde_json::{Value, json};

const TICKET: &str = "hXoY87t_t23enrVHWxpXNP5FfVDhDypD3T6H6lt4IPA";
const REDIRECT: &str = "https://my-client.example.com/cb1?error=login_required&state=s1";
const NOW_MINUS_A_MINUTE: fn() -> i64 = || now() - 60;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Authlete's `/auth/authorization/fail` reply: a redirect carrying the error.
fn fail_location() -> String {
    json!({"resultCode": "A004307", "resultMessage": "[A004307] failed", "action": "LOCATION",
           "responseContent": REDIRECT})
    .to_string()
}

fn alice(claims: Value) -> pb::UserSession {
    pb::UserSession {
        subject: "alice".into(),
        auth_time: NOW_MINUS_A_MINUTE(),
        acr: "urn:acr:pwd".into(),
        claims: claims.to_string(),
        sub: "pairwise-alice".into(),
        session_id: "sess-1".into(),
        ..Default::default()
    }
}

/// Runs `Authorization` with a NO_INTERACTION reply changed by `changes`.
async fn no_interaction(
    env: &Env,
    changes: Value,
    session: Option<pb::UserSession>,
) -> pb::AuthorizationResponse {
    let mut reply = fixture_json("authorization/interaction.json");
    reply["action"] = "NO_INTERACTION".into();
    for (k, v) in changes.as_object().unwrap() {
        reply[k] = v.clone();
    }
    env.fake
        .reply("/auth/authorization", 200, reply.to_string());
    env.authorization()
        .authorization(pb::AuthorizationRequest {
            parameters: "prompt=none".into(),
            session,
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner()
}

/// The second request the fake received: its path and JSON body.
fn second_call(env: &Env) -> (String, Value) {
    let requests = env.fake.requests();
    assert_eq!(requests.len(), 2, "one first call and one second call");
    (requests[1].path.clone(), requests[1].json())
}

async fn assert_fails(changes: Value, session: Option<pb::UserSession>, reason: &str) {
    let env = start(V3).await;
    env.fake
        .reply("/auth/authorization/fail", 200, fail_location());
    let r = no_interaction(&env, changes, session).await;
    assert_eq!(r.action, Action::NoInteraction as i32);
    assert_eq!(
        second_call(&env),
        (
            env.path("/auth/authorization/fail"),
            json!({"ticket": TICKET, "reason": reason})
        )
    );
    assert_http(
        r.http.as_ref(),
        302,
        &cache_headers(&[("Location", REDIRECT)]),
        "",
    );
    let c = r.completion.expect("completion");
    assert_eq!(
        (c.api.as_str(), c.action_name.as_str(), c.reason.as_str()),
        ("/auth/authorization/fail", "LOCATION", reason)
    );
    assert_eq!(c.result_code, "A004307");
}

#[tokio::test]
async fn no_interaction_without_a_session_is_not_logged_in() {
    assert_fails(json!({}), None, "NOT_LOGGED_IN").await;
}

#[tokio::test]
async fn no_interaction_past_max_age_exceeds_it() {
    let session = pb::UserSession {
        auth_time: now() - 3600,
        ..alice(json!({}))
    };
    assert_fails(json!({"maxAge": 600}), Some(session), "EXCEEDS_MAX_AGE").await;
}

#[tokio::test]
async fn no_interaction_for_another_subject_is_a_different_subject() {
    assert_fails(
        json!({"subject": "bob"}),
        Some(alice(json!({}))),
        "DIFFERENT_SUBJECT",
    )
    .await;
}

#[tokio::test]
async fn no_interaction_without_the_essential_acr_is_not_satisfied() {
    let changes = json!({"acrs": ["urn:acr:mfa"], "acrEssential": true});
    assert_fails(changes, Some(alice(json!({}))), "ACR_NOT_SATISFIED").await;
}

#[tokio::test]
async fn no_interaction_with_a_good_session_issues_with_the_requested_claims() {
    let env = start(V2).await;
    let issued = fixture("authorization_issue/location.json");
    env.fake
        .reply("/auth/authorization/issue", 200, issued.clone());
    let changes = json!({"maxAge": 600, "subject": "alice", "acrs": ["urn:acr:pwd"], "acrEssential": true,
                         "claims": ["name", "email"], "claimsLocales": ["ja"]});
    let profile = json!({"name": "Alice", "name#ja": "アリス", "email": "alice@example.com", "phone_number": "+1"});
    let session = alice(profile);
    let auth_time = session.auth_time;
    let r = no_interaction(&env, changes, Some(session)).await;

    let (path, body) = second_call(&env);
    assert_eq!(path, env.path("/auth/authorization/issue"));
    let claims: Value = serde_json::from_str(body["claims"].as_str().unwrap()).unwrap();
    assert_eq!(
        claims,
        json!({"name": "アリス", "email": "alice@example.com"})
    );
    let mut rest = body.clone();
    rest.as_object_mut().unwrap().remove("claims");
    assert_eq!(
        rest,
        json!({"ticket": TICKET, "subject": "alice", "authTime": auth_time, "acr": "urn:acr:pwd",
               "sub": "pairwise-alice", "sessionId": "sess-1"})
    );
    let location = response_content(&issued);
    assert_http(
        r.http.as_ref(),
        302,
        &cache_headers(&[("Location", &location)]),
        "",
    );
    assert_eq!(r.completion.unwrap().api, "/auth/authorization/issue");
}

#[tokio::test]
async fn a_malformed_session_is_rejected_before_authlete_is_called() {
    let env = start(V3).await;
    let session = pb::UserSession {
        claims: "not json".into(),
        ..alice(json!({}))
    };
    let status = env
        .authorization()
        .authorization(pb::AuthorizationRequest {
            session: Some(session),
            ..Default::default()
        })
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("session.claims"),
        "{}",
        status.message()
    );
    assert!(env.fake.requests().is_empty());
}

/// Runs `Authorization` on `env` to an INTERACTION reply; returns the continuation.
async fn interaction(env: &Env) -> String {
    let reply = fixture_with(
        "authorization/interaction.json",
        json!({"claims": ["name", "name#fr", "email", "birthdate"], "claimsLocales": ["de", "ja"],
               "requestedClaimsForTx": ["nationality"]}),
    );
    env.fake.reply("/auth/authorization", 200, reply);
    let r = env
        .authorization()
        .authorization(pb::AuthorizationRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Interaction as i32);
    assert_eq!(r.http, None);
    assert!(!r.continuation.is_empty());
    r.continuation
}

async fn decide(
    env: &Env,
    continuation: String,
    decision: Decision,
) -> pb::AuthorizationDecisionResponse {
    env.authorization()
        .authorization_decision(pb::AuthorizationDecisionRequest {
            continuation,
            decision: Some(decision),
        })
        .await
        .expect("OK")
        .into_inner()
}

#[tokio::test]
async fn an_approval_issues_with_tagged_and_locale_fallback_claims() {
    let env = start(V3).await;
    let issued = fixture("authorization_issue/location.json");
    env.fake
        .reply("/auth/authorization/issue", 200, issued.clone());
    let continuation = interaction(&env).await;
    let profile = json!({"name": "Alice", "name#ja": "アリス", "name#fr": "Alice (fr)", "email": "a@example.com",
                         "nationality": "JP", "address": {"country": "JP"}});
    let approval = pb::AuthorizationApproval {
        subject: "alice".into(),
        auth_time: 1_700_000_000,
        acr: "urn:acr:pwd".into(),
        claims: profile.to_string(),
        scopes: vec!["openid".into()],
        properties: vec![pb::Property {
            key: "k".into(),
            value: "v".into(),
            hidden: true,
        }],
        ..Default::default()
    };
    let r = decide(&env, continuation, Decision::Approved(approval)).await;

    let (path, body) = second_call(&env);
    assert_eq!(path, env.path("/auth/authorization/issue"));
    let claims: Value = serde_json::from_str(body["claims"].as_str().unwrap()).unwrap();
    // `name` falls back through the claims locales (de: none, ja: found);
    // `name#fr` is tagged; `birthdate` is not in the profile.
    assert_eq!(
        claims,
        json!({"name": "アリス", "name#fr": "Alice (fr)", "email": "a@example.com"})
    );
    let tx: Value = serde_json::from_str(body["claimsForTx"].as_str().unwrap()).unwrap();
    assert_eq!(tx, json!({"nationality": "JP"}));
    assert_eq!(body["ticket"], TICKET);
    assert_eq!(body["subject"], "alice");
    assert_eq!(body["authTime"], 1_700_000_000);
    assert_eq!(body["scopes"], json!(["openid"]));
    assert_eq!(
        body["properties"],
        json!([{"key": "k", "value": "v", "hidden": true}])
    );
    let location = response_content(&issued);
    assert_http(
        r.http.as_ref(),
        302,
        &cache_headers(&[("Location", &location)]),
        "",
    );
    let c = r.completion.unwrap();
    assert_eq!(
        (c.api.as_str(), c.action_name.as_str()),
        ("/auth/authorization/issue", "LOCATION")
    );
}

#[tokio::test]
async fn a_denial_fails_with_denied_or_the_given_reason() {
    for (reason, wire) in [
        (Reason::Unspecified, "DENIED"),
        (Reason::NotAuthenticated, "NOT_AUTHENTICATED"),
    ] {
        let env = start(V2).await;
        env.fake
            .reply("/auth/authorization/fail", 200, fail_location());
        let continuation = interaction(&env).await;
        let denial = pb::AuthorizationDenial {
            reason: reason as i32,
            description: "The user said no.".into(),
        };
        let r = decide(&env, continuation, Decision::Denied(denial)).await;
        let expected =
            json!({"ticket": TICKET, "reason": wire, "description": "The user said no."});
        assert_eq!(
            second_call(&env),
            (env.path("/auth/authorization/fail"), expected)
        );
        assert_http(
            r.http.as_ref(),
            302,
            &cache_headers(&[("Location", REDIRECT)]),
            "",
        );
        assert_eq!(r.completion.unwrap().reason, wire);
    }
}

#[tokio::test]
async fn the_decision_can_be_served_by_another_replica() {
    let first = start(V3).await;
    first.fake.reply(
        "/auth/authorization/issue",
        200,
        fixture("authorization_issue/location.json"),
    );
    let continuation = interaction(&first).await;
    // A second server instance, same Authlete, no shared memory.
    let second = Setup::new(V3).base_url(first.fake.base_url()).start().await;
    let approval = pb::AuthorizationApproval {
        subject: "alice".into(),
        ..Default::default()
    };
    let r = decide(&second, continuation, Decision::Approved(approval)).await;
    assert_eq!(r.http.unwrap().status, 302);
    let (path, body) = second_call(&first);
    assert_eq!(path, first.path("/auth/authorization/issue"));
    assert_eq!(body, json!({"ticket": TICKET, "subject": "alice"}));
}

#[tokio::test]
async fn bad_decisions_are_invalid_arguments_and_call_nothing() {
    let env = start(V3).await;
    let continuation = interaction(&env).await;
    let cases = [
        (
            pb::AuthorizationDecisionRequest {
                continuation: "garbage!".into(),
                decision: Some(Decision::Denied(pb::AuthorizationDenial::default())),
            },
            "continuation",
        ),
        (
            pb::AuthorizationDecisionRequest {
                continuation: continuation.clone(),
                decision: None,
            },
            "decision",
        ),
        (
            pb::AuthorizationDecisionRequest {
                continuation,
                decision: Some(Decision::Approved(pb::AuthorizationApproval {
                    subject: "alice".into(),
                    claims: "[]".into(),
                    ..Default::default()
                })),
            },
            "approved.claims",
        ),
    ];
    for (request, field) in cases {
        let status = env
            .authorization()
            .authorization_decision(request)
            .await
            .expect_err(field);
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{field}");
        assert!(
            status.message().starts_with(field),
            "{field}: {}",
            status.message()
        );
    }
    assert_eq!(
        env.fake.requests().len(),
        1,
        "only the first step reached Authlete"
    );
}

#[tokio::test]
async fn no_interaction_passes_the_sessions_scopes_and_properties_to_issue() {
    let env = start(V3).await;
    env.fake.reply(
        "/auth/authorization/issue",
        200,
        fixture("authorization_issue/location.json"),
    );
    let session = pb::UserSession {
        scopes: vec!["openid".into(), "read".into()],
        properties: vec![pb::Property {
            key: "tenant".into(),
            value: "t-1".into(),
            hidden: true,
        }],
        ..alice(json!({}))
    };
    no_interaction(&env, json!({}), Some(session)).await;
    let (path, body) = second_call(&env);
    assert_eq!(path, env.path("/auth/authorization/issue"));
    assert_eq!(body["scopes"], json!(["openid", "read"]));
    assert_eq!(
        body["properties"],
        json!([{"key": "tenant", "value": "t-1", "hidden": true}])
    );
}

/// Runs an INTERACTION whose reply names a subject and an essential ACR, then
/// the approval; returns the second call's path and body.
async fn approve_named(approval: pb::AuthorizationApproval) -> (String, Value) {
    let env = start(V3).await;
    let reply = fixture_with(
        "authorization/interaction.json",
        json!({"subject": "alice", "acrs": ["urn:acr:mfa"], "acrEssential": true}),
    );
    env.fake.reply("/auth/authorization", 200, reply);
    env.fake
        .reply("/auth/authorization/fail", 200, fail_location());
    env.fake.reply(
        "/auth/authorization/issue",
        200,
        fixture("authorization_issue/location.json"),
    );
    let first = env
        .authorization()
        .authorization(pb::AuthorizationRequest::default())
        .await
        .expect("OK")
        .into_inner();
    let r = decide(&env, first.continuation, Decision::Approved(approval)).await;
    assert!(r.http.is_some());
    second_call(&env)
}

#[tokio::test]
async fn an_approval_that_misses_what_the_request_names_fails_as_jaxrs_does() {
    let good = pb::AuthorizationApproval {
        subject: "alice".into(),
        acr: "urn:acr:mfa".into(),
        ..Default::default()
    };
    let cases = [
        (pb::AuthorizationApproval::default(), "NOT_AUTHENTICATED"),
        (
            pb::AuthorizationApproval {
                subject: "bob".into(),
                ..good.clone()
            },
            "DIFFERENT_SUBJECT",
        ),
        (
            pb::AuthorizationApproval {
                acr: "urn:acr:pwd".into(),
                ..good.clone()
            },
            "ACR_NOT_SATISFIED",
        ),
    ];
    for (approval, reason) in cases {
        let (path, body) = approve_named(approval).await;
        assert_eq!(
            (
                path.ends_with("/auth/authorization/fail"),
                body["reason"].as_str()
            ),
            (true, Some(reason))
        );
    }
    let (path, body) = approve_named(good).await;
    assert!(path.ends_with("/auth/authorization/issue"), "{path}");
    assert_eq!(body["subject"], "alice");
}
