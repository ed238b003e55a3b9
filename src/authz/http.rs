//! HTTP forward auth, `/authz` on `--authz-http-listen`, for proxies that ask
//! an authorizer over HTTP: nginx `auth_request`, Caddy `forward_auth`,
//! Traefik `ForwardAuth`, Envoy's HTTP ext_authz.
//!
//! The original request comes from `X-Forwarded-Method`/`-Proto`/`-Host`/`-Uri`
//! (Caddy, Traefik) or `X-Original-Method`/`X-Original-URI` (nginx); the
//! route's requirements from the query (`/authz?scopes=read%20write&resources=...`).
//! 200 with the fact headers allows; Authlete's 401/403/400 (with
//! `WWW-Authenticate`, `DPoP-Nonce`) denies; 503 or 500 with a plain-text body
//! and no OAuth challenge means Authlete could not be asked.
//!
//! The proxy authenticates as a caller like any other: mTLS on this listener
//! (with `--tls-*`), or its caller key in [`CALLER_KEY_HEADER`], since the
//! end user's `authorization` is the access token. `x-forwarded-client-cert`
//! never names the caller here: forward-auth proxies copy the end user's
//! headers into their question, so it describes the end user's connection.

use std::io;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use super::{AuthzOptions, Decision, FieldNames, Inbound, Required, SharedBackend, Surface};
use crate::auth::{CallerAuth, Presented, Refusal};
use crate::grpc::RpcLog;
use crate::limits::ListenerLimits;
use crate::limits::conn::{Busy, ConnInfo, Guarded};

/// The header that carries the proxy's caller key on `/authz`.
pub const CALLER_KEY_HEADER: &str = "x-authlete-grpc-caller-key";

/// A listener for `/authz`, taken by the first `server::serve` that gets it.
#[derive(Clone)]
pub struct AuthzHttpListener(Arc<Mutex<Option<TcpListener>>>);

impl AuthzHttpListener {
    pub fn new(listener: TcpListener) -> Self {
        Self(Arc::new(Mutex::new(Some(listener))))
    }

    pub fn take(&self) -> Option<TcpListener> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl std::fmt::Debug for AuthzHttpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthzHttpListener")
    }
}

/// What `/authz` answers with.
#[derive(Clone)]
pub struct ForwardAuth {
    pub backend: SharedBackend,
    pub options: AuthzOptions,
    pub caller_auth: Option<Arc<CallerAuth>>,
}

/// The `/authz` router.
pub fn router(auth: ForwardAuth) -> Router {
    Router::new()
        .route("/authz", any(authz))
        .with_state(Arc::new(auth))
}

/// Serves `router` on every guarded connection of `incoming` (HTTP/1.1, or
/// HTTP/2 with prior knowledge), with the listener's header bound, until the
/// returned future is dropped.
pub async fn serve<IO>(
    mut incoming: ReceiverStream<io::Result<Guarded<IO>>>,
    router: Router,
    limits: ListenerLimits,
) where
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    ConnInfo<IO::ConnectInfo>: Clone + Send + Sync + 'static,
{
    while let Some(conn) = incoming.next().await {
        let Ok(conn) = conn else { continue };
        let info = conn.connect_info();
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<_>| {
            // What tonic does for the gRPC listeners: the TLS peer
            // certificates and the connection's activity, for the handler.
            request.extensions_mut().insert(info.clone());
            let mut router = router.clone();
            tower_service::Service::call(&mut router, request)
        });
        let header_bytes = limits.max_header_list_bytes;
        tokio::spawn(async move {
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .max_buf_size((header_bytes as usize).max(8192));
            builder.http2().max_header_list_size(header_bytes);
            if let Err(e) = builder.serve_connection(TokioIo::new(conn), service).await {
                tracing::debug!(error = %e, "authz connection closed");
            }
        });
    }
}

const FIELDS: FieldNames = FieldNames {
    method: "X-Forwarded-Method (or X-Original-Method)",
    scheme: "X-Forwarded-Proto",
    host: "X-Forwarded-Host",
};

async fn authz(State(auth): State<Arc<ForwardAuth>>, request: http::Request<Body>) -> Response {
    // The body is not read: the question is the headers and the query.
    let (request, _body) = request.into_parts();
    let _busy = Busy::start(&request.extensions);
    let caller = match authenticate(&auth, &request) {
        Ok(caller) => caller,
        Err(refusal) => return refused(&refusal),
    };
    let log = RpcLog::start("Authz");
    let check = decide(&auth, &request);
    let result = match caller {
        Some(caller) => crate::auth::with_caller(caller, check).await,
        None => check.await,
    };
    match log.decision(result) {
        Ok(Decision::Allow { set, .. }) => {
            let mut response = StatusCode::OK.into_response();
            for (name, value) in set {
                insert(response.headers_mut(), &name, &value);
            }
            response
        }
        Ok(Decision::Deny(http)) => {
            let status = StatusCode::from_u16(http.status).unwrap_or(StatusCode::FORBIDDEN);
            let mut response = (status, http.body).into_response();
            response.headers_mut().clear();
            for (name, value) in &http.headers {
                insert(response.headers_mut(), name, value);
            }
            response
        }
        Err(status) => failure(&status),
    }
}

