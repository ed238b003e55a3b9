//! Who may call: mTLS identities, bearer caller keys, XFCC from a trusted
//! sidecar and the permission policy, through a real server on loopback
//! (TLS with rcgen certificates), in front of the recording fake Authlete.

#[path = "common/certs.rs"]
mod certs;
mod common;

use std::sync::Arc;
use std::time::Duration;

use authlete_grpc::auth::keys::hash_hex;
use authlete_grpc::auth::tls::{TlsSettings, install_crypto_provider};
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy, XfccTrust};
use authlete_grpc::pb;
use authlete_grpc::server::{HealthListener, ServerOptions};
use certs::{Ca, Leaf, Names};
use common::*;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_types::StatusExt;

const SPIFFE: &str = "spiffe://test.example/ns/rs/sa/api";
const POLICY: &str = r#"
[callers."uri:spiffe://test.example/ns/rs/sa/api"]
allow = ["authlete.v1.IntrospectionService"]

[callers."dns:rs.test.example"]
allow = ["authlete.v1.IntrospectionService"]

[callers."cn:cn-caller"]
allow = ["authlete.v1.IntrospectionService"]

[callers."key:resource-server"]
allow = ["authlete.v1.IntrospectionService"]

[callers."uri:spiffe://test.example/ns/web/sa/frontend"]
allow = ["authlete.v1.IntrospectionService"]

[callers."key:web"]
allow = ["authlete.v1.TokenService"]
"#;
const RS_KEY: &str = "rs-caller-key-0123456789";
const WEB_KEY: &str = "web-caller-key-0123456789";

fn caller_auth(xfcc: Option<XfccTrust>) -> Arc<CallerAuth> {
    let keys = format!(
        "resource-server={}\nweb={}",
        hash_hex(RS_KEY),
        hash_hex(WEB_KEY)
    );
    Arc::new(CallerAuth {
        keys: CallerKeys::parse(&keys).unwrap(),
        xfcc,
        policy: Policy::parse(POLICY).unwrap(),
    })
}

/// The service with caller authentication (and TLS when given).
async fn start_with(
    version: authlete_grpc::backend::ApiVersion,
    auth: Arc<CallerAuth>,
    tls: Option<TlsSettings>,
    health_listener: Option<HealthListener>,
) -> Env {
    install_crypto_provider();
    let base = Setup::new(version);
    let server = ServerOptions {
        caller_auth: Some(auth),
        tls: tls.map(|t| t.server_config().expect("valid TLS files")),
        health_listener,
        ..base.server.clone()
    };
    let env = base.server(server).start().await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    env.fake
        .reply("/auth/token/issue", 200, fixture("token_issue/ok.json"));
    env
}

/// Server certificate files signed by `ca`, and the settings using them.
fn tls_files(ca: &Ca, client_ca: Option<&Ca>) -> (TlsSettings, std::path::PathBuf) {
    let dir = certs::temp_dir("tls");
    let server = ca.server();
    let settings = TlsSettings {
        cert: certs::write(&dir, "server.crt", &server.cert_pem),
        key: certs::write(&dir, "server.key", &server.key_pem),
        client_ca: client_ca.map(|c| certs::write(&dir, "clients.crt", &c.pem())),
    };
    (settings, dir)
}

async fn tls_channel(env: &Env, server_ca: &Ca, client: Option<&Leaf>) -> Result<Channel, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server_ca.pem()))
        .domain_name("localhost");
    if let Some(leaf) = client {
        tls = tls.identity(Identity::from_pem(&leaf.cert_pem, &leaf.key_pem));
    }
    Channel::from_shared(format!("https://localhost:{}", env.addr.port()))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))
}

#[derive(Clone)]
struct Bearer(Option<String>, Vec<String>);

impl Interceptor for Bearer {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(key) = &self.0 {
            r.metadata_mut().insert(
                "authorization",
                MetadataValue::try_from(key.as_str()).unwrap(),
            );
        }
        for line in &self.1 {
            r.metadata_mut().append(
                "x-forwarded-client-cert",
                MetadataValue::try_from(line.as_str()).unwrap(),
            );
        }
        Ok(r)
    }
}

