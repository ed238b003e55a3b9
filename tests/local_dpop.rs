//! DPoP (RFC 9449) on the local engine through the real gRPC service, the
//! engine directly and over its HTTP API (v2 and v3): proofs at the token
//! endpoint bind the tokens (`token_type` DPoP, `cnf.jkt`); Introspection
//! and UserInfo accept a bound token only with a valid proof for the right
//! method and URL, and answer Authlete's `DPoP` challenges otherwise; server
//! nonces; bound refresh tokens of public clients; the replay cache's bound.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::backend::local::LocalConfig;
use authlete_grpc::pb;
use local_common::dpop::{self as d, DpopKey, Proof, RS_URL, TOKEN_URL};
use local_common::idtoken::header;
use local_common::*;
use serde_json::Value;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

/// A code flow whose token request carries a proof by `key`.
async fn bound_tokens(env: &Env, key: &DpopKey) -> pb::TokenResponse {
    let code = code(env, "").await;
    let proof = key.sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()));
    let t = d::token(env, &code_exchange(&code), Some((WEB, WEB_SECRET)), &proof).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    t
}

fn content(r: &pb::TokenResponse) -> Value {
    serde_json::from_str(&r.response_content).unwrap()
}

/// The `WWW-Authenticate` of a refused resource request.
fn challenge(http: &Option<pb::HttpResponse>) -> String {
    let http = http.as_ref().expect("http");
    assert_eq!(http.status, 401, "{http:?}");
    header(http, "WWW-Authenticate")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_bound_token_is_accepted_only_with_a_valid_proof_for_the_right_request() {
    for via in VIAS {
        let env = Env::start(via).await;
        let key = DpopKey::es256();
        let t = bound_tokens(&env, &key).await;
        assert_eq!(content(&t)["token_type"], "DPoP", "{via:?}");
        let at = t.access_token.as_str();
        let now = env.clock_seconds();
        let good = || Proof::new("GET", RS_URL, now).for_token(at);

        let i = d::introspect(&env, at, &key.sign(&good()), "GET").await;
        assert_eq!(i.action_name, "OK", "{via:?}: {}", i.result_message);
        assert_eq!(i.subject, "alice");

        // No proof, the wrong URL or method, a replay, another key, no ath:
        // Authlete's DPoP challenge.
        let refused = [
            (String::new(), "GET"),
            (
                key.sign(&Proof {
                    htu: "https://rs.example/other".into(),
                    ..good()
                }),
                "GET",
            ),
            (key.sign(&good()), "POST"),
            (DpopKey::es256().sign(&good()), "GET"),
            (
                key.sign(&Proof {
                    ath: None,
                    ..good()
                }),
                "GET",
            ),
        ];
        for (proof, htm) in refused {
            let i = d::introspect(&env, at, &proof, htm).await;
            assert_eq!(i.action_name, "UNAUTHORIZED", "{via:?} {htm}");
            let c = challenge(&i.http);
            assert!(c.starts_with(r#"DPoP error="invalid_dpop_proof""#), "{c}");
        }
        let once = key.sign(&good());
        assert_eq!(
            d::introspect(&env, at, &once, "GET").await.action_name,
            "OK"
        );
        let replay = d::introspect(&env, at, &once, "GET").await;
        assert!(
            challenge(&replay.http).contains("used already"),
            "{replay:?}"
        );

        // The RFC 7662 view names the key (RFC 9449 §6.2).
        let s = standard_introspection(&env, at).await;
        assert_eq!(s["token_type"], "DPoP");
        assert_eq!(s["cnf"]["jkt"], key.thumbprint());
    }
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_proofs() {
    let env = Env::start(Via::Http(ApiVersion::V3)).await;
    let key = DpopKey::es256();
    let now = env.clock_seconds();
    let good = || Proof::new("POST", TOKEN_URL, now);
    let mut tampered = key.sign(&good());
    tampered.insert(tampered.rfind('.').unwrap() - 2, 'A');
    let private = ("d".to_owned(), Value::from("AAAA"));
    let cases = [
        ("bad signature", tampered),
        (
            "typ",
            key.sign(&Proof {
                typ: "JWT".into(),
                ..good()
            }),
        ),
        (
            "alg none",
            key.sign(&Proof {
                alg: Some("none".into()),
                ..good()
            }),
        ),
        (
            "alg HS256",
            key.sign(&Proof {
                alg: Some("HS256".into()),
                ..good()
            }),
        ),
        (
            "alg mismatch",
            key.sign(&Proof {
                alg: Some("EdDSA".into()),
                ..good()
            }),
        ),
        (
            "private key",
            key.sign(&Proof {
                jwk_extra: Some(private),
                ..good()
            }),
        ),
        (
            "htu",
            key.sign(&Proof {
                htu: "https://as.example/other".into(),
                ..good()
            }),
        ),
        (
            "htm",
            key.sign(&Proof {
                htm: "GET".into(),
                ..good()
            }),
        ),
        (
            "expired",
            key.sign(&Proof {
                iat: now - 61,
                ..good()
            }),
        ),
        (
            "future",
            key.sign(&Proof {
                iat: now + 61,
                ..good()
            }),
        ),
        (
            "no jti",
            key.sign(&Proof {
                jti: String::new(),
                ..good()
            }),
        ),
        (
            "iat overflow",
            key.sign(&Proof {
                iat: i64::MIN,
                ..good()
            }),
        ),
        ("not a JWT", "a.b".to_owned()),
    ];
    for (what, proof) in cases {
        let t = d::token(
            &env,
            "grant_type=client_credentials",
            Some((WEB, WEB_SECRET)),
            &proof,
        )
        .await;
        assert_eq!(t.action_name, "BAD_REQUEST", "{what}");
        assert_eq!(content(&t)["error"], "invalid_dpop_proof", "{what}");
        let http = t.http.unwrap();
        assert_eq!(http.status, 400, "{what}");
    }
    // The query of htu does not count (RFC 9449 §4.3); Ed25519 keys work.
    let ed = DpopKey::ed25519();
    let proof = ed.sign(&Proof {
        htu: format!("{TOKEN_URL}?x=1"),
        ..good()
    });
    let t = d::token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
        &proof,
    )
    .await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    assert_eq!(content(&t)["token_type"], "DPoP");
    // A replayed proof, even for another grant.
    let t = d::token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
        &proof,
    )
    .await;
    assert_eq!(content(&t)["error"], "invalid_dpop_proof");
    // Without a proof: a Bearer token, as before.
    let t = token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
    )
    .await;
    assert_eq!(content(&t)["token_type"], "Bearer");
}

fn nonce_config() -> LocalConfig {
    let mut c = config();
    c.dpop.nonce_required = true;
    c
}

#[tokio::test]
async fn server_nonces_round_trip_through_the_dpop_nonce_header() {
    for via in VIAS {
        let env = Env::start_with(via, nonce_config()).await;
        let key = DpopKey::es256();
        let now = env.clock_seconds();
        let code = code(&env, "").await;
        let first = key.sign(&Proof::new("POST", TOKEN_URL, now));
        let t = d::token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET)), &first).await;
        assert_eq!(content(&t)["error"], "use_dpop_nonce", "{via:?}");
        let http = t.http.unwrap();
        let nonce = header(&http, "DPoP-Nonce").expect("DPoP-Nonce").to_owned();
        assert_eq!(t.dpop_nonce, nonce);
        // The code was not burnt by the nonce round trip.
        let retry = key.sign(&Proof::new("POST", TOKEN_URL, now).with_nonce(&nonce));
        let t = d::token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET)), &retry).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        assert_eq!(
            header(t.http.as_ref().unwrap(), "DPoP-Nonce"),
            Some(nonce.as_str())
        );

        // UserInfo: use_dpop_nonce without it, OK with it, and the nonce
        // reaches the final response of UserInfoDecision.
        let at = t.access_token.as_str();
        let userinfo_url = format!("{ISSUER}/userinfo");
        let bare = key.sign(&Proof::new("GET", &userinfo_url, now).for_token(at));
        let u = d::userinfo(&env, at, &bare).await;
        assert_eq!(u.action_name, "UNAUTHORIZED");
        assert!(challenge(&u.http).starts_with(r#"DPoP error="use_dpop_nonce""#));
        assert_eq!(
            header(u.http.as_ref().unwrap(), "DPoP-Nonce"),
            Some(nonce.as_str())
        );
        let proof = key.sign(
            &Proof::new("GET", &userinfo_url, now)
                .for_token(at)
                .with_nonce(&nonce),
        );
        let u = d::userinfo(&env, at, &proof).await;
        assert_eq!(u.action_name, "OK", "{}", u.result_message);
        assert_eq!(u.dpop_nonce, nonce);
        let done = env
            .userinfo()
            .user_info_decision(pb::UserInfoDecisionRequest {
                continuation: u.continuation,
                claims: r#"{"name":"Alice"}"#.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let http = done.http.unwrap();
        assert_eq!(http.status, 200);
        assert_eq!(header(&http, "DPoP-Nonce"), Some(nonce.as_str()));
    }
}

#[tokio::test]
async fn a_nonce_expires_after_two_periods() {
    let env = Env::start_with(Via::Direct, nonce_config()).await;
    let key = DpopKey::es256();
    let ask = |now| key.sign(&Proof::new("POST", TOKEN_URL, now));
    let t = d::token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
        &ask(env.clock_seconds()),
    )
    .await;
    let nonce = t.dpop_nonce.clone();
    env.advance(301);
    let proof = key.sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()).with_nonce(&nonce));
    let t = d::token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
        &proof,
    )
    .await;
    assert_eq!(t.action_name, "OK", "the previous nonce still works");
    assert_ne!(t.dpop_nonce, nonce, "a new one is handed out");
    env.advance(301);
    let proof = key.sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()).with_nonce(&nonce));
    let t = d::token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
        &proof,
    )
    .await;
    assert_eq!(content(&t)["error"], "use_dpop_nonce");
}

