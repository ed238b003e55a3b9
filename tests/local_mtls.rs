//! Mutual TLS (RFC 8705) on the local engine through the real gRPC service,
//! directly and over the engine's HTTP API (v2 and v3): `tls_client_auth` by
//! subject DN and by SAN, `self_signed_tls_client_auth` by a certificate in
//! the client's JWK Set, access tokens bound with `cnf.x5t#S256`, and
//! introspection and userinfo refusing a bound token presented without the
//! matching certificate. The certificates are made here with rcgen, as the
//! TLS terminator in front of the web tier would receive them.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::backend::local::{ClientConfig, LocalConfig};
use authlete_grpc::pb;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use local_common::idtoken::header;
use local_common::*;
use rcgen::{CertificateParams, DnType, KeyPair};
use serde_json::json;

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];
const PKI: &str = "mtls-pki";
const SAN: &str = "mtls-san";
const SELF: &str = "mtls-self";
const BOUND: &str = "bound-secret";

/// A self-signed certificate: its PEM and its RFC 8705 `x5t#S256`.
struct Cert {
    pem: String,
    der: Vec<u8>,
}

impl Cert {
    fn new(cn: &str, dns: &[&str]) -> Self {
        let mut params =
            CertificateParams::new(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Example");
        let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
        Self {
            pem: cert.pem(),
            der: cert.der().to_vec(),
        }
    }

    fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest(&SHA256, &self.der).as_ref())
    }
}

fn client(id: &str, method: &str) -> ClientConfig {
    ClientConfig {
        client_id: id.to_owned(),
        token_auth_method: Some(method.to_owned()),
        redirect_uris: vec![REDIRECT.to_owned()],
        grant_types: ["authorization_code", "client_credentials"]
            .map(str::to_owned)
            .to_vec(),
        tls_client_certificate_bound_access_tokens: true,
        ..ClientConfig::default()
    }
}

/// The test clients: by DN (RFC 4514 order), by SAN, self-signed (with
/// `registered` in its JWK Set), and a secret client with bound tokens.
fn mtls_config(registered: &Cert) -> LocalConfig {
    let mut c = config();
    c.clients.push(ClientConfig {
        tls_client_auth_subject_dn: Some("O=Example, CN=mtls-client".to_owned()),
        ..client(PKI, "tls_client_auth")
    });
    c.clients.push(ClientConfig {
        tls_client_auth_san_dns: Some("client.example".to_owned()),
        ..client(SAN, "tls_client_auth")
    });
    let jwks = json!({"keys": [{"kty": "EC", "x5c": [STANDARD.encode(&registered.der)]}]});
    c.clients.push(ClientConfig {
        jwks: Some(jwks.to_string()),
        ..client(SELF, "self_signed_tls_client_auth")
    });
    c.clients.push(ClientConfig {
        client_secret: Some("bound-secret-0123456789".to_owned()),
        ..client(BOUND, "client_secret_basic")
    });
    c
}

/// `Token` (client credentials) by `id` with `cert` and maybe a secret.
async fn cc_token(env: &Env, id: &str, secret: &str, cert: Option<&Cert>) -> pb::TokenResponse {
    env.token()
        .token(pb::TokenRequest {
            parameters: format!("grant_type=client_credentials&client_id={id}"),
            client_id: if secret.is_empty() {
                String::new()
            } else {
                id.to_owned()
            },
            client_secret: secret.to_owned(),
            client_certificate: cert.map(|c| c.pem.clone()).unwrap_or_default(),
            ..Default::default()
        })
        .await
        .expect("Token")
        .into_inner()
}

async fn introspect_with(env: &Env, token: &str, cert: Option<&Cert>) -> pb::IntrospectionResponse {
    env.introspection()
        .introspection(pb::IntrospectionRequest {
            token: token.to_owned(),
            client_certificate: cert.map(|c| c.pem.clone()).unwrap_or_default(),
            ..Default::default()
        })
        .await
        .expect("Introspection")
        .into_inner()
}

