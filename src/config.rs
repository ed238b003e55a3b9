//! Command line and environment: every setting has a flag and an environment
//! variable (Authlete's own SDK names for the Authlete settings).

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::api::{MIN_KEY_BYTES, Sealer};
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
    /// auth), so that Authlete SDKs can use the engine. Default: not served.
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

    /// Key that seals the continuations of two-step flows: base64 of at least
    /// 32 random bytes (e.g. `openssl rand -base64 32`). Every replica of a
    /// deployment needs the same key. Default: a random key of this process,
    /// so a second step must come back to the same process. Never printed.
    #[arg(long, env = "AUTHLETE_GRPC_CONTINUATION_KEY", hide_env_values = true, value_parser = secret)]
    pub continuation_key: Option<Secret>,

    /// Caller authentication, permissions, TLS and reflection.
    #[command(flatten)]
    pub auth: crate::auth::options::AuthArgs,

    /// Log format. The level comes from RUST_LOG (default `info`).
    #[arg(long, env = "AUTHLETE_GRPC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
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
        check_url(&base_url)?;
        Ok(AuthleteSettings {
            base_url,
            version,
            service_api_key: key.unwrap_or_default(),
            service_api_secret: secret.unwrap_or_default(),
            service_access_token: token.unwrap_or_default(),
            connect_timeout: Duration::from_millis(self.authlete_connect_timeout_ms),
            request_timeout: Duration::from_millis(self.authlete_request_timeout_ms),
        })
    }
}

fn check_url(url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(_) => Err(ConfigError::Invalid {
            name: BASE_URL,
            reason: "must be an http(s) URL with a host".to_owned(),
        }),
        Err(e) => Err(ConfigError::Invalid {
            name: BASE_URL,
            reason: e.to_string(),
        }),
    }
}

const CONTINUATION_KEY: &str = "AUTHLETE_GRPC_CONTINUATION_KEY (--continuation-key)";

impl Cli {
    /// The continuation sealer: from the configured key, or random (`None`
    /// in the second place tells the caller to say so at startup).
    pub fn sealer(&self) -> Result<(Sealer, bool), ConfigError> {
        let Some(key) = self.continuation_key.as_ref().filter(|k| !k.is_empty()) else {
            return Ok((Sealer::random(), false));
        };
        let text = key.expose().trim();
        let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| ConfigError::Invalid {
                name: CONTINUATION_KEY,
                reason: "is not base64".to_owned(),
            })?;
        let sealer = Sealer::new(&bytes).ok_or_else(|| ConfigError::Invalid {
            name: CONTINUATION_KEY,
            reason: format!(
                "must decode to at least {MIN_KEY_BYTES} bytes, not {}",
                bytes.len()
            ),
        })?;
        Ok((sealer, true))
    }
}

#[cfg(test)]
mod tests;
