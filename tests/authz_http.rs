//! `/authz` (HTTP forward auth) through the real server against the recording
//! fake Authlete: what reaches Authlete from the X-Forwarded-* / X-Original-*
//! headers and the query, the caller key header, and Authlete unreachable.
//! (The real proxies in front of it are in `authz_proxies.rs`.)

mod common;

use std::sync::Arc;

use authlete_grpc::auth::keys::hash_hex;
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy};
use authlete_grpc::authz::http::AuthzHttpListener;
use authlete_grpc::authz::{AuthzOptions, Surface};
use authlete_grpc::server::ServerOptions;
use common::*;
use serde_json::json;

const TOKEN: &str = "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI";
const PROXY_KEY: &str = "proxy-caller-key-0123456789";

/// The service with `/authz` on a free port (and caller keys when asked).
async fn start(base: Setup, keys: bool) -> (Env, String) {
    start_with(base, keys, AuthzOptions::default()).await
}

async fn start_with(base: Setup, keys: bool, authz_options: AuthzOptions) -> (Env, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authz = format!("http://{}/authz", listener.local_addr().unwrap());
    let caller_auth = keys.then(|| {
        Arc::new(CallerAuth {
            keys: CallerKeys::parse(&format!("proxy={}", hash_hex(PROXY_KEY))).unwrap(),
            xfcc: None,
            policy: Policy::parse(
                "[callers.\"key:proxy\"]\nallow = [\"authlete.grpc.ForwardAuth/Authz\"]",
            )
            .unwrap(),
        })
    });
    let server = ServerOptions {
        authz_http_listener: Some(AuthzHttpListener::new(listener)),
        authz: authz_options,
        caller_auth,
        ..base.server.clone()
    };
    (base.server(server).start().await, authz)
}

#[tokio::test]
async fn forwarded_headers_and_the_query_reach_authlete_and_ok_is_200_with_the_facts() {
    let (env, authz) = start(Setup::new(V3), false).await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let r = reqwest::Client::new()
        .get(format!(
            "{authz}?scopes=history.read+timeline.read&resources=https%3A%2F%2Frs.example.com"
        ))
        .header("authorization", format!("DPoP {TOKEN}"))
        .header("dpop", "eyJ.proof.sig")
        .header("x-forwarded-method", "PUT")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "RS.example.com:443")
        .header("x-forwarded-uri", "/history/1?x=y")
        .send()
        .await
        .unwrap();
    env.assert_posted(
        "/auth/introspection",
        json!({
            "token": TOKEN,
            "scopes": ["history.read", "timeline.read"],
            "resources": ["https://rs.example.com"],
            "dpop": "eyJ.proof.sig",
            "htm": "PUT",
            "htu": "https://rs.example.com/history/1",
        }),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-authlete-subject"], "john");
    assert_eq!(r.headers()["x-authlete-client-id"], "26478243745571");
    assert_eq!(
        r.headers()["x-authlete-scopes"],
        "history.read timeline.read"
    );
}

#[tokio::test]
async fn nginx_style_original_headers_are_read_too() {
    let (env, authz) = start(Setup::new(V2), false).await;
    env.fake.reply(
        "/auth/introspection",
        200,
        fixture("introspection/unauthorized_dpop_nonce.json"),
    );
    let r = reqwest::Client::new()
        .get(authz)
        .header("authorization", format!("DPoP {TOKEN}"))
        .header("dpop", "proof")
        .header("x-original-method", "get")
        .header("x-original-uri", "/a?b")
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-host", "rs.example:80")
        .send()
        .await
        .unwrap();
    let sent = env.fake.only_request().json();
    assert_eq!(
        (sent["htm"].as_str(), sent["htu"].as_str()),
        (Some("GET"), Some("http://rs.example/a"))
    );
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["dpop-nonce"], "nonce-intro-5Bv0");
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("use_dpop_nonce")
    );
}

#[tokio::test]
async fn a_proof_without_the_original_host_is_the_proxys_misconfiguration() {
    let (env, authz) = start(Setup::new(V3), false).await;
    let r = reqwest::Client::new()
        .get(authz)
        .header("authorization", format!("DPoP {TOKEN}"))
        .header("dpop", "proof")
        .header("x-forwarded-method", "GET")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.headers().get("www-authenticate").is_none());
    assert!(r.text().await.unwrap().contains("X-Forwarded-Host"));
    env.fake.assert_no_request();
}

#[tokio::test]
async fn authlete_unreachable_is_a_plain_503_without_an_oauth_answer() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let options = AuthzOptions::default();
    let metrics = options.metrics.clone();
    let (_env, authz) = start_with(Setup::new(V3).base_url(url), false, options).await;
    let r = reqwest::Client::new()
        .get(authz)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("www-authenticate").is_none());
    let body = r.text().await.unwrap();
    assert!(!body.contains(TOKEN) && !body.contains("error="), "{body}");
    assert_eq!(metrics.count(Surface::Http, "error", "authlete_error"), 1);
}

#[tokio::test]
async fn the_proxy_is_a_caller_with_its_key_in_its_own_header() {
    let (env, authz) = start(Setup::new(V3), true).await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let http = reqwest::Client::new();
    let ask = |key: Option<&str>| {
        let mut r = http.get(&authz).bearer_auth(TOKEN);
        if let Some(key) = key {
            r = r.header("x-authlete-grpc-caller-key", key);
        }
        r.send()
    };
    for refused in [None, Some("wrong-key-0123456789")] {
        let r = ask(refused).await.unwrap();
        assert_eq!(r.status(), 403, "{refused:?}");
        assert!(r.headers().get("www-authenticate").is_none());
    }
    env.fake.assert_no_request();
    assert_eq!(ask(Some(PROXY_KEY)).await.unwrap().status(), 200);
}