fn with(
    channel: Channel,
    authorization: Option<&str>,
    xfcc: Option<&str>,
) -> InterceptedService<Channel, Bearer> {
    InterceptedService::new(
        channel,
        Bearer(
            authorization.map(str::to_owned),
            xfcc.into_iter().map(str::to_owned).collect(),
        ),
    )
}

/// A channel sending these `x-forwarded-client-cert` lines, in order.
fn with_xfcc_lines(channel: Channel, lines: &[&str]) -> InterceptedService<Channel, Bearer> {
    let lines = lines.iter().map(|l| (*l).to_owned()).collect();
    InterceptedService::new(channel, Bearer(None, lines))
}

async fn introspect<T>(channel: T) -> Result<pb::IntrospectionResponse, tonic::Status>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    pb::introspection_service_client::IntrospectionServiceClient::new(channel)
        .introspection(pb::IntrospectionRequest {
            token: "some-access-token".to_owned(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn token_issue<T>(channel: T) -> Result<pb::TokenIssueResponse, tonic::Status>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    pb::token_service_client::TokenServiceClient::new(channel)
        .token_issue(pb::TokenIssueRequest {
            ticket: "some-ticket".to_owned(),
            subject: "alice".to_owned(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

#[track_caller]
fn assert_refused(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, reason);
    assert_eq!(info.domain, "authlete-grpc");
}

// ---------------------------------------------------------------- mTLS

#[tokio::test]
async fn mtls_identity_from_uri_san_dns_san_or_cn() {
    let ca = Ca::new("test CA");
    let (settings, _dir) = tls_files(&ca, Some(&ca));
    let env = start_with(V3, caller_auth(None), Some(settings), None).await;
    for (names, identity) in [
        (Names::Uri(SPIFFE), format!("uri:{SPIFFE}")),
        (
            Names::Dns("rs.test.example"),
            "dns:rs.test.example".to_owned(),
        ),
        (Names::CommonName("cn-caller"), "cn:cn-caller".to_owned()),
    ] {
        let client = ca.client(names);
        let channel = tls_channel(&env, &ca, Some(&client))
            .await
            .expect("mTLS connects");
        introspect(channel.clone()).await.expect("granted");
        // The identity is the one the policy names: outside its grant, the
        // refusal says who the service thinks is calling.
        let denied = token_issue(channel).await.expect_err("not granted");
        assert_refused(&denied, Code::PermissionDenied, "CALLER_NOT_PERMITTED");
        let info = denied.get_details_error_info().unwrap();
        assert_eq!(info.metadata["caller"], identity);
        assert_eq!(info.metadata["rpc"], "/authlete.v1.TokenService/TokenIssue");
    }
    let paths: Vec<String> = env.fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(
        paths.iter().all(|p| p.ends_with("/auth/introspection")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn unknown_client_ca_and_missing_client_certificate_are_refused() {
    let ca = Ca::new("test CA");
    let stranger = Ca::new("someone else's CA");
    let (settings, _dir) = tls_files(&ca, Some(&ca));
    let env = start_with(V3, caller_auth(None), Some(settings), None).await;
    let forged = stranger.client(Names::Uri(SPIFFE));
    // TLS 1.3 may finish the client side of the handshake before the server
    // refuses the certificate: the refusal then fails the first call.
    for client in [Some(&forged), None] {
        if let Ok(channel) = tls_channel(&env, &ca, client).await {
            // Refused by the TLS layer (a fatal alert), not by the policy.
            let err = introspect(channel).await.expect_err("refused");
            assert!(
                matches!(err.code(), Code::Unknown | Code::Unavailable),
                "{err:?}"
            );
            assert!(err.get_details_error_info().is_none(), "{err:?}");
        }
    }
    // A plaintext client gets nowhere either.
    let plaintext = Channel::from_shared(format!("http://{}", env.addr))
        .unwrap()
        .connect_lazy();
    assert!(introspect(plaintext).await.is_err());
    env.fake.assert_no_request();
}

#[tokio::test]
async fn tls_without_client_ca_takes_keys_and_the_certificate_is_reloaded() {
    let ca = Ca::new("first CA");
    let (settings, dir) = tls_files(&ca, None);
    let env = start_with(V3, caller_auth(None), Some(settings), None).await;
    let channel = tls_channel(&env, &ca, None).await.expect("TLS connects");
    let bearer = format!("Bearer {RS_KEY}");
    introspect(with(channel, Some(&bearer), None))
        .await
        .expect("key over TLS");

    // Replace the certificate files (as a Secret rotation does): new
    // connections get the new certificate without a restart.
    let next = Ca::new("second CA");
    let leaf = next.server();
    std::fs::write(dir.join("server.key"), &leaf.key_pem).unwrap();
    std::fs::write(dir.join("server.crt"), &leaf.cert_pem).unwrap();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let mut reloaded = None;
    for _ in 0..20 {
        // The first handshake after the change may still see the old pair.
        if let Ok(ch) = tls_channel(&env, &next, None).await
            && introspect(with(ch.clone(), Some(&bearer), None))
                .await
                .is_ok()
        {
            reloaded = Some(ch);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(reloaded.is_some(), "the new certificate is served");
    let old = tls_channel(&env, &ca, None).await;
    if let Ok(ch) = old {
        assert!(introspect(with(ch, Some(&bearer), None)).await.is_err());
    }
}

// ---------------------------------------------------------------- keys

#[tokio::test]
async fn bearer_keys_identify_callers_and_wrong_or_missing_keys_are_unauthenticated() {
    let env = start_with(V3, caller_auth(None), None, None).await;
    let ok = introspect(with(
        env.channel.clone(),
        Some(&format!("Bearer {RS_KEY}")),
        None,
    ))
    .await;
    ok.expect("a resource server may introspect");
    for auth in [
        Some("Bearer not-a-configured-key"),
        Some(&*format!("Basic {RS_KEY}")),
        Some("Bearer "),
        None,
    ] {
        let err = introspect(with(env.channel.clone(), auth, None))
            .await
            .expect_err("refused");
        assert_refused(&err, Code::Unauthenticated, "CALLER_UNAUTHENTICATED");
        assert!(
            !err.message().contains("not-a-configured-key"),
            "{}",
            err.message()
        );
    }
    assert_eq!(env.fake.requests().len(), 1);
}

#[tokio::test]
async fn a_resource_server_cannot_issue_tokens_and_authlete_is_not_called() {
    let env = start_with(V2, caller_auth(None), None, None).await;
    let err = token_issue(with(
        env.channel.clone(),
        Some(&format!("Bearer {RS_KEY}")),
        None,
    ))
    .await
    .expect_err("a resource server must not mint tokens");
    assert_refused(&err, Code::PermissionDenied, "CALLER_NOT_PERMITTED");
    assert!(
        err.message().contains("resource-server"),
        "{}",
        err.message()
    );
    env.fake.assert_no_request();
    // The web tier may.
    token_issue(with(
        env.channel.clone(),
        Some(&format!("Bearer {WEB_KEY}")),
        None,
    ))
    .await
    .expect("the web tier issues tokens");
    assert_eq!(env.fake.requests().len(), 1);
}

// ---------------------------------------------------------------- XFCC

const XFCC: &str = "By=spiffe://test.example/ns/auth/sa/authlete-grpc;Hash=0a1b;\
                    URI=spiffe://test.example/ns/web/sa/frontend";

#[tokio::test]
async fn xfcc_is_ignored_unless_enabled() {
    let env = start_with(V3, caller_auth(None), None, None).await;
    let err = introspect(with(env.channel.clone(), None, Some(XFCC)))
        .await
        .expect_err("not trusted");
    assert_refused(&err, Code::Unauthenticated, "CALLER_UNAUTHENTICATED");
    env.fake.assert_no_request();

    let trusted = start_with(
        V3,
        caller_auth(Some(XfccTrust {
            by: Some("spiffe://test.example/ns/auth/sa/authlete-grpc".to_owned()),
        })),
        None,
        None,
    )
    .await;
    introspect(with(trusted.channel.clone(), None, Some(XFCC)))
        .await
        .expect("the sidecar's word is taken");
    let denied = token_issue(with(trusted.channel.clone(), None, Some(XFCC)))
        .await
        .expect_err("outside the grant");
    assert_eq!(
        denied.get_details_error_info().unwrap().metadata["caller"],
        "uri:spiffe://test.example/ns/web/sa/frontend"
    );
    let forged_by = XFCC.replace("sa/authlete-grpc", "sa/other");
    let err = introspect(with(trusted.channel.clone(), None, Some(&forged_by)))
        .await
        .expect_err("another proxy's element");
    assert_eq!(err.code(), Code::Unauthenticated);
}

/// Every header line and element is read: the sidecar's element is the last
/// one, even behind lines a client sent, and values may quote separators.
#[tokio::test]
async fn xfcc_reads_every_line_and_element() {
    let ours = "spiffe://test.example/ns/auth/sa/authlete-grpc";
    let env = start_with(
        V3,
        caller_auth(Some(XfccTrust {
            by: Some(ours.to_owned()),
        })),
        None,
        None,
    )
    .await;
    let client_sent =
        r#"By=spiffe://x;URI="spiffe://test.example/ns/rs/sa/api,x;y", By=spiffe://y;DNS=web"#;
    let lines = [client_sent, XFCC];
    introspect(with_xfcc_lines(env.channel.clone(), &lines))
        .await
        .expect("the last element of the last line is the sidecar's");
    // A client line after the sidecar's is the last element: not ours.
    let after = [XFCC, "By=spiffe://x;URI=spiffe://test.example/ns/rs/sa/api"];
    let err = introspect(with_xfcc_lines(env.channel.clone(), &after))
        .await
        .expect_err("another proxy's element last");
    assert_refused(&err, Code::Unauthenticated, "CALLER_UNAUTHENTICATED");
    let broken = ["URI=\"open", XFCC];
    let err = introspect(with_xfcc_lines(env.channel.clone(), &broken))
        .await
        .expect_err("a malformed line");
    assert_refused(&err, Code::Unauthenticated, "CALLER_UNAUTHENTICATED");
    assert_eq!(env.fake.requests().len(), 1);
}

// ---------------------------------------------------------------- namespaces

/// A certificate whose CN (or DNS SAN) is a caller key's name is another
/// caller: it gets none of that key's grants.
#[tokio::test]
async fn a_certificate_named_like_a_key_gets_no_grant() {
    let ca = Ca::new("test CA");
    let (settings, _dir) = tls_files(&ca, Some(&ca));
    let env = start_with(V3, caller_auth(None), Some(settings), None).await;
    for (names, identity) in [
        (Names::CommonName("web"), "cn:web"),
        (Names::Dns("web"), "dns:web"),
        (Names::CommonName("key:web"), "cn:key:web"),
    ] {
        let client = ca.client(names);
        let channel = tls_channel(&env, &ca, Some(&client))
            .await
            .expect("mTLS connects");
        let denied = token_issue(channel).await.expect_err("no grant");
        assert_refused(&denied, Code::PermissionDenied, "CALLER_NOT_PERMITTED");
        assert_eq!(
            denied.get_details_error_info().unwrap().metadata["caller"],
            identity
        );
    }
    env.fake.assert_no_request();
}

// ---------------------------------------------------------------- open paths

#[tokio::test]
async fn health_answers_without_credentials() {
    let ca = Ca::new("test CA");
    let (settings, _dir) = tls_files(&ca, Some(&ca));
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    let env = start_with(V3, caller_auth(None), None, None).await;
    assert_eq!(env.health_of("").await, ServingStatus::Serving);
    assert_eq!(
        env.health_of("authlete.v1.TokenService").await,
        ServingStatus::Serving
    );

    // With mTLS, the plaintext health listener answers the kubelet.
    let mtls = start_with(
        V3,
        caller_auth(None),
        Some(settings),
        Some(HealthListener::new(plain)),
    )
    .await;
    let channel = Channel::from_shared(format!("http://{plain_addr}"))
        .unwrap()
        .connect_lazy();
    let reply = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("plaintext health")
        .into_inner();
    assert_eq!(reply.status, ServingStatus::Serving as i32);
    // It serves nothing else.
    let err = introspect(channel).await.expect_err("health only");
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
    mtls.fake.assert_no_request();
}
