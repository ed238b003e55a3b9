//! Connect over TLS: the caller's verified client certificate identifies it
//! exactly as over gRPC (the connection's extensions go along with the
//! transcoded call), over HTTP/1.1 (ALPN `http/1.1`, what curl offers) and
//! HTTP/2.

#[path = "common/certs.rs"]
#[allow(dead_code)]
mod certs;
mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use authlete_grpc::auth::tls::{TlsSettings, install_crypto_provider};
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy};
use authlete_grpc::server::ServerOptions;
use certs::{Ca, Leaf, Names};
use common::connect::Connect;
use common::*;
use serde_json::json;

const SPIFFE: &str = "spiffe://test.example/ns/rs/sa/api";
const POLICY: &str = r#"
[callers."uri:spiffe://test.example/ns/rs/sa/api"]
allow = ["authlete.v1.IntrospectionService"]
"#;

fn client(ca: &Ca, leaf: &Leaf, addr: SocketAddr, http2: bool) -> Connect {
    let identity = format!("{}{}", leaf.cert_pem, leaf.key_pem);
    let builder = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", addr)
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap()])
        .identity(reqwest::Identity::from_pem(identity.as_bytes()).unwrap());
    let builder = if http2 {
        builder.http2_prior_knowledge()
    } else {
        builder.http1_only()
    };
    let base = format!("https://localhost:{}", addr.port());
    Connect::with_client(builder.build().unwrap(), base)
}

#[tokio::test]
async fn the_client_certificate_is_the_caller_over_connect() {
    install_crypto_provider();
    let ca = Ca::new("test CA");
    let dir = certs::temp_dir("connect-tls");
    let server = ca.server();
    let settings = TlsSettings {
        cert: certs::write(&dir, "server.crt", &server.cert_pem),
        key: certs::write(&dir, "server.key", &server.key_pem),
        client_ca: Some(certs::write(&dir, "clients.crt", &ca.pem())),
    };
    let auth = CallerAuth {
        keys: CallerKeys::parse("").unwrap(),
        xfcc: None,
        policy: Policy::parse(POLICY).unwrap(),
    };
    let base = Setup::new(V3);
    let options = ServerOptions {
        caller_auth: Some(Arc::new(auth)),
        tls: Some(settings.server_config().expect("valid TLS files")),
        ..base.server.clone()
    };
    let env = base.server(options).start().await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let leaf = ca.client(Names::Uri(SPIFFE));
    for http2 in [false, true] {
        let connect = client(&ca, &leaf, env.addr, http2);
        let token = json!({"token": "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI"});
        let path = "/authlete.v1.IntrospectionService/Introspection";
        let ok = connect.json(path, &token, &[]).await;
        assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
        let expected = if http2 {
            reqwest::Version::HTTP_2
        } else {
            reqwest::Version::HTTP_11
        };
        assert_eq!(ok.version, expected);
        assert_eq!(ok.json()["action"], "ACTION_OK");
        // Outside its grant: the refusal names the certificate's identity.
        let denied = connect
            .json(
                "/authlete.v1.TokenService/Token",
                &json!({"parameters": "x"}),
                &[],
            )
            .await;
        assert_eq!(denied.status, 403);
        let info = &denied.json()["details"][0]["debug"];
        assert_eq!(info["reason"], "CALLER_NOT_PERMITTED");
        assert_eq!(info["metadata"]["caller"], format!("uri:{SPIFFE}"));
    }
    assert_eq!(env.fake.requests().len(), 2);
}
