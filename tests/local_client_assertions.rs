//! Client authentication by JWT on the local engine (RFC 7523, OpenID
//! Connect Core §9): `private_key_jwt` and `client_secret_jwt` at the token,
//! PAR and revocation endpoints, through the real gRPC service, the engine
//! directly and over its HTTP API (v2 and v3): the claims checked (`iss`,
//! `sub`, `aud`, `exp`, `nbf`, `jti` once), the signature, the method the
//! client registered, the replay cache's bound, and the startup checks.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::backend::local::{ClientConfig, LocalBackend, LocalConfig};
use authlete_grpc::pb;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_common::dpop::{DpopKey, TOKEN_URL};
use local_common::*;
use serde_json::{Value, json};

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];
const JWT_CLIENT: &str = "jwt-client";
const HMAC_CLIENT: &str = "hmac-client";
const HMAC_SECRET: &str = "hmac-secret-0123456789abcdef0123456789";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The test clients: one `private_key_jwt` client with `key`, one
/// `client_secret_jwt` client.
fn config_with(key: &DpopKey) -> LocalConfig {
    let mut c = config();
    let mut jwk = key.jwk.clone();
    jwk["kid"] = "k1".into();
    c.clients.push(ClientConfig {
        client_id: JWT_CLIENT.to_owned(),
        token_auth_method: Some("private_key_jwt".to_owned()),
        jwks: Some(json!({ "keys": [jwk] }).to_string()),
        redirect_uris: strings(&[REDIRECT]),
        grant_types: strings(&["authorization_code", "client_credentials"]),
        ..ClientConfig::default()
    });
    c.clients.push(ClientConfig {
        client_id: HMAC_CLIENT.to_owned(),
        client_secret: Some(HMAC_SECRET.to_owned()),
        token_auth_method: Some("client_secret_jwt".to_owned()),
        grant_types: strings(&["client_credentials"]),
        ..ClientConfig::default()
    });
    c
}

/// Valid assertion claims for `client` at `now`.
fn claims(client: &str, aud: &str, now: i64) -> Value {
    let mut jti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut jti).unwrap();
    json!({"iss": client, "sub": client, "aud": aud, "exp": now + 60, "iat": now,
        "jti": URL_SAFE_NO_PAD.encode(jti)})
}

fn signed(key: &DpopKey, claims: &Value) -> String {
    key.sign_jws(&json!({"alg": key.alg(), "kid": "k1"}), claims)
}

fn hs256(secret: &str, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        input.as_bytes(),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn with_assertion(parameters: &str, assertion: &str) -> String {
    format!(
        "{parameters}&client_assertion_type={}&client_assertion={assertion}",
        enc(ASSERTION_TYPE)
    )
}

async fn client_credentials(env: &Env, assertion: &str) -> pb::TokenResponse {
    token(
        env,
        &with_assertion("grant_type=client_credentials", assertion),
        None,
    )
    .await
}

fn refused(t: &pb::TokenResponse, needle: &str) {
    assert_eq!(t.action_name, "INVALID_CLIENT", "{}", t.result_message);
    assert!(t.result_message.contains(needle), "{}", t.result_message);
    let http = t.http.as_ref().expect("http");
    assert_eq!(http.status, 401);
    assert!(http.body.contains("invalid_client"), "{}", http.body);
}

#[tokio::test]
async fn private_key_jwt_and_client_secret_jwt_get_tokens() {
    for via in VIAS {
        let key = DpopKey::es256();
        let env = Env::start_with(via, config_with(&key)).await;
        let now = env.clock_seconds();
        for aud in [ISSUER, TOKEN_URL] {
            let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, aud, now))).await;
            assert_eq!(t.action_name, "OK", "{via:?} {aud}: {}", t.result_message);
            assert!(!t.access_token.is_empty());
        }
        let list = json!(["https://other.example", ISSUER]);
        let mut c = claims(JWT_CLIENT, ISSUER, now);
        c["aud"] = list;
        let t = client_credentials(&env, &signed(&key, &c)).await;
        assert_eq!(t.action_name, "OK", "an aud array naming the issuer");

        let t =
            client_credentials(&env, &hs256(HMAC_SECRET, &claims(HMAC_CLIENT, ISSUER, now))).await;
        assert_eq!(t.action_name, "OK", "{via:?}: {}", t.result_message);
        // The client's own `client_id` beside the assertion is allowed.
        let p = format!("grant_type=client_credentials&client_id={JWT_CLIENT}");
        let assertion = signed(&key, &claims(JWT_CLIENT, ISSUER, now));
        let t = token(&env, &with_assertion(&p, &assertion), None).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
    }
}