async fn decide(
    auth: &ForwardAuth,
    request: &Parts,
) -> Result<
    (
        Decision,
        crate::api::Outcome<crate::api::introspection::Response>,
    ),
    crate::api::Error,
> {
    let headers = &request.headers;
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let certificate = match get("x-forwarded-client-cert") {
        Some(xfcc) if auth.options.trust_xfcc => crate::auth::xfcc::client_certificate(&[xfcc])
            .map_err(|reason| crate::api::Error::InvalidArgument {
                field: "X-Forwarded-Client-Cert",
                reason,
            })?,
        _ => None,
    };
    let inbound = Inbound {
        method: get("x-forwarded-method")
            .or_else(|| get("x-original-method"))
            .unwrap_or_default(),
        scheme: get("x-forwarded-proto").unwrap_or_default(),
        host: get("x-forwarded-host").unwrap_or_default(),
        path: get("x-forwarded-uri")
            .or_else(|| get("x-original-uri"))
            .unwrap_or_default(),
        authorization: get("authorization"),
        dpop: get("dpop"),
        certificate,
    };
    let (scopes, resources) = query_lists(request.uri.query().unwrap_or_default());
    let required = Required::parse(Some(&scopes), Some(&resources));
    let input = super::introspection_request(&inbound, &required, &FIELDS)?;
    super::check(auth.backend.as_ref(), &input, &auth.options, Surface::Http).await
}

/// `scopes` and `resources` of the query, form-decoded (`%20` or `+` for a
/// space); repeated keys add to the list.
fn query_lists(query: &str) -> (String, String) {
    let (mut scopes, mut resources) = (String::new(), String::new());
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let list = match key.as_ref() {
            "scopes" => &mut scopes,
            "resources" => &mut resources,
            _ => continue,
        };
        list.push(' ');
        list.push_str(&value);
    }
    (scopes, resources)
}

/// Checks the proxy itself. `Ok(None)` without caller authentication.
fn authenticate(
    auth: &ForwardAuth,
    request: &Parts,
) -> Result<Option<crate::auth::Caller>, Refusal> {
    let Some(caller_auth) = &auth.caller_auth else {
        return Ok(None);
    };
    let path = format!("/{}", super::FORWARD_AUTH_RPC);
    let key = request
        .headers
        .get(CALLER_KEY_HEADER)
        .and_then(|v| v.to_str().ok());
    let bearer = key.map(|k| format!("Bearer {k}"));
    let certs = crate::auth::tls::peer_certs(&request.extensions);
    let presented = Presented {
        path: &path,
        peer_cert: certs.as_ref().and_then(|c| c.first()).map(|c| c.as_ref()),
        xfcc: &[],
        authorization: bearer.as_deref(),
    };
    caller_auth.check(&presented).map(Some)
}

/// The answer to a refused proxy, logged without its credentials. 403:
/// nginx passes only 401 and 403 on, and a 401 would look like the end
/// user's token problem.
fn refused(refusal: &Refusal) -> Response {
    let path = super::FORWARD_AUTH_RPC;
    let why = match refusal {
        Refusal::Unauthenticated(why) => why.clone(),
        Refusal::Denied(caller) => format!("caller `{caller}` may not call {path}"),
    };
    tracing::warn!(rpc = path, outcome = "caller_refused", reason = %why, "authz refused");
    (StatusCode::FORBIDDEN, "the authorizer refused this proxy\n").into_response()
}

/// Authlete could not be asked, or the proxy described the request badly:
/// no OAuth answer, so that no proxy mistakes it for one.
fn failure(status: &tonic::Status) -> Response {
    use tonic::Code;
    let code = match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = match status.code() {
        Code::InvalidArgument => format!("authorizer: {}\n", status.message()),
        _ => "authorizer: Authlete could not be asked\n".to_owned(),
    };
    (code, body).into_response()
}

/// Sets a header; a name or value HTTP cannot carry is dropped (Authlete's
/// values were checked when the response was built).
fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        http::HeaderName::from_bytes(name.as_bytes()),
        http::HeaderValue::from_str(value),
    ) {
        headers.insert(name, value);
    }
}
