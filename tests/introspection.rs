//! IntrospectionService through the real server against a fake Authlete.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{self, introspection_response::Action, standard_introspection_response};
use common::*;
use serde_json::json;

/// `src/api/introspection.rs` `MISSING_TOKEN_CHALLENGE`.
const MISSING_TOKEN: &str =
    r#"Bearer error="invalid_token",error_description="An access token is missing.""#;

async fn ok(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("introspection/ok.json");
    env.fake.reply("/auth/introspection", 200, reply.clone());

    let r = env
        .introspection()
        .introspection(pb::IntrospectionRequest {
            token: "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI".to_owned(),
            scopes: vec!["history.read".to_owned()],
            subject: "john".to_owned(),
            dpop: "dpop-proof".to_owned(),
            htm: "GET".to_owned(),
            htu: "https://rs.example.com/history".to_owned(),
            resources: vec!["https://rs.example.com".to_owned()],
            acr_values: vec!["urn:mace:incommon:iap:silver".to_owned()],
            max_age: 900,
            headers: vec![pb::Pair {
                key: "Signature".to_owned(),
                value: "sig1=:abc:".to_owned(),
            }],
            dpop_nonce_required: true,
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/introspection",
        json!({
            "token": "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI",
            "scopes": ["history.read"],
            "subject": "john",
            "dpop": "dpop-proof",
            "htm": "GET",
            "htu": "https://rs.example.com/history",
            "resources": ["https://rs.example.com"],
            "acrValues": ["urn:mace:incommon:iap:silver"],
            "maxAge": 900,
            "headers": [{"key": "Signature", "value": "sig1=:abc:"}],
            "dpopNonceRequired": true,
        }),
    );
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.action_name, "OK");
    assert_eq!(r.http, None, "OK: the resource server continues");
    assert_eq!(r.result_code, "A056001");
    assert_eq!(r.authlete_response, reply);
    assert_eq!(r.subject, "john");
    assert_eq!(r.scopes, ["history.read", "timeline.read"]);
    assert_eq!(r.client_id, 26478243745571);
    assert_eq!(r.client_id_alias, "my-client");
    assert_eq!(r.expires_at, 1640416873000);
    assert!(r.existent && r.usable && r.sufficient && r.refreshable);
}

#[tokio::test]
async fn introspection_ok_v2() {
    ok(V2).await;
}

#[tokio::test]
async fn introspection_ok_v3() {
    ok(V3).await;
}

#[tokio::test]
async fn introspection_error_is_a_bodiless_challenge_with_the_dpop_nonce() {
    let env = start(V3).await;
    let reply = fixture("introspection/unauthorized_dpop_nonce.json");
    env.fake.reply("/auth/introspection", 200, reply.clone());
    let r = env
        .introspection()
        .introspection(pb::IntrospectionRequest {
            token: "expired".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Unauthorized as i32);
    assert_eq!(r.action_name, "UNAUTHORIZED");
    assert_eq!(r.dpop_nonce, "nonce-intro-5Bv0");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        401,
        &cache_headers(&[
            ("WWW-Authenticate", &response_content(&reply)),
            ("DPoP-Nonce", "nonce-intro-5Bv0"),
        ]),
        "",
    );
}

#[tokio::test]
async fn introspection_without_token_answers_400_without_calling_authlete() {
    let env = start(V2).await;
    let r = env
        .introspection()
        .introspection(pb::IntrospectionRequest {
            scopes: vec!["history.read".to_owned()],
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.fake.assert_no_request();
    assert_eq!(r.action, Action::BadRequest as i32);
    assert_eq!(r.action_name, "BAD_REQUEST");
    assert_eq!(r.authlete_response, "");
    assert_http(
        r.http.as_ref(),
        400,
        &cache_headers(&[("WWW-Authenticate", MISSING_TOKEN)]),
        "",
    );
}

#[tokio::test]
async fn introspection_unknown_action_is_unspecified_with_a_500() {
    let env = start(V2).await;
    let reply = fixture_with("introspection/ok.json", json!({"action": "SOMETHING_NEW"}));
    env.fake.reply("/auth/introspection", 200, reply.clone());
    let r = env
        .introspection()
        .introspection(pb::IntrospectionRequest {
            token: "t".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, 0);
    assert_eq!(r.action_name, "SOMETHING_NEW");
    assert_http(
        r.http.as_ref(),
        500,
        &json_headers(&[]),
        UNKNOWN_ACTION_BODY,
    );
}

async fn standard(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("introspection_standard/ok.json");
    env.fake
        .reply("/auth/introspection/standard", 200, reply.clone());

    let r = env
        .introspection()
        .standard_introspection(pb::StandardIntrospectionRequest {
            parameters: "token=Ntm9MDb8WXQ&token_type_hint=access_token".to_owned(),
            with_hidden_properties: true,
            rs_uri: "https://rs.example.com".to_owned(),
            http_accept_header: "application/json".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/introspection/standard",
        json!({
            "parameters": "token=Ntm9MDb8WXQ&token_type_hint=access_token",
            "withHiddenProperties": true,
            "rsUri": "https://rs.example.com",
            "httpAcceptHeader": "application/json",
        }),
    );
    assert_eq!(r.action, standard_introspection_response::Action::Ok as i32);
    assert_eq!(r.action_name, "OK");
    assert_eq!(r.result_code, "A145001");
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn standard_introspection_v2() {
    standard(V2).await;
}

#[tokio::test]
async fn standard_introspection_v3() {
    standard(V3).await;
}

#[tokio::test]
async fn standard_introspection_jwt_has_its_media_type() {
    let env = start(V3).await;
    let reply = fixture_with(
        "introspection_standard/ok.json",
        json!({"action": "JWT", "responseContent": "eyJhbGciOiJFUzI1NiJ9.e30.sig"}),
    );
    env.fake
        .reply("/auth/introspection/standard", 200, reply.clone());
    let r = env
        .introspection()
        .standard_introspection(pb::StandardIntrospectionRequest::default())
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/auth/introspection/standard", json!({"parameters": ""}));
    assert_eq!(
        r.action,
        standard_introspection_response::Action::Jwt as i32
    );
    assert_http(
        r.http.as_ref(),
        200,
        &cache_headers(&[("Content-Type", "application/token-introspection+jwt")]),
        "eyJhbGciOiJFUzI1NiJ9.e30.sig",
    );
}
