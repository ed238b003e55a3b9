//! Envoy's ext_authz `envoy.service.auth.v3.Authorization/Check` through the
//! real server on loopback, with CheckRequests shaped as Envoy sends them
//! (headers map, `source.certificate` from `include_peer_certificate`, the
//! route's `context_extensions`), against the recording fake Authlete. Envoy
//! itself has no Debian package here: this test is its stand-in as a client.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use authlete_grpc::auth::keys::hash_hex;
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy};
use authlete_grpc::authz::{AuthzOptions, Surface};
use authlete_grpc::server::ServerOptions;
use common::*;
use envoy_types::ext_authz::v3::pb::{
    CheckRequest, CheckResponse, HeaderValueOption, HttpResponse,
};
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{
    HttpRequest, Peer, Request as AttrRequest,
};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;

const TOKEN: &str = "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI";
const PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUW+/x==\n-----END CERTIFICATE-----\n";

/// A CheckRequest as Envoy builds it for `GET https://rs.example.com/history`.
fn check_request(headers: &[(&str, &str)], extensions: &[(&str, &str)]) -> CheckRequest {
    let map = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(AttrRequest {
                http: Some(HttpRequest {
                    method: "GET".to_owned(),
                    scheme: "https".to_owned(),
                    host: "rs.example.com".to_owned(),
                    path: "/history?page=2".to_owned(),
                    headers: map(headers),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            context_extensions: map(extensions),
            ..Default::default()
        }),
    }
}

async fn start_with(authz: AuthzOptions) -> Env {
    let base = Setup::new(V3);
    let server = ServerOptions {
        authz,
        ..base.server.clone()
    };
    base.server(server).start().await
}

async fn check(env: &Env, request: CheckRequest) -> Result<CheckResponse, tonic::Status> {
    AuthorizationClient::new(env.channel.clone())
        .check(request)
        .await
        .map(tonic::Response::into_inner)
}

fn headers(options: &[HeaderValueOption]) -> Vec<(String, String)> {
    let mut h: Vec<_> = options
        .iter()
        .map(|o| {
            let hv = o.header.as_ref().expect("a header");
            (hv.key.clone(), hv.value.clone())
        })
        .collect();
    h.sort();
    h
}

#[tokio::test]
async fn ok_allows_with_the_fact_headers_replacing_the_end_users() {
    let options = AuthzOptions {
        remove_authorization: true,
        ..AuthzOptions::default()
    };
    let metrics = options.metrics.clone();
    let env = start_with(options).await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let bearer = format!("Bearer {TOKEN}");
    let request = check_request(
        &[("authorization", &bearer), ("x-authlete-subject", "forged")],
        &[
            ("scopes", "history.read  timeline.read"),
            ("resources", "https://rs.example.com"),
        ],
    );
    let r = check(&env, request).await.expect("Check answers");
    env.assert_posted(
        "/auth/introspection",
        json!({
            "token": TOKEN,
            "scopes": ["history.read", "timeline.read"],
            "resources": ["https://rs.example.com"],
        }),
    );
    assert_eq!(r.status.expect("a status").code, Code::Ok as i32);
    let Some(HttpResponse::OkResponse(ok)) = r.http_response else {
        panic!("an ok_response");
    };
    assert_eq!(
        headers(&ok.headers),
        [
            (
                "x-authlete-client-id".to_owned(),
                "26478243745571".to_owned()
            ),
            (
                "x-authlete-scopes".to_owned(),
                "history.read timeline.read".to_owned()
            ),
            ("x-authlete-subject".to_owned(), "john".to_owned()),
        ]
    );
    // Overwrite, not append: the end user's forged header does not survive.
    assert!(ok.headers.iter().all(|h| h.append_action == 2));
    assert_eq!(ok.headers_to_remove, ["authorization"]);
    assert_eq!(metrics.count(Surface::Envoy, "allowed", "ok"), 1);
}

#[tokio::test]
async fn no_token_gets_the_401_challenge_without_calling_authlete() {
    let options = AuthzOptions::default();
    let metrics = options.metrics.clone();
    let env = start_with(options).await;
    for auth in [None, Some("Basic dXNlcjpwYXNz")] {
        let sent: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let r = check(&env, check_request(&sent, &[("scopes", "read")]))
            .await
            .expect("Check answers");
        assert_eq!(r.status.unwrap().code, Code::Unauthenticated as i32);
        let Some(HttpResponse::DeniedResponse(denied)) = r.http_response else {
            panic!("a denied_response");
        };
        assert_eq!(denied.status.unwrap().code, 401);
        let challenge = (
            "WWW-Authenticate".to_owned(),
            r#"Bearer error="invalid_token",error_description="An access token is missing.""#
                .to_owned(),
        );
        assert!(headers(&denied.headers).contains(&challenge));
    }
    env.fake.assert_no_request();
    assert_eq!(metrics.count(Surface::Envoy, "denied", "missing_token"), 2);
}

#[tokio::test]
async fn insufficient_scope_is_authletes_403() {
    let env = start_with(AuthzOptions::default()).await;
    let challenge = r#"Bearer error="insufficient_scope",scope="history.write""#;
    env.fake.reply(
        "/auth/introspection",
        200,
        json!({"action": "FORBIDDEN", "resultCode": "A064302", "responseContent": challenge})
            .to_string(),
    );
    let bearer = format!("Bearer {TOKEN}");
    let r = check(
        &env,
        check_request(
            &[("authorization", &bearer)],
            &[("scopes", "history.write")],
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status.unwrap().code, Code::PermissionDenied as i32);
    let Some(HttpResponse::DeniedResponse(denied)) = r.http_response else {
        panic!("a denied_response");
    };
    assert_eq!(denied.status.unwrap().code, 403);
    assert!(
        headers(&denied.headers).contains(&("WWW-Authenticate".to_owned(), challenge.to_owned()))
    );
    assert_eq!(denied.body, "");
}

#[tokio::test]
async fn a_dpop_proof_reaches_authlete_with_htm_and_htu_as_rfc_9449_defines_them() {
    let env = start_with(AuthzOptions::default()).await;
    env.fake.reply(
        "/auth/introspection",
        200,
        fixture("introspection/unauthorized_dpop_nonce.json"),
    );
    let dpop = format!("DPoP {TOKEN}");
    let mut request = check_request(&[("authorization", &dpop), ("dpop", "eyJ.proof.sig")], &[]);
    let http = request
        .attributes
        .as_mut()
        .unwrap()
        .request
        .as_mut()
        .unwrap()
        .http
        .as_mut()
        .unwrap();
    http.method = "post".to_owned();
    http.scheme = "HTTPS".to_owned();
    http.host = "RS.Example.COM:443".to_owned();
    http.path = "/history/items?page=2#top".to_owned();
    let r = check(&env, request).await.unwrap();
    env.assert_posted(
        "/auth/introspection",
        json!({
            "token": TOKEN,
            "dpop": "eyJ.proof.sig",
            "htm": "POST",
            "htu": "https://rs.example.com/history/items",
        }),
    );
    let Some(HttpResponse::DeniedResponse(denied)) = r.http_response else {
        panic!("a denied_response");
    };
    assert_eq!(denied.status.unwrap().code, 401);
    let h = headers(&denied.headers);
    assert!(
        h.contains(&("DPoP-Nonce".to_owned(), "nonce-intro-5Bv0".to_owned())),
        "{h:?}"
    );
    assert!(
        h.iter()
            .any(|(k, v)| k == "WWW-Authenticate" && v.contains("use_dpop_nonce"))
    );
}

fn url_encoded(pem: &str) -> String {
    percent_encoding::utf8_percent_encode(pem, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn envoys_peer_certificate_reaches_authlete_as_pem() {
    let env = start_with(AuthzOptions::default()).await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let bearer = format!("Bearer {TOKEN}");
    let mut request = check_request(&[("authorization", &bearer)], &[]);
    request.attributes.as_mut().unwrap().source = Some(Peer {
        certificate: url_encoded(PEM),
        ..Default::default()
    });
    check(&env, request).await.unwrap();
    env.assert_posted(
        "/auth/introspection",
        json!({"token": TOKEN, "clientCertificate": PEM}),
    );
}

#[tokio::test]
async fn the_xfcc_cert_reaches_authlete_as_pem_only_when_trusted() {
    let xfcc = format!(
        "By=spiffe://td/edge;Cert=\"{}\";URI=spiffe://td/client",
        url_encoded(PEM)
    );
    let bearer = format!("Bearer {TOKEN}");
    let request = || {
        check_request(
            &[
                ("authorization", &bearer),
                ("x-forwarded-client-cert", &xfcc),
            ],
            &[],
        )
    };
    for (trust, expected) in [
        (true, json!({"token": TOKEN, "clientCertificate": PEM})),
        (false, json!({"token": TOKEN})),
    ] {
        let env = start_with(AuthzOptions {
            trust_xfcc: trust,
            ..AuthzOptions::default()
        })
        .await;
        env.fake
            .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
        check(&env, request()).await.unwrap();
        env.assert_posted("/auth/introspection", expected);
    }
}

#[tokio::test]
async fn authlete_unreachable_is_the_grpc_error_envoys_failure_mode_allow_decides_on() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let options = AuthzOptions::default();
    let metrics = options.metrics.clone();
    let base = Setup::new(V3).base_url(url);
    let server = ServerOptions {
        authz: options,
        ..base.server.clone()
    };
    let env = base.server(server).start().await;
    let bearer = format!("Bearer {TOKEN}");
    let status = check(&env, check_request(&[("authorization", &bearer)], &[]))
        .await
        .expect_err("no decision without Authlete");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "AUTHLETE_UNREACHABLE");
    assert!(!status.message().contains(TOKEN));
    assert_eq!(metrics.count(Surface::Envoy, "error", "authlete_error"), 1);
}

#[tokio::test]
async fn the_caller_policy_names_check_like_any_rpc() {
    const ENVOY_KEY: &str = "envoy-caller-key-0123456789";
    const RS_KEY: &str = "rs-caller-key-0123456789";
    let auth = CallerAuth {
        keys: CallerKeys::parse(&format!(
            "envoy={}\nrs={}",
            hash_hex(ENVOY_KEY),
            hash_hex(RS_KEY)
        ))
        .unwrap(),
        xfcc: None,
        policy: Policy::parse(
            r#"
            [callers."key:envoy"]
            allow = ["envoy.service.auth.v3.Authorization/Check"]
            [callers."key:rs"]
            allow = ["authlete.v1.IntrospectionService"]
            "#,
        )
        .unwrap(),
    };
    let base = Setup::new(V3);
    let server = ServerOptions {
        caller_auth: Some(Arc::new(auth)),
        ..base.server.clone()
    };
    let env = base.server(server).start().await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let bearer = format!("Bearer {TOKEN}");
    let with_key = |key: Option<&str>| {
        let mut r = tonic::Request::new(check_request(&[("authorization", &bearer)], &[]));
        if let Some(key) = key {
            r.metadata_mut()
                .insert("authorization", format!("Bearer {key}").parse().unwrap());
        }
        r
    };
    let mut client = AuthorizationClient::new(env.channel.clone());
    let none = client.check(with_key(None)).await.unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated);
    let rs = client.check(with_key(Some(RS_KEY))).await.unwrap_err();
    assert_eq!(rs.code(), Code::PermissionDenied);
    env.fake.assert_no_request();
    let ok = client
        .check(with_key(Some(ENVOY_KEY)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.status.unwrap().code, 0);
}
