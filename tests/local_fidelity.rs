//! Spec rules of the local engine found with independent OAuth/OIDC client
//! libraries, through the real gRPC service: bounded parameter lists, code
//! and refresh-token families, `redirect_uri` for OpenID requests, request
//! objects, revocation by another client.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::pb;
use local_common::idtoken;
use local_common::*;

/// `n` distinct space-separated values.
fn words(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}{i}"))
        .collect::<Vec<_>>()
        .join("+")
}

#[tokio::test]
async fn parameter_lists_are_bounded() {
    let env = Env::start(Via::Direct).await;
    // 200 KB of claims_locales (under the message limit): refused at once,
    // naming the parameter.
    let huge = format!("&claims_locales={}", words("l", 30_000));
    let r = authorize(&env, &code_request(&huge)).await;
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    assert!(
        r.response_content.contains("claims_locales"),
        "{}",
        r.response_content
    );
    // At the bound, fine.
    let at = format!("&claims_locales={}", words("l", 64));
    let r = authorize(&env, &code_request(&at)).await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    // Repeated resources count too.
    let resources: String = (0..65)
        .map(|i| format!("&resource=https%3A%2F%2Frs{i}.example"))
        .collect();
    let t = token(
        &env,
        &format!("grant_type=client_credentials{resources}"),
        Some((WEB, WEB_SECRET)),
    )
    .await;
    assert_eq!(t.action_name, "BAD_REQUEST", "{}", t.result_message);
    assert!(
        t.response_content.contains("resource"),
        "{}",
        t.response_content
    );
}

/// The `error` of an authorization reply: a redirect's parameter, or the
/// JSON body's member.
fn authz_error(r: &pb::AuthorizationResponse) -> String {
    match r.action_name.as_str() {
        "LOCATION" => param(&r.response_content, "error").unwrap_or_default(),
        _ => serde_json::from_str::<serde_json::Value>(&r.response_content).unwrap()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    }
}

#[tokio::test]
async fn openid_requests_need_the_redirect_uri() {
    // OIDC Core 3.1.2.1: required for OpenID requests, even with a single
    // registered URI (RFC 6749's default is for plain OAuth only).
    let env = Env::start(Via::Direct).await;
    let without = code_request("").replace(&format!("&redirect_uri={}", enc(REDIRECT)), "");
    let r = authorize(&env, &without).await;
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    assert_eq!(authz_error(&r), "invalid_request");
    assert!(
        r.response_content.contains("redirect_uri"),
        "{}",
        r.response_content
    );
    let oauth = without.replace("scope=openid+profile+email", "scope=profile");
    let r = authorize(&env, &oauth.replace("&nonce=n-1", "")).await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
}

#[tokio::test]
async fn request_objects_by_reference_are_refused_the_oidc_core_6_way() {
    let env = Env::start(Via::Direct).await;
    let base = format!(
        "client_id={WEB}&redirect_uri={}&scope=openid&state=st-6",
        enc(REDIRECT)
    );
    // The parameters may all be inside the object: no response_type here.
    // An unsigned request object is refused directly (its redirect URI
    // cannot be trusted); tests/local_request_objects.rs has the signed ones.
    let r = authorize(&env, &format!("{base}&request=eyJhbGciOiJub25lIn0.e30.")).await;
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    assert!(r.response_content.contains("invalid_request_object"));
    for (extra, error) in [(
        "&request_uri=https%3A%2F%2Fclient.example%2Freq.jwt",
        "request_uri_not_supported",
    )] {
        let r = authorize(&env, &format!("{base}{extra}")).await;
        assert_eq!(r.action_name, "LOCATION", "{extra}: {}", r.result_message);
        assert!(
            r.response_content.starts_with(REDIRECT),
            "{}",
            r.response_content
        );
        assert_eq!(authz_error(&r), error, "{extra}");
        assert_eq!(param(&r.response_content, "state").as_deref(), Some("st-6"));
    }
    // Without a known redirect URI: the same error, answered directly.
    let r = authorize(
        &env,
        "client_id=nobody&request_uri=https%3A%2F%2Fclient.example%2Freq.jwt",
    )
    .await;
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
}