#[tokio::test]
async fn a_code_flow_with_private_key_jwt_at_the_token_endpoint() {
    let key = DpopKey::ed25519();
    let env = Env::start_with(Via::Http(ApiVersion::V3), config_with(&key)).await;
    let a = authorize(
        &env,
        &format!(
            "response_type=code&client_id={JWT_CLIENT}&redirect_uri={}&scope=openid",
            enc(REDIRECT)
        ),
    )
    .await;
    assert_eq!(a.action_name, "INTERACTION", "{}", a.result_message);
    let i = issue(&env, &a.ticket, "alice", "").await;
    assert_eq!(i.action_name, "LOCATION", "{}", i.result_message);
    let code = param(&i.response_content, "code").expect("code");
    let p = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        enc(REDIRECT)
    );
    let assertion = signed(&key, &claims(JWT_CLIENT, TOKEN_URL, env.clock_seconds()));
    let t = token(&env, &with_assertion(&p, &assertion), None).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    assert!(!t.id_token.is_empty());
}

#[tokio::test]
async fn bad_assertions_are_refused_with_invalid_client() {
    for via in VIAS {
        let key = DpopKey::es256();
        let env = Env::start_with(via, config_with(&key)).await;
        let now = env.clock_seconds();
        let good = claims(JWT_CLIENT, ISSUER, now);

        let other = DpopKey::es256();
        refused(
            &client_credentials(&env, &signed(&other, &good)).await,
            "signature",
        );
        let change = |member: &str, value: Value| {
            let mut c = claims(JWT_CLIENT, ISSUER, now);
            c[member] = value;
            signed(&key, &c)
        };
        refused(
            &client_credentials(&env, &change("aud", "https://rs.example".into())).await,
            "'aud'",
        );
        refused(
            &client_credentials(&env, &change("sub", HMAC_CLIENT.into())).await,
            "'sub'",
        );
        refused(
            &client_credentials(&env, &change("exp", (now - 120).into())).await,
            "expired",
        );
        refused(
            &client_credentials(&env, &change("exp", Value::Null)).await,
            "'exp'",
        );
        refused(
            &client_credentials(&env, &change("nbf", (now + 600).into())).await,
            "'nbf'",
        );
        refused(
            &client_credentials(&env, &change("jti", Value::Null)).await,
            "'jti'",
        );
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(good.to_string())
        );
        refused(&client_credentials(&env, &unsigned).await, "not signed");

        // Used once: the same assertion again is a replay.
        let once = signed(&key, &good);
        assert_eq!(client_credentials(&env, &once).await.action_name, "OK");
        refused(&client_credentials(&env, &once).await, "replayed");

        // The registered method only: HMAC for the key client, a key
        // signature for the secret client, a secret for either.
        let hmac_for_key_client = hs256(HMAC_SECRET, &claims(JWT_CLIENT, ISSUER, now));
        refused(
            &client_credentials(&env, &hmac_for_key_client).await,
            "not registered for",
        );
        let wrong_secret = hs256("another-secret", &claims(HMAC_CLIENT, ISSUER, now));
        refused(&client_credentials(&env, &wrong_secret).await, "secret");
        let t = token(
            &env,
            "grant_type=client_credentials",
            Some((HMAC_CLIENT, HMAC_SECRET)),
        )
        .await;
        refused(&t, "client assertion");
        let unknown = signed(&key, &claims("nobody", ISSUER, now));
        refused(&client_credentials(&env, &unknown).await, "does not exist");
        // RFC 7521 §4.2.1: an assertion that is not a JWT is invalid_client too.
        refused(&client_credentials(&env, "not-a-jwt").await, "JWS");
        // Far-off or extreme times are refused, never overflowed.
        refused(
            &client_credentials(&env, &change("exp", (now + 7200).into())).await,
            "too far",
        );
        refused(
            &client_credentials(&env, &change("exp", i64::MAX.into())).await,
            "too far",
        );
        let t = client_credentials(&env, &change("nbf", i64::MIN.into())).await;
        assert_eq!(
            t.action_name, "OK",
            "an nbf long past: {}",
            t.result_message
        );
    }
}

#[tokio::test]
async fn malformed_assertion_requests_are_bad_requests() {
    let key = DpopKey::es256();
    let env = Env::start_with(Via::Direct, config_with(&key)).await;
    let now = env.clock_seconds();
    let assertion = signed(&key, &claims(JWT_CLIENT, ISSUER, now));
    let cases = [
        format!("grant_type=client_credentials&client_assertion={assertion}"),
        format!(
            "grant_type=client_credentials&client_assertion_type=jwt&client_assertion={assertion}"
        ),
        with_assertion("grant_type=client_credentials&client_secret=x", &assertion),
        with_assertion("grant_type=client_credentials&client_id=web", &assertion),
        format!(
            "grant_type=client_credentials&client_assertion_type={}",
            enc(ASSERTION_TYPE)
        ),
    ];
    for p in cases {
        let t = token(&env, &p, None).await;
        assert_eq!(t.action_name, "BAD_REQUEST", "{p}: {}", t.result_message);
        assert_eq!(t.http.as_ref().unwrap().status, 400);
    }
}

