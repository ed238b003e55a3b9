//! Test harness: a scripted fake Authlete HTTP server, and the real gRPC
//! service started against it (Authlete API v2 or v3), both on 127.0.0.1.

// Each test file uses a different part of the harness.
#![allow(dead_code)]

pub mod client_endpoint;
pub mod connect;
mod fake;
pub mod introspected;
pub mod raw_upstream;
pub mod resilience;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authlete_grpc::api::Sealer;
use authlete_grpc::backend::{ApiVersion, AuthleteBackend, AuthleteSettings, Backend};
use authlete_grpc::notify::{EgressPolicy, NotifyOptions};
use authlete_grpc::pb;
use authlete_grpc::secret::Secret;
use authlete_grpc::server::{ServerOptions, serve};
use base64::Engine as _;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[allow(unused_imports)]
pub use authlete_grpc::backend::ApiVersion::{V2, V3};
pub use authlete_grpc::pb::authorization_service_client::AuthorizationServiceClient;
pub use authlete_grpc::pb::backchannel_authentication_service_client::BackchannelAuthenticationServiceClient;
pub use authlete_grpc::pb::client_registration_service_client::ClientRegistrationServiceClient;
pub use authlete_grpc::pb::credential_issuance_service_client::CredentialIssuanceServiceClient;
pub use authlete_grpc::pb::device_flow_service_client::DeviceFlowServiceClient;
pub use authlete_grpc::pb::discovery_service_client::DiscoveryServiceClient;
pub use authlete_grpc::pb::federation_service_client::FederationServiceClient;
pub use authlete_grpc::pb::grant_management_service_client::GrantManagementServiceClient;
pub use authlete_grpc::pb::id_token_service_client::IdTokenServiceClient;
pub use authlete_grpc::pb::introspection_service_client::IntrospectionServiceClient;
pub use authlete_grpc::pb::native_sso_service_client::NativeSsoServiceClient;
pub use authlete_grpc::pb::pushed_authorization_service_client::PushedAuthorizationServiceClient;
pub use authlete_grpc::pb::revocation_service_client::RevocationServiceClient;
pub use authlete_grpc::pb::token_management_service_client::TokenManagementServiceClient;
pub use authlete_grpc::pb::token_service_client::TokenServiceClient;
pub use authlete_grpc::pb::user_info_service_client::UserInfoServiceClient;

/// v2 service API key; v3 service ID (the same setting in Authlete's SDKs).
pub const API_KEY: &str = "4711-apikey";
/// v2 service API secret: must never appear in a gRPC status.
pub const API_SECRET: &str = "SECRET-apisecret-XYZ";
/// v3 service access token: must never appear in a gRPC status.
pub const ACCESS_TOKEN: &str = "SECRET-token-XYZ";
/// `Content-Type` of every POST to Authlete.
/// The continuation key of the test deployment.
pub const CONTINUATION_KEY: &[u8] = b"test-deployment-continuation-key-0123456789";
/// Content-Type of JSON responses.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

// ---------------------------------------------------------------- fixtures

/// The text of `tests/fixtures/authlete/<path>`.
pub fn fixture(path: &str) -> String {
    let full = format!(
        "{}/tests/fixtures/authlete/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

/// A fixture as JSON, to derive variants from.
pub fn fixture_json(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).expect("fixtures are JSON")
}

/// A fixture with some top-level members replaced, as JSON text.
pub fn fixture_with(path: &str, changes: Value) -> String {
    let mut value = fixture_json(path);
    for (k, v) in changes.as_object().expect("changes are an object") {
        value[k] = v.clone();
    }
    value.to_string()
}

#[allow(unused_imports)]
pub use fake::{FakeAuthlete, Recorded, Scripted};

// ---------------------------------------------------------------- the service

/// How to start the service.
#[derive(Debug, Clone)]
pub struct Setup {
    pub version: ApiVersion,
    /// Overrides the fake's URL (e.g. a closed port).
    pub base_url: Option<String>,
    pub request_timeout: Duration,
    pub max_reply_bytes: usize,
    pub server: ServerOptions,
    /// Wraps the Authlete backend (the resilience decorators), if set.
    pub decorate: Option<Decorator>,
}

/// Wraps the backend the service runs on.
#[derive(Clone)]
pub struct Decorator(pub Arc<DecorateFn>);

/// What a [`Decorator`] runs.
pub type DecorateFn = dyn Fn(Arc<dyn Backend>) -> Arc<dyn Backend> + Send + Sync;

impl std::fmt::Debug for Decorator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decorator")
    }
}

