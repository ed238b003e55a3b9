//! Serves the engine over HTTP on Authlete's REST paths, so that the
//! `authlete` backend of this service, or any Authlete SDK, can use it:
//! v2 `/api/...` with HTTP Basic (API key and secret) and v3
//! `/api/{serviceId}/...` with a Bearer service access token.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use super::LocalBackend;
use super::config::HttpApiConfig;
use super::jwt::random_token;
use crate::backend::{Api, BackendError, Call, Method as ApiMethod};
use crate::secret::Secret;

/// The credentials the HTTP API accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    api_key: String,
    api_secret: Secret,
    access_token: Secret,
    secret_generated: bool,
    token_generated: bool,
}

impl Credentials {
    pub(super) fn from_config(c: &HttpApiConfig) -> Result<Self, String> {
        let generate = || random_token().map_err(|f| f.message());
        let (api_secret, secret_generated) = match c.api_secret.as_deref() {
            Some(s) if !s.is_empty() => (s.to_owned(), false),
            _ => (generate()?, true),
        };
        let (access_token, token_generated) = match c.access_token.as_deref() {
            Some(t) if !t.is_empty() => (t.to_owned(), false),
            _ => (generate()?, true),
        };
        Ok(Self {
            api_key: c.api_key.clone(),
            api_secret: Secret::new(api_secret),
            access_token: Secret::new(access_token),
            secret_generated,
            token_generated,
        })
    }

    /// v2 API key and v3 service ID.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// v2 API secret.
    pub fn api_secret(&self) -> &Secret {
        &self.api_secret
    }

    /// v3 service access token.
    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }

    /// Startup lines: generated credentials are shown (nobody else knows
    /// them); configured ones never are.
    pub fn summary(&self) -> Vec<String> {
        let show = |s: &Secret, generated: bool| {
            if generated {
                format!("{} (generated)", s.expose())
            } else {
                "as configured".to_owned()
            }
        };
        vec![
            format!(
                "v2: AUTHLETE_SERVICE_APIKEY={} AUTHLETE_SERVICE_APISECRET {}",
                self.api_key,
                show(&self.api_secret, self.secret_generated)
            ),
            format!(
                "v3: AUTHLETE_SERVICE_APIKEY={} AUTHLETE_SERVICE_ACCESSTOKEN {}",
                self.api_key,
                show(&self.access_token, self.token_generated)
            ),
        ]
    }
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Arc<LocalBackend>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().fallback(handle).with_state(engine);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// API generations, told apart by the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V2,
    V3,
}

