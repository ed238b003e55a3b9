//! Error branches of the token and resource endpoints on the local engine,
//! through the real gRPC service: code expiry, single use and replay, client
//! authentication, grant errors, refresh scopes and expiry, introspection,
//! userinfo and revocation errors, the live-object cap, caller errors and
//! unsupported APIs.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::{Api, Backend, BackendError, Call};
use authlete_grpc::pb;
use local_common::*;

#[tokio::test]
async fn codes_work_once_expire_and_a_replay_revokes_the_tokens() {
    let env = Env::start(Via::Direct).await;
    let code = code(&env, "").await;
    let first = token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
    assert_eq!(first.action_name, "OK");
    assert_eq!(
        introspect(&env, &first.access_token, &[]).await.action_name,
        "OK"
    );
    let replay = token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
    assert_eq!(replay.action_name, "BAD_REQUEST");
    assert!(replay.response_content.contains("invalid_grant"));
    assert_eq!(
        introspect(&env, &first.access_token, &[]).await.action_name,
        "UNAUTHORIZED"
    );
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}",
        first.refresh_token
    );
    assert_eq!(
        token(&env, &refresh, Some((WEB, WEB_SECRET)))
            .await
            .action_name,
        "BAD_REQUEST"
    );

    let code = self::code(&env, "").await;
    env.advance(601); // codes live 600 s
    let late = token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
    assert!(
        late.response_content.contains("invalid_grant"),
        "{}",
        late.response_content
    );
}

#[tokio::test]
async fn token_request_errors() {
    let env = Env::start(Via::Direct).await;
    let bad_grant = |t: &pb::TokenResponse, error: &str| {
        assert_eq!(t.action_name, "BAD_REQUEST", "{}", t.result_message);
        assert!(
            t.response_content
                .contains(&format!("\"error\":\"{error}\"")),
            "{}",
            t.response_content
        );
    };
    // PKCE and redirect URI checks burn the code.
    let code = code(&env, "").await;
    let no_verifier = code_exchange(&code).replace(&format!("&code_verifier={VERIFIER}"), "");
    bad_grant(
        &token(&env, &no_verifier, Some((WEB, WEB_SECRET))).await,
        "invalid_grant",
    );
    let code = self::code(&env, "").await;
    let wrong = code_exchange(&code).replace(VERIFIER, &"x".repeat(43));
    bad_grant(
        &token(&env, &wrong, Some((WEB, WEB_SECRET))).await,
        "invalid_grant",
    );
    let code = self::code(&env, "").await;
    let elsewhere =
        code_exchange(&code).replace(&enc(REDIRECT), &enc("https://client.example/other"));
    bad_grant(
        &token(&env, &elsewhere, Some((WEB, WEB_SECRET))).await,
        "invalid_grant",
    );
    let code = self::code(&env, "").await;
    let missing = code_exchange(&code).replace(&format!("&redirect_uri={}", enc(REDIRECT)), "");
    bad_grant(
        &token(&env, &missing, Some((WEB, WEB_SECRET))).await,
        "invalid_grant",
    );
    // A code of another client.
    let code = self::code(&env, "").await;
    let other = format!(
        "{}&client_id={POSTER}&client_secret={POSTER_SECRET}",
        code_exchange(&code)
    );
    bad_grant(&token(&env, &other, None).await, "invalid_grant");
    // Client authentication: INVALID_CLIENT with a 401.
    for (params, basic) in [
        ("grant_type=client_credentials", Some((WEB, "wrong"))),
        ("grant_type=client_credentials", Some(("nobody", "x"))),
        ("grant_type=client_credentials", None),
        (
            "grant_type=client_credentials",
            Some((POSTER, POSTER_SECRET)),
        ), // registered for post
    ] {
        let t = token(&env, params, basic).await;
        assert_eq!(t.action_name, "INVALID_CLIENT", "{basic:?}");
        assert_eq!(t.http.unwrap().status, 401);
    }
    let both = format!("grant_type=client_credentials&client_secret={WEB_SECRET}");
    bad_grant(
        &token(&env, &both, Some((WEB, WEB_SECRET))).await,
        "invalid_request",
    );
    bad_grant(
        &token(&env, "scope=openid", Some((WEB, WEB_SECRET))).await,
        "invalid_request",
    );
    bad_grant(
        &token(
            &env,
            "grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code",
            Some((WEB, WEB_SECRET)),
        )
        .await,
        "unsupported_grant_type",
    );
    // CIBA is supported, but `web` is not registered for it.
    bad_grant(
        &token(
            &env,
            "grant_type=urn:openid:params:grant-type:ciba",
            Some((WEB, WEB_SECRET)),
        )
        .await,
        "unauthorized_client",
    );
    let poster = format!(
        "grant_type=password&username=a&password=b&client_id={POSTER}&client_secret={POSTER_SECRET}"
    );
    bad_grant(&token(&env, &poster, None).await, "unauthorized_client");
    bad_grant(
        &token(
            &env,
            "grant_type=password&username=a",
            Some((WEB, WEB_SECRET)),
        )
        .await,
        "invalid_request",
    );
    bad_grant(
        &token(
            &env,
            "grant_type=client_credentials&scope=admin",
            Some((WEB, WEB_SECRET)),
        )
        .await,
        "invalid_scope",
    );
    bad_grant(
        &token(
            &env,
            "grant_type=authorization_code",
            Some((WEB, WEB_SECRET)),
        )
        .await,
        "invalid_request",
    );
    bad_grant(
        &token(
            &env,
            "grant_type=refresh_token&refresh_token=nothing",
            Some((WEB, WEB_SECRET)),
        )
        .await,
        "invalid_grant",
    );
}

