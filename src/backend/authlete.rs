//! The backend that talks HTTP to Authlete, API v2 or v3.
//!
//! This is the only module that knows reqwest, Authlete's URLs and how to
//! authenticate to Authlete. One pooled client lives for the whole process.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION};
use serde::Deserialize;
use tracing::Instrument as _;

use super::{Api, Backend, BackendError, BoxFuture, Call, Method, Reply};
use crate::secret::Secret;

/// Authlete API generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// Authlete 2.x: `/api/...`, HTTP Basic with the service API key and secret.
    V2,
    /// Authlete 3.0: `/api/{serviceId}/...`, Bearer service access token.
    V3,
}

/// How to reach and authenticate to Authlete.
#[derive(Debug, Clone)]
pub struct AuthleteSettings {
    /// E.g. `https://api.authlete.com` (v2) or `https://us.authlete.com` (v3).
    pub base_url: String,
    /// Which API generation.
    pub version: ApiVersion,
    /// v2: the service API key. v3: the service ID (Authlete's SDKs use the
    /// same setting for both).
    pub service_api_key: String,
    /// v2 only: the service API secret.
    pub service_api_secret: Secret,
    /// v3 only: the service access token.
    pub service_access_token: Secret,
    /// How long to wait for a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// How long a whole call may take, connection included.
    pub request_timeout: Duration,
    /// Largest reply body read; a larger one fails the call without being
    /// buffered ([`DEFAULT_MAX_REPLY_BYTES`] by default).
    pub max_reply_bytes: usize,
}

/// The default bound on an Authlete reply body: discovery documents, the
/// largest replies, are tens of KiB.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// Calls Authlete over HTTPS.
#[derive(Debug)]
pub struct AuthleteBackend {
    client: reqwest::Client,
    /// Every API's URL: `{base_url}/api{path}` (v2) or
    /// `{base_url}/api/{serviceId}{path}` (v3), parsed once.
    urls: HashMap<Api, reqwest::Url>,
    /// The precomputed `Authorization` header, marked sensitive.
    authorization: HeaderValue,
    request_timeout: Duration,
    max_reply_bytes: usize,
}