/// A refresh by the web client.
async fn refresh(env: &Env, refresh_token: &str) -> pb::TokenResponse {
    let params = format!("grant_type=refresh_token&refresh_token={refresh_token}");
    token(env, &params, Some((WEB, WEB_SECRET))).await
}

/// The introspection action of an access token.
async fn state(env: &Env, access_token: &str) -> String {
    introspect(env, access_token, &[]).await.action_name
}

#[tokio::test]
async fn a_code_replay_revokes_every_token_descended_from_it() {
    let env = Env::start(Via::Direct).await;
    let code = code(&env, "").await;
    let first = token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
    let second = refresh(&env, &first.refresh_token).await;
    assert_eq!(second.action_name, "OK", "{}", second.result_message);
    let replay = token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
    assert_eq!(replay.action_name, "BAD_REQUEST");
    assert_eq!(
        state(&env, &second.access_token).await,
        "UNAUTHORIZED",
        "the refreshed access token is revoked too"
    );
    let again = refresh(&env, &second.refresh_token).await;
    assert_eq!(again.action_name, "BAD_REQUEST", "{}", again.result_message);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_family() {
    let env = Env::start(Via::Direct).await;
    let other = tokens(&env).await;
    let first = tokens(&env).await;
    let second = refresh(&env, &first.refresh_token).await;
    assert_eq!(second.action_name, "OK", "{}", second.result_message);
    let reuse = refresh(&env, &first.refresh_token).await;
    assert_eq!(reuse.action_name, "BAD_REQUEST");
    assert!(reuse.response_content.contains("invalid_grant"));
    assert_eq!(state(&env, &second.access_token).await, "UNAUTHORIZED");
    let next = refresh(&env, &second.refresh_token).await;
    assert_eq!(next.action_name, "BAD_REQUEST", "{}", next.result_message);
    // Another family is untouched.
    assert_eq!(state(&env, &other.access_token).await, "OK");
}

#[tokio::test]
async fn id_tokens_are_rs256_by_default_and_per_client_otherwise() {
    let mut config = config();
    config.clients[0].id_token_signed_response_alg = Some("ES256".to_owned());
    for (config, alg) in [(local_common::config(), "RS256"), (config, "ES256")] {
        let env = Env::start_with(Via::Direct, config).await;
        let keys = idtoken::jwks(&env).await;
        let t = tokens(&env).await;
        let claims = idtoken::verify_alg(&keys, &t.id_token, alg);
        assert_eq!(claims["sub"], "alice");
    }
    let mut config = local_common::config();
    config.clients[0].id_token_signed_response_alg = Some("HS256".to_owned());
    let err = authlete_grpc::backend::LocalBackend::new(config).expect_err("HS256");
    assert!(err.contains("id_token_signed_response_alg"), "{err}");
}

#[tokio::test]
async fn registration_honours_the_id_token_signing_algorithm() {
    use local_common::registration::{dcr_config, register};
    let env = Env::start_with(Via::Direct, dcr_config(None)).await;
    let web = |alg: &str| {
        format!(
            r#"{{"redirect_uris":["https://rp.example/cb"],"id_token_signed_response_alg":"{alg}"}}"#
        )
    };
    let r = register(&env, &web("ES256"), "").await;
    r.expect("CREATED", 201);
    assert_eq!(r.s("id_token_signed_response_alg"), "ES256");
    let r = register(&env, &web("RS512"), "").await;
    r.expect_error("BAD_REQUEST", 400, "invalid_client_metadata");
    let plain = register(&env, r#"{"redirect_uris":["https://rp.example/cb"]}"#, "").await;
    assert_eq!(plain.s("id_token_signed_response_alg"), "RS256");
}
