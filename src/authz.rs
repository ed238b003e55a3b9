//! The authorizer edges: Envoy's ext_authz over gRPC (`envoy.rs`, on the main
//! listener) and HTTP forward auth for nginx, Caddy and Traefik (`http.rs`,
//! `--authz-http-listen`). Both turn what the proxy asks into the input of
//! [`api::introspection`] and its outcome into an allow or a deny, here, in
//! one pure core; Authlete does the token, scope, resource, DPoP (RFC 9449)
//! and certificate-binding (RFC 8705) checks.
//!
//! Like `grpc/`, this module has no OAuth logic of its own: one RFC 9449
//! normalization (`htu`) and the fact headers are all it adds.

pub mod envoy;
pub mod http;
mod metrics;

use std::sync::Arc;

pub use metrics::AuthzMetrics;

use crate::api::{self, introspection};
use crate::backend::Backend;

/// The policy name of `/authz` (the HTTP forward-auth endpoint), granted like
/// an RPC: `authlete.grpc.ForwardAuth` or `authlete.grpc.ForwardAuth/Authz`.
pub const FORWARD_AUTH_RPC: &str = "authlete.grpc.ForwardAuth/Authz";

/// The policy name of Envoy's `Check` on the main listener.
pub const ENVOY_CHECK_RPC: &str = "envoy.service.auth.v3.Authorization/Check";

/// The RPC names the authorizer edges add to those of `proto/` (their
/// services have no descriptor set in this build): `(service, method)`.
pub const RPCS: &[(&str, &str)] = &[
    ("envoy.service.auth.v3.Authorization", "Check"),
    ("authlete.grpc.ForwardAuth", "Authz"),
];

/// How the authorizers answer. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuthzOptions {
    /// Prefix of the fact headers: `<prefix>subject`, `<prefix>client-id`,
    /// `<prefix>scopes`.
    pub header_prefix: String,
    /// Whether an allowed request loses its `authorization` upstream (Envoy).
    pub remove_authorization: bool,
    /// Whether the `Cert=` of `x-forwarded-client-cert` is the end user's
    /// certificate (`--trust-xfcc`).
    pub trust_xfcc: bool,
    /// Decisions by surface and reason.
    pub metrics: AuthzMetrics,
}

/// The default prefix of the fact headers.
pub const DEFAULT_HEADER_PREFIX: &str = "x-authlete-";

impl Default for AuthzOptions {
    fn default() -> Self {
        Self {
            header_prefix: DEFAULT_HEADER_PREFIX.to_owned(),
            remove_authorization: false,
            trust_xfcc: false,
            metrics: AuthzMetrics::default(),
        }
    }
}

/// The request the proxy is about to forward, as the proxy describes it.
#[derive(Debug, Default)]
pub struct Inbound<'a> {
    pub method: &'a str,
    pub scheme: &'a str,
    /// `host[:port]`.
    pub host: &'a str,
    /// The path, possibly with query and fragment.
    pub path: &'a str,
    /// The `authorization` header.
    pub authorization: Option<&'a str>,
    /// The `dpop` header.
    pub dpop: Option<&'a str>,
    /// The end user's client certificate, PEM.
    pub certificate: Option<String>,
}

/// What the route requires of the token: space-separated lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Required {
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
}

impl Required {
    /// Reads the route's `scopes` and `resources` (space-separated).
    pub fn parse(scopes: Option<&str>, resources: Option<&str>) -> Self {
        let list = |s: Option<&str>| {
            s.unwrap_or_default()
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect()
        };
        Self {
            scopes: list(scopes),
            resources: list(resources),
        }
    }
}

/// The answer for the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Forward the request, setting these headers and removing those.
    Allow {
        set: Vec<(String, String)>,
        remove: Vec<String>,
    },
    /// Answer the end user with this response (Authlete's).
    Deny(crate::http::HttpResponse),
}

/// Which edge decided, for the metrics.
#[derive(Debug, Clone, Copy)]
pub enum Surface {
    Envoy,
    Http,
}

/// The access token of `Bearer <token>` or `DPoP <token>` (RFC 6750, RFC 9449
/// section 7.1), schemes case-insensitive; any other scheme is no token.
pub fn access_token(authorization: Option<&str>) -> &str {
    let Some((scheme, token)) = authorization.and_then(|a| a.trim().split_once(' ')) else {
        return "";
    };
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop") {
        token.trim()
    } else {
        ""
    }
}

/// `htu` as RFC 9449 section 4.3 compares it: the target URI without query
/// and fragment, scheme and host lower-case, the default port removed
/// (RFC 3986 section 6.2.2 and 6.2.3), an empty path as `/`.
pub fn htu(scheme: &str, host: &str, path: &str) -> String {
    let scheme = scheme.to_ascii_lowercase();
    let mut host = host.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => Some(":443"),
        "http" => Some(":80"),
        _ => None,
    };
    if let Some(port) = default_port
        && host.ends_with(port)
    {
        host.truncate(host.len() - port.len());
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = if path.is_empty() { "/" } else { path };
    format!("{scheme}://{host}{path}")
}

