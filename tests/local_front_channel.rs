//! Front-channel variants and metadata on the local engine, through the
//! real gRPC service: prompt=none and the INTERACTION details, form_post,
//! implicit and hybrid ID tokens, token create, discovery and JWKS.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::{Api, ApiVersion, Call};
use authlete_grpc::pb;
use local_common::idtoken::{half_hash, header, jwks, verify};
use local_common::*;
use serde_json::Value;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

#[tokio::test]
async fn prompt_none_and_interaction_details() {
    let env = Env::start(Via::Direct).await;
    let r = authorize(
        &env,
        &code_request(
            "&prompt=login+consent&max_age=300&ui_locales=fr+en&login_hint=alice&acr_values=gold",
        ),
    )
    .await;
    assert_eq!(r.action_name, "INTERACTION");
    assert_eq!(r.prompts, ["LOGIN", "CONSENT"]);
    assert_eq!(r.max_age, 300);
    assert_eq!(r.ui_locales, ["fr", "en"]);
    assert_eq!(r.login_hint, "alice");
    assert_eq!(r.acrs, ["gold"]);
    let client = r.client.unwrap();
    assert_eq!(client.client_name, "Web client");
    assert_eq!(client.client_id_alias, WEB);
    assert!(r.client_id_alias_used);
    assert_eq!(
        r.scopes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["openid", "profile", "email"]
    );

    let r = authorize(&env, &code_request("&prompt=none")).await;
    assert_eq!(r.action_name, "NO_INTERACTION");
    assert_eq!(r.prompts, ["NONE"]);
    match r.http {
        // The service finished the flow itself (no session given: login_required).
        Some(http) => {
            let location = header(&http, "Location").unwrap();
            assert_eq!(param(location, "error").as_deref(), Some("login_required"));
            assert_eq!(param(location, "iss").as_deref(), Some(ISSUER));
        }
        None => {
            let i = issue(&env, &r.ticket, "alice", "").await;
            assert!(param(&i.response_content, "code").is_some());
        }
    }
}

#[tokio::test]
async fn form_post_answers_with_an_auto_submitting_page() {
    let env = Env::start(Via::Direct).await;
    let r = authorize(&env, &code_request("&response_mode=form_post")).await;
    let i = issue(&env, &r.ticket, "alice", "").await;
    assert_eq!(i.action_name, "FORM");
    let http = i.http.unwrap();
    assert_eq!(http.status, 200);
    assert!(
        header(&http, "Content-Type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        http.body
            .contains(&format!("<form method=\"post\" action=\"{REDIRECT}\">"))
    );
    assert!(http.body.contains("name=\"code\""));
    assert!(
        http.body
            .contains(&format!("name=\"iss\" value=\"{ISSUER}\""))
    );
    assert!(http.body.contains("name=\"state\" value=\"st-1\""));
}

#[tokio::test]
async fn implicit_id_token_and_hybrid() {
    let env = Env::start(Via::Direct).await;
    let keys = jwks(&env).await;
    let base = format!(
        "client_id={WEB}&redirect_uri={}&scope=openid+email&nonce=n-2&state=s",
        enc(REDIRECT)
    );
    let r = authorize(&env, &format!("response_type=id_token&{base}")).await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    assert!(
        r.claims.contains(&"email".to_owned()),
        "scope claims go in the ID token"
    );
    let i = issue(&env, &r.ticket, "alice", r#"{"email":"alice@example.com"}"#).await;
    assert!(
        i.response_content.starts_with(&format!("{REDIRECT}#")),
        "fragment by default"
    );
    let jwt = param(&i.response_content, "id_token").unwrap();
    let claims = verify(&keys, &jwt);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["nonce"], "n-2");
    assert!(param(&i.response_content, "code").is_none());

    let r = authorize(&env, &format!("response_type=code+id_token&{base}")).await;
    let i = issue(&env, &r.ticket, "alice", "").await;
    let code = param(&i.response_content, "code").unwrap();
    let claims = verify(&keys, &param(&i.response_content, "id_token").unwrap());
    assert_eq!(claims["c_hash"], half_hash(&code));
}

#[tokio::test]
async fn token_create_mints_usable_tokens() {
    for via in VIAS {
        let env = Env::start(via).await;
        let web_id = 1_000_001;
        let body = serde_json::json!({
            "grantType": "TOKEN_EXCHANGE", "clientId": web_id, "subject": "bob",
            "scopes": ["email"], "accessTokenDuration": 60,
            "properties": [{"key": "k", "value": "v"}]
        });
        let created = env
            .call(Call {
                api: Api::TokenCreate,
                query: Vec::new(),
                body: Some(body.to_string().into_bytes()),
            })
            .await
            .unwrap();
        assert_eq!(created["action"], "OK");
        assert_eq!(created["expiresIn"], 60);
        assert_eq!(created["tokenType"], "Bearer");
        assert!(created["refreshToken"].is_string());
        let token = created["accessToken"].as_str().unwrap();
        let i = introspect(&env, token, &["email"]).await;
        assert_eq!(i.action_name, "OK");
        assert_eq!(i.subject, "bob");
        assert_eq!(i.properties[0].key, "k");
        env.advance(61);
        assert_eq!(
            introspect(&env, token, &[]).await.action_name,
            "UNAUTHORIZED"
        );
        let bad =
            serde_json::json!({"grantType": "TOKEN_EXCHANGE", "clientId": 1, "subject": "bob"});
        let refused = env
            .call(Call {
                api: Api::TokenCreate,
                query: Vec::new(),
                body: Some(bad.to_string().into_bytes()),
            })
            .await
            .unwrap();
        assert_eq!(refused["action"], "BAD_REQUEST");
    }
}

#[tokio::test]
async fn discovery_describes_the_engine() {
    for via in VIAS {
        let env = Env::start(via).await;
        let c = env
            .discovery()
            .service_configuration(pb::ServiceConfigurationRequest {
                patch: r#"[{"op":"add","path":"/service_documentation","value":"https://docs.example"}]"#.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let doc: Value = serde_json::from_str(&c.authlete_response).unwrap();
        assert_eq!(doc["issuer"], ISSUER);
        assert_eq!(doc["token_endpoint"], format!("{ISSUER}/token"));
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256", "PS256", "ES256", "EdDSA"]),
            "OpenID Connect Discovery requires RS256"
        );
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["plain", "S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["service_documentation"], "https://docs.example");
        let keys = jwks(&env).await;
        assert_eq!(keys["keys"][0]["kty"], "RSA");
        assert_eq!(keys["keys"][1]["kty"], "RSA", "PS256 has its own key");
        assert_eq!(keys["keys"][2]["kty"], "EC");
        assert_eq!(keys["keys"][3]["kty"], "OKP");
        assert_ne!(keys["keys"][0]["kid"], keys["keys"][1]["kid"]);
        for key in keys["keys"].as_array().unwrap() {
            assert!(key.get("d").is_none(), "never a private key");
        }
    }
}