#[tokio::test]
async fn refresh_scopes_and_expiry() {
    let env = Env::start(Via::Direct).await;
    let t = tokens(&env).await;
    let narrow = format!(
        "grant_type=refresh_token&refresh_token={}&scope=openid",
        t.refresh_token
    );
    let n = token(&env, &narrow, Some((WEB, WEB_SECRET))).await;
    assert_eq!(n.action_name, "OK");
    assert_eq!(n.scopes, ["openid"]);
    let wide = format!(
        "grant_type=refresh_token&refresh_token={}&scope=openid+phone",
        n.refresh_token
    );
    let w = token(&env, &wide, Some((WEB, WEB_SECRET))).await;
    assert!(w.response_content.contains("invalid_scope"));
    // Access tokens expire after an hour, refresh tokens after a day.
    env.advance(3601);
    let i = introspect(&env, &n.access_token, &[]).await;
    assert_eq!(i.action_name, "UNAUTHORIZED");
    assert!(i.result_message.contains("expired"));
    let again = format!("grant_type=refresh_token&refresh_token={}", n.refresh_token);
    assert_eq!(
        token(&env, &again, Some((WEB, WEB_SECRET)))
            .await
            .action_name,
        "OK"
    );
    env.advance(86_401);
    let late = token(&env, &again, Some((WEB, WEB_SECRET))).await;
    assert!(late.response_content.contains("invalid_grant"));
}

#[tokio::test]
async fn refresh_without_rotation_keeps_the_refresh_token() {
    let mut config = config();
    config.refresh_token_rotation = false;
    let env = Env::start_with(Via::Direct, config).await;
    let t = tokens(&env).await;
    let params = format!("grant_type=refresh_token&refresh_token={}", t.refresh_token);
    let r = token(&env, &params, Some((WEB, WEB_SECRET))).await;
    assert_eq!(r.refresh_token, t.refresh_token);
    assert_eq!(
        token(&env, &params, Some((WEB, WEB_SECRET)))
            .await
            .action_name,
        "OK"
    );
}