#[tokio::test]
async fn assertions_authenticate_at_par_and_revocation_with_their_urls_as_aud() {
    for via in VIAS {
        let key = DpopKey::es256();
        let env = Env::start_with(via, config_with(&key)).await;
        let now = env.clock_seconds();
        let par_url = format!("{ISSUER}/par");
        let p = with_assertion(
            &format!(
                "response_type=code&client_id={JWT_CLIENT}&redirect_uri={}&scope=openid",
                enc(REDIRECT)
            ),
            &signed(&key, &claims(JWT_CLIENT, &par_url, now)),
        );
        let par = env
            .par()
            .pushed_authorization(pb::PushedAuthorizationRequest {
                parameters: p,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            par.action_name, "CREATED",
            "{via:?}: {}",
            par.result_message
        );
        assert!(
            par.request_uri
                .starts_with("urn:ietf:params:oauth:request_uri:")
        );

        let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, ISSUER, now))).await;
        assert_eq!(t.action_name, "OK");
        let revoke = |assertion: String| {
            let parameters = with_assertion(&format!("token={}", t.access_token), &assertion);
            let mut client = env.revocation();
            async move {
                client
                    .revocation(pb::RevocationRequest {
                        parameters,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
            }
        };
        let bad = revoke(signed(&DpopKey::es256(), &claims(JWT_CLIENT, ISSUER, now))).await;
        assert_eq!(bad.action_name, "INVALID_CLIENT", "{}", bad.result_message);
        assert!(introspect(&env, &t.access_token, &[]).await.action_name == "OK");
        let revoke_url = format!("{ISSUER}/revoke");
        let ok = revoke(signed(&key, &claims(JWT_CLIENT, &revoke_url, now))).await;
        assert_eq!(ok.action_name, "OK", "{}", ok.result_message);
        let after = introspect(&env, &t.access_token, &[]).await;
        assert_eq!(after.action_name, "UNAUTHORIZED", "revoked");
    }
}

#[tokio::test]
async fn the_numeric_client_id_names_an_alias_client_too() {
    let key = DpopKey::es256();
    let env = Env::start_with(Via::Direct, config_with(&key)).await;
    let now = env.clock_seconds();
    let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, ISSUER, now))).await;
    assert_eq!(t.action_name, "OK");
    let number = t.client_id.to_string();
    assert_ne!(number, "0");
    let t = client_credentials(&env, &signed(&key, &claims(&number, ISSUER, now))).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
}

#[tokio::test]
async fn a_refused_assertion_takes_no_place_in_the_replay_cache() {
    let key = DpopKey::es256();
    let mut config = config_with(&key);
    config.client_assertion_max_replay_entries = 1;
    let env = Env::start_with(Via::Direct, config).await;
    let now = env.clock_seconds();
    let forged = signed(&DpopKey::es256(), &claims(JWT_CLIENT, ISSUER, now));
    refused(&client_credentials(&env, &forged).await, "signature");
    let mut late = claims(JWT_CLIENT, ISSUER, now);
    late["exp"] = (now - 600).into();
    refused(
        &client_credentials(&env, &signed(&key, &late)).await,
        "expired",
    );
    let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, ISSUER, now))).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
}

#[tokio::test]
async fn aud_restricted_to_the_issuer_refuses_the_token_endpoint() {
    let key = DpopKey::es256();
    let mut config = config_with(&key);
    config.client_assertion_aud_restricted_to_issuer = true;
    let env = Env::start_with(Via::Direct, config).await;
    let now = env.clock_seconds();
    let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, TOKEN_URL, now))).await;
    refused(&t, "'aud'");
    let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, ISSUER, now))).await;
    assert_eq!(t.action_name, "OK");
}

#[tokio::test]
async fn the_replay_cache_is_bounded_and_forgets_expired_assertions() {
    let key = DpopKey::es256();
    let mut config = config_with(&key);
    config.client_assertion_max_replay_entries = 1;
    let env = Env::start_with(Via::Direct, config).await;
    let now = env.clock_seconds();
    let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, ISSUER, now))).await;
    assert_eq!(t.action_name, "OK");
    let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, ISSUER, now))).await;
    assert_eq!(
        t.action_name, "INTERNAL_SERVER_ERROR",
        "{}",
        t.result_message
    );
    assert!(
        t.result_message
            .contains("client_assertion_max_replay_entries")
    );
    // Once the first assertion has expired (60 s + 30 s of skew), there is room.
    env.advance(91);
    let now = env.clock_seconds();
    let t = client_credentials(&env, &signed(&key, &claims(JWT_CLIENT, ISSUER, now))).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
}

