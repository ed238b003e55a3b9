//! Request objects (RFC 9101) on the local engine through the real gRPC
//! service (Authorization and PushedAuthorization RPCs), the engine directly
//! and over its HTTP API (v2 and v3): a code flow with a signed request
//! object by value and pushed (RFC 9126 §3); every way a request object is
//! refused (`invalid_request_object`, BAD_REQUEST); clients that must use
//! one; discovery.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use local_common::jar::{self, JAR, JAR_SECRET, Keys, OTHER, STRICT, STRICT_SECRET};
use local_common::*;
use serde_json::{Value, json};

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

/// `/pushed_auth_req` through the service, with Basic credentials.
async fn push(
    env: &Env,
    parameters: &str,
    id: &str,
    secret: &str,
) -> pb::PushedAuthorizationResponse {
    env.par()
        .pushed_authorization(pb::PushedAuthorizationRequest {
            parameters: parameters.to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .expect("PushedAuthorization RPC")
        .into_inner()
}

/// Issue for alice, then the token request: the ID token's claims.
async fn finish(env: &Env, ticket: &str, client: &str, secret: &str) -> Value {
    let i = issue(env, ticket, "alice", r#"{"email":"alice@example.com"}"#).await;
    assert_eq!(i.action_name, "LOCATION", "{}", i.result_message);
    // The state and redirect URI are the object's.
    assert!(i.response_content.starts_with(REDIRECT));
    assert_eq!(
        param(&i.response_content, "state").as_deref(),
        Some("st-ro")
    );
    let code = param(&i.response_content, "code").expect("code");
    let t = token(env, &code_exchange(&code), Some((client, secret))).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    jwt_parts(&t.id_token).1
}

fn error_of(content: &str) -> (String, String) {
    let v: Value = serde_json::from_str(content).unwrap_or_else(|_| panic!("JSON: {content}"));
    (
        v["error"].as_str().unwrap_or_default().to_owned(),
        v["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn a_code_flow_with_a_request_object_by_value() {
    let keys = Keys::generate();
    for via in VIAS {
        let env = Env::start_with(via, keys.config()).await;
        let now = env.clock_seconds();
        for key in [&keys.es256, &keys.ps256] {
            let object = jar::sign(key, json!({}), &jar::claims(JAR, now));
            // RFC 9101 §5: only the object counts; the outer scope and state
            // are not used, the outer response_type agrees.
            let params = format!(
                "client_id={JAR}&response_type=code&scope=email&state=outer&request={object}"
            );
            let r = authorize(&env, &params).await;
            assert_eq!(
                r.action_name, "INTERACTION",
                "{via:?}: {}",
                r.result_message
            );
            let scopes: Vec<&str> = r.scopes.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(scopes, ["openid", "profile"], "{via:?}");
            assert_eq!(r.max_age, 3600);
            assert_eq!(r.claims_at_user_info, ["email"]);
            let payload: Value = serde_json::from_str(&r.request_object_payload).unwrap();
            assert_eq!(payload["nonce"], "n-ro");
            let id_token = finish(&env, &r.ticket, JAR, JAR_SECRET).await;
            assert_eq!(id_token["nonce"], "n-ro", "{via:?}");
            assert_eq!(id_token["aud"], JAR);
        }
        // Without a request object the client's plain requests still work.
        let plain =
            code_request("").replace(&format!("client_id={WEB}"), &format!("client_id={JAR}"));
        let r = authorize(&env, &plain).await;
        assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
        assert!(r.request_object_payload.is_empty());
    }
}

#[tokio::test]
async fn a_pushed_request_object_stands_behind_the_request_uri() {
    let keys = Keys::generate();
    for via in VIAS {
        let env = Env::start_with(via, keys.config()).await;
        let now = env.clock_seconds();
        for (client, secret) in [(JAR, JAR_SECRET), (STRICT, STRICT_SECRET)] {
            let object = jar::sign(&keys.es256, json!({}), &jar::claims(client, now));
            let pushed = push(&env, &format!("request={object}"), client, secret).await;
            assert_eq!(
                pushed.action_name, "CREATED",
                "{via:?}: {}",
                pushed.result_message
            );
            let params = format!(
                "client_id={client}&request_uri={}",
                enc(&pushed.request_uri)
            );
            let r = authorize(&env, &params).await;
            assert_eq!(
                r.action_name, "INTERACTION",
                "{via:?}: {}",
                r.result_message
            );
            assert_eq!(r.scopes.len(), 2);
            let payload: Value = serde_json::from_str(&r.request_object_payload).unwrap();
            assert_eq!(payload["state"], "st-ro");
            let id_token = finish(&env, &r.ticket, client, secret).await;
            assert_eq!(id_token["nonce"], "n-ro", "{via:?}");
        }
        // `request_uri` beside `request` at the authorization endpoint.
        let object = jar::sign(&keys.es256, json!({}), &jar::claims(JAR, now));
        let pushed = push(&env, &format!("request={object}"), JAR, JAR_SECRET).await;
        let both = format!(
            "client_id={JAR}&request_uri={}&request={object}",
            enc(&pushed.request_uri)
        );
        let r = authorize(&env, &both).await;
        assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
        assert_eq!(error_of(&r.response_content).0, "invalid_request");
    }
}

/// Every refusal of a request object, and the answer's error description.
#[tokio::test]
async fn bad_request_objects_are_refused_with_invalid_request_object() {
    let keys = Keys::generate();
    for via in VIAS {
        let env = Env::start_with(via, keys.config()).await;
        let now = env.clock_seconds();
        let good = jar::claims(JAR, now);
        let with = |member: &str, value: Value| {
            let mut c = good.clone();
            c[member] = value;
            c
        };
        let without = |member: &str| {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove(member);
            c
        };
        let es = |claims: &Value| jar::sign(&keys.es256, json!({}), claims);
        let valid = es(&good);
        let (head, rest) = valid.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let tampered = format!(
            "{head}.{}.{sig}",
            base64_url(&with("scope", json!("openid email")).to_string())
        );
        let cases: Vec<(&str, String, &str)> = vec![
            ("bad signature", tampered, "signature"),
            (
                "key of another client",
                jar::sign(&keys.other, json!({"kid": null}), &good),
                "signature",
            ),
            ("wrong iss", es(&with("iss", json!(WEB))), "'iss'"),
            ("no iss", es(&without("iss")), "'iss'"),
            (
                "wrong aud",
                es(&with("aud", json!("https://other.example"))),
                "'aud'",
            ),
            (
                "aud list",
                es(&with("aud", json!(["https://x", "https://y"]))),
                "'aud'",
            ),
            ("expired", es(&with("exp", json!(now - 1))), "expired"),
            ("no exp", es(&without("exp")), "'exp'"),
            ("not yet", es(&with("nbf", json!(now + 60))), "'nbf'"),
            ("too long", es(&with("exp", json!(now + 7200))), "lifetime"),
            (
                "client_id mismatch",
                es(&with("client_id", json!(WEB))),
                "'client_id'",
            ),
            ("unsigned", jar::unsigned(&good), "unsigned"),
            (
                "HS256",
                jar::sign(&keys.es256, json!({"alg": "HS256"}), &good),
                "'alg'",
            ),
            (
                "nested request",
                es(&with("request_uri", json!("https://x"))),
                "'request_uri'",
            ),
            (
                "scope array",
                es(&with("scope", json!(["openid"]))),
                "'scope'",
            ),
            (
                "response_type differs",
                es(&with("response_type", json!("id_token"))),
                "'response_type'",
            ),
            ("malformed", "not-a-jws".to_owned(), "not a JWS"),
            ("not JSON", format!("{head}.bm90IGpzb24.{sig}"), "not a JWS"),
            (
                "oversized",
                es(&with("state", json!("s".repeat(9000)))),
                "larger than",
            ),
        ];
        for (what, object, says) in cases {
            let params = format!("client_id={JAR}&response_type=code&request={object}");
            let r = authorize(&env, &params).await;
            assert_eq!(
                r.action_name, "BAD_REQUEST",
                "{via:?} {what}: {}",
                r.result_message
            );
            let (error, description) = error_of(&r.response_content);
            assert_eq!(error, "invalid_request_object", "{via:?} {what}");
            assert!(description.contains(says), "{via:?} {what}: {description}");
            assert_eq!(r.http.as_ref().unwrap().status, 400, "{what}");
        }
        // The same checks at PAR: nothing is pushed.
        let expired = es(&with("exp", json!(now - 1)));
        let p = push(&env, &format!("request={expired}"), JAR, JAR_SECRET).await;
        assert_eq!(p.action_name, "BAD_REQUEST", "{}", p.result_message);
        assert_eq!(error_of(&p.response_content).0, "invalid_request_object");
        // `other` accepts PS256 only (request_object_signing_alg).
        let es_other = jar::sign(&keys.es256, json!({}), &jar::claims(OTHER, now));
        let r = authorize(&env, &format!("client_id={OTHER}&request={es_other}")).await;
        let (error, description) = error_of(&r.response_content);
        assert_eq!(error, "invalid_request_object");
        assert!(description.contains("PS256"), "{description}");
        let ps_other = jar::sign(&keys.other, json!({}), &jar::claims(OTHER, now));
        let r = authorize(&env, &format!("client_id={OTHER}&request={ps_other}")).await;
        assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
        // A client without keys cannot use request objects.
        let web = jar::sign(&keys.es256, json!({}), &jar::claims(WEB, now));
        let r = authorize(&env, &format!("client_id={WEB}&request={web}")).await;
        let (error, description) = error_of(&r.response_content);
        assert_eq!(error, "invalid_request_object");
        assert!(description.contains("no registered keys"), "{description}");
    }
}

#[tokio::test]
async fn a_client_that_requires_signed_request_objects_gets_nothing_without_one() {
    let keys = Keys::generate();
    for via in [Via::Direct, Via::Http(ApiVersion::V3)] {
        let env = Env::start_with(via, keys.config()).await;
        let plain =
            code_request("").replace(&format!("client_id={WEB}"), &format!("client_id={STRICT}"));
        let r = authorize(&env, &plain).await;
        assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
        let (error, description) = error_of(&r.response_content);
        assert_eq!(error, "invalid_request");
        assert!(
            description.contains("must use a signed request object"),
            "{description}"
        );
        let p = push(&env, &plain, STRICT, STRICT_SECRET).await;
        assert_eq!(p.action_name, "BAD_REQUEST", "{}", p.result_message);
        assert_eq!(error_of(&p.response_content).0, "invalid_request");
        // Unsigned is refused as for any client.
        let unsigned = jar::unsigned(&jar::claims(STRICT, env.clock_seconds()));
        let r = authorize(&env, &format!("client_id={STRICT}&request={unsigned}")).await;
        assert_eq!(error_of(&r.response_content).0, "invalid_request_object");
        // A non-PAR request_uri is still not fetched (OIDC Core 6.2).
        let by_reference = format!(
            "client_id={JAR}&redirect_uri={}&request_uri=https%3A%2F%2Fclient.example%2Fr.jwt",
            enc(REDIRECT)
        );
        let r = authorize(&env, &by_reference).await;
        assert_eq!(r.action_name, "LOCATION", "{}", r.result_message);
        assert_eq!(
            param(&r.response_content, "error").as_deref(),
            Some("request_uri_not_supported")
        );
    }
}

#[tokio::test]
async fn a_request_object_expires_by_the_engine_clock() {
    let keys = Keys::generate();
    let env = Env::start_with(Via::Direct, keys.config()).await;
    let object = jar::sign(
        &keys.es256,
        json!({}),
        &jar::claims(JAR, env.clock_seconds()),
    );
    let params = format!("client_id={JAR}&request={object}");
    assert_eq!(authorize(&env, &params).await.action_name, "INTERACTION");
    env.advance(300);
    let r = authorize(&env, &params).await;
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    assert!(error_of(&r.response_content).1.contains("expired"));
}

#[tokio::test]
async fn a_registered_client_can_require_signed_request_objects() {
    let keys = Keys::generate();
    for via in [Via::Direct, Via::Http(ApiVersion::V2)] {
        let mut config = keys.config();
        config.registration.enabled = true;
        let env = Env::start_with(via, config).await;
        let metadata = json!({
            "redirect_uris": [REDIRECT],
            "jwks": serde_json::from_str::<Value>(&Keys::jwks(&[&keys.es256])).unwrap(),
            "require_signed_request_object": true,
            "request_object_signing_alg": "ES256",
        });
        let r = registration::register(&env, &metadata.to_string(), "").await;
        r.expect("CREATED", 201);
        assert_eq!(r.content["require_signed_request_object"], true);
        assert_eq!(r.content["request_object_signing_alg"], "ES256");
        let id = r.s("client_id");
        let secret = r.s("client_secret");
        let plain =
            code_request("").replace(&format!("client_id={WEB}"), &format!("client_id={id}"));
        let refused = authorize(&env, &plain).await;
        assert_eq!(
            refused.action_name, "BAD_REQUEST",
            "{}",
            refused.result_message
        );
        assert_eq!(error_of(&refused.response_content).0, "invalid_request");
        let object = jar::sign(
            &keys.es256,
            json!({}),
            &jar::claims(&id, env.clock_seconds()),
        );
        let r = authorize(&env, &format!("client_id={id}&request={object}")).await;
        assert_eq!(
            r.action_name, "INTERACTION",
            "{via:?}: {}",
            r.result_message
        );
        finish(&env, &r.ticket, &id, &secret).await;
        // An algorithm the engine does not sign with, or a requirement no
        // key could meet, is invalid metadata.
        for bad in [
            json!({"redirect_uris": [REDIRECT], "request_object_signing_alg": "none"}),
            json!({"redirect_uris": [REDIRECT], "require_signed_request_object": true}),
        ] {
            registration::register(&env, &bad.to_string(), "")
                .await
                .expect_error("BAD_REQUEST", 400, "invalid_client_metadata");
        }
    }
}

#[tokio::test]
async fn discovery_advertises_request_objects() {
    let env = Env::start(Via::Direct).await;
    let doc = discovery_doc(&env).await;
    assert_eq!(doc["request_parameter_supported"], true);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(
        doc["request_object_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
    assert!(doc.get("require_signed_request_object").is_none());
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