impl Setup {
    pub fn new(version: ApiVersion) -> Self {
        Self {
            version,
            base_url: None,
            request_timeout: Duration::from_secs(5),
            max_reply_bytes: authlete_grpc::backend::DEFAULT_MAX_REPLY_BYTES,
            decorate: None,
            server: ServerOptions {
                drain_timeout: Duration::from_secs(5),
                // One deployment: every server of a test shares the key.
                sealer: Sealer::new(CONTINUATION_KEY).expect("a long enough key"),
                // The client notification endpoints of the tests listen on
                // 127.0.0.1, which the default egress policy refuses.
                notify: NotifyOptions {
                    egress: EgressPolicy::parse(["127.0.0.1"]).expect("an address"),
                    ..NotifyOptions::default()
                },
                ..ServerOptions::default()
            },
        }
    }

    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn base_url(mut self, url: String) -> Self {
        self.base_url = Some(url);
        self
    }

    pub fn max_reply_bytes(mut self, max: usize) -> Self {
        self.max_reply_bytes = max;
        self
    }

    /// Runs the service on `decorate(authlete backend)`.
    pub fn decorate(
        mut self,
        decorate: impl Fn(Arc<dyn Backend>) -> Arc<dyn Backend> + Send + Sync + 'static,
    ) -> Self {
        self.decorate = Some(Decorator(Arc::new(decorate)));
        self
    }

    pub fn server(mut self, options: ServerOptions) -> Self {
        self.server = options;
        self
    }

    /// Starts the fake, then the service pointed at it.
    pub async fn start(self) -> Env {
        let fake = FakeAuthlete::start().await;
        let base_url = self.base_url.clone().unwrap_or_else(|| fake.base_url());
        let backend = AuthleteBackend::new(&AuthleteSettings {
            base_url,
            version: self.version,
            service_api_key: API_KEY.to_owned(),
            service_api_secret: Secret::new(API_SECRET),
            service_access_token: Secret::new(ACCESS_TOKEN),
            connect_timeout: Duration::from_secs(2),
            request_timeout: self.request_timeout,
            max_reply_bytes: self.max_reply_bytes,
        })
        .expect("valid settings");
        // As the binary wires it: with metrics, every Authlete call (each
        // attempt, inside any decorator) is metered.
        let backend: Arc<dyn Backend> = match &self.server.metrics {
            Some(m) => Arc::new(authlete_grpc::backend::Metered::new(
                Arc::new(backend),
                m.upstream(),
            )),
            None => Arc::new(backend),
        };
        let backend = match &self.decorate {
            Some(Decorator(decorate)) => decorate(backend),
            None => backend,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, backend, self.server.clone(), async {
            let _ = rx.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy();
        Env {
            version: self.version,
            fake,
            addr,
            channel,
            shutdown: Some(tx),
            server: Some(server),
        }
    }
}

/// A running service and its fake Authlete.
pub struct Env {
    pub version: ApiVersion,
    pub fake: FakeAuthlete,
    pub addr: SocketAddr,
    pub channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
}

/// Every page of a `TokenList` stream over gRPC.
pub async fn token_list_pages(
    env: &Env,
    request: pb::TokenListRequest,
) -> Vec<pb::TokenListResponse> {
    let mut stream = env
        .token_management()
        .token_list(request)
        .await
        .expect("OK")
        .into_inner();
    let mut out = Vec::new();
    while let Some(page) = stream.message().await.expect("a page") {
        out.push(page);
    }
    out
}

/// Starts the service on API `version` with default settings.
pub async fn start(version: ApiVersion) -> Env {
    Setup::new(version).start().await
}

impl Env {
    pub fn authorization(&self) -> AuthorizationServiceClient<Channel> {
        AuthorizationServiceClient::new(self.channel.clone())
    }
    pub fn par(&self) -> PushedAuthorizationServiceClient<Channel> {
        PushedAuthorizationServiceClient::new(self.channel.clone())
    }
    pub fn token(&self) -> TokenServiceClient<Channel> {
        TokenServiceClient::new(self.channel.clone())
    }
    pub fn introspection(&self) -> IntrospectionServiceClient<Channel> {
        IntrospectionServiceClient::new(self.channel.clone())
    }
    pub fn revocation(&self) -> RevocationServiceClient<Channel> {
        RevocationServiceClient::new(self.channel.clone())
    }
    pub fn userinfo(&self) -> UserInfoServiceClient<Channel> {
        UserInfoServiceClient::new(self.channel.clone())
    }
    pub fn discovery(&self) -> DiscoveryServiceClient<Channel> {
        DiscoveryServiceClient::new(self.channel.clone())
    }
    pub fn backchannel(&self) -> BackchannelAuthenticationServiceClient<Channel> {
        BackchannelAuthenticationServiceClient::new(self.channel.clone())
    }
    pub fn device(&self) -> DeviceFlowServiceClient<Channel> {
        DeviceFlowServiceClient::new(self.channel.clone())
    }
    pub fn registration(&self) -> ClientRegistrationServiceClient<Channel> {
        ClientRegistrationServiceClient::new(self.channel.clone())
    }
    pub fn grants(&self) -> GrantManagementServiceClient<Channel> {
        GrantManagementServiceClient::new(self.channel.clone())
    }
    pub fn id_token(&self) -> IdTokenServiceClient<Channel> {
        IdTokenServiceClient::new(self.channel.clone())
    }
    pub fn native_sso(&self) -> NativeSsoServiceClient<Channel> {
        NativeSsoServiceClient::new(self.channel.clone())
    }
    pub fn federation(&self) -> FederationServiceClient<Channel> {
        FederationServiceClient::new(self.channel.clone())
    }
    pub fn credentials(&self) -> CredentialIssuanceServiceClient<Channel> {
        CredentialIssuanceServiceClient::new(self.channel.clone())
    }
    pub fn token_management(&self) -> TokenManagementServiceClient<Channel> {
        TokenManagementServiceClient::new(self.channel.clone())
    }
    pub fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel.clone())
    }