async fn handle(
    State(engine): State<Arc<LocalBackend>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let Some((api, version, segment)) = route(path, engine.http.api_key()) else {
        return result(
            StatusCode::NOT_FOUND,
            "L001404",
            &format!("{path}, no such API."),
        );
    };
    if !authorized(&headers, version, &engine.http) {
        let message = format!(
            "{}, the Authorization header is missing or its credentials are wrong.",
            api.path()
        );
        return result(StatusCode::UNAUTHORIZED, "A001202", &message);
    }
    let expected = match api.method() {
        ApiMethod::Get => Method::GET,
        ApiMethod::Post => Method::POST,
        ApiMethod::Delete => Method::DELETE,
    };
    if method != expected {
        return result(
            StatusCode::METHOD_NOT_ALLOWED,
            "L001405",
            &format!("{}, wrong HTTP method.", api.path()),
        );
    }
    let mut query = query(uri.query().unwrap_or_default());
    if let (Some(name), Some(value)) = (api.path_parameter(), segment) {
        query.push((name, value));
    }
    let call = Call {
        api,
        query,
        body: (expected == Method::POST).then(|| body.to_vec()),
    };
    let pretty = call
        .query
        .iter()
        .any(|(k, v)| *k == "pretty" && v == "true");
    // Answering is synchronous and short (no I/O), so it runs on this task.
    match engine.answer(&call) {
        Ok(reply) if reply.status == 204 => StatusCode::NO_CONTENT.into_response(),
        Ok(reply) => {
            let body = if pretty {
                prettify(&reply.body)
            } else {
                reply.body
            };
            let content_type = [(header::CONTENT_TYPE, "application/json;charset=UTF-8")];
            (StatusCode::OK, content_type, body).into_response()
        }
        Err(BackendError::Status {
            status,
            result_code,
            result_message,
            ..
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({"resultCode": result_code, "resultMessage": result_message});
            json_response(status, body.to_string())
        }
        Err(BackendError::Unsupported { api }) => result(
            StatusCode::NOT_IMPLEMENTED,
            "L001501",
            &format!("{api}, the local engine does not implement this API."),
        ),
        Err(other) => result(
            StatusCode::INTERNAL_SERVER_ERROR,
            "L001101",
            &other.to_string(),
        ),
    }
}

/// `/api{path}` (v2) or `/api/{serviceId}{path}` (v3, this service only),
/// and the decoded last segment of the APIs that take a path parameter.
fn route(path: &str, service: &str) -> Option<(Api, Version, Option<String>)> {
    let rest = path.strip_prefix("/api")?;
    if let Some((api, segment)) = find_api(rest) {
        return Some((api, Version::V2, segment));
    }
    let rest = rest.strip_prefix('/')?.strip_prefix(service)?;
    find_api(rest).map(|(api, segment)| (api, Version::V3, segment))
}

fn find_api(rest: &str) -> Option<(Api, Option<String>)> {
    Api::ALL.iter().find_map(|api| {
        if api.path_parameter().is_none() {
            return (api.path() == rest).then_some((*api, None));
        }
        let segment = rest.strip_prefix(api.path())?.strip_prefix('/')?;
        if segment.is_empty() || segment.contains('/') {
            return None;
        }
        let decoded = percent_decode(segment)?;
        Some((*api, Some(decoded)))
    })
}

/// A path segment's percent-decoding (`+` stays a plus in a path).
fn percent_decode(segment: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?;
    Some(decoded.into_owned())
}

fn authorized(headers: &HeaderMap, version: Version, creds: &Credentials) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let expected = match version {
        Version::V2 => {
            let pair = format!("{}:{}", creds.api_key, creds.api_secret.expose());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
        Version::V3 => format!("Bearer {}", creds.access_token.expose()),
    };
    aws_lc_rs::constant_time::verify_slices_are_equal(value.as_bytes(), expected.as_bytes()).is_ok()
}

/// The query parameters the engine reads (GET and DELETE APIs).
fn query(text: &str) -> Vec<(&'static str, String)> {
    const KNOWN: [&str; 7] = [
        "pretty",
        "patch",
        "includePrivateKeys",
        "start",
        "end",
        "clientIdentifier",
        "subject",
    ];
    url::form_urlencoded::parse(text.as_bytes())
        .filter_map(|(k, v)| {
            let key = KNOWN.into_iter().find(|known| *known == k)?;
            Some((key, v.into_owned()))
        })
        .collect()
}

fn prettify(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_owned())
}

/// Authlete's error body: `{"resultCode":...,"resultMessage":"[code] ..."}`.
fn result(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"resultCode": code, "resultMessage": format!("[{code}] {message}")});
    json_response(status, body.to_string())
}

fn json_response(status: StatusCode, body: String) -> Response {
    let content_type = [(header::CONTENT_TYPE, "application/json;charset=UTF-8")];
    (status, content_type, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_v2_and_v3_paths() {
        assert_eq!(
            route("/api/auth/token", "svc"),
            Some((Api::Token, Version::V2, None))
        );
        assert_eq!(
            route("/api/svc/auth/token", "svc"),
            Some((Api::Token, Version::V3, None))
        );
        assert_eq!(
            route("/api/svc/auth/token/delete/a%2Fb+c%20d", "svc"),
            Some((Api::TokenDelete, Version::V3, Some("a/b+c d".to_owned())))
        );
        assert_eq!(route("/api/auth/token/delete/", "svc"), None);
        assert_eq!(route("/api/auth/token/delete", "svc"), None);
        assert_eq!(route("/api/other/auth/token", "svc"), None);
        assert_eq!(route("/api/auth/nothing", "svc"), None);
        assert_eq!(
            query("pretty=true&x=1"),
            vec![("pretty", "true".to_owned())]
        );
    }
}
