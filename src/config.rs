//! Command line and environment: every setting has a flag and an environment
//! variable (Authlete's own SDK names for the Authlete settings).

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::api::{DEFAULT_REPLAY_CAPACITY, MIN_KEY_BYTES, RingError, Sealer};
use crate::backend::{ApiVersion, AuthleteSettings};
use crate::secret::Secret;

/// A gRPC service that runs an OAuth 2.0 / OpenID Connect authorization server
/// on Authlete, for web tiers in any language.
#[derive(Debug, Clone, Parser)]
#[command(name = "authlete-grpc", version, about, long_about = None)]
pub struct Cli {
    /// Address to serve gRPC on; containers pass 0.0.0.0:50051.
    #[arg(long, env = "AUTHLETE_GRPC_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Which backend answers the Core APIs. Default: `authlete` when any
    /// AUTHLETE_* setting is present, else `local`.
    #[arg(long, env = "AUTHLETE_BACKEND", value_enum)]
    pub backend: Option<BackendKind>,

    /// Authlete API base URL, e.g. https://us.authlete.com (v3) or
    /// https://api.authlete.com (v2, the default for v2).
    #[arg(long, env = "AUTHLETE_BASE_URL")]
    pub authlete_base_url: Option<String>,

    /// Authlete API version: V2 or V3 (case-insensitive). Default: V3 when only
    /// an access token is set, V2 when only a key and secret are set.
    #[arg(long, env = "AUTHLETE_API_VERSION")]
    pub authlete_api_version: Option<String>,

    /// v2: the service API key. v3: the service ID.
    #[arg(long, env = "AUTHLETE_SERVICE_APIKEY")]
    pub authlete_service_apikey: Option<String>,

    /// v2: the service API secret. Never printed.
    #[arg(long, env = "AUTHLETE_SERVICE_APISECRET", hide_env_values = true, value_parser = secret)]
    pub authlete_service_apisecret: Option<Secret>,

    /// v3: the service access token. Never printed.
    #[arg(long, env = "AUTHLETE_SERVICE_ACCESSTOKEN", hide_env_values = true, value_parser = secret)]
    pub authlete_service_accesstoken: Option<Secret>,

    /// Allow an `http://` Authlete base URL on a host other than loopback.
    /// Plain HTTP carries the service's Authlete credentials and every token
    /// in clear: for a test network only. Default: a startup error.
    #[arg(long, env = "AUTHLETE_ALLOW_INSECURE_HTTP")]
    pub authlete_allow_insecure_http: bool,

    /// How long to wait for a connection to Authlete, in milliseconds.
    #[arg(long, env = "AUTHLETE_CONNECT_TIMEOUT_MS", default_value_t = 3_000)]
    pub authlete_connect_timeout_ms: u64,

    /// How long one Authlete call may take in all, in milliseconds.
    #[arg(long, env = "AUTHLETE_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub authlete_request_timeout_ms: u64,

    /// Largest gRPC request message accepted, in bytes.
    #[arg(long, env = "AUTHLETE_GRPC_MAX_MESSAGE_BYTES", default_value_t = 256 * 1024)]
    pub max_message_bytes: usize,

    /// On SIGTERM/SIGINT, how long to keep serving with health NOT_SERVING
    /// before closing the listener, in milliseconds (lets load balancers notice).
    #[arg(long, env = "AUTHLETE_GRPC_SHUTDOWN_DELAY_MS", default_value_t = 0)]
    pub shutdown_delay_ms: u64,

    /// How long in-flight RPCs may take to finish after the listener closes,
    /// in milliseconds; then the process exits anyway.
    #[arg(long, env = "AUTHLETE_GRPC_DRAIN_TIMEOUT_MS", default_value_t = 20_000)]
    pub drain_timeout_ms: u64,

    /// Local engine: its TOML configuration file (issuer, endpoints, scopes,
    /// lifetimes, clients, signing key; see docs/local-engine.md). Default:
    /// built-in settings with a demo confidential and a demo public client.
    #[arg(long, env = "AUTHLETE_LOCAL_CONFIG")]
    pub local_config: Option<String>,

    /// Local engine: also serve Authlete's REST API on this address (v2
    /// `/api/...` with Basic auth, v3 `/api/{serviceId}/...` with Bearer
    /// auth), so that Authlete SDKs can use the engine. Plaintext and outside
    /// the caller policy, so loopback only unless --local-http-allow-remote.
    /// Default: not served.
    #[arg(long, env = "AUTHLETE_LOCAL_HTTP_LISTEN")]
    pub local_http_listen: Option<SocketAddr>,

