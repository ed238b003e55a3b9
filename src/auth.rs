//! Who may call: caller authentication and per-caller permissions, checked in
//! front of every service (a tower layer around the router), before anything
//! reaches the backend.
//!
//! A caller is identified by, in this order: its verified TLS client
//! certificate (mTLS), the `x-forwarded-client-cert` header of a trusted
//! sidecar (only when enabled), or a bearer caller key in `authorization`.
//! The [`Policy`] then says which services or RPCs that identity may call.
//! Health checks and reflection stay open.
//!
//! Like `grpc/`, this module knows tonic: it answers refused calls itself,
//! with `google.rpc.ErrorInfo` details.

mod identity;
pub mod keys;
pub mod options;
pub mod policy;
pub mod tls;
pub mod xfcc;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub use identity::Source;
pub use keys::CallerKeys;
pub use policy::Policy;
pub use xfcc::XfccTrust;

use crate::grpc::ERROR_DOMAIN;

/// How callers are authenticated and what they may call. Without it
/// (`ServerOptions::caller_auth` = `None`) every caller may call everything.
#[derive(Debug, Clone)]
pub struct CallerAuth {
    /// Bearer caller keys (hashes) and the identity of each.
    pub keys: CallerKeys,
    /// Whether to trust `x-forwarded-client-cert` from a sidecar, and how.
    pub xfcc: Option<XfccTrust>,
    /// What each identity may call.
    pub policy: Policy,
}

/// How a caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A TLS client certificate verified against the client CA.
    Certificate,
    /// The `x-forwarded-client-cert` header of a trusted sidecar.
    Xfcc,
    /// A bearer caller key.
    Key,
}

impl Via {
    /// The name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Certificate => "certificate",
            Via::Xfcc => "xfcc",
            Via::Key => "key",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Its identity with its source (see [`Source`]): `key:` a key's name,
    /// or `uri:`/`dns:`/`cn:` a certificate's URI SAN, DNS SAN or CN.
    pub name: Arc<str>,
    /// How it was authenticated.
    pub via: Via,
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

tokio::task_local! {
    static CALLER: Caller;
}

/// The caller of the RPC being served, for its log line (`None` without
/// caller authentication, or outside an RPC).
pub fn current_caller() -> Option<Caller> {
    CALLER.try_with(Caller::clone).ok()
}

/// Runs `f` as an RPC of `caller`, for surfaces that check callers outside
/// [`CallerAuthLayer`] (the HTTP forward-auth listener).
pub async fn with_caller<F: Future>(caller: Caller, f: F) -> F::Output {
    CALLER.scope(caller, f).await
}

/// Paths that stay open to everyone: health checks and server reflection.
fn is_open(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        || path.starts_with("/grpc.reflection.v1alpha.ServerReflection/")
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials, or credentials that do not authenticate anybody.
    Unauthenticated(String),
    /// An authenticated caller outside its grant.
    Denied(Caller),
}

/// What a request carries that can identify its caller.
#[derive(Debug, Default, Clone, Copy)]
pub struct Presented<'a> {
    /// The `:path` (`/package.Service/Method`).
    pub path: &'a str,
    /// The end-entity certificate the TLS layer verified, if any (DER).
    pub peer_cert: Option<&'a [u8]>,
    /// Every `x-forwarded-client-cert` header line, in order (a line that
    /// is not visible ASCII as an empty one, which fails to parse).
    pub xfcc: &'a [&'a str],
    /// The `authorization` header.
    pub authorization: Option<&'a str>,
}

impl CallerAuth {
    /// Authenticates the caller of `presented.path` and checks its grant.
    pub fn check(&self, presented: &Presented<'_>) -> Result<Caller, Refusal> {
        let caller = self.authenticate(presented)?;
        if self.policy.allows(&caller.name, presented.path) {
            Ok(caller)
        } else {
            Err(Refusal::Denied(caller))
        }
    }

