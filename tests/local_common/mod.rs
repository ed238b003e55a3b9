//! Harness of the local engine tests: the engine on a manual clock, served
//! through the real gRPC server on 127.0.0.1 either directly or over its
//! HTTP API through the `authlete` backend (v2 or v3); every JSON reply the
//! engine gives is checked against Authlete's OpenAPI response schemas.

// Each test file uses a different part of the harness.
#![allow(dead_code)]

pub mod ciba;
pub mod device;
pub mod dpop;
pub mod idtoken;
pub mod jar;
pub mod registration;
pub mod schema;

use std::sync::Arc;
use std::time::Duration;

use authlete_grpc::backend::local::{self, ClientConfig, LocalConfig, ManualClock};
use authlete_grpc::backend::{
    ApiVersion, AuthleteBackend, AuthleteSettings, Backend, Call, LocalBackend,
};
use authlete_grpc::pb;
use authlete_grpc::server::{ServerOptions, serve};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::Channel;

pub use authlete_grpc::pb::authorization_service_client::AuthorizationServiceClient;
pub use authlete_grpc::pb::discovery_service_client::DiscoveryServiceClient;
pub use authlete_grpc::pb::introspection_service_client::IntrospectionServiceClient;
pub use authlete_grpc::pb::pushed_authorization_service_client::PushedAuthorizationServiceClient;
pub use authlete_grpc::pb::revocation_service_client::RevocationServiceClient;
pub use authlete_grpc::pb::token_service_client::TokenServiceClient;
pub use authlete_grpc::pb::user_info_service_client::UserInfoServiceClient;

pub const ISSUER: &str = "https://as.example";
/// Confidential, client_secret_basic, every grant and response type.
pub const WEB: &str = "web";
pub const WEB_SECRET: &str = "web-secret-0123456789";
/// Confidential, client_secret_post.
pub const POSTER: &str = "poster";
pub const POSTER_SECRET: &str = "poster-secret-0123456789";
/// Public, two redirect URIs (so `redirect_uri` is required).
pub const SPA: &str = "spa";
pub const REDIRECT: &str = "https://client.example/cb";
pub const SPA_REDIRECT: &str = "https://spa.example/cb";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The engine's configuration in the tests.
pub fn config() -> LocalConfig {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut c = LocalConfig {
        issuer: ISSUER.to_owned(),
        ..LocalConfig::default()
    };
    c.clients = vec![
        ClientConfig {
            client_id: WEB.to_owned(),
            client_secret: Some(WEB_SECRET.to_owned()),
            client_name: "Web client".to_owned(),
            redirect_uris: strings(&[REDIRECT]),
            grant_types: strings(&[
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "password",
            ]),
            response_types: strings(&["code", "id_token", "code id_token"]),
            ..ClientConfig::default()
        },
        ClientConfig {
            client_id: POSTER.to_owned(),
            client_secret: Some(POSTER_SECRET.to_owned()),
            token_auth_method: Some("client_secret_post".to_owned()),
            redirect_uris: strings(&[REDIRECT]),
            grant_types: strings(&["authorization_code", "client_credentials"]),
            ..ClientConfig::default()
        },
        ClientConfig {
            client_id: SPA.to_owned(),
            client_type: Some("public".to_owned()),
            redirect_uris: strings(&[SPA_REDIRECT, "https://spa.example/other"]),
            ..ClientConfig::default()
        },
    ];
    c.http_api.api_secret = Some("api-secret".to_owned());
    c.http_api.access_token = Some("api-token".to_owned());
    c
}

/// How the gRPC service reaches the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The `LocalBackend` itself.
    Direct,
    /// The engine's HTTP API, through the `authlete` backend.
    Http(ApiVersion),
}

/// A running engine and gRPC service.
pub struct Env {
    pub engine: Arc<LocalBackend>,
    pub clock: Arc<ManualClock>,
    pub checked: Arc<schema::Checked>,
    pub http_base: Option<String>,
    channel: Channel,
    stops: Vec<oneshot::Sender<()>>,
}

impl Env {
    pub async fn start(via: Via) -> Env {
        Self::start_with(via, config()).await
    }

    pub async fn start_with(via: Via, config: LocalConfig) -> Env {
        Self::start_observed(via, config, None).await
    }

