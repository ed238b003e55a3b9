//! Token exchange (RFC 8693) and the JWT bearer grant (RFC 7523) on the
//! local engine through the real gRPC service, directly and over the HTTP
//! API (v2 and v3): `Token` answers TOKEN_EXCHANGE / JWT_BEARER with what
//! Authlete validated (`subjectTokenInfo`, `actorTokenInfo`, `assertion`),
//! `TokenDecision` issues through `/auth/token/create`, and every refusal
//! (unknown, expired, revoked subject tokens, wrong types, assertions badly
//! signed, expired, for another audience, from unknown issuers, too large).
//! Every reply is checked against Authlete's schemas by the harness.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::local::{Algorithm, JwtIssuerConfig, LocalBackend, LocalConfig};
use authlete_grpc::backend::local::{ManualClock, SigningKey};
use authlete_grpc::backend::{Api, ApiVersion, Call};
use authlete_grpc::pb::{self, token_decision_request::Decision};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_common::*;
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const RT: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const IDT: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const IDP: &str = "https://idp.example";

/// The trusted issuer's key (one for the whole suite: keys take time).
static IDP_KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate(Algorithm::ES256).unwrap());

/// The test clients; `web` may use both grants, `poster` neither; one
/// trusted issuer.
fn exchange_config() -> LocalConfig {
    let mut c = config();
    c.clients[0]
        .grant_types
        .extend([EXCHANGE.into(), BEARER.into()]);
    c.jwt_bearer_issuers = vec![JwtIssuerConfig {
        issuer: IDP.into(),
        jwks: Some(json!({"keys": [IDP_KEY.public_jwk()]}).to_string()),
        jwks_file: None,
    }];
    c
}

