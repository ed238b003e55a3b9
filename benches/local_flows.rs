//! Benchmark of the local engine: complete authorization-code flows
//! (Authorization, AuthorizationIssue, Token with PKCE and an ID
//! token) per second through the real gRPC service on 127.0.0.1, the same
//! with a DPoP proof (ES256, signed by the client side for each token
//! request, as a real client does) and DPoP-bound tokens, client
//! credentials grants with a client secret beside the same with a
//! `private_key_jwt` assertion (ES256, signed for each request), and the
//! process's resident memory after 100,000 flows, with the engine's clock
//! moved a day forward every 1,000 flows so expired state is swept.
//! Prints numbers; asserts nothing.
//!
//! cargo bench --bench local_flows

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use authlete_grpc::backend::LocalBackend;
use authlete_grpc::backend::local::{ClientConfig, Clock as _, LocalConfig, ManualClock};
use authlete_grpc::pb;
use authlete_grpc::pb::authorization_service_client::AuthorizationServiceClient;
use authlete_grpc::pb::token_service_client::TokenServiceClient;
use authlete_grpc::server::{ServerOptions, serve};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tonic::transport::Channel;

const REDIRECT: &str = "https://client.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const TOTAL: usize = 100_000;
const BATCH: usize = 1_000;

/// `bench` uses a secret; `bench-jwt` private_key_jwt with `key`.
fn config(key: &Dpop) -> LocalConfig {
    let grants = vec![
        "authorization_code".to_owned(),
        "client_credentials".to_owned(),
    ];
    LocalConfig {
        issuer: "https://as.example".to_owned(),
        clients: vec![
            ClientConfig {
                client_id: "bench".to_owned(),
                client_secret: Some("bench-secret".to_owned()),
                redirect_uris: vec![REDIRECT.to_owned()],
                grant_types: grants.clone(),
                ..ClientConfig::default()
            },
            ClientConfig {
                client_id: "bench-jwt".to_owned(),
                token_auth_method: Some("private_key_jwt".to_owned()),
                jwks: Some(format!(r#"{{"keys":[{}]}}"#, key.jwk)),
                grant_types: grants,
                ..ClientConfig::default()
            },
        ],
        ..LocalConfig::default()
    }
}

/// A client key (DPoP proofs, private_key_jwt assertions) and the engine's
/// clock (proofs and assertions carry its time).
struct Dpop {
    key: EcdsaKeyPair,
    jwk: String,
    clock: Arc<ManualClock>,
}

impl Dpop {
    fn new(clock: Arc<ManualClock>) -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("key");
        let p = key.public_key().as_ref();
        let jwk = format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
            B64.encode(&p[1..33]),
            B64.encode(&p[33..])
        );
        Self { key, jwk, clock }
    }

    /// A fresh proof for the token endpoint.
    fn proof(&self) -> String {
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, self.jwk);
        let claims = format!(
            r#"{{"htm":"POST","htu":"https://as.example/token","iat":{},"jti":"{}"}}"#,
            self.clock.now_ms() / 1000,
            jti()
        );
        self.sign(&header, &claims)
    }

    /// A fresh `private_key_jwt` assertion of `bench-jwt`.
    fn assertion(&self) -> String {
        let claims = format!(
            r#"{{"iss":"bench-jwt","sub":"bench-jwt","aud":"https://as.example","exp":{},"jti":"{}"}}"#,
            self.clock.now_ms() / 1000 + 60,
            jti()
        );
        self.sign(r#"{"alg":"ES256"}"#, &claims)
    }

    fn sign(&self, header: &str, claims: &str) -> String {
        let input = format!("{}.{}", B64.encode(header), B64.encode(claims));
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }
}

fn jti() -> String {
    let mut jti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut jti).expect("random");
    B64.encode(jti)
}

