//! Error branches of the authorization endpoint on the local engine, through
//! the real gRPC service: non-redirectable and redirectable errors, every fail
//! reason, expiry and single use of tickets, and pushed request errors.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::pb;
use local_common::*;

/// The `error` an authorization reply carries, in its redirect or JSON.
fn error_of(action: &str, content: &str) -> String {
    match action {
        "LOCATION" => param(content, "error").expect("error in the redirect"),
        _ => serde_json::from_str::<serde_json::Value>(content).expect("JSON error")["error"]
            .as_str()
            .expect("error member")
            .to_owned(),
    }
}

#[tokio::test]
async fn authorization_errors_redirect_only_to_a_trusted_uri() {
    let env = Env::start(Via::Direct).await;
    let spa = |extra: &str| {
        format!(
            "response_type=code&client_id={SPA}&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"
        )
    };
    let cases: Vec<(String, &str, &str)> = vec![
        // Not redirectable: BAD_REQUEST with a JSON error.
        (
            "response_type=code".to_owned(),
            "BAD_REQUEST",
            "invalid_request",
        ),
        (
            "response_type=code&client_id=nobody".to_owned(),
            "BAD_REQUEST",
            "invalid_request",
        ),
        (
            format!(
                "response_type=code&client_id={WEB}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
            ),
            "BAD_REQUEST",
            "invalid_request",
        ),
        (spa(""), "BAD_REQUEST", "invalid_request"), // several URIs registered
        (
            format!("client_id={WEB}&client_id={WEB}"),
            "BAD_REQUEST",
            "invalid_request",
        ),
        (
            format!("client_id={WEB}&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax"),
            "BAD_REQUEST",
            "invalid_request_uri",
        ),
        // Redirectable: LOCATION with error, state and iss.
        (
            format!("client_id={WEB}&state=st-1"),
            "LOCATION",
            "invalid_request",
        ),
        (
            format!("response_type=token&client_id={WEB}&state=st-1"),
            "LOCATION",
            "unsupported_response_type",
        ),
        (
            format!("response_type=code&client_id={POSTER}&scope=unknown&state=st-1"),
            "LOCATION",
            "invalid_scope",
        ),
        (
            format!("{}&state=st-1", spa("").replace("&code_challenge=", "&x="))
                + &format!("&redirect_uri={}", enc(SPA_REDIRECT)),
            "LOCATION",
            "invalid_request",
        ),
        (
            code_request("&prompt=none+login"),
            "LOCATION",
            "invalid_request",
        ),
        (code_request("&max_age=soon"), "LOCATION", "invalid_request"),
        (
            code_request("&display=billboard"),
            "LOCATION",
            "invalid_request",
        ),
        (
            code_request("&claims=%5B%5D"),
            "LOCATION",
            "invalid_request",
        ),
        (
            code_request("&request=eyJ"),
            "BAD_REQUEST",
            "invalid_request_object",
        ),
        (
            code_request("&resource=relative"),
            "LOCATION",
            "invalid_target",
        ),
        (
            code_request("&response_mode=query.jwt"),
            "LOCATION",
            "invalid_request",
        ),
        (
            code_request("").replace("S256", "S512"),
            "LOCATION",
            "invalid_request",
        ),
        (
            code_request("").replace(CHALLENGE, "short"),
            "LOCATION",
            "invalid_request",
        ),
        (
            format!(
                "response_type=id_token&client_id={WEB}&redirect_uri={}&scope=openid&state=st-1",
                enc(REDIRECT)
            ),
            "LOCATION",
            "invalid_request",
        ), // no nonce
        (
            format!("response_type=id_token&client_id={WEB}&scope=email&nonce=n&state=st-1"),
            "LOCATION",
            "invalid_request",
        ), // no openid
    ];
    for (params, action, error) in &cases {
        let r = authorize(&env, params).await;
        assert_eq!(&r.action_name, action, "{params}: {}", r.result_message);
        assert_eq!(&error_of(action, &r.response_content), error, "{params}");
        if *action == "LOCATION" {
            assert_eq!(
                param(&r.response_content, "state").as_deref(),
                Some("st-1"),
                "{params}"
            );
            assert_eq!(
                param(&r.response_content, "iss").as_deref(),
                Some(ISSUER),
                "{params}"
            );
            assert!(param(&r.response_content, "error_description").is_some());
        }
    }
    // id_token in a query is refused, and the error travels in the fragment.
    let r = authorize(&env, &format!("response_type=id_token&client_id={WEB}&redirect_uri={}&scope=openid&nonce=n&response_mode=query&state=st-1", enc(REDIRECT))).await;
    assert_eq!(r.action_name, "LOCATION");
    assert!(
        r.response_content
            .starts_with(&format!("{REDIRECT}?error=invalid_request"))
    );
    // A client not registered for the response type.
    let r = authorize(
        &env,
        &format!(
            "response_type=id_token&client_id={POSTER}&redirect_uri={}&scope=openid&nonce=n&state=st-1",
            enc(REDIRECT)
        ),
    )
    .await;
    assert_eq!(
        error_of(&r.action_name, &r.response_content),
        "unauthorized_client"
    );
    // An error with response_mode=form_post is an HTML form.
    let r = authorize(
        &env,
        &format!("client_id={WEB}&response_mode=form_post&state=st-1"),
    )
    .await;
    assert_eq!(r.action_name, "FORM");
    assert!(
        r.response_content
            .contains("name=\"error\" value=\"invalid_request\"")
    );
}