impl AuthleteBackend {
    /// Builds the pooled HTTP client. Fails only when the settings cannot form
    /// a valid header or client.
    pub fn new(settings: &AuthleteSettings) -> Result<Self, String> {
        let base = settings.base_url.trim_end_matches('/');
        let (prefix, credential) = match settings.version {
            ApiVersion::V2 => {
                let pair = format!(
                    "{}:{}",
                    settings.service_api_key,
                    settings.service_api_secret.expose()
                );
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                (format!("{base}/api"), format!("Basic {encoded}"))
            }
            ApiVersion::V3 => (
                format!("{base}/api/{}", settings.service_api_key),
                format!("Bearer {}", settings.service_access_token.expose()),
            ),
        };
        let mut authorization = HeaderValue::from_str(&credential).map_err(|_| {
            "the Authlete credentials contain characters not allowed in an HTTP header".to_owned()
        })?;
        authorization.set_sensitive(true);
        let mut builder = reqwest::Client::builder();
        if is_loopback(base) {
            // A system proxy (HTTP_PROXY, ...) must not capture calls to a
            // local Authlete-compatible server.
            builder = builder.no_proxy();
        }
        let client = builder
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            // Only /service/jwks/get redirects, and the redirect is the answer.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("authlete-grpc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let urls = Api::ALL
            .iter()
            .map(|api| {
                let url = format!("{prefix}{}", api.path());
                reqwest::Url::parse(&url)
                    .map(|u| (*api, u))
                    .map_err(|e| format!("invalid Authlete URL {url}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            client,
            urls,
            authorization,
            request_timeout: settings.request_timeout,
            max_reply_bytes: settings.max_reply_bytes,
        })
    }

    async fn send(&self, call: Call) -> Result<Reply, BackendError> {
        let api = call.api;
        let name = api.path();
        let url = url_of(&self.urls[&api], api, &call.query);
        let (span, trace_headers) = crate::telemetry::client_span(api.method().as_str(), &url);
        let builder = match api.method() {
            Method::Get => self.client.get(url),
            Method::Delete => self.client.delete(url),
            Method::Post => self
                .client
                .post(url)
                .header(CONTENT_TYPE, "application/json;charset=UTF-8")
                .body(call.body.unwrap_or_else(|| b"{}".to_vec())),
        };
        let response = builder
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "application/json")
            .headers(trace_headers)
            .send()
            .instrument(span.clone())
            .await
            .inspect_err(|_| crate::telemetry::end_client_span(&span, None))
            .map_err(|e| self.transport_error(api, e))?;
        let status = response.status();
        crate::telemetry::end_client_span(&span, Some(status.as_u16()));
        let request_id = header(&response, "request-id");
        if status.is_redirection() {
            return Err(
                match header(&response, LOCATION.as_str()).filter(|l| !l.is_empty()) {
                    Some(location) => BackendError::Redirect {
                        api: name,
                        location,
                        request_id,
                    },
                    None => BackendError::Decode {
                        api: name,
                        detail: format!("HTTP {} without a Location header", status.as_u16()),
                        request_id,
                    },
                },
            );
        }
        let retry_after = retry_after(&response);
        let body = self.read_body(api, response, request_id.as_deref()).await?;
        if !status.is_success() {
            let result: ResultBody = serde_json::from_str(&body).unwrap_or_default();
            return Err(BackendError::Status {
                api: name,
                status: status.as_u16(),
                result_code: result
                    .result_code
                    .map(|c| c.to_string().trim_matches('"').to_owned()),
                result_message: result.result_message,
                request_id,
                retry_after: retry_after.filter(|_| matches!(status.as_u16(), 429 | 503)),
            });
        }
        Ok(Reply {
            status: status.as_u16(),
            body,
            request_id,
        })
    }

    /// Reads the body chunk by chunk, failing as soon as it outgrows the
    /// bound (a `Content-Length` over it fails before anything is read), so a
    /// huge reply never sits in memory.
    async fn read_body(
        &self,
        api: Api,
        mut response: reqwest::Response,
        request_id: Option<&str>,
    ) -> Result<String, BackendError> {
        let max = self.max_reply_bytes;
        let too_large = || BackendError::Decode {
            api: api.path(),
            detail: format!("the reply is larger than {max} bytes (--authlete-max-reply-bytes)"),
            request_id: request_id.map(str::to_owned),
        };
        let declared = response.content_length().unwrap_or(0);
        if declared > max as u64 {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared as usize);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(api, e))?
        {
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|e| BackendError::Decode {
            api: api.path(),
            detail: format!(
                "the reply is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
            request_id: request_id.map(str::to_owned),
        })
    }

    /// Classifies a transport failure: no connection (nothing sent), a
    /// timeout, a peer that does not speak HTTP, or a connection that broke
    /// once the request was on its way.
    fn transport_error(&self, api: Api, error: reqwest::Error) -> BackendError {
        let api = api.path();
        if error.is_timeout() {
            return BackendError::Timeout {
                api,
                timeout_ms: self.request_timeout.as_millis() as u64,
            };
        }
        let connect = error.is_connect();
        let parse = hyper_error(&error).is_some_and(hyper::Error::is_parse);
        let detail = source_chain(&error.without_url());
        if connect {
            return BackendError::Connect { api, detail };
        }
        if parse {
            BackendError::Decode {
                api,
                detail: format!("the reply is not HTTP: {detail}"),
                request_id: None,
            }
        } else {
            BackendError::ConnectionLost { api, detail }
        }
    }
}

impl Backend for AuthleteBackend {
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
        Box::pin(self.send(call))
    }
}

/// Authlete's error body. `resultCode` is a string in practice but a number in
/// one published example, so it is read loosely.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultBody {
    result_code: Option<serde_json::Value>,
    result_message: Option<String>,
}

/// The API's URL with its path parameter as the last segment
/// (percent-encoded: an identifier may hold `/` or `+`) and the other
/// parameters as the query.
fn url_of(base: &reqwest::Url, api: Api, params: &[(&'static str, String)]) -> reqwest::Url {
    let mut url = base.clone();
    let segment = api.path_parameter();
    if let Some(name) = segment {
        let value = params.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(value.map_or("", String::as_str));
        }
    }
    let query: Vec<_> = params.iter().filter(|(k, _)| Some(*k) != segment).collect();
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            pairs.append_pair(k, v);
        }
    }
    url
}

fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return false;
    };
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The hyper error under a reqwest error, if any.
fn hyper_error(error: &reqwest::Error) -> Option<&hyper::Error> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(e) = cause.downcast_ref::<hyper::Error>() {
            return Some(e);
        }
        source = cause.source();
    }
    None
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110), capped at an
/// hour so that a wrong header cannot park callers for days.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = header(response, "retry-after")?;
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(delay.min(Duration::from_secs(3600)))
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// "error sending request: client error (Connect): tcp connect error: Connection refused"
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_become_an_encoded_segment() {
        let base = reqwest::Url::parse("https://as.example/api/1/auth/token/delete").unwrap();
        let params = [("accessTokenIdentifier", "a/b+c d".to_owned())];
        let url = url_of(&base, Api::TokenDelete, &params);
        assert_eq!(
            url.as_str(),
            "https://as.example/api/1/auth/token/delete/a%2Fb+c%20d"
        );
        let base = reqwest::Url::parse("https://as.example/api/auth/token/get/list").unwrap();
        let params = [("subject", "a b".to_owned())];
        let url = url_of(&base, Api::TokenList, &params);
        assert_eq!(url.query(), Some("subject=a+b"));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9000",
            "http://127.0.0.2",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in ["https://us.authlete.com", "http://10.0.0.1", "not a url"] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
