//! Full OAuth flows on the local engine through the real gRPC service:
//! directly, and over the engine's HTTP API through the `authlete` backend
//! (v2 and v3). Every engine reply is checked against Authlete's schemas.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::{Api, ApiVersion, Call};
use authlete_grpc::pb;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_common::*;
use serde_json::Value;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];

/// The engine's JWK Set, through `ServiceJwks`.
async fn jwks(env: &Env) -> Value {
    let r = env
        .discovery()
        .service_jwks(pb::ServiceJwksRequest::default())
        .await
        .expect("ServiceJwks")
        .into_inner();
    serde_json::from_str(&r.authlete_response).expect("JWKS JSON")
}

/// Verifies an ES256 JWT against the JWK Set; returns its claims.
fn verify(jwks: &Value, jwt: &str) -> Value {
    let (header, claims) = jwt_parts(jwt);
    assert_eq!(header["alg"], "ES256");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the kid is in the JWK Set");
    let b64 = |m: &str| URL_SAFE_NO_PAD.decode(key[m].as_str().unwrap()).unwrap();
    let point = [vec![4u8], b64("x"), b64("y")].concat();
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .expect("the ID token signature verifies");
    claims
}

fn half_hash(value: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

fn header<'a>(http: &'a pb::HttpResponse, name: &str) -> Option<&'a str> {
    http.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