    /// Serve Prometheus metrics (`GET /metrics`, plaintext HTTP, no caller
    /// credentials) on this address. Default: not served.
    #[arg(long, env = "AUTHLETE_GRPC_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Export OpenTelemetry traces over OTLP/gRPC to this endpoint (e.g.
    /// `http://otel-collector:4317`). Also on when the standard
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is set; the other `OTEL_*` variables
    /// (service name, headers, sampler) apply. Default: off.
    #[arg(long, env = "AUTHLETE_GRPC_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// Local engine: let --local-http-listen take an address other than
    /// loopback. Anyone who reaches it can use the engine's REST API with
    /// the credentials printed at startup, in plaintext.
    #[arg(long, env = "AUTHLETE_LOCAL_HTTP_ALLOW_REMOTE")]
    pub local_http_allow_remote: bool,

    /// Keys that encrypt the continuations of two-step flows, separated by
    /// commas: each base64 of at least 32 random bytes (e.g. `openssl rand
    /// -base64 32`). The first seals, every one opens: to rotate, put the new
    /// key first and drop the old one once its continuations expired (5
    /// minutes at most). Every replica of a deployment needs the same keys.
    /// Default: a random key of this process, so a second step must come back
    /// to the same process. Never printed.
    #[arg(long, env = "AUTHLETE_GRPC_CONTINUATION_KEY", hide_env_values = true, value_parser = secret)]
    pub continuation_key: Option<Secret>,

    /// How many spent single-use continuations (token exchange, JWT bearer,
    /// Native SSO) this process remembers until they expire. When it is full,
    /// new ones are refused rather than forgetting one that could then be
    /// replayed.
    #[arg(long, env = "AUTHLETE_GRPC_CONTINUATION_REPLAY_CAPACITY", default_value_t = DEFAULT_REPLAY_CAPACITY,
          value_parser = positive)]
    pub continuation_replay_capacity: usize,
    /// Destinations CIBA notifications may reach besides public addresses,
    /// comma separated: CIDRs (10.1.0.0/16), addresses (::1) or host names
    /// (localhost). These may also be reached over plain http. Default:
    /// https to public addresses only (loopback, private, link-local and
    /// unique-local addresses are refused after DNS resolution).
    #[arg(long, env = "AUTHLETE_GRPC_NOTIFICATION_ALLOW", value_delimiter = ',')]
    pub notification_allow: Vec<String>,

    /// Proxy URL that CIBA notifications go through (it must enforce its own
    /// egress policy for host names). Default: direct, never the system proxy.
    #[arg(long, env = "AUTHLETE_GRPC_NOTIFICATION_PROXY")]
    pub notification_proxy: Option<String>,

    /// Bytes of a client notification endpoint's answer read at most.
    #[arg(long, env = "AUTHLETE_GRPC_NOTIFICATION_MAX_REPLY_BYTES", default_value_t = 64 * 1024)]
    pub notification_max_reply_bytes: usize,

    /// Listener limits.
    #[command(flatten)]
    pub limits: crate::limits::options::LimitsArgs,

    /// Caller authentication, permissions, TLS and reflection.
    #[command(flatten)]
    pub auth: crate::auth::options::AuthArgs,

    /// The discovery cache, retries, the breaker and the reply bound.
    #[command(flatten)]
    pub resilience: resilience::ResilienceArgs,

    /// The authorizer edges: Envoy ext_authz and HTTP forward auth.
    #[command(flatten)]
    pub authz: authz::AuthzArgs,

    /// Log format. The level comes from RUST_LOG (default `info`).
    #[arg(long, env = "AUTHLETE_GRPC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Cli {
    /// Where CIBA notifications may go, from the `--notification-*` flags.
    pub fn notify_options(&self) -> Result<crate::notify::NotifyOptions, ConfigError> {
        let egress =
            crate::notify::EgressPolicy::parse(self.notification_allow.iter().map(String::as_str))
                .map_err(|reason| ConfigError::Invalid {
                    name: "--notification-allow (AUTHLETE_GRPC_NOTIFICATION_ALLOW)",
                    reason,
                })?;
        Ok(crate::notify::NotifyOptions {
            egress,
            proxy: self.notification_proxy.clone(),
            max_reply_bytes: self.notification_max_reply_bytes,
        })
    }
}

/// Backend kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// The offline engine in this process.
    Local,
    /// Authlete's API over HTTPS.
    Authlete,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn secret(value: &str) -> Result<Secret, String> {
    Ok(Secret::new(value))
}