/// A compact JWS of `claims` by `key`, with `header` members added.
fn sign(key: &SigningKey, claims: &Value, header: Value) -> String {
    let mut h = json!({"alg": key.alg().name(), "typ": "JWT", "kid": key.kid()});
    for (k, v) in header.as_object().unwrap() {
        h[k] = v.clone();
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(h.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// A valid assertion of the trusted issuer about `bob` for the engine.
fn assertion_claims(env: &Env) -> Value {
    let now = env.clock_seconds();
    json!({"iss": IDP, "sub": "bob", "aud": format!("{ISSUER}/token"), "exp": now + 300, "iat": now})
}

async fn web_token(env: &Env, parameters: &str) -> pb::TokenResponse {
    token(env, parameters, Some((WEB, WEB_SECRET))).await
}

fn exchange(subject: &str, kind: &str, extra: &str) -> String {
    format!(
        "grant_type={}&subject_token={}&subject_token_type={}{extra}",
        enc(EXCHANGE),
        enc(subject),
        enc(kind)
    )
}

fn bearer(assertion: &str) -> String {
    format!("grant_type={}&assertion={}", enc(BEARER), enc(assertion))
}

/// A refusal: BAD_REQUEST with `error` in the body; the description.
fn refused(r: &pb::TokenResponse, error: &str) -> String {
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    let body: Value = serde_json::from_str(&r.response_content).unwrap();
    assert_eq!(body["error"], error, "{body}");
    body["error_description"].as_str().unwrap().to_owned()
}

async fn decide(env: &Env, continuation: &str, subject: &str) -> pb::TokenDecisionResponse {
    env.token()
        .token_decision(pb::TokenDecisionRequest {
            continuation: continuation.to_owned(),
            decision: Some(Decision::Granted(pb::TokenGrant {
                subject: subject.into(),
                ..Default::default()
            })),
        })
        .await
        .expect("TokenDecision")
        .into_inner()
}

/// The issued token response of a decision, checked to be 200.
fn issued(d: &pb::TokenDecisionResponse) -> Value {
    let http = d.http.as_ref().expect("http");
    assert_eq!(http.status, 200, "{}", http.body);
    assert_eq!(d.completion.as_ref().unwrap().api, "/auth/token/create");
    serde_json::from_str(&http.body).unwrap()
}

#[tokio::test]
async fn an_access_token_is_exchanged_and_the_decision_issues_for_its_subject() {
    for via in VIAS {
        let env = Env::start_with(via, exchange_config()).await;
        let t = tokens(&env).await;
        let extra = format!(
            "&actor_token={}&actor_token_type={}&scope=profile&audience=https%3A%2F%2Frs.example\
             &resource=https%3A%2F%2Frs.example%2Fapi&requested_token_type={}",
            enc(&t.refresh_token),
            enc(RT),
            enc(AT)
        );
        let r = web_token(&env, &exchange(&t.access_token, AT, &extra)).await;
        assert_eq!(
            r.action_name, "TOKEN_EXCHANGE",
            "{via:?}: {}",
            r.result_message
        );
        assert_eq!(r.grant_type, "TOKEN_EXCHANGE");
        assert_eq!(
            (r.subject_token.as_str(), r.subject_token_type.as_str()),
            (t.access_token.as_str(), "ACCESS_TOKEN")
        );
        assert_eq!(r.requested_token_type, "ACCESS_TOKEN");
        assert_eq!(r.scopes, ["profile"]);
        assert_eq!(r.audiences, ["https://rs.example"]);
        assert_eq!(r.resources, ["https://rs.example/api"]);
        assert_eq!(r.client_auth_method, "CLIENT_SECRET_BASIC");
        assert_eq!(r.http, None, "the web tier decides");
        let info = r.subject_token_info.expect("subjectTokenInfo");
        assert_eq!(
            (info.client_id, info.subject.as_str()),
            (t.client_id, "alice")
        );
        assert_eq!(info.scopes, ["openid", "profile", "email"]);
        assert_eq!(info.expires_at, t.access_token_expires_at);
        let actor = r.actor_token_info.expect("actorTokenInfo");
        assert_eq!(r.actor_token_type, "REFRESH_TOKEN");
        assert_eq!(actor.expires_at, t.refresh_token_expires_at);

        let body = issued(&decide(&env, &r.continuation, "alice").await);
        assert_eq!(body["issued_token_type"], AT, "{body}");
        assert_eq!(body["scope"], "profile");
        let at = body["access_token"].as_str().unwrap();
        let i = introspect(&env, at, &["profile"]).await;
        assert_eq!(
            (i.action_name.as_str(), i.subject.as_str()),
            ("OK", "alice")
        );
        assert_eq!(i.client_id, t.client_id);
        // The subject token still works: exchanging does not consume it.
        assert_eq!(
            introspect(&env, &t.access_token, &[]).await.action_name,
            "OK"
        );
    }
}

#[tokio::test]
async fn id_tokens_and_jwts_are_verified_and_passed_on_without_token_info() {
    let mut c = exchange_config();
    c.access_token_sign_alg = Some("ES256".into());
    let env = Env::start_with(Via::Http(ApiVersion::V3), c).await;
    let t = tokens(&env).await;
    let now = env.clock_seconds();
    let foreign = sign(
        &IDP_KEY,
        &json!({"iss": IDP, "sub": "carol", "exp": now + 60}),
        json!({}),
    );
    for (token, kind, name) in [
        (t.id_token.as_str(), IDT, "ID_TOKEN"),
        (t.access_token.as_str(), JWT, "JWT"),
        (foreign.as_str(), JWT, "JWT"),
        ("<saml/>", "urn:ietf:params:oauth:token-type:saml2", "SAML2"),
    ] {
        let r = web_token(&env, &exchange(token, kind, "")).await;
        assert_eq!(
            r.action_name, "TOKEN_EXCHANGE",
            "{name}: {}",
            r.result_message
        );
        assert_eq!(r.subject_token_type, name);
        assert_eq!(r.subject_token_info, None, "{name}");
    }
    // The JWT access token is also an access token of the store.
    let r = web_token(&env, &exchange(&t.access_token, AT, "")).await;
    assert_eq!(r.subject_token_info.unwrap().subject, "alice");
    // It is no ID token, and once revoked it is no JWT either: the store,
    // not its signature, says it ended.
    let r = web_token(&env, &exchange(&t.access_token, IDT, "")).await;
    assert_eq!(r.action_name, "BAD_REQUEST");
    assert!(r.result_message.contains("at+jwt"), "{}", r.result_message);
    let revoked = env
        .revocation()
        .revocation(pb::RevocationRequest {
            parameters: format!("token={}", t.access_token),
            client_id: WEB.to_owned(),
            client_secret: WEB_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.action_name, "OK", "{}", revoked.result_message);
    let r = web_token(&env, &exchange(&t.access_token, JWT, "")).await;
    assert_eq!(r.action_name, "BAD_REQUEST");
    assert!(r.result_message.contains("revoked"), "{}", r.result_message);
}

#[tokio::test]
async fn bad_subject_and_actor_tokens_are_invalid_requests() {
    let env = Env::start_with(Via::Direct, exchange_config()).await;
    let t = tokens(&env).await;
    let (header, _) = t.id_token.split_once('.').unwrap();
    let forged_claims =
        json!({"iss": ISSUER, "sub": "mallory", "aud": WEB, "exp": 9_999_999_999_i64, "iat": 1});
    let forged = format!(
        "{header}.{}.{}",
        URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
        t.id_token.rsplit_once('.').unwrap().1
    );
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"iss":"https://idp.example"}"#)
    );
    let stranger = SigningKey::generate(Algorithm::ES256).unwrap();
    let now = env.clock_seconds();
    let untrusted = sign(
        &stranger,
        &json!({"iss": "https://other.example", "exp": now + 60}),
        json!({}),
    );
    let cases: Vec<(String, &str)> = vec![
        (exchange("unknown-token", AT, ""), "does not exist"),
        (exchange(&t.access_token, RT, ""), "does not exist"),
        (exchange(&t.refresh_token, AT, ""), "does not exist"),
        (
            exchange(&t.access_token, "urn:example:custom", ""),
            "not a token type",
        ),
        (
            format!(
                "grant_type={}&subject_token_type={}",
                enc(EXCHANGE),
                enc(AT)
            ),
            "does not contain 'subject_token'",
        ),
        (
            format!("grant_type={}&subject_token=x", enc(EXCHANGE)),
            "'subject_token_type' is required",
        ),
        (
            exchange(&t.access_token, AT, "&actor_token=x"),
            "'actor_token_type' is required",
        ),
        (
            exchange(
                &t.access_token,
                AT,
                &format!("&actor_token_type={}", enc(AT)),
            ),
            "without 'actor_token'",
        ),
        (
            exchange(
                &t.access_token,
                AT,
                "&actor_token=nope&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token",
            ),
            "actor token is invalid",
        ),
        (
            exchange(&t.access_token, AT, "&requested_token_type=urn%3Aexample"),
            "requested_token_type",
        ),
        (exchange(&forged, IDT, ""), "signature"),
        (exchange(&unsigned, JWT, ""), "not signed"),
        (exchange(&untrusted, JWT, ""), "not trusted"),
        (exchange("a.b.c.d.e", JWT, ""), "Encrypted"),
        (exchange(&"a".repeat(9000), JWT, ""), "too large"),
        (exchange(&t.access_token, IDT, ""), "malformed"),
    ];
    for (parameters, expected) in cases {
        let r = web_token(&env, &parameters).await;
        let description = refused(&r, "invalid_request");
        assert!(description.contains(expected), "{expected}: {description}");
        for secret in [&t.access_token, &t.refresh_token, &t.id_token] {
            assert!(
                !r.response_content.contains(secret.as_str()),
                "no token is echoed"
            );
            assert!(
                !r.result_message.contains(secret.as_str()),
                "no token is echoed"
            );
        }
    }
    let r = web_token(&env, &exchange(&t.access_token, AT, "&scope=nope")).await;
    refused(&r, "invalid_scope");
    let r = web_token(&env, &exchange(&t.access_token, AT, "&resource=relative")).await;
    refused(&r, "invalid_target");
    // A client without the grant type.
    let p = format!(
        "{}&client_id={POSTER}&client_secret={POSTER_SECRET}",
        exchange(&t.access_token, AT, "")
    );
    refused(&token(&env, &p, None).await, "unauthorized_client");
    // Wrong client credentials come first.
    let r = token(
        &env,
        &exchange(&t.access_token, AT, ""),
        Some((WEB, "wrong")),
    )
    .await;
    assert_eq!(r.action_name, "INVALID_CLIENT");
}

#[tokio::test]
async fn expired_and_revoked_subject_tokens_are_refused() {
    let env = Env::start_with(Via::Http(ApiVersion::V2), exchange_config()).await;
    let t = tokens(&env).await;
    let id_token = t.id_token.clone();
    env.advance(3601);
    let d = refused(
        &web_token(&env, &exchange(&t.access_token, AT, "")).await,
        "invalid_request",
    );
    assert!(d.contains("expired"), "{d}");
    let d = refused(
        &web_token(&env, &exchange(&id_token, IDT, "")).await,
        "invalid_request",
    );
    assert!(d.contains("expired"), "{d}");
    // The refresh token lives on until it is revoked.
    let r = web_token(&env, &exchange(&t.refresh_token, RT, "")).await;
    assert_eq!(r.action_name, "TOKEN_EXCHANGE", "{}", r.result_message);
    let rev = env
        .revocation()
        .revocation(pb::RevocationRequest {
            parameters: format!("token={}", t.refresh_token),
            client_id: WEB.into(),
            client_secret: WEB_SECRET.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rev.action_name, "OK");
    let d = refused(
        &web_token(&env, &exchange(&t.refresh_token, RT, "")).await,
        "invalid_request",
    );
    assert!(d.contains("revoked"), "{d}");
}

#[tokio::test]
async fn a_trusted_assertion_is_answered_jwt_bearer_and_the_decision_issues() {
    for via in VIAS {
        let env = Env::start_with(via, exchange_config()).await;
        let assertion = sign(&IDP_KEY, &assertion_claims(&env), json!({}));
        let r = web_token(&env, &format!("{}&scope=profile+email", bearer(&assertion))).await;
        assert_eq!(r.action_name, "JWT_BEARER", "{via:?}: {}", r.result_message);
        assert_eq!(
            (r.grant_type.as_str(), r.assertion.as_str()),
            ("JWT_BEARER", assertion.as_str())
        );
        assert_eq!(r.scopes, ["profile", "email"]);
        assert_eq!(r.http, None);
        let body = issued(&decide(&env, &r.continuation, "bob").await);
        assert!(body.get("issued_token_type").is_none(), "{body}");
        let at = body["access_token"].as_str().unwrap();
        let i = introspect(&env, at, &["email"]).await;
        assert_eq!((i.action_name.as_str(), i.subject.as_str()), ("OK", "bob"));
        // The issuer's identifier as audience works as well as the token endpoint.
        let mut claims = assertion_claims(&env);
        claims["aud"] = json!(["https://x.example", ISSUER]);
        let r = web_token(
            &env,
            &bearer(&sign(&IDP_KEY, &claims, json!({"kid": null}))),
        )
        .await;
        assert_eq!(r.action_name, "JWT_BEARER", "{}", r.result_message);
    }
}

#[tokio::test]
async fn bad_assertions_are_invalid_grants() {
    let env = Env::start_with(Via::Http(ApiVersion::V3), exchange_config()).await;
    let good = assertion_claims(&env);
    let with = |name: &str, value: Value| {
        let mut c = good.clone();
        c[name] = value;
        c
    };
    let without = |name: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(name);
        c
    };
    let stranger = SigningKey::generate(Algorithm::ES256).unwrap();
    let now = env.clock_seconds();
    let t = tokens(&env).await;
    let cases: Vec<(String, &str)> = vec![
        (
            sign(&stranger, &good, json!({"kid": IDP_KEY.kid()})),
            "does not verify",
        ),
        (
            sign(&IDP_KEY, &with("exp", json!(now - 1)), json!({})),
            "expired",
        ),
        (sign(&IDP_KEY, &without("exp"), json!({})), "no 'exp'"),
        (
            sign(&IDP_KEY, &with("iat", json!(now + 600)), json!({})),
            "future",
        ),
        (
            sign(&IDP_KEY, &with("nbf", json!(now + 600)), json!({})),
            "not valid yet",
        ),
        (
            sign(
                &IDP_KEY,
                &with("aud", json!("https://rs.example")),
                json!({}),
            ),
            "'aud'",
        ),
        (sign(&IDP_KEY, &without("aud"), json!({})), "'aud'"),
        (
            sign(
                &IDP_KEY,
                &with("iss", json!("https://unknown.example")),
                json!({}),
            ),
            "not trusted",
        ),
        (sign(&IDP_KEY, &without("sub"), json!({})), "'sub'"),
        (
            sign(&IDP_KEY, &with("big", json!("x".repeat(9000))), json!({})),
            "too large",
        ),
        (sign(&IDP_KEY, &good, json!({"alg": "none"})), "not signed"),
        (
            sign(&IDP_KEY, &good, json!({"alg": "HS256"})),
            "RS256, PS256, ES256 or EdDSA",
        ),
        ("not-a-jwt".to_owned(), "malformed"),
        // The engine's own ID token: its issuer signs no assertions.
        (t.id_token.clone(), "'aud'"),
        (
            sign(&IDP_KEY, &with("iss", json!(ISSUER)), json!({})),
            "not trusted",
        ),
    ];
    for (assertion, expected) in cases {
        let d = refused(&web_token(&env, &bearer(&assertion)).await, "invalid_grant");
        assert!(d.contains(expected), "{expected}: {d}");
        assert!(!d.contains(&assertion), "the assertion is not echoed");
    }
    let d = refused(
        &web_token(&env, &format!("grant_type={}", enc(BEARER))).await,
        "invalid_request",
    );
    assert!(d.contains("'assertion'"), "{d}");
    let p = format!(
        "{}&client_id={POSTER}&client_secret={POSTER_SECRET}",
        bearer("x.y.z")
    );
    refused(&token(&env, &p, None).await, "unauthorized_client");
}

#[tokio::test]
async fn token_create_issues_token_exchange_and_jwt_bearer_tokens() {
    for via in [Via::Direct, Via::Http(ApiVersion::V3)] {
        let env = Env::start_with(via, exchange_config()).await;
        // `web`, the first client configured by alias.
        let client_id = 1_000_001;
        for grant in ["TOKEN_EXCHANGE", "JWT_BEARER"] {
            let body = json!({"grantType": grant, "clientId": client_id, "subject": "dave", "scopes": ["email"]});
            let created = env
                .call(Call {
                    api: Api::TokenCreate,
                    query: Vec::new(),
                    body: Some(body.to_string().into_bytes()),
                })
                .await
                .unwrap();
            assert_eq!(created["action"], "OK", "{created}");
            assert_eq!(created["grantType"], grant);
            let at = created["accessToken"].as_str().unwrap();
            assert_eq!(introspect(&env, at, &["email"]).await.subject, "dave");
        }
    }
}

#[tokio::test]
async fn discovery_lists_the_grants_and_bad_issuer_keys_stop_the_engine() {
    let env = Env::start_with(Via::Direct, exchange_config()).await;
    let doc = discovery_doc(&env).await;
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(
        grants.contains(&json!(EXCHANGE)) && grants.contains(&json!(BEARER)),
        "{doc}"
    );
    drop(env);
    let env = Env::start(Via::Direct).await;
    let doc = discovery_doc(&env).await;
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&json!(EXCHANGE)));
    assert!(
        !grants.contains(&json!(BEARER)),
        "no trusted issuer: no JWT bearer"
    );

    let start = |c: LocalConfig| LocalBackend::with_clock(c, Arc::new(ManualClock::starting_now()));
    let mut c = exchange_config();
    c.jwt_bearer_issuers[0].jwks = Some(r#"{"keys":[{"kty":"EC","crv":"P-256"}]}"#.into());
    let err = start(c).unwrap_err();
    assert!(err.contains("jwt_bearer_issuers[0]"), "{err}");
    let dir = std::env::temp_dir().join(format!("tokex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, json!({"keys": [IDP_KEY.public_jwk()]}).to_string()).unwrap();
    let mut c = exchange_config();
    c.jwt_bearer_issuers[0].jwks = None;
    c.jwt_bearer_issuers[0].jwks_file = Some(file.display().to_string());
    assert!(start(c).is_ok());
    let text = format!(
        "[[jwt_bearer_issuers]]\nissuer = \"{IDP}\"\njwks_file = \"{}\"\n",
        file.display()
    );
    let parsed = LocalConfig::from_toml(&text).unwrap();
    assert_eq!(parsed.jwt_bearer_issuers[0].issuer, IDP);
    assert!(
        LocalConfig::from_toml("[[jwt_bearer_issuers]]\nissuer = \"x\"\njwk = \"\"\n").is_err()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