/// The public client's code flow (PKCE), its token request with `proof`.
async fn public_tokens(env: &Env, proof: &str) -> pb::TokenResponse {
    let r = authorize(
        env,
        &format!(
            "response_type=code&client_id={SPA}&redirect_uri={}&scope=openid&nonce=n\
             &code_challenge={CHALLENGE}&code_challenge_method=S256",
            enc(SPA_REDIRECT)
        ),
    )
    .await;
    let i = issue(env, &r.ticket, "alice", "{}").await;
    let code = param(&i.response_content, "code").expect("code");
    let params = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}&client_id={SPA}",
        enc(SPA_REDIRECT)
    );
    d::token(env, &params, None, proof).await
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_key() {
    let env = Env::start(Via::Http(ApiVersion::V2)).await;
    let key = DpopKey::es256();
    let now = env.clock_seconds();
    let proof = || key.sign(&Proof::new("POST", TOKEN_URL, now));
    let t = public_tokens(&env, &proof()).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={SPA}",
        t.refresh_token
    );
    let other = DpopKey::es256().sign(&Proof::new("POST", TOKEN_URL, now));
    for p in ["", other.as_str()] {
        let r = d::token(&env, &refresh, None, p).await;
        assert_eq!(
            content(&r)["error"],
            "invalid_dpop_proof",
            "{}",
            r.result_message
        );
    }
    let r = d::token(&env, &refresh, None, &proof()).await;
    assert_eq!(r.action_name, "OK", "{}", r.result_message);
    assert_eq!(content(&r)["token_type"], "DPoP");
    // A confidential client's refresh token is not bound: Bearer without a proof.
    let t = bound_tokens(&env, &key).await;
    let r = token(
        &env,
        &format!("grant_type=refresh_token&refresh_token={}", t.refresh_token),
        Some((WEB, WEB_SECRET)),
    )
    .await;
    assert_eq!(r.action_name, "OK", "{}", r.result_message);
    assert_eq!(content(&r)["token_type"], "Bearer");
}