    /// The health status of `service` ("" for the whole server).
    pub async fn health_of(&self, service: &str) -> ServingStatus {
        let reply = self
            .health()
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check answers")
            .into_inner();
        ServingStatus::try_from(reply.status).expect("a known status")
    }

    /// The path Authlete must see for `api_path`, by API version.
    pub fn path(&self, api_path: &str) -> String {
        match self.version {
            ApiVersion::V2 => format!("/api{api_path}"),
            ApiVersion::V3 => format!("/api/{API_KEY}{api_path}"),
        }
    }

    /// The `Authorization` header Authlete must see, by API version.
    pub fn authorization_header(&self) -> String {
        match self.version {
            ApiVersion::V2 => {
                let pair = format!("{API_KEY}:{API_SECRET}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            ApiVersion::V3 => format!("Bearer {ACCESS_TOKEN}"),
        }
    }

    /// Asserts the one request the fake got: a POST to `api_path` with the
    /// credentials, the JSON content type and exactly `body`.
    pub fn assert_posted(&self, api_path: &str, body: Value) {
        let r = self.fake.only_request();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, self.path(api_path));
        assert_eq!(r.query, None);
        assert_eq!(
            r.header("authorization"),
            Some(self.authorization_header().as_str())
        );
        assert_eq!(r.header("content-type"), Some(JSON_UTF8));
        assert_eq!(r.json(), body, "the JSON body sent to Authlete");
    }

    /// Asserts the one request the fake got: a GET to `api_path` with the
    /// credentials and exactly these query parameters.
    pub fn assert_got(&self, api_path: &str, query: &[(&str, &str)]) {
        let r = self.fake.only_request();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, self.path(api_path));
        assert_eq!(
            r.header("authorization"),
            Some(self.authorization_header().as_str())
        );
        let expected: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(r.query_pairs(), expected);
        assert_eq!(r.header("content-type"), None);
        assert_eq!(r.body_text, "");
    }

    /// Fires the shutdown future without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// The serve future, to await after [`Env::begin_shutdown`].
    pub fn server_task(&mut self) -> impl Future<Output = Result<(), tonic::transport::Error>> {
        let task = self.server.take().expect("server task taken once");
        async move { task.await.expect("serve does not panic") }
    }
}

// ---------------------------------------------------------------- assertions

/// Asserts an HTTP response: status, every header (any order) and body.
#[track_caller]
pub fn assert_http(
    http: Option<&pb::HttpResponse>,
    status: i32,
    headers: &[(&str, &str)],
    body: &str,
) {
    let http = http.expect("an HTTP response");
    assert_eq!(http.status, status, "http.status of {http:#?}");
    let mut got: Vec<(String, String)> = http
        .headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect();
    let mut want: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "http.headers");
    assert_eq!(http.body, body, "http.body");
}

/// The headers of a JSON response, plus any extra ones.
pub fn json_headers<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![
        ("Cache-Control", "no-store"),
        ("Pragma", "no-cache"),
        ("Content-Type", JSON_UTF8),
    ];
    h.extend_from_slice(extra);
    h
}

/// The two cache headers, plus any extra ones (bodiless responses).
pub fn cache_headers<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("Cache-Control", "no-store"), ("Pragma", "no-cache")];
    h.extend_from_slice(extra);
    h
}

/// `responseContent` of a fixture.
pub fn response_content(fixture_text: &str) -> String {
    let v: Value = serde_json::from_str(fixture_text).unwrap();
    v["responseContent"].as_str().unwrap_or_default().to_owned()
}

/// The body of the generic 500 sent for an action this version does not know.
pub const UNKNOWN_ACTION_BODY: &str = r#"{"error":"server_error","error_description":"The authorization server could not process the request."}"#;

/// The lines a spawned binary writes to its piped stderr, read on a thread
/// of their own so that the test can wait for a line with a timeout.
pub fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