#[tokio::test]
async fn fail_reasons_map_to_oauth_errors() {
    use pb::authorization_fail_request::Reason;
    let env = Env::start(Via::Direct).await;
    let table = [
        (Reason::Unknown, "server_error"),
        (Reason::NotLoggedIn, "login_required"),
        (Reason::MaxAgeNotSupported, "login_required"),
        (Reason::ExceedsMaxAge, "login_required"),
        (Reason::DifferentSubject, "login_required"),
        (Reason::AcrNotSatisfied, "unmet_authentication_requirements"),
        (Reason::Denied, "access_denied"),
        (Reason::ServerError, "server_error"),
        (Reason::NotAuthenticated, "login_required"),
        (
            Reason::AccountSelectionRequired,
            "account_selection_required",
        ),
        (Reason::ConsentRequired, "consent_required"),
        (Reason::InteractionRequired, "interaction_required"),
        (Reason::InvalidTarget, "invalid_target"),
        (Reason::InvalidScope, "invalid_scope"),
        (Reason::UnauthorizedClient, "unauthorized_client"),
        (Reason::TemporarilyUnavailable, "temporarily_unavailable"),
    ];
    for (reason, error) in table {
        let r = authorize(&env, &code_request("")).await;
        let f = env
            .authz()
            .authorization_fail(pb::AuthorizationFailRequest {
                ticket: r.ticket.clone(),
                reason: reason as i32,
                description: if reason == Reason::Denied {
                    "No thanks.".to_owned()
                } else {
                    String::new()
                },
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(f.action_name, "LOCATION", "{reason:?}");
        assert_eq!(
            param(&f.response_content, "error").as_deref(),
            Some(error),
            "{reason:?}"
        );
        assert_eq!(param(&f.response_content, "iss").as_deref(), Some(ISSUER));
        assert_eq!(param(&f.response_content, "state").as_deref(), Some("st-1"));
        if reason == Reason::Denied {
            assert!(
                param(&f.response_content, "error_description")
                    .unwrap()
                    .ends_with("No thanks.")
            );
        }
        // The ticket is spent.
        let again = issue(&env, &r.ticket, "alice", "").await;
        assert_eq!(again.action_name, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn tickets_work_once_and_expire() {
    let env = Env::start(Via::Direct).await;
    let r = authorize(&env, &code_request("")).await;
    assert_eq!(
        issue(&env, &r.ticket, "alice", "").await.action_name,
        "LOCATION"
    );
    let twice = issue(&env, &r.ticket, "alice", "").await;
    assert_eq!(twice.action_name, "BAD_REQUEST");
    assert_eq!(twice.http.unwrap().status, 400);

    let r = authorize(&env, &code_request("")).await;
    env.advance(601); // the ticket lives 600 s
    assert_eq!(
        issue(&env, &r.ticket, "alice", "").await.action_name,
        "BAD_REQUEST"
    );

    // Password tickets too (300 s).
    let p = token(
        &env,
        "grant_type=password&username=a&password=b",
        Some((WEB, WEB_SECRET)),
    )
    .await;
    env.advance(301);
    let late = env
        .token()
        .token_issue(pb::TokenIssueRequest {
            ticket: p.ticket,
            subject: "a".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(late.action_name, "INTERNAL_SERVER_ERROR");
}

#[tokio::test]
async fn pushed_request_errors() {
    let env = Env::start(Via::Direct).await;
    let push = |params: String, id: &str, secret: &str| {
        let env = &env;
        let (id, secret) = (id.to_owned(), secret.to_owned());
        async move {
            env.par()
                .pushed_authorization(pb::PushedAuthorizationRequest {
                    parameters: params,
                    client_id: id,
                    client_secret: secret,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let r = push(code_request(""), WEB, "wrong").await;
    assert_eq!(r.action_name, "UNAUTHORIZED");
    assert_eq!(r.http.unwrap().status, 401);
    let r = push(code_request("&prompt=bogus"), WEB, WEB_SECRET).await;
    assert_eq!(r.action_name, "BAD_REQUEST");
    let r = push(code_request("&request_uri=urn%3Ax"), WEB, WEB_SECRET).await;
    assert_eq!(r.action_name, "BAD_REQUEST");
    // A request URI expires (90 s) and belongs to its client.
    let r = push(code_request(""), WEB, WEB_SECRET).await;
    let other = authorize(
        &env,
        &format!("client_id={POSTER}&request_uri={}", enc(&r.request_uri)),
    )
    .await;
    assert_eq!(other.action_name, "BAD_REQUEST");
    let r = push(code_request(""), WEB, WEB_SECRET).await;
    env.advance(91);
    let late = authorize(
        &env,
        &format!("client_id={WEB}&request_uri={}", enc(&r.request_uri)),
    )
    .await;
    assert_eq!(late.action_name, "BAD_REQUEST");
    assert!(late.response_content.contains("invalid_request_uri"));
}
