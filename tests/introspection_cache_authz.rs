//! The authorizer edges get the introspection cache for free: Envoy's
//! ext_authz `Check` and `/authz` reach Authlete once for repeated equal
//! checks, again for other required scopes, and always with a DPoP proof.

mod common;

use std::collections::HashMap;

use authlete_grpc::authz::http::AuthzHttpListener;
use common::introspected::{Cached, started, started_with};
use envoy_types::ext_authz::v3::pb::CheckRequest;
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{
    HttpRequest, Request as AttrRequest,
};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;

const TOKEN: &str = "Ww9Tu2Bd5N8ZfCbFx1hJqL3mRkVs6YpA0eGi7QjXo4U";
const HOUR_MS: i64 = 3_600_000;

/// A CheckRequest as Envoy builds it for `GET https://rs.example.com/a`.
fn check_request(headers: &[(&str, &str)], scopes: &str) -> CheckRequest {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(AttrRequest {
                http: Some(HttpRequest {
                    method: "GET".to_owned(),
                    scheme: "https".to_owned(),
                    host: "rs.example.com".to_owned(),
                    path: "/a".to_owned(),
                    headers,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            context_extensions: [("scopes".to_owned(), scopes.to_owned())].into(),
            ..Default::default()
        }),
    }
}

/// Whether Envoy is told to let the request through.
async fn allowed(c: &Cached, request: CheckRequest) -> bool {
    let r = AuthorizationClient::new(c.env.channel.clone())
        .check(request)
        .await
        .expect("Check answers")
        .into_inner();
    r.status.is_some_and(|s| s.code == 0)
}

#[tokio::test]
async fn check_is_answered_from_the_cache_for_equal_requests_only() {
    let c = started().await;
    c.answer(c.ok(HOUR_MS));
    let bearer = format!("Bearer {TOKEN}");
    for _ in 0..3 {
        assert!(allowed(&c, check_request(&[("authorization", &bearer)], "read")).await);
    }
    assert_eq!(c.upstream(), 1);
    assert!(
        allowed(
            &c,
            check_request(&[("authorization", &bearer)], "read write")
        )
        .await
    );
    assert_eq!(c.upstream(), 2, "other required scopes: another entry");
    assert_eq!(c.metrics.hits_total(), 2);
}

#[tokio::test]
async fn check_with_a_dpop_proof_always_reaches_authlete() {
    let c = started().await;
    c.answer(c.ok(HOUR_MS));
    let dpop = format!("DPoP {TOKEN}");
    let headers = [("authorization", dpop.as_str()), ("dpop", "eyJ.proof.sig")];
    for _ in 0..2 {
        assert!(allowed(&c, check_request(&headers, "read")).await);
    }
    assert_eq!(c.upstream(), 2);
    assert_eq!(c.metrics.bypasses_of("dpop"), 2);
}

#[tokio::test]
async fn forward_auth_is_answered_from_the_cache() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authz = format!(
        "http://{}/authz?scopes=read",
        listener.local_addr().unwrap()
    );
    let c = started_with(|options| authlete_grpc::server::ServerOptions {
        authz_http_listener: Some(AuthzHttpListener::new(listener)),
        ..options
    })
    .await;
    c.answer(c.ok(HOUR_MS));
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let r = client
            .get(&authz)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "rs.example.com")
            .header("x-forwarded-uri", "/a")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(c.upstream(), 1);
}