/// The input of `/auth/introspection` for `inbound` and `required`. `htm` and
/// `htu` are sent with a DPoP proof only; a proof without the method, scheme
/// or host the proxy should have described is the proxy's misconfiguration,
/// named as `field_names` gives it.
pub fn introspection_request(
    inbound: &Inbound<'_>,
    required: &Required,
    field_names: &FieldNames,
) -> Result<introspection::Request, api::Error> {
    let mut request = introspection::Request {
        token: access_token(inbound.authorization).to_owned(),
        scopes: required.scopes.clone(),
        resources: required.resources.clone(),
        client_certificate: inbound.certificate.clone().unwrap_or_default(),
        ..Default::default()
    };
    if let Some(proof) = inbound.dpop.filter(|p| !p.is_empty()) {
        for (value, field) in [
            (inbound.method, field_names.method),
            (inbound.scheme, field_names.scheme),
            (inbound.host, field_names.host),
        ] {
            if value.is_empty() {
                return Err(api::Error::InvalidArgument {
                    field,
                    reason: "is needed to check the DPoP proof (htm, htu)".to_owned(),
                });
            }
        }
        request.dpop = proof.to_owned();
        request.htm = inbound.method.to_ascii_uppercase();
        request.htu = htu(inbound.scheme, inbound.host, inbound.path);
    }
    Ok(request)
}

/// How an edge names the method, scheme and host in its errors.
#[derive(Debug, Clone, Copy)]
pub struct FieldNames {
    pub method: &'static str,
    pub scheme: &'static str,
    pub host: &'static str,
}

/// Asks Authlete (through every backend decorator) and decides.
pub async fn check(
    backend: &dyn Backend,
    request: &introspection::Request,
    options: &AuthzOptions,
    surface: Surface,
) -> Result<(Decision, api::Outcome<introspection::Response>), api::Error> {
    let result = introspection::introspection(backend, request).await;
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            options.metrics.failed(surface);
            return Err(e);
        }
    };
    let (decision, reason) = decide(
        &outcome,
        &options.header_prefix,
        options.remove_authorization,
    );
    options.metrics.decided(surface, &decision, reason);
    Ok((decision, outcome))
}

/// OK allows with the token's facts; every other action denies with
/// Authlete's response. A request without a token gets the 401 challenge:
/// `api::introspection` answers it with jaxrs's 400 without calling
/// Authlete, but a proxy's authorizer answers a request lacking credentials
/// with 401, as RFC 6750 section 3.1 says.
fn decide(
    outcome: &api::Outcome<introspection::Response>,
    prefix: &str,
    remove_authorization: bool,
) -> (Decision, &'static str) {
    use crate::action::ResourceAction as A;
    let body = &outcome.body;
    let reason = match &body.action {
        A::Ok => return (allow(body, prefix, remove_authorization), "ok"),
        _ if outcome.authlete_status.is_none() => {
            let challenge = introspection::MISSING_TOKEN_CHALLENGE;
            let http =
                crate::http::HttpResponse::new(401).with_header("WWW-Authenticate", challenge);
            return (Decision::Deny(http), "missing_token");
        }
        A::Unauthorized => "unauthorized",
        A::Forbidden => "forbidden",
        A::BadRequest => "bad_request",
        A::InternalServerError => "internal_server_error",
        A::Unknown(_) => "unknown_action",
    };
    let http = outcome
        .http
        .clone()
        .unwrap_or_else(crate::http::HttpResponse::unknown_action);
    (Decision::Deny(http), reason)
}

/// The fact headers. A fact the token lacks (no subject for client
/// credentials) is removed, so that the end user cannot supply it.
fn allow(body: &introspection::Response, prefix: &str, remove_authorization: bool) -> Decision {
    let facts = [
        ("subject", body.subject.clone()),
        ("client-id", client_id(body)),
        ("scopes", body.scopes.join(" ")),
    ];
    let (mut set, mut remove) = (Vec::new(), Vec::new());
    for (name, value) in facts {
        let name = format!("{prefix}{name}");
        if value.is_empty() {
            remove.push(name);
        } else {
            set.push((name, value));
        }
    }
    if remove_authorization {
        remove.push("authorization".to_owned());
    }
    Decision::Allow { set, remove }
}

/// The client ID as the client used it: its alias when it used one.
fn client_id(body: &introspection::Response) -> String {
    if body.client_id_alias_used && !body.client_id_alias.is_empty() {
        body.client_id_alias.clone()
    } else if body.client_id != 0 {
        body.client_id.to_string()
    } else {
        String::new()
    }
}

/// The backend an edge answers through.
pub type SharedBackend = Arc<dyn Backend>;

#[cfg(test)]
mod tests;