#[track_caller]
fn refused(i: &pb::IntrospectionResponse) {
    assert_eq!(i.action_name, "UNAUTHORIZED", "{}", i.result_message);
    let http = i.http.as_ref().unwrap();
    assert_eq!(http.status, 401);
    let challenge = header(http, "WWW-Authenticate").unwrap();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn tls_client_auth_binds_tokens_that_need_the_certificate() {
    let registered = Cert::new("self", &[]);
    for via in VIAS {
        let env = Env::start_with(via, mtls_config(&registered)).await;
        let cert = Cert::new("mtls-client", &[]);
        let t = cc_token(&env, PKI, "", Some(&cert)).await;
        assert_eq!(t.action_name, "OK", "{via:?}: {}", t.result_message);
        assert_eq!(t.client_auth_method, "TLS_CLIENT_AUTH");
        let at = t.access_token.as_str();

        let ok = introspect_with(&env, at, Some(&cert)).await;
        assert_eq!(ok.action_name, "OK", "{}", ok.result_message);
        assert_eq!(ok.certificate_thumbprint, cert.x5t());
        refused(&introspect_with(&env, at, None).await);
        refused(&introspect_with(&env, at, Some(&Cert::new("mtls-client", &[]))).await);

        let s = standard_introspection(&env, at).await;
        assert_eq!(s["cnf"]["x5t#S256"], cert.x5t());
        assert_eq!(s["token_type"], "Bearer", "RFC 8705 tokens stay Bearer");
    }
}

#[tokio::test]
async fn the_certificate_must_be_the_clients() {
    let registered = Cert::new("self", &[]);
    let env = Env::start_with(Via::Http(ApiVersion::V3), mtls_config(&registered)).await;
    let invalid_client = |t: &pb::TokenResponse, what: &str| {
        assert_eq!(
            t.action_name, "INVALID_CLIENT",
            "{what}: {}",
            t.result_message
        );
        assert_eq!(t.http.as_ref().unwrap().status, 401, "{what}");
    };
    invalid_client(&cc_token(&env, PKI, "", None).await, "no certificate");
    invalid_client(
        &cc_token(&env, PKI, "", Some(&Cert::new("other", &[]))).await,
        "other DN",
    );
    let right = Cert::new("mtls-client", &[]);
    invalid_client(
        &cc_token(&env, PKI, "a-secret", Some(&right)).await,
        "a secret too",
    );
    // By SAN: the DNS name counts, not the subject.
    let san = Cert::new("anything", &["client.example"]);
    assert_eq!(cc_token(&env, SAN, "", Some(&san)).await.action_name, "OK");
    invalid_client(
        &cc_token(&env, SAN, "", Some(&Cert::new("x", &["evil.example"]))).await,
        "other SAN",
    );
    // Self-signed: only the registered certificate, whatever its names say.
    assert_eq!(
        cc_token(&env, SELF, "", Some(&registered))
            .await
            .action_name,
        "OK"
    );
    invalid_client(
        &cc_token(&env, SELF, "", Some(&Cert::new("self", &[]))).await,
        "look-alike",
    );
    // Not a certificate: a malformed request.
    let t = env
        .token()
        .token(pb::TokenRequest {
            parameters: format!("grant_type=client_credentials&client_id={PKI}"),
            client_certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
                .into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.action_name, "BAD_REQUEST", "{}", t.result_message);
}

#[tokio::test]
async fn a_secret_client_with_bound_tokens_must_present_its_certificate() {
    let registered = Cert::new("self", &[]);
    let env = Env::start_with(Via::Direct, mtls_config(&registered)).await;
    let secret = "bound-secret-0123456789";
    let t = cc_token(&env, BOUND, secret, None).await;
    assert_eq!(t.action_name, "BAD_REQUEST");
    assert!(
        t.response_content.contains("invalid_request"),
        "{}",
        t.response_content
    );
    let cert = Cert::new("any", &[]);
    let t = cc_token(&env, BOUND, secret, Some(&cert)).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    refused(&introspect_with(&env, &t.access_token, None).await);
    assert_eq!(
        introspect_with(&env, &t.access_token, Some(&cert))
            .await
            .action_name,
        "OK"
    );
}

#[tokio::test]
async fn userinfo_refuses_a_bound_token_without_its_certificate() {
    let registered = Cert::new("self", &[]);
    for via in [Via::Direct, Via::Http(ApiVersion::V2)] {
        let env = Env::start_with(via, mtls_config(&registered)).await;
        let cert = Cert::new("mtls-client", &[]);
        let r = authorize(
            &env,
            &format!(
                "response_type=code&client_id={PKI}&redirect_uri={}&scope=openid&nonce=n",
                enc(REDIRECT)
            ),
        )
        .await;
        let i = issue(&env, &r.ticket, "alice", "{}").await;
        let code = param(&i.response_content, "code").expect("code");
        let t = env
            .token()
            .token(pb::TokenRequest {
                parameters: format!(
                    "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={PKI}",
                    enc(REDIRECT)
                ),
                client_certificate: cert.pem.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        let userinfo = |pem: String| {
            let mut rpc = env.userinfo();
            let token = t.access_token.clone();
            async move {
                rpc.user_info(pb::UserInfoRequest {
                    token,
                    client_certificate: pem,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
            }
        };
        let u = userinfo(String::new()).await;
        assert_eq!(u.action_name, "UNAUTHORIZED", "{via:?}");
        assert_eq!(u.http.unwrap().status, 401);
        let u = userinfo(cert.pem.clone()).await;
        assert_eq!(u.action_name, "OK", "{}", u.result_message);
        assert_eq!(u.subject, "alice");
    }
}

#[tokio::test]
async fn tls_client_auth_needs_exactly_one_name() {
    let registered = Cert::new("self", &[]);
    let mut c = mtls_config(&registered);
    c.clients[3].tls_client_auth_subject_dn = None;
    let err = authlete_grpc::backend::LocalBackend::new(c).expect_err("no name");
    assert!(err.contains("exactly one"), "{err}");
    let mut c = mtls_config(&registered);
    c.clients[3].tls_client_auth_san_uri = Some("https://x.example".into());
    assert!(
        authlete_grpc::backend::LocalBackend::new(c).is_err(),
        "two names"
    );
    let mut c = mtls_config(&registered);
    c.clients[5].jwks = None;
    let err = authlete_grpc::backend::LocalBackend::new(c).expect_err("no jwks");
    assert!(err.contains("jwks"), "{err}");
}