    fn authenticate(&self, p: &Presented<'_>) -> Result<Caller, Refusal> {
        let unauthenticated = |s: &str| Err(Refusal::Unauthenticated(s.to_owned()));
        if let Some(der) = p.peer_cert {
            return match tls::identity(der) {
                Some(name) => Ok(Caller {
                    name: name.into(),
                    via: Via::Certificate,
                }),
                None => unauthenticated(
                    "the client certificate names no identity (no URI SAN, DNS SAN or subject CN)",
                ),
            };
        }
        if let Some(trust) = &self.xfcc
            && !p.xfcc.is_empty()
        {
            return match trust.identity(p.xfcc) {
                Ok(name) => Ok(Caller {
                    name: name.into(),
                    via: Via::Xfcc,
                }),
                Err(why) => Err(Refusal::Unauthenticated(format!(
                    "x-forwarded-client-cert: {why}"
                ))),
            };
        }
        let Some(authorization) = p.authorization else {
            return unauthenticated(
                "no caller credentials: present a client certificate or `authorization: Bearer <caller key>`",
            );
        };
        let Some(key) = bearer(authorization) else {
            return unauthenticated("the authorization metadata is not `Bearer <caller key>`");
        };
        match self.keys.identify(key) {
            Some(name) => Ok(Caller {
                name,
                via: Via::Key,
            }),
            None => unauthenticated("the caller key is not recognised"),
        }
    }
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let key = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

impl Refusal {
    /// The gRPC status of the refusal, with `google.rpc.ErrorInfo`.
    pub fn to_status(&self, path: &str) -> Status {
        let mut metadata = HashMap::from([("rpc".to_owned(), path.to_owned())]);
        match self {
            Refusal::Unauthenticated(why) => {
                let details =
                    ErrorDetails::with_error_info("CALLER_UNAUTHENTICATED", ERROR_DOMAIN, metadata);
                Status::with_error_details(
                    Code::Unauthenticated,
                    format!("caller not authenticated: {why}"),
                    details,
                )
            }
            Refusal::Denied(caller) => {
                metadata.insert("caller".to_owned(), caller.name.to_string());
                let details =
                    ErrorDetails::with_error_info("CALLER_NOT_PERMITTED", ERROR_DOMAIN, metadata);
                Status::with_error_details(
                    Code::PermissionDenied,
                    format!("caller `{caller}` may not call {path}"),
                    details,
                )
            }
        }
    }
}

// ---------------------------------------------------------------- the layer

/// The tower layer that checks every call before the router sees it.
#[derive(Debug, Clone)]
pub struct CallerAuthLayer {
    auth: Option<Arc<CallerAuth>>,
}

impl CallerAuthLayer {
    /// Checks calls with `auth`; `None` lets every call through.
    pub fn new(auth: Option<Arc<CallerAuth>>) -> Self {
        Self { auth }
    }
}

impl<S> tower_layer::Layer<S> for CallerAuthLayer {
    type Service = CallerAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallerAuthService {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service [`CallerAuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct CallerAuthService<S> {
    inner: S,
    auth: Option<Arc<CallerAuth>>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower_service::Service<http::Request<B>> for CallerAuthService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Some(auth) = self.auth.as_ref() else {
            return Box::pin(self.inner.call(request));
        };
        let path = request.uri().path();
        if is_open(path) {
            return Box::pin(self.inner.call(request));
        }
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        let peer_certs = tls::peer_certs(request.extensions());
        let xfcc: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-client-cert")
            .iter()
            .map(|v| v.to_str().unwrap_or_default())
            .collect();
        let presented = Presented {
            path,
            peer_cert: peer_certs
                .as_ref()
                .and_then(|c| c.first())
                .map(|c| c.as_ref()),
            xfcc: &xfcc,
            authorization: header("authorization"),
        };
        match auth.check(&presented) {
            Ok(caller) => Box::pin(CALLER.scope(caller, self.inner.call(request))),
            Err(refusal) => {
                // The audit line of a refused call; never the credentials.
                match &refusal {
                    Refusal::Unauthenticated(why) => {
                        crate::metrics::caller_refused("unauthenticated");
                        tracing::warn!(rpc = path, outcome = "unauthenticated", reason = %why, "rpc refused");
                    }
                    Refusal::Denied(caller) => {
                        crate::metrics::caller_refused("permission_denied");
                        tracing::warn!(
                            rpc = path,
                            caller = %caller,
                            via = caller.via.as_str(),
                            outcome = "permission_denied",
                            "rpc refused"
                        );
                    }
                }
                let response = refusal.to_status(path).into_http();
                Box::pin(std::future::ready(Ok(response)))
            }
        }
    }
}

#[cfg(test)]
mod tests;
