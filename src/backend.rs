//! The seam between the service and whatever answers Authlete's Core APIs.
//!
//! A [`Backend`] takes one Authlete API call (which API, query, JSON body) and
//! returns Authlete's JSON reply. The `authlete` implementation talks HTTP to
//! Authlete; tests plug in fakes. Nothing above this module knows URLs,
//! credentials or HTTP clients.

mod authlete;
mod breaker;
mod cached;
mod introspection_cache;
pub mod local;
mod metered;
mod resilience_metrics;
mod resilient;

pub use authlete::{ApiVersion, AuthleteBackend, AuthleteSettings, DEFAULT_MAX_REPLY_BYTES};
pub use breaker::BreakerOptions;
pub use cached::{CacheOptions, Cached};
pub use introspection_cache::{
    IntrospectionCache, IntrospectionCacheMetrics, IntrospectionCacheOptions,
};
pub use local::LocalBackend;
pub use metered::Metered;
pub use resilience_metrics::{ApiLabel, ResilienceMetrics};
pub use resilient::{ResilienceOptions, Resilient};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future, so that [`Backend`] can be used as `Arc<dyn Backend>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that answers Authlete's Core APIs.
pub trait Backend: Send + Sync + 'static {
    /// Performs one API call. `Ok` means Authlete answered 2xx with a body;
    /// any other outcome is an error.
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>>;
}

/// One call to an Authlete API. Equal calls get equal answers from the
/// cacheable APIs, so the whole call is the cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Call {
    /// The API.
    pub api: Api,
    /// Query parameters (GET and DELETE APIs), and the path parameter of the
    /// APIs that have one (named by [`Api::path_parameter`]).
    pub query: Vec<(&'static str, String)>,
    /// The JSON request body (POST APIs only).
    pub body: Option<Vec<u8>>,
}

/// Authlete's reply to a successful call.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The response body: JSON text.
    pub body: String,
    /// Authlete's `Request-Id` response header, for support requests.
    pub request_id: Option<String>,
}

/// How a call to Authlete failed. None of the variants carries credentials or
/// the request body, so they are safe to log and to return to callers.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// Authlete could not be reached (DNS, connection refused, TLS): nothing
    /// of the request was sent.
    #[error("cannot connect to Authlete for {api}: {detail}")]
    Connect { api: &'static str, detail: String },
    /// Calls to Authlete fail fast for a while after repeated connection
    /// failures or timeouts (the circuit breaker is open).
    #[error("Authlete is unreachable (recent calls failed); {api} not attempted, retry in {} ms", .retry_after.as_millis())]
    CircuitOpen {
        api: &'static str,
        retry_after: Duration,
    },
    /// Authlete did not answer within the request timeout.
    #[error("Authlete did not answer {api} within {timeout_ms} ms")]
    Timeout { api: &'static str, timeout_ms: u64 },
    /// The caller's deadline ran out before Authlete answered; the call to
    /// Authlete was abandoned.
    #[error("the caller's deadline ran out before Authlete answered {api}")]
    DeadlineExceeded { api: &'static str },
    /// The connection broke after the request was sent and before the whole
    /// reply arrived: Authlete may have acted on the request.
    #[error("the connection to Authlete broke before the reply to {api} was complete: {detail}")]
    ConnectionLost { api: &'static str, detail: String },
    /// Authlete answered with a non-2xx status.
    #[error(
        "Authlete answered {api} with HTTP {status}{}",
        describe_result(result_code, result_message)
    )]
    Status {
        api: &'static str,
        status: u16,
        result_code: Option<String>,
        result_message: Option<String>,
        request_id: Option<String>,
        /// Authlete's `Retry-After` (429 and 503).
        retry_after: Option<Duration>,
    },
    /// Authlete redirected the call (only `/service/jwks/get` does this, when
    /// the service hosts its JWK Set at a `jwks_uri`).
    #[error("Authlete redirected {api} to {location}")]
    Redirect {
        api: &'static str,
        location: String,
        request_id: Option<String>,
    },
    /// Authlete's reply is not HTTP, is larger than the reply bound, or is
    /// not the JSON the API documents.
    #[error("unreadable reply from Authlete for {api}: {detail}")]
    Decode {
        api: &'static str,
        detail: String,
        request_id: Option<String>,
    },
    /// The call failed in some other way: the request could not be built, or
    /// the local engine hit an internal fault.
    #[error("call to Authlete {api} failed: {detail}")]
    Other { api: &'static str, detail: String },
    /// The backend does not implement this API (the local engine answers
    /// only the APIs it documents).
    #[error("the local engine does not implement {api}; use the authlete backend for it")]
    Unsupported { api: &'static str },
}

fn describe_result(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!(" ({c}: {m})"),
        (Some(c), None) => format!(" ({c})"),
        (None, Some(m)) => format!(" ({m})"),
        (None, None) => String::new(),
    }
}

impl BackendError {
    /// The stable `ErrorInfo.reason` of the failure (README, "Errors").
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Connect { .. } | Self::CircuitOpen { .. } => "AUTHLETE_UNREACHABLE",
            Self::Timeout { .. } => "AUTHLETE_TIMEOUT",
            Self::DeadlineExceeded { .. } => "DEADLINE_EXCEEDED",
            Self::ConnectionLost { .. } => "AUTHLETE_CONNECTION_LOST",
            Self::Status { status: 400, .. } => "AUTHLETE_BAD_REQUEST",
            Self::Status {
                status: 401 | 403, ..
            } => "AUTHLETE_CREDENTIALS_REJECTED",
            Self::Status { status: 429, .. } => "AUTHLETE_RATE_LIMITED",
            Self::Status { status, .. } if *status >= 500 => "AUTHLETE_SERVER_ERROR",
            Self::Status { .. } => "AUTHLETE_HTTP_ERROR",
            Self::Redirect { .. } => "AUTHLETE_UNEXPECTED_REDIRECT",
            Self::Decode { .. } => "AUTHLETE_BAD_REPLY",
            Self::Other { .. } => "AUTHLETE_CALL_FAILED",
            Self::Unsupported { .. } => "LOCAL_ENGINE_UNSUPPORTED",
        }
    }

    /// The HTTP status Authlete answered with, when it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The Authlete API (its path) the failed call was for.
    pub fn api(&self) -> &'static str {
        match self {
            Self::Connect { api, .. }
            | Self::CircuitOpen { api, .. }
            | Self::Timeout { api, .. }
            | Self::DeadlineExceeded { api }
            | Self::ConnectionLost { api, .. }
            | Self::Status { api, .. }
            | Self::Redirect { api, .. }
            | Self::Decode { api, .. }
            | Self::Other { api, .. }
            | Self::Unsupported { api } => api,
        }
    }

    /// Whether Authlete is (for now) unavailable: the failures a stale cache
    /// entry may stand in for, and that callers may retry later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Connect { .. }
            | Self::CircuitOpen { .. }
            | Self::Timeout { .. }
            | Self::ConnectionLost { .. } => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// When the caller may try again: Authlete's `Retry-After`, or how long
    /// the circuit breaker stays open.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            Self::CircuitOpen { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Authlete's `Request-Id`, when the failure came with one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Status { request_id, .. }
            | Self::Decode { request_id, .. }
            | Self::Redirect { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

/// HTTP method of an Authlete API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

macro_rules! apis {
    ($($(#[$doc:meta])* $variant:ident => $method:ident $path:literal,)+) => {
        /// The Authlete Core APIs this service calls.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Api {
            $($(#[$doc])* $variant,)+
        }

        impl Api {
            /// Every API, for tests and documentation.
            pub const ALL: &'static [Api] = &[$(Api::$variant,)+];

            /// The path below `/api` (v2) or `/api/{serviceId}` (v3).
            pub fn path(self) -> &'static str {
                match self { $(Api::$variant => $path,)+ }
            }

            /// The HTTP method.
            pub fn method(self) -> Method {
                match self { $(Api::$variant => Method::$method,)+ }
            }

            /// The parameter of [`Call::query`] that is the last segment of
            /// the path rather than a query parameter.
            pub fn path_parameter(self) -> Option<&'static str> {
                match self {
                    Api::TokenDelete => Some("accessTokenIdentifier"),
                    _ => None,
                }
            }
        }
    };
}

apis! {
    /// `/auth/authorization`
    Authorization => Post "/auth/authorization",
    /// `/auth/authorization/issue`
    AuthorizationIssue => Post "/auth/authorization/issue",
    /// `/auth/authorization/fail`
    AuthorizationFail => Post "/auth/authorization/fail",
    /// `/pushed_auth_req`
    PushedAuthorization => Post "/pushed_auth_req",
    /// `/auth/token`
    Token => Post "/auth/token",
    /// `/auth/token/issue`
    TokenIssue => Post "/auth/token/issue",
    /// `/auth/token/fail`
    TokenFail => Post "/auth/token/fail",
    /// `/auth/token/create` (tokens minted for token exchange and JWT bearer grants)
    TokenCreate => Post "/auth/token/create",
    /// `/auth/token/update`
    TokenUpdate => Post "/auth/token/update",
    /// `/auth/token/revoke`
    TokenRevoke => Post "/auth/token/revoke",
    /// `/auth/token/get/list`
    TokenList => Get "/auth/token/get/list",
    /// `/auth/token/delete/{accessTokenIdentifier}`
    TokenDelete => Delete "/auth/token/delete",
    /// `/idtoken/reissue`
    IdTokenReissue => Post "/idtoken/reissue",
    /// `/nativesso`
    NativeSso => Post "/nativesso",
    /// `/auth/introspection`
    Introspection => Post "/auth/introspection",
    /// `/auth/introspection/standard`
    StandardIntrospection => Post "/auth/introspection/standard",
    /// `/auth/revocation`
    Revocation => Post "/auth/revocation",
    /// `/auth/userinfo`
    UserInfo => Post "/auth/userinfo",
    /// `/auth/userinfo/issue`
    UserInfoIssue => Post "/auth/userinfo/issue",
    /// `/service/configuration`
    ServiceConfiguration => Get "/service/configuration",
    /// `/service/jwks/get`
    ServiceJwks => Get "/service/jwks/get",
    /// `/backchannel/authentication` (CIBA)
    BackchannelAuthentication => Post "/backchannel/authentication",
    /// `/backchannel/authentication/issue`
    BackchannelAuthenticationIssue => Post "/backchannel/authentication/issue",
    /// `/backchannel/authentication/fail`
    BackchannelAuthenticationFail => Post "/backchannel/authentication/fail",
    /// `/backchannel/authentication/complete`
    BackchannelAuthenticationComplete => Post "/backchannel/authentication/complete",
    /// `/device/authorization` (RFC 8628)
    DeviceAuthorization => Post "/device/authorization",
    /// `/device/verification`
    DeviceVerification => Post "/device/verification",
    /// `/device/complete`
    DeviceComplete => Post "/device/complete",
    /// `/client/registration` (RFC 7591)
    ClientRegistration => Post "/client/registration",
    /// `/client/registration/get` (RFC 7592)
    ClientRegistrationGet => Post "/client/registration/get",
    /// `/client/registration/update`
    ClientRegistrationUpdate => Post "/client/registration/update",
    /// `/client/registration/delete`
    ClientRegistrationDelete => Post "/client/registration/delete",
    /// `/gm` (FAPI Grant Management)
    GrantManagement => Post "/gm",
    /// `/nativesso/logout`
    NativeSsoLogout => Post "/nativesso/logout",
    /// `/federation/configuration` (OpenID Federation entity configuration)
    FederationConfiguration => Post "/federation/configuration",
    /// `/federation/registration` (OpenID Federation explicit registration)
    FederationRegistration => Post "/federation/registration",
    /// `/auth/authorization/ticket/info`
    AuthorizationTicketInfo => Post "/auth/authorization/ticket/info",
    /// `/auth/authorization/ticket/update`
    AuthorizationTicketUpdate => Post "/auth/authorization/ticket/update",
    /// `/vci/metadata` (OpenID4VCI)
    CredentialIssuerMetadata => Post "/vci/metadata",
    /// `/vci/jwtissuer` (OpenID4VCI)
    CredentialJwtIssuerMetadata => Post "/vci/jwtissuer",
    /// `/vci/jwks` (OpenID4VCI)
    CredentialIssuerJwks => Post "/vci/jwks",
    /// `/vci/nonce` (OpenID4VCI)
    CredentialNonce => Post "/vci/nonce",
    /// `/vci/offer/create` (OpenID4VCI)
    CredentialOfferCreate => Post "/vci/offer/create",
    /// `/vci/offer/info` (OpenID4VCI)
    CredentialOfferInfo => Post "/vci/offer/info",
    /// `/vci/single/parse` (OpenID4VCI)
    CredentialSingleParse => Post "/vci/single/parse",
    /// `/vci/single/issue` (OpenID4VCI)
    CredentialSingleIssue => Post "/vci/single/issue",
    /// `/vci/batch/parse` (OpenID4VCI)
    CredentialBatchParse => Post "/vci/batch/parse",
    /// `/vci/batch/issue` (OpenID4VCI)
    CredentialBatchIssue => Post "/vci/batch/issue",
    /// `/vci/deferred/parse` (OpenID4VCI)
    CredentialDeferredParse => Post "/vci/deferred/parse",
    /// `/vci/deferred/issue` (OpenID4VCI)
    CredentialDeferredIssue => Post "/vci/deferred/issue",
    /// `/backchannel/logout/token` (OpenID Connect Back-Channel Logout; in
    /// Authlete's Java library, not in the OpenAPI spec)
    BackchannelLogoutToken => Post "/backchannel/logout/token",
    /// `/attestation/challenge` (attestation-based client authentication; in
    /// Authlete's Java library, not in the OpenAPI spec)
    AttestationChallenge => Post "/attestation/challenge",
}

/// The one list of the APIs that may be repeated or cached (design.md:
/// only idempotent Authlete APIs are cached or retried).
impl Api {
    /// Why a call to this API may be repeated (retried) without changing
    /// anything at Authlete; `None` for every API that consumes or issues
    /// something (codes, tickets, tokens, nonces, clients), which is never retried.
    pub fn idempotent_because(self) -> Option<&'static str> {
        match self {
            Api::ServiceConfiguration | Api::ServiceJwks => {
                Some("reads the service's metadata and keys")
            }
            Api::CredentialIssuerMetadata
            | Api::CredentialJwtIssuerMetadata
            | Api::CredentialIssuerJwks => Some("reads the credential issuer's metadata and keys"),
            Api::Introspection | Api::StandardIntrospection => {
                Some("reads a token's state; introspection changes nothing")
            }
            Api::AuthorizationTicketInfo => Some("reads a ticket without using it"),
            Api::TokenList => Some("lists tokens"),
            Api::ClientRegistrationGet => Some("reads a client's metadata"),
            Api::FederationConfiguration => Some("reads the entity configuration"),
            // `/gm` also revokes grants: only its queries are repeated (see
            // `Call::idempotent`).
            _ => None,
        }
    }

    /// Whether answers of this API are cached: side-effect-free reads whose
    /// answer depends only on the call (query and body) and the service's
    /// configuration, which changes rarely. (`/auth/introspection` has a
    /// cache of its own, `IntrospectionCache`: its answers change when a token
    /// expires or is revoked.)
    pub fn cacheable(self) -> bool {
        matches!(
            self,
            Api::ServiceConfiguration
                | Api::ServiceJwks
                | Api::CredentialIssuerMetadata
                | Api::CredentialJwtIssuerMetadata
                | Api::CredentialIssuerJwks
        )
    }
}

impl Call {
    /// Whether this call may be retried: its API is idempotent, or it is a
    /// grant management query (`gmAction` `QUERY`; `REVOKE` is not repeated).
    pub fn idempotent(&self) -> bool {
        if self.api == Api::GrantManagement {
            return self.body.as_deref().is_some_and(|body| {
                serde_json::from_slice::<serde_json::Value>(body)
                    .is_ok_and(|v| v["gmAction"] == "QUERY")
            });
        }
        self.api.idempotent_because().is_some()
    }
}