#[tokio::test]
async fn a_client_with_dpop_bound_access_tokens_must_send_a_proof() {
    let mut c = config();
    c.clients[0].dpop_bound_access_tokens = true;
    let env = Env::start_with(Via::Direct, c).await;
    let t = token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
    )
    .await;
    assert_eq!(content(&t)["error"], "invalid_dpop_proof");
    let proof = DpopKey::es256().sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()));
    let t = d::token(
        &env,
        "grant_type=client_credentials",
        Some((WEB, WEB_SECRET)),
        &proof,
    )
    .await;
    assert_eq!(t.action_name, "OK");
}

#[tokio::test]
async fn registration_takes_dpop_bound_access_tokens() {
    use local_common::registration::{dcr_config, register};
    let env = Env::start_with(Via::Direct, dcr_config(None)).await;
    let r = register(
        &env,
        r#"{"grant_types":["client_credentials"],"dpop_bound_access_tokens":true}"#,
        "",
    )
    .await;
    r.expect("CREATED", 201);
    assert_eq!(r.content["dpop_bound_access_tokens"], true);
    let (id, secret) = (r.s("client_id"), r.s("client_secret"));
    let t = token(&env, "grant_type=client_credentials", Some((&id, &secret))).await;
    assert_eq!(content(&t)["error"], "invalid_dpop_proof");
    let bad = register(
        &env,
        r#"{"grant_types":["client_credentials"],"dpop_bound_access_tokens":"yes"}"#,
        "",
    )
    .await;
    bad.expect_error("BAD_REQUEST", 400, "invalid_client_metadata");
}

#[tokio::test]
async fn the_replay_cache_is_bounded() {
    let mut c = config();
    c.dpop.max_replay_entries = 2;
    let env = Env::start_with(Via::Direct, c).await;
    let key = DpopKey::es256();
    let grant = "grant_type=client_credentials";
    for _ in 0..2 {
        let p = key.sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()));
        assert_eq!(
            d::token(&env, grant, Some((WEB, WEB_SECRET)), &p)
                .await
                .action_name,
            "OK"
        );
    }
    let p = key.sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()));
    let t = d::token(&env, grant, Some((WEB, WEB_SECRET)), &p).await;
    assert_eq!(
        t.action_name, "INTERNAL_SERVER_ERROR",
        "full: refused, not forgotten"
    );
    assert!(
        t.result_message.contains("dpop.max_replay_entries"),
        "{}",
        t.result_message
    );
    // Once the iat window has passed, old entries go and proofs work again.
    env.advance(61);
    let p = key.sign(&Proof::new("POST", TOKEN_URL, env.clock_seconds()));
    assert_eq!(
        d::token(&env, grant, Some((WEB, WEB_SECRET)), &p)
            .await
            .action_name,
        "OK"
    );
}