fn positive(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be a whole number above 0".to_owned()),
    }
}

/// A setting that is missing or wrong, named by its flag and variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Required settings are missing.
    #[error("missing Authlete setting(s): {}{}", .names.join(", "), .why)]
    Missing {
        names: Vec<&'static str>,
        why: String,
    },
    /// A setting has a value that cannot be used.
    #[error("invalid {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// No backend can run with these settings.
    #[error("{0}")]
    NoBackend(String),
}

const BASE_URL: &str = "AUTHLETE_BASE_URL (--authlete-base-url)";
const API_VERSION: &str = "AUTHLETE_API_VERSION (--authlete-api-version)";
const API_KEY: &str = "AUTHLETE_SERVICE_APIKEY (--authlete-service-apikey)";
const API_SECRET: &str = "AUTHLETE_SERVICE_APISECRET (--authlete-service-apisecret)";
const ACCESS_TOKEN: &str = "AUTHLETE_SERVICE_ACCESSTOKEN (--authlete-service-accesstoken)";
const LOCAL_CONFIG: &str = "AUTHLETE_LOCAL_CONFIG (--local-config)";
const LOCAL_HTTP_LISTEN: &str = "AUTHLETE_LOCAL_HTTP_LISTEN (--local-http-listen)";

/// The default Authlete 2.x API host.
pub const DEFAULT_V2_BASE_URL: &str = "https://api.authlete.com";

/// The backend the settings select.
#[derive(Debug, Clone)]
pub enum BackendChoice {
    /// The offline engine.
    Local,
    /// Authlete, with these settings.
    Authlete(AuthleteSettings),
}

impl Cli {
    fn any_authlete_setting(&self) -> bool {
        self.authlete_base_url.is_some()
            || self.authlete_api_version.is_some()
            || self.authlete_service_apikey.is_some()
            || self.authlete_service_apisecret.is_some()
            || self.authlete_service_accesstoken.is_some()
    }

    /// Chooses the backend: explicit `--backend`, else Authlete when any
    /// Authlete setting is present. A partial Authlete setting is an error
    /// naming what is missing.
    pub fn backend_choice(&self) -> Result<BackendChoice, ConfigError> {
        let kind = self.backend.unwrap_or(if self.any_authlete_setting() {
            BackendKind::Authlete
        } else {
            BackendKind::Local
        });
        match kind {
            BackendKind::Local => Ok(BackendChoice::Local),
            BackendKind::Authlete => {
                // Settings of the local engine with the Authlete backend are
                // a mistake worth stopping for, not something to ignore.
                for (set, name) in [
                    (self.local_config.is_some(), LOCAL_CONFIG),
                    (self.local_http_listen.is_some(), LOCAL_HTTP_LISTEN),
                ] {
                    if set {
                        return Err(ConfigError::Invalid {
                            name,
                            reason: "applies to the local engine only, but the authlete backend is selected".to_owned(),
                        });
                    }
                }
                self.authlete_settings().map(BackendChoice::Authlete)
            }
        }
    }

    fn authlete_settings(&self) -> Result<AuthleteSettings, ConfigError> {
        let key = self
            .authlete_service_apikey
            .clone()
            .filter(|k| !k.is_empty());
        let secret = self
            .authlete_service_apisecret
            .clone()
            .filter(|s| !s.is_empty());
        let token = self
            .authlete_service_accesstoken
            .clone()
            .filter(|t| !t.is_empty());
        let version = match self.authlete_api_version.as_deref().map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("v2") || v == "2" => ApiVersion::V2,
            Some(v) if v.eq_ignore_ascii_case("v3") || v == "3" => ApiVersion::V3,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: API_VERSION,
                    reason: format!("`{v}` is neither V2 nor V3"),
                });
            }
            None => match (secret.is_some(), token.is_some()) {
                (false, true) => ApiVersion::V3,
                (true, false) => ApiVersion::V2,
                (true, true) => {
                    return Err(ConfigError::Missing {
                        names: vec![API_VERSION],
                        why: " (both an API secret and an access token are set)".to_owned(),
                    });
                }
                (false, false) => {
                    return Err(ConfigError::Missing {
                        names: vec![ACCESS_TOKEN, API_KEY],
                        why: " (v3; or, for v2, AUTHLETE_SERVICE_APIKEY and AUTHLETE_SERVICE_APISECRET)".to_owned(),
                    });
                }
            },
        };
        let mut missing = Vec::new();
        let base_url = match (&self.authlete_base_url, version) {
            (Some(url), _) => url.clone(),
            (None, ApiVersion::V2) => DEFAULT_V2_BASE_URL.to_owned(),
            (None, ApiVersion::V3) => {
                missing.push(BASE_URL);
                String::new()
            }
        };
        if key.is_none() {
            missing.push(API_KEY);
        }
        match version {
            ApiVersion::V2 if secret.is_none() => missing.push(API_SECRET),
            ApiVersion::V3 if token.is_none() => missing.push(ACCESS_TOKEN),
            _ => {}
        }
        if !missing.is_empty() {
            let why = match version {
                ApiVersion::V2 => " for Authlete API v2",
                ApiVersion::V3 => " for Authlete API v3 (the API key setting holds the service ID)",
            };
            return Err(ConfigError::Missing {
                names: missing,
                why: why.to_owned(),
            });
        }
        check_url(&base_url, self.authlete_allow_insecure_http)?;
        Ok(AuthleteSettings {
            base_url,
            version,
            service_api_key: key.unwrap_or_default(),
            service_api_secret: secret.unwrap_or_default(),
            service_access_token: token.unwrap_or_default(),
            connect_timeout: Duration::from_millis(self.authlete_connect_timeout_ms),
            request_timeout: Duration::from_millis(self.authlete_request_timeout_ms),
            max_reply_bytes: self.resilience.authlete_max_reply_bytes,
        })
    }
}