#[tokio::test]
async fn authorization_code_with_pkce_openid_to_revocation() {
    for via in VIAS {
        let env = Env::start(via).await;
        let t = tokens(&env).await;
        let body: Value = serde_json::from_str(&t.response_content).unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "openid profile email");
        assert_eq!(t.grant_type, "AUTHORIZATION_CODE");
        assert_eq!(t.subject, "alice");
        assert_eq!(t.client_auth_method, "CLIENT_SECRET_BASIC");
        assert_eq!(t.http.as_ref().unwrap().status, 200);

        // The ID token, verified against ServiceJwks.
        let claims = verify(&jwks(&env).await, &t.id_token);
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], WEB);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["name"], "Alice");
        assert_eq!(claims["acr"], "urn:acr:pwd");
        assert_eq!(claims["auth_time"], 1_700_000_000);
        assert_eq!(claims["at_hash"], half_hash(&t.access_token));
        let now = env.clock_seconds();
        assert!(claims["exp"].as_i64().unwrap() > now);
        assert!(claims["iat"].as_i64().unwrap() <= now);

        // Introspection: OK, then FORBIDDEN for a scope not granted.
        let i = introspect(&env, &t.access_token, &["openid", "email"]).await;
        assert_eq!(i.action_name, "OK", "{via:?}");
        assert_eq!(i.subject, "alice");
        assert!(i.usable && i.sufficient && i.refreshable);
        let i = introspect(&env, &t.access_token, &["phone"]).await;
        assert_eq!(i.action_name, "FORBIDDEN");
        let http = i.http.unwrap();
        assert_eq!(http.status, 403);
        assert!(
            header(&http, "WWW-Authenticate")
                .unwrap()
                .starts_with("Bearer error=\"insufficient_scope\"")
        );

        // UserInfo, then UserInfoIssue.
        let u = env
            .userinfo()
            .user_info(pb::UserInfoRequest {
                token: t.access_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(u.action_name, "OK");
        assert_eq!(u.subject, "alice");
        assert!(u.claims.contains(&"name".to_owned()) && u.claims.contains(&"email".to_owned()));
        let ui = env
            .userinfo()
            .user_info_issue(pb::UserInfoIssueRequest {
                token: t.access_token.clone(),
                claims: r#"{"name":"Alice","email":"alice@example.com"}"#.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ui.action_name, "JSON");
        let info: Value = serde_json::from_str(&ui.response_content).unwrap();
        assert_eq!(info["sub"], "alice");
        assert_eq!(info["email"], "alice@example.com");

        // Refresh with rotation: new tokens; the old ones stop working.
        let r = token(
            &env,
            &format!("grant_type=refresh_token&refresh_token={}", t.refresh_token),
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(r.action_name, "OK", "{}", r.result_message);
        assert_eq!(r.grant_type, "REFRESH_TOKEN");
        assert_ne!(r.refresh_token, t.refresh_token);
        assert_ne!(r.access_token, t.access_token);
        assert_eq!(
            introspect(&env, &t.access_token, &[]).await.action_name,
            "UNAUTHORIZED"
        );
        let again = token(
            &env,
            &format!("grant_type=refresh_token&refresh_token={}", t.refresh_token),
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(again.action_name, "BAD_REQUEST");
        assert!(again.response_content.contains("invalid_grant"));

        // Standard introspection (RFC 7662), before and after revocation.
        let standard = |token: String| {
            let env = &env;
            async move {
                let s = env
                    .introspection()
                    .standard_introspection(pb::StandardIntrospectionRequest {
                        parameters: format!("token={token}"),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                assert_eq!(s.action_name, "OK");
                serde_json::from_str::<Value>(&s.response_content).unwrap()
            }
        };
        let active = standard(r.access_token.clone()).await;
        assert_eq!(active["active"], true);
        assert_eq!(active["sub"], "alice");
        assert_eq!(active["client_id"], WEB);

        // Revocation, then the token is gone.
        let rev = env
            .revocation()
            .revocation(pb::RevocationRequest {
                parameters: format!("token={}&token_type_hint=access_token", r.access_token),
                client_id: WEB.to_owned(),
                client_secret: WEB_SECRET.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(rev.action_name, "OK");
        let i = introspect(&env, &r.access_token, &[]).await;
        assert_eq!(i.action_name, "UNAUTHORIZED");
        let http = i.http.unwrap();
        assert_eq!(http.status, 401);
        assert!(
            header(&http, "WWW-Authenticate")
                .unwrap()
                .starts_with("Bearer error=\"invalid_token\"")
        );
        assert_eq!(standard(r.access_token.clone()).await["active"], false);
        let after = token(
            &env,
            &format!("grant_type=refresh_token&refresh_token={}", r.refresh_token),
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(
            after.action_name, "BAD_REQUEST",
            "revoking the access token revokes its refresh token"
        );
    }
}

#[tokio::test]
async fn client_credentials_basic_and_post() {
    for via in VIAS {
        let env = Env::start(via).await;
        let t = token(
            &env,
            "grant_type=client_credentials&scope=email",
            Some((WEB, WEB_SECRET)),
        )
        .await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        assert!(t.refresh_token.is_empty());
        assert_eq!(t.grant_type, "CLIENT_CREDENTIALS");
        let params = format!(
            "grant_type=client_credentials&client_id={POSTER}&client_secret={POSTER_SECRET}"
        );
        let p = token(&env, &params, None).await;
        assert_eq!(p.action_name, "OK", "{}", p.result_message);
        assert_eq!(p.client_auth_method, "CLIENT_SECRET_POST");
        let i = introspect(&env, &t.access_token, &["email"]).await;
        assert_eq!(i.action_name, "OK");
        assert!(i.subject.is_empty());
        assert_eq!(i.grant_type, "CLIENT_CREDENTIALS");
        let u = env
            .userinfo()
            .user_info(pb::UserInfoRequest {
                token: t.access_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(u.action_name, "FORBIDDEN");
    }
}

#[tokio::test]
async fn password_grant_right_and_wrong() {
    for via in VIAS {
        let env = Env::start(via).await;
        let params = "grant_type=password&username=alice&password=wonderland&scope=openid";
        let p = token(&env, params, Some((WEB, WEB_SECRET))).await;
        assert_eq!(p.action_name, "PASSWORD", "{}", p.result_message);
        assert_eq!(
            (p.username.as_str(), p.password.as_str()),
            ("alice", "wonderland")
        );
        assert!(p.http.is_none(), "the web tier must check the password");
        let ok = env
            .token()
            .token_issue(pb::TokenIssueRequest {
                ticket: p.ticket.clone(),
                subject: "alice".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ok.action_name, "OK", "{}", ok.result_message);
        assert!(!ok.access_token.is_empty() && !ok.refresh_token.is_empty());
        assert_eq!(
            introspect(&env, &ok.access_token, &["openid"])
                .await
                .subject,
            "alice"
        );

        let p = token(&env, params, Some((WEB, WEB_SECRET))).await;
        let fail = env
            .token()
            .token_fail(pb::TokenFailRequest {
                ticket: p.ticket.clone(),
                reason: pb::token_fail_request::Reason::InvalidResourceOwnerCredentials as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(fail.action_name, "BAD_REQUEST");
        assert_eq!(fail.http.unwrap().status, 400);
        assert!(
            fail.response_content
                .contains("\"error\":\"invalid_request\"")
        );
        // The ticket worked once.
        let twice = env
            .token()
            .token_issue(pb::TokenIssueRequest {
                ticket: p.ticket,
                subject: "alice".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(twice.action_name, "INTERNAL_SERVER_ERROR");
    }
}

#[tokio::test]
async fn pushed_authorization_then_authorization() {
    for via in VIAS {
        let env = Env::start(via).await;
        let pushed = env
            .par()
            .pushed_authorization(pb::PushedAuthorizationRequest {
                parameters: code_request(""),
                client_id: WEB.to_owned(),
                client_secret: WEB_SECRET.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(pushed.action_name, "CREATED", "{}", pushed.result_message);
        assert!(
            pushed
                .request_uri
                .starts_with("urn:ietf:params:oauth:request_uri:")
        );
        assert_eq!(pushed.http.unwrap().status, 201);
        let content: Value = serde_json::from_str(&pushed.response_content).unwrap();
        assert_eq!(content["expires_in"], 90);
        let params = format!("client_id={WEB}&request_uri={}", enc(&pushed.request_uri));
        let r = authorize(&env, &params).await;
        assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
        let i = issue(&env, &r.ticket, "alice", "").await;
        let code = param(&i.response_content, "code").unwrap();
        let t = token(&env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        // A request URI works once.
        let again = authorize(&env, &params).await;
        assert_eq!(again.action_name, "BAD_REQUEST");
        assert!(again.response_content.contains("invalid_request_uri"));
    }
}

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
    let base = format!("client_id={WEB}&scope=openid+email&nonce=n-2&state=s");
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
            serde_json::json!(["ES256"])
        );
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["plain", "S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["service_documentation"], "https://docs.example");
        let keys = jwks(&env).await;
        assert_eq!(keys["keys"][0]["kty"], "EC");
        assert!(keys["keys"][0].get("d").is_none(), "never a private key");
    }
}
