//! No secret reaches the logs, at any level: flows run with every target at
//! TRACE (ours, tonic, h2, hyper, reqwest, and `log` records via the bridge)
//! into a buffer, with distinctive values for every kind of secret, and the
//! captured output must contain none of them. The same flows are metered
//! and traced: the `/metrics` text and every exported span must hold none
//! of them either.

mod common;
#[path = "common/otlp.rs"]
mod otlp;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authlete_grpc::auth::keys::hash_hex;
use authlete_grpc::auth::{CallerAuth, CallerKeys, Policy};
use authlete_grpc::backend::{
    ApiVersion, Backend, IntrospectionCache, IntrospectionCacheMetrics, IntrospectionCacheOptions,
};
use authlete_grpc::metrics::Metrics;
use authlete_grpc::pb;
use authlete_grpc::server::ServerOptions;
use base64::Engine as _;
use common::*;
use serde_json::json;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

const CALLER_KEY: &str = "CALLER-KEY-hygiene-8888";
const WRONG_KEY: &str = "WRONG-KEY-hygiene-1111";
const CLIENT_SECRET: &str = "CLIENT-SECRET-hygiene-5678";
const PASSWORD: &str = "PASSWORD-hygiene-9012";
const CODE: &str = "CODE-hygiene-3456";
const ACCESS: &str = "ACCESS-TOKEN-hygiene-7890";
const REFRESH: &str = "REFRESH-TOKEN-hygiene-2345";
const TICKET: &str = "TICKET-hygiene-6677";
const DPOP: &str = "DPOP-PROOF-hygiene-4455";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Client = InterceptedService<
    Channel,
    fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>,
>;

fn with_key(channel: Channel, good: bool) -> Client {
    let f: fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> = if good {
        |mut r| {
            r.metadata_mut().insert(
                "authorization",
                MetadataValue::try_from(format!("Bearer {CALLER_KEY}")).unwrap(),
            );
            Ok(r)
        }
    } else {
        |mut r| {
            r.metadata_mut().insert(
                "authorization",
                MetadataValue::try_from(format!("Bearer {WRONG_KEY}")).unwrap(),
            );
            Ok(r)
        }
    };
    InterceptedService::new(channel, f)
}

/// A token response body as Authlete renders it.
fn token_body() -> String {
    json!({"access_token": ACCESS, "refresh_token": REFRESH, "token_type": "Bearer"}).to_string()
}