#[tokio::test]
async fn discovery_lists_the_jwt_methods_and_their_algorithms() {
    let env = Env::start(Via::Direct).await;
    let doc = discovery_doc(&env).await;
    for member in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        let methods = doc[member].as_array().unwrap();
        for m in ["private_key_jwt", "client_secret_jwt"] {
            assert!(methods.contains(&m.into()), "{member}: {m}");
        }
    }
    let algs = doc["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    for a in ["RS256", "PS256", "ES256", "EdDSA", "HS256"] {
        assert!(algs.contains(&a.into()), "{a}");
    }
    assert!(!algs.contains(&"none".into()));
}

#[test]
fn startup_checks_the_client_keys() {
    let key = DpopKey::es256();
    let engine = |edit: &dyn Fn(&mut ClientConfig)| {
        let mut c = config_with(&key);
        let client = c
            .clients
            .iter_mut()
            .find(|c| c.client_id == JWT_CLIENT)
            .unwrap();
        edit(client);
        LocalBackend::new(c).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(engine(&|_| {}).is_ok());
    let err = engine(&|c| c.jwks = None).unwrap_err();
    assert!(
        err.contains("private_key_jwt needs `jwks` or `jwks_uri`"),
        "{err}"
    );
    let err = engine(&|c| c.jwks_uri = Some("/nonexistent/jwks.json".into())).unwrap_err();
    assert!(err.contains("not both"), "{err}");
    let err = engine(&|c| {
        c.jwks = None;
        c.jwks_uri = Some("https://client.example/jwks".into());
    })
    .unwrap_err();
    assert!(err.contains("fetches nothing"), "{err}");
    let err =
        engine(&|c| c.jwks = Some(r#"{"keys":[{"kty":"EC","x5c":["AA"]}]}"#.into())).unwrap_err();
    assert!(err.contains("no signing key"), "{err}");
    let mut private = key.jwk.clone();
    private["d"] = "AAAA".into();
    let err = engine(&|c| c.jwks = Some(json!({ "keys": [private] }).to_string())).unwrap_err();
    assert!(err.contains("private key material"), "{err}");

    let dir = std::env::temp_dir().join(format!("jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, json!({ "keys": [key.jwk] }).to_string()).unwrap();
    let path = file.to_str().unwrap().to_owned();
    for uri in [path.clone(), format!("file://{path}")] {
        let ok = engine(&|c| {
            c.jwks = None;
            c.jwks_uri = Some(uri.clone());
        });
        assert!(ok.is_ok(), "{uri}: {ok:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_registered_private_key_jwt_client_authenticates_with_its_jwks() {
    use local_common::registration::{dcr_config, register};
    for via in VIAS {
        let env = Env::start_with(via, dcr_config(None)).await;
        let key = DpopKey::es256();
        let mut jwk = key.jwk.clone();
        jwk["kid"] = "k1".into();
        let metadata = json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": { "keys": [jwk] },
        });
        let created = register(&env, &metadata.to_string(), "").await;
        created.expect("CREATED", 201);
        assert_eq!(
            created.content["token_endpoint_auth_method"],
            "private_key_jwt"
        );
        assert_eq!(created.content["jwks"]["keys"][0]["kid"], "k1");
        assert!(created.content.get("client_secret").is_none(), "no secret");
        let id = created.s("client_id");
        let now = env.clock_seconds();
        let t = client_credentials(&env, &signed(&key, &claims(&id, ISSUER, now))).await;
        assert_eq!(t.action_name, "OK", "{via:?}: {}", t.result_message);
        let other = signed(&DpopKey::es256(), &claims(&id, ISSUER, now));
        refused(&client_credentials(&env, &other).await, "signature");

        // Without keys, or with only a jwks_uri the engine cannot fetch.
        for bad in [
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": "https://client.example/jwks"}),
            json!({"grant_types": ["client_credentials"], "jwks": "not a set"}),
        ] {
            let r = register(&env, &bad.to_string(), "").await;
            r.expect_error("BAD_REQUEST", 400, "invalid_client_metadata");
        }
        // client_secret_jwt gets a secret, and uses it to MAC.
        let metadata = json!({"grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_jwt"});
        let created = register(&env, &metadata.to_string(), "").await;
        created.expect("CREATED", 201);
        let (id, secret) = (created.s("client_id"), created.s("client_secret"));
        let t = client_credentials(&env, &hs256(&secret, &claims(&id, ISSUER, now))).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
    }
}