#[tokio::test]
async fn resource_endpoint_errors() {
    let env = Env::start(Via::Direct).await;
    let t = tokens(&env).await;
    let i = env
        .introspection()
        .introspection(pb::IntrospectionRequest {
            token: t.access_token.clone(),
            subject: "mallory".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(i.action_name, "FORBIDDEN");
    assert_eq!(
        introspect(&env, "no-such-token", &[]).await.action_name,
        "UNAUTHORIZED"
    );
    let user_info = |token: String| {
        let env = &env;
        async move {
            env.userinfo()
                .user_info(pb::UserInfoRequest {
                    token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    assert_eq!(
        user_info("no-such-token".to_owned()).await.action_name,
        "UNAUTHORIZED"
    );
    let cc = token(
        &env,
        "grant_type=client_credentials&scope=openid",
        Some((WEB, WEB_SECRET)),
    )
    .await;
    let u = user_info(cc.access_token).await;
    assert_eq!(u.action_name, "FORBIDDEN", "no end-user");
    let p = token(
        &env,
        "grant_type=password&username=a&password=b&scope=email",
        Some((WEB, WEB_SECRET)),
    )
    .await;
    let ok = env
        .token()
        .token_issue(pb::TokenIssueRequest {
            ticket: p.ticket,
            subject: "a".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let u = user_info(ok.access_token).await;
    assert_eq!(u.action_name, "FORBIDDEN", "no openid scope");
    let http = u.http.unwrap();
    assert_eq!(http.status, 403);
    // Revocation: client authentication, a missing token, another client's token.
    let revoke = |params: String, id: &str, secret: &str| {
        let env = &env;
        let (id, secret) = (id.to_owned(), secret.to_owned());
        async move {
            env.revocation()
                .revocation(pb::RevocationRequest {
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
    let r = revoke(format!("token={}", t.access_token), WEB, "wrong").await;
    assert_eq!(r.action_name, "INVALID_CLIENT");
    assert_eq!(
        revoke(String::new(), WEB, WEB_SECRET).await.action_name,
        "BAD_REQUEST"
    );
    let r = revoke(
        format!(
            "token={}&client_id={POSTER}&client_secret={POSTER_SECRET}",
            t.access_token
        ),
        "",
        "",
    )
    .await;
    assert_eq!(r.action_name, "OK");
    assert_eq!(
        introspect(&env, &t.access_token, &[]).await.action_name,
        "OK",
        "another client cannot revoke it"
    );
}

#[tokio::test]
async fn the_live_object_cap_is_a_clear_server_error_until_state_expires() {
    let mut config = config();
    config.max_live_objects = 3;
    let env = Env::start_with(Via::Direct, config).await;
    for _ in 0..3 {
        assert_eq!(
            authorize(&env, &code_request("")).await.action_name,
            "INTERACTION"
        );
    }
    let full = authorize(&env, &code_request("")).await;
    assert_eq!(full.action_name, "INTERNAL_SERVER_ERROR");
    assert!(
        full.result_message.contains("max_live_objects"),
        "{}",
        full.result_message
    );
    assert_eq!(full.http.unwrap().status, 500);
    assert_eq!(env.engine.live_objects(), 3);
    env.advance(601);
    assert_eq!(
        authorize(&env, &code_request("")).await.action_name,
        "INTERACTION"
    );
    assert_eq!(env.engine.live_objects(), 1, "expired tickets were swept");
}

#[tokio::test]
async fn caller_errors_and_unsupported_apis() {
    let env = Env::start(Via::Direct).await;
    let call = |api, body: &str| Call {
        api,
        query: Vec::new(),
        body: Some(body.as_bytes().to_vec()),
    };
    let engine: &dyn Backend = env.engine.as_ref();
    match engine
        .call(call(Api::AuthorizationIssue, r#"{"ticket":"t"}"#))
        .await
    {
        Err(BackendError::Status {
            status: 400,
            result_message: Some(m),
            ..
        }) => assert!(m.contains("'subject'"), "{m}"),
        other => panic!("expected a caller error, got {other:?}"),
    }
    match engine.call(call(Api::Token, "not json")).await {
        Err(BackendError::Status { status: 400, .. }) => {}
        other => panic!("expected a caller error, got {other:?}"),
    }
    for api in [Api::IdTokenReissue, Api::NativeSso] {
        match engine.call(call(api, "{}")).await {
            Err(e @ BackendError::Unsupported { .. }) => {
                assert!(e.to_string().contains(api.path()))
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }
    // Through the gRPC edge, an engine caller error is INVALID_ARGUMENT.
    let status = env
        .authz()
        .authorization_issue(pb::AuthorizationIssueRequest {
            ticket: "t".to_owned(),
            subject: "alice".to_owned(),
            claims: "[1]".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}