/// Runs every flow against `env`, returning the continuation it was given.
async fn flows(env: &Env) -> String {
    env.fake.reply(
        "/auth/token",
        200,
        fixture_with(
            "token/password.json",
            json!({"password": PASSWORD, "ticket": TICKET}),
        ),
    );
    env.fake.reply(
        "/auth/token/issue",
        200,
        fixture_with("token_issue/ok.json", json!({"accessToken": ACCESS, "refreshToken": REFRESH, "responseContent": token_body()})),
    );
    // Kept by the introspection cache: the far-off expiry of a live token.
    let live = json!({"expiresAt": 4_102_444_800_000i64});
    env.fake.reply(
        "/auth/introspection",
        200,
        fixture_with("introspection/ok.json", live),
    );
    env.fake.reply("/auth/revocation", 503, "{}");
    let channel = env.channel.clone();
    let mut tokens = TokenServiceClient::new(with_key(channel.clone(), true));

    // ROPC: the password in the form and in Authlete's reply, a client
    // secret, a DPoP proof, a ticket, and the continuation that carries it.
    let first = tokens
        .token(pb::TokenRequest {
            parameters: format!("grant_type=password&username=alice&password={PASSWORD}"),
            client_id: "my-client".to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            dpop: DPOP.to_owned(),
            ..Default::default()
        })
        .await
        .expect("token")
        .into_inner();
    assert!(!first.continuation.is_empty());
    let finished = tokens
        .token_decision(pb::TokenDecisionRequest {
            continuation: first.continuation.clone(),
            decision: Some(pb::token_decision_request::Decision::Granted(
                pb::TokenGrant {
                    subject: "alice".to_owned(),
                    ..Default::default()
                },
            )),
        })
        .await
        .expect("decision")
        .into_inner();
    assert!(finished.http.unwrap().body.contains(ACCESS));

    // An authorization code, and the mirror TokenIssue with a ticket.
    env.fake.reply(
        "/auth/token",
        200,
        fixture_with("token/ok.json", json!({"accessToken": ACCESS, "refreshToken": REFRESH, "responseContent": token_body()})),
    );
    tokens
        .token(pb::TokenRequest {
            parameters: format!("grant_type=authorization_code&code={CODE}&redirect_uri=https%3A%2F%2Fc.example%2Fcb"),
            client_id: "my-client".to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .expect("code");
    tokens
        .token_issue(pb::TokenIssueRequest {
            ticket: TICKET.to_owned(),
            subject: "alice".to_owned(),
            ..Default::default()
        })
        .await
        .expect("issue");

    // A resource server's check, with the token and a DPoP proof.
    IntrospectionServiceClient::new(with_key(channel.clone(), true))
        .introspection(pb::IntrospectionRequest {
            token: ACCESS.to_owned(),
            dpop: DPOP.to_owned(),
            htm: "GET".to_owned(),
            htu: "https://rs.example/api".to_owned(),
            ..Default::default()
        })
        .await
        .expect("introspection");
    // Without a proof: kept, then served from the introspection cache.
    for _ in 0..2 {
        IntrospectionServiceClient::new(with_key(channel.clone(), true))
            .introspection(pb::IntrospectionRequest {
                token: ACCESS.to_owned(),
                scopes: vec!["read".to_owned()],
                ..Default::default()
            })
            .await
            .expect("introspection");
    }

    // A failed Authlete call, and a refused caller.
    let err = RevocationServiceClient::new(with_key(channel.clone(), true))
        .revocation(pb::RevocationRequest {
            parameters: format!("token={REFRESH}"),
            client_id: "my-client".to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("Authlete is down");
    assert!(!err.message().contains(REFRESH));
    let err = TokenServiceClient::new(with_key(channel, false))
        .token(pb::TokenRequest {
            parameters: format!("grant_type=password&username=alice&password={PASSWORD}"),
            client_secret: CLIENT_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("wrong key");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    connect_flows(env).await;
    first.continuation
}

/// The same secrets over Connect (HTTP/1.1, JSON): served, refused for a
/// wrong key, and in a body that fails to transcode (its error names no value).
async fn connect_flows(env: &Env) {
    use common::connect::{Connect, Version};
    let connect = Connect::new(env.addr, Version::Http1);
    let path = "/authlete.v1.TokenService/Token";
    let body = json!({
        "parameters": format!("grant_type=password&username=alice&password={PASSWORD}"),
        "clientId": "my-client",
        "clientSecret": CLIENT_SECRET,
        "dpop": DPOP,
    });
    let good = format!("Bearer {CALLER_KEY}");
    let wrong = format!("Bearer {WRONG_KEY}");
    let served = connect.json(path, &body, &[("authorization", &good)]).await;
    assert_eq!(served.status, 200);
    let refused = connect
        .json(path, &body, &[("authorization", &wrong)])
        .await;
    assert_eq!(refused.status, 401);
    let mistyped = json!({"clientSecret": [CLIENT_SECRET], "parameters": PASSWORD});
    let bad = connect
        .json(path, &mistyped, &[("authorization", &good)])
        .await;
    assert_eq!(bad.status, 400);
    for answer in [&refused, &bad] {
        let text = String::from_utf8_lossy(&answer.body);
        for secret in [CLIENT_SECRET, PASSWORD, CALLER_KEY, WRONG_KEY] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

/// The service with the introspection cache on, counting into `metrics`.
fn cached_introspection(version: ApiVersion, metrics: IntrospectionCacheMetrics) -> Setup {
    Setup::new(version).decorate(move |b| {
        let options = IntrospectionCacheOptions {
            ttl: Duration::from_secs(60),
            ..Default::default()
        };
        Arc::new(IntrospectionCache::new(b, options, metrics.clone())) as Arc<dyn Backend>
    })
}

#[test]
fn no_secret_is_logged_at_any_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let receiver = otlp::Receiver::default();
    let provider = runtime.block_on(async {
        let (addr, _keep) = otlp::start_receiver(receiver.clone()).await;
        std::mem::forget(_keep);
        authlete_grpc::telemetry::provider(Some(&format!("http://{addr}"))).unwrap()
    });
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_filter(tracing_subscriber::EnvFilter::new("trace"));
    tracing_subscriber::registry()
        .with(logs)
        .with(authlete_grpc::telemetry::layer(&provider))
        .try_init()
        .expect("the only subscriber of this test binary");
    authlete_grpc::auth::tls::install_crypto_provider();

    let mut metrics = Metrics::new();
    let cache_metrics = IntrospectionCacheMetrics::default();
    cache_metrics.register(metrics.registry_mut());
    let metrics = Arc::new(metrics);
    let mut continuations = Vec::new();
    for version in [V2, V3] {
        continuations.push(runtime.block_on(async {
            let auth = CallerAuth {
                keys: CallerKeys::parse(&format!("web={}", hash_hex(CALLER_KEY))).unwrap(),
                xfcc: None,
                policy: Policy::parse("[callers.\"key:web\"]\nallow = [\"*\"]").unwrap(),
            };
            let setup = cached_introspection(version, cache_metrics.clone());
            let server = ServerOptions {
                caller_auth: Some(Arc::new(auth)),
                metrics: Some(metrics.clone()),
                traces: true,
                ..setup.server.clone()
            };
            let env = setup.server(server).start().await;
            // A canary from another task, at TRACE, under a library's target:
            // the capture sees what the libraries log from any thread.
            tokio::spawn(async { tracing::trace!(target: "h2::canary", "canary-{}", "7c1e") })
                .await
                .unwrap();
            flows(&env).await
        }));
    }
    // This thread is not one of the runtime's: it may block on the flush.
    provider
        .force_flush()
        .expect("the spans reach the receiver");
    drop(runtime);

    let spans = receiver.0.lock().unwrap().clone();
    assert!(
        spans.len() > 20,
        "the flows were traced: {} spans",
        spans.len()
    );
    let exposition = metrics.encode();
    assert!(
        exposition.contains("grpc_server_handled_total{"),
        "the flows were metered"
    );
    assert!(
        exposition.contains(r#"authlete_grpc_introspection_cache_hits_total{source="cache"} 2"#),
        "the introspection cache served: {exposition}"
    );
    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    // What the logs, the exported spans and /metrics hold, checked alike.
    let text = format!("{text}\n{spans:?}\n{exposition}");
    if let Ok(path) = std::env::var("SECRET_HYGIENE_DUMP") {
        let _ = std::fs::write(path, &text);
    }
    // The capture works, at TRACE, for our lines and the libraries'.
    assert!(text.contains("rpc=\"TokenIssue\""), "no audit line");
    assert!(
        text.contains("caller=\"key:web\""),
        "no caller in the audit line"
    );
    assert!(text.contains("outcome=\"unauthenticated\""));
    assert!(
        text.contains("canary-7c1e"),
        "the capture misses other tasks"
    );
    assert!(text.contains("TRACE"), "nothing at TRACE");
    assert!(
        text.contains(" h2::") || text.contains("h2::"),
        "no h2 lines"
    );

    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:{API_SECRET}"));
    let mut secrets = vec![
        ("Authlete API secret", API_SECRET.to_owned()),
        ("Authlete access token", ACCESS_TOKEN.to_owned()),
        ("Authlete Basic credentials", basic),
        ("caller key", CALLER_KEY.to_owned()),
        ("wrong caller key", WRONG_KEY.to_owned()),
        ("client secret", CLIENT_SECRET.to_owned()),
        ("password", PASSWORD.to_owned()),
        ("authorization code", CODE.to_owned()),
        ("access token", ACCESS.to_owned()),
        ("refresh token", REFRESH.to_owned()),
        ("ticket", TICKET.to_owned()),
        ("DPoP proof", DPOP.to_owned()),
    ];
    for c in continuations {
        secrets.push(("continuation", c.chars().take(24).collect()));
    }
    let leaks: Vec<&str> = secrets
        .iter()
        .filter(|(_, value)| text.contains(value.as_str()))
        .map(|(what, _)| *what)
        .collect();
    if !leaks.is_empty() {
        let dump = std::env::temp_dir().join("authlete-grpc-secret-hygiene.log");
        let _ = std::fs::write(&dump, &text);
        panic!(
            "secrets in the logs: {leaks:?} (captured output in {})",
            dump.display()
        );
    }
}

#[test]
fn debug_of_the_request_and_reply_types_redacts_secrets() {
    use authlete_grpc::api::{introspection, token};
    let request = token::Request {
        parameters: format!("grant_type=password&password={PASSWORD}&code={CODE}"),
        client_id: "my-client".to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        dpop: DPOP.to_owned(),
        ..Default::default()
    };
    let issue = token::IssueRequest {
        ticket: TICKET.to_owned(),
        subject: "alice".to_owned(),
        ..Default::default()
    };
    let check = introspection::Request {
        token: ACCESS.to_owned(),
        ..Default::default()
    };
    let text = format!("{request:?} {issue:?} {check:?} {request:#?}");
    for secret in [PASSWORD, CODE, CLIENT_SECRET, DPOP, TICKET, ACCESS] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // What is not secret stays readable.
    assert!(
        text.contains("my-client") && text.contains("alice"),
        "{text}"
    );
}