fn check_url(url: &str, allow_insecure_http: bool) -> Result<(), ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: BASE_URL,
        reason,
    };
    let url = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    let host = match (url.scheme(), url.host()) {
        ("http" | "https", Some(host)) => host,
        _ => return Err(invalid("must be an http(s) URL with a host".to_owned())),
    };
    let loopback = match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if url.scheme() == "http" && !loopback && !allow_insecure_http {
        return Err(invalid(
            "is plain http:// to a host other than loopback, which would send the Authlete credentials \
             and every token in clear: use https://, or pass --authlete-allow-insecure-http \
             (AUTHLETE_ALLOW_INSECURE_HTTP) for a test network"
                .to_owned(),
        ));
    }
    Ok(())
}

impl Cli {
    /// Where to serve the local engine's REST API: loopback only unless
    /// --local-http-allow-remote says otherwise.
    pub fn local_http_listen(&self) -> Result<Option<SocketAddr>, ConfigError> {
        match self.local_http_listen {
            Some(addr) if !addr.ip().is_loopback() && !self.local_http_allow_remote => {
                Err(ConfigError::Invalid {
                    name: LOCAL_HTTP_LISTEN,
                    reason: format!(
                        "{addr} is not loopback: the engine's REST API is plaintext and outside the caller \
                         policy; pass --local-http-allow-remote (AUTHLETE_LOCAL_HTTP_ALLOW_REMOTE) to serve it there"
                    ),
                })
            }
            other => Ok(other),
        }
    }
}

const CONTINUATION_KEY: &str = "AUTHLETE_GRPC_CONTINUATION_KEY (--continuation-key)";

impl Cli {
    /// The continuation sealer: from the configured key ring, or random
    /// (`false` in the second place tells the caller to say so at startup).
    /// Keys are separated by commas or whitespace; the first seals, every
    /// one opens.
    pub fn sealer(&self) -> Result<(Sealer, bool), ConfigError> {
        let capacity = self.continuation_replay_capacity;
        let Some(text) = self.continuation_key.as_ref().filter(|k| !k.is_empty()) else {
            return Ok((Sealer::random().with_replay_capacity(capacity), false));
        };
        let invalid = |reason: String| ConfigError::Invalid {
            name: CONTINUATION_KEY,
            reason,
        };
        let mut keys = Vec::new();
        let entries = text.expose().split(|c: char| c == ',' || c.is_whitespace());
        for (i, entry) in entries.filter(|e| !e.is_empty()).enumerate() {
            // The error names the key's position, never its text.
            let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(entry).ok())
                .ok_or_else(|| invalid(format!("key {} is not base64", i + 1)))?;
            keys.push(bytes);
        }
        let sealer = Sealer::ring(&keys).map_err(|e| match e {
            RingError::Short { position, len } => invalid(format!(
                "key {position} must decode to at least {MIN_KEY_BYTES} bytes, not {len}"
            )),
            other => invalid(other.to_string()),
        })?;
        Ok((sealer.with_replay_capacity(capacity), true))
    }
}

pub mod authz;
pub mod resilience;

#[cfg(test)]
mod tests;