/// `count` client credentials grants over `streams` tasks, by `bench` with
/// its secret or by `bench-jwt` with an assertion; the elapsed time.
async fn client_credentials(
    channel: &Channel,
    count: usize,
    streams: usize,
    key: Option<&Arc<Dpop>>,
) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..streams)
        .map(|n| {
            let mut token = TokenServiceClient::new(channel.clone());
            let share = count / streams + usize::from(n < count % streams);
            let key = key.cloned();
            tokio::spawn(async move {
                for _ in 0..share {
                    let mut request = pb::TokenRequest {
                        parameters: "grant_type=client_credentials".to_owned(),
                        ..Default::default()
                    };
                    match &key {
                        Some(key) => {
                            request.parameters += "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=";
                            request.parameters += &key.assertion();
                        }
                        None => {
                            request.client_id = "bench".to_owned();
                            request.client_secret = "bench-secret".to_owned();
                        }
                    }
                    let t = token.token(request).await.expect("Token").into_inner();
                    assert_eq!(t.action_name, "OK", "{}", t.result_message);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("grant task");
    }
    start.elapsed()
}

/// One complete flow; panics only if the engine misbehaves.
async fn flow(
    authz: &mut AuthorizationServiceClient<Channel>,
    token: &mut TokenServiceClient<Channel>,
    dpop: Option<&Dpop>,
) {
    let parameters = format!(
        "response_type=code&client_id=bench&redirect_uri={REDIRECT}&scope=openid&state=s&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let r = authz
        .authorization(pb::AuthorizationRequest {
            parameters,
            ..Default::default()
        })
        .await
        .expect("Authorization")
        .into_inner();
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    let i = authz
        .authorization_issue(pb::AuthorizationIssueRequest {
            ticket: r.ticket,
            subject: "alice".to_owned(),
            ..Default::default()
        })
        .await
        .expect("AuthorizationIssue")
        .into_inner();
    let code = i.authorization_code;
    let t = token
        .token(pb::TokenRequest {
            parameters: format!(
                "grant_type=authorization_code&code={code}&redirect_uri={REDIRECT}&code_verifier={VERIFIER}"
            ),
            client_id: "bench".to_owned(),
            client_secret: "bench-secret".to_owned(),
            dpop: dpop.map(Dpop::proof).unwrap_or_default(),
            ..Default::default()
        })
        .await
        .expect("Token")
        .into_inner();
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    let bound = t.response_content.contains(r#""token_type":"DPoP""#);
    assert_eq!(bound, dpop.is_some());
}

/// `count` flows over `streams` concurrent tasks; returns the elapsed time.
async fn run(
    channel: &Channel,
    count: usize,
    streams: usize,
    dpop: Option<&Arc<Dpop>>,
) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..streams)
        .map(|n| {
            let channel = channel.clone();
            let share = count / streams + usize::from(n < count % streams);
            let dpop = dpop.cloned();
            tokio::spawn(async move {
                let mut authz = AuthorizationServiceClient::new(channel.clone());
                let mut token = TokenServiceClient::new(channel);
                for _ in 0..share {
                    flow(&mut authz, &mut token, dpop.as_deref()).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("flow task");
    }
    start.elapsed()
}

/// VmRSS and VmHWM from /proc/self/status, in MiB.
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or("?".to_owned(), |kb| format!("{:.1} MiB", kb / 1024.0))
    };
    format!("VmRSS {} VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

#[tokio::main]
async fn main() {
    let clock = Arc::new(ManualClock::starting_now());
    let dpop = Arc::new(Dpop::new(clock.clone()));
    let engine = Arc::new(LocalBackend::with_clock(config(&dpop), clock.clone()).expect("engine"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(
        listener,
        engine.clone(),
        ServerOptions::default(),
        std::future::pending(),
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    println!(
        "local engine: complete authorization-code flows (3 RPCs each) through gRPC on {addr}"
    );
    println!("at start: {}", memory());
    run(&channel, 200, 4, None).await; // warm-up
    for (kind, dpop) in [("", None), (" with DPoP", Some(&dpop))] {
        for streams in [1, 16] {
            let n = 5_000;
            let elapsed = run(&channel, n, streams, dpop).await;
            println!(
                "{streams:>2} stream(s){kind}: {n} flows in {:.2} s = {:.0} flows/s ({:.0} µs per flow)",
                elapsed.as_secs_f64(),
                n as f64 / elapsed.as_secs_f64(),
                elapsed.as_secs_f64() * 1e6 / n as f64 * streams as f64
            );
        }
    }
    for (kind, key) in [("client secret", None), ("private_key_jwt", Some(&dpop))] {
        for streams in [1, 16] {
            let n = 5_000;
            let elapsed = client_credentials(&channel, n, streams, key).await;
            println!(
                "{streams:>2} stream(s) client_credentials, {kind:<15}: {n} grants in {:.2} s = {:.0} grants/s ({:.0} µs per grant)",
                elapsed.as_secs_f64(),
                n as f64 / elapsed.as_secs_f64(),
                elapsed.as_secs_f64() * 1e6 / n as f64 * streams as f64
            );
        }
    }
    clock.advance(Duration::from_secs(2 * 86_400));
    let start = Instant::now();
    for done in (BATCH..=TOTAL).step_by(BATCH) {
        run(&channel, BATCH, 16, None).await;
        // A day later, everything of the previous batch has expired.
        clock.advance(Duration::from_secs(86_401));
        if done % 25_000 == 0 {
            println!(
                "after {done:>6} flows: {} live objects, {}",
                engine.live_objects(),
                memory()
            );
        }
    }
    let elapsed = start.elapsed();
    println!(
        "{TOTAL} flows over 16 streams in {:.1} s = {:.0} flows/s",
        elapsed.as_secs_f64(),
        TOTAL as f64 / elapsed.as_secs_f64()
    );
    // Without the clock moving, the same flows keep their tokens (a day).
    for _ in 0..10 {
        run(&channel, BATCH, 16, None).await;
    }
    println!(
        "10,000 more flows, clock still: {} live objects, {}",
        engine.live_objects(),
        memory()
    );
}