    /// [`Self::start_with`], with every RPC and engine call counted in `metrics`.
    pub async fn start_observed(
        via: Via,
        config: LocalConfig,
        metrics: Option<Arc<authlete_grpc::metrics::Metrics>>,
    ) -> Env {
        let clock = Arc::new(ManualClock::starting_now());
        let engine = Arc::new(LocalBackend::with_clock(config, clock.clone()).expect("engine"));
        let mut stops = Vec::new();
        let mut http_base = None;
        let backend: Arc<dyn Backend> = match via {
            Via::Direct => engine.clone(),
            Via::Http(version) => {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let base = format!("http://{}", listener.local_addr().expect("addr"));
                let (tx, rx) = oneshot::channel::<()>();
                stops.push(tx);
                tokio::spawn(local::http::serve(listener, engine.clone(), async {
                    let _ = rx.await;
                }));
                let creds = engine.http_credentials();
                let settings = AuthleteSettings {
                    base_url: base.clone(),
                    version,
                    service_api_key: creds.api_key().to_owned(),
                    service_api_secret: creds.api_secret().clone(),
                    service_access_token: creds.access_token().clone(),
                    connect_timeout: Duration::from_secs(2),
                    request_timeout: Duration::from_secs(5),
                    max_reply_bytes: authlete_grpc::backend::DEFAULT_MAX_REPLY_BYTES,
                };
                http_base = Some(base);
                Arc::new(AuthleteBackend::new(&settings).expect("authlete backend"))
            }
        };
        let checked = Arc::new(schema::Checked::new(backend));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        stops.push(tx);
        let served: Arc<dyn Backend> = match &metrics {
            Some(m) => Arc::new(authlete_grpc::backend::Metered::new(
                checked.clone(),
                m.upstream(),
            )),
            None => checked.clone(),
        };
        let options = ServerOptions {
            metrics,
            // CIBA ping tests notify client endpoints on 127.0.0.1, which the
            // default egress policy refuses.
            notify: authlete_grpc::notify::NotifyOptions {
                egress: authlete_grpc::notify::EgressPolicy::parse(["127.0.0.1"])
                    .expect("an address"),
                ..Default::default()
            },
            ..ServerOptions::default()
        };
        tokio::spawn(serve(listener, served, options, async {
            let _ = rx.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        Env {
            engine,
            clock,
            checked,
            http_base,
            channel,
            stops,
        }
    }

    pub fn authz(&self) -> AuthorizationServiceClient<Channel> {
        AuthorizationServiceClient::new(self.channel.clone())
    }
    pub fn token(&self) -> TokenServiceClient<Channel> {
        TokenServiceClient::new(self.channel.clone())
    }
    pub fn introspection(&self) -> IntrospectionServiceClient<Channel> {
        IntrospectionServiceClient::new(self.channel.clone())
    }
    pub fn userinfo(&self) -> UserInfoServiceClient<Channel> {
        UserInfoServiceClient::new(self.channel.clone())
    }
    pub fn revocation(&self) -> RevocationServiceClient<Channel> {
        RevocationServiceClient::new(self.channel.clone())
    }
    pub fn par(&self) -> PushedAuthorizationServiceClient<Channel> {
        PushedAuthorizationServiceClient::new(self.channel.clone())
    }
    pub fn discovery(&self) -> DiscoveryServiceClient<Channel> {
        DiscoveryServiceClient::new(self.channel.clone())
    }
    /// The channel to the service, for clients of services not listed here.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Calls an engine API through the backend the service uses (for APIs
    /// without an RPC, such as `/auth/token/create`).
    pub async fn call(&self, call: Call) -> Result<Value, authlete_grpc::backend::BackendError> {
        let reply = self.checked.call(call).await?;
        Ok(serde_json::from_str(&reply.body).expect("JSON"))
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        if !std::thread::panicking() {
            self.checked.assert_all_valid();
        }
    }
}

// ------------------------------------------------------------------ flows

/// `/auth/authorization` through the service.
pub async fn authorize(env: &Env, parameters: &str) -> pb::AuthorizationResponse {
    env.authz()
        .authorization(pb::AuthorizationRequest {
            parameters: parameters.to_owned(),
            ..Default::default()
        })
        .await
        .expect("Authorization RPC")
        .into_inner()
}

/// `/auth/authorization/issue` through the service.
pub async fn issue(
    env: &Env,
    ticket: &str,
    subject: &str,
    claims: &str,
) -> pb::AuthorizationIssueResponse {
    env.authz()
        .authorization_issue(pb::AuthorizationIssueRequest {
            ticket: ticket.to_owned(),
            subject: subject.to_owned(),
            claims: claims.to_owned(),
            auth_time: 1_700_000_000,
            acr: "urn:acr:pwd".to_owned(),
            ..Default::default()
        })
        .await
        .expect("AuthorizationIssue RPC")
        .into_inner()
}

/// `/auth/token` through the service, with Basic credentials when given.
pub async fn token(env: &Env, parameters: &str, basic: Option<(&str, &str)>) -> pb::TokenResponse {
    let (id, secret) = basic.unwrap_or(("", ""));
    env.token()
        .token(pb::TokenRequest {
            parameters: parameters.to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .expect("Token RPC")
        .into_inner()
}

/// `/auth/introspection` through the service.
pub async fn introspect(env: &Env, token: &str, scopes: &[&str]) -> pb::IntrospectionResponse {
    env.introspection()
        .introspection(pb::IntrospectionRequest {
            token: token.to_owned(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await
        .expect("Introspection RPC")
        .into_inner()
}

/// A parameter of a redirect URI (query or fragment).
pub fn param(location: &str, name: &str) -> Option<String> {
    let (_, tail) = location.split_once(['?', '#'])?;
    url::form_urlencoded::parse(tail.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The authorization request of the standard test flow (PKCE S256, openid).
pub fn code_request(extra: &str) -> String {
    format!(
        "response_type=code&client_id={WEB}&redirect_uri={}&scope=openid+profile+email&state=st-1&nonce=n-1\
         &code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(REDIRECT)
    )
}

pub fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Authorization request + issue: the code from the redirect.
pub async fn code(env: &Env, extra: &str) -> String {
    let r = authorize(env, &code_request(extra)).await;
    assert_eq!(r.action_name, "INTERACTION", "{}", r.result_message);
    let i = issue(
        env,
        &r.ticket,
        "alice",
        r#"{"name":"Alice","email":"alice@example.com"}"#,
    )
    .await;
    assert_eq!(i.action_name, "LOCATION", "{}", i.result_message);
    let location = i.response_content.clone();
    assert_eq!(param(&location, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&location, "iss").as_deref(), Some(ISSUER));
    param(&location, "code").expect("code in the redirect")
}

/// The token request that redeems `code` with the test verifier.
pub fn code_exchange(code: &str) -> String {
    format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(REDIRECT)
    )
}

/// A full authorization code flow: the token reply.
pub async fn tokens(env: &Env) -> pb::TokenResponse {
    let code = code(env, "").await;
    let t = token(env, &code_exchange(&code), Some((WEB, WEB_SECRET))).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    t
}

/// The RFC 7662 JSON of `StandardIntrospection` for `token`.
pub async fn standard_introspection(env: &Env, token: &str) -> Value {
    let s = env
        .introspection()
        .standard_introspection(pb::StandardIntrospectionRequest {
            parameters: format!("token={token}"),
            ..Default::default()
        })
        .await
        .expect("StandardIntrospection")
        .into_inner();
    assert_eq!(s.action_name, "OK", "{}", s.result_message);
    serde_json::from_str(&s.response_content).expect("RFC 7662 JSON")
}

/// The discovery document, through `ServiceConfiguration`.
pub async fn discovery_doc(env: &Env) -> Value {
    let c = env
        .discovery()
        .service_configuration(pb::ServiceConfigurationRequest::default())
        .await
        .expect("ServiceConfiguration")
        .into_inner();
    serde_json::from_str(&c.authlete_response).expect("discovery JSON")
}

/// The JSON of a JWT's header and claims, unverified.
pub fn jwt_parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut decode = || -> Value {
        let part = parts.next().expect("JWT part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    (decode(), decode())
}

impl Env {
    /// The engine's clock, in seconds (the unit of JWT times).
    pub fn clock_seconds(&self) -> i64 {
        use authlete_grpc::backend::local::Clock as _;
        self.clock.now_ms() / 1000
    }
}
