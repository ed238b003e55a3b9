//! The local engine: an offline backend that answers Authlete's Core APIs in
//! process, with Authlete's JSON shapes and semantics, so that the service
//! runs with no Authlete account and tests can run real OAuth flows.
//!
//! It receives the JSON bodies the `authlete` backend would send and returns
//! the JSON Authlete would. It knows nothing of the layers above the
//! [`Backend`] trait. docs/local-engine.md says what it supports.

mod alg;
mod authorization;
mod authz_issue;
mod authz_request;
mod ciba;
mod ciba_client;
mod ciba_grant;
mod ciba_hint;
mod ciba_user;
mod claims;
mod client;
mod client_assertion;
mod client_auth;
mod client_config;
mod client_keys;
mod clock;
mod config;
mod device;
mod device_grant;
mod device_user;
mod discovery;
mod dpop;
mod dpop_state;
pub mod http;
mod idtoken;
mod introspection;
mod jws;
mod jwt;
mod jwt_at;
mod jwt_bearer;
mod jwt_trust;
mod keys;
mod mtls;
mod par;
mod params;
mod redirect;
mod registered;
mod registration;
mod registration_json;
mod registration_meta;
mod replay;
mod reply;
mod request_object;
mod revocation;
mod store;
mod token;
mod token_exchange;
mod token_grants;
mod token_list;
mod token_manage;
mod token_more;
mod userinfo;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    ClientConfig, DpopConfig, Endpoints, HttpApiConfig, JwtIssuerConfig, Lifetimes, LocalConfig,
    RegistrationConfig, ScopeConfig, Signing,
};
pub use keys::{Algorithm, SigningKey};

use super::{Api, Backend, BackendError, BoxFuture, Call, Reply};
use client::Registry;
use reply::{Fault, Obj};
use store::{Store, sweeper};

/// The offline engine. Share it behind an `Arc`.
pub struct LocalBackend {
    config: LocalConfig,
    scopes: Vec<ScopeConfig>,
    claims_supported: Vec<String>,
    clients: Registry,
    keys: keys::KeyRing,
    store: Arc<Store>,
    dpop: dpop_state::DpopState,
    /// Client assertion `jti`s seen (RFC 7523 §3 item 7).
    assertions: replay::ReplayCache,
    /// RFC 9068 engine-wide: JWT access tokens signed with this.
    access_token_alg: Option<Algorithm>,
    /// The issuers of JWT bearer assertions and their keys (RFC 7523).
    trusted: jwt_trust::Trusted,
    clock: Arc<dyn Clock>,
    http: http::Credentials,
}

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets live in the clients and credentials: never printed.
        f.debug_struct("LocalBackend")
            .field("issuer", &self.config.issuer)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl LocalBackend {
    /// An engine on the wall clock, with the key from the configuration
    /// (or a generated one).
    pub fn new(config: LocalConfig) -> Result<Self, String> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// An engine on the given clock (tests and benchmarks move time by hand).
    pub fn with_clock(config: LocalConfig, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let key = match &config.signing.key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the signing key {path}: {e}"))?;
                SigningKey::from_pem(&text, config.signing.algorithm)
                    .map_err(|e| format!("signing key {path}: {e}"))?
            }
            None => SigningKey::generate(config.signing.algorithm)?,
        };
        Self::with_key(config, clock, key)
    }

    /// An engine with the given default key (and a generated key for each
    /// other algorithm).
    pub fn with_key(
        config: LocalConfig,
        clock: Arc<dyn Clock>,
        key: SigningKey,
    ) -> Result<Self, String> {
        config.check()?;
        let mut config = config;
        // Only the initial access token's hash is kept from here on.
        let initial_token = config.registration.initial_access_token.take();
        let clients = Registry::build(&config.clients, &config.issuer)?
            .with_dynamic(registered::Dynamic::new(initial_token.as_deref()));
        let http = http::Credentials::from_config(&config.http_api)?;
        let trusted = jwt_trust::Trusted::from_config(&config.jwt_bearer_issuers, &config.issuer)?;
        Ok(Self {
            scopes: config.scopes_in_force(),
            claims_supported: config.claims_in_force(),
            store: sweeper(Store::new(config.store_limits()), clock.clone()),
            dpop: dpop_state::DpopState::new(&config.dpop),
            assertions: replay::ReplayCache::new(
                config.client_assertion_max_replay_entries,
                "client assertions (client_assertion_max_replay_entries)",
            ),
            access_token_alg: match config.access_token_sign_alg.as_deref() {
                None | Some("") => None,
                Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
                    format!(
                        "access_token_sign_alg `{name}` is not one of {}",
                        Algorithm::names()
                    )
                })?),
            },
            clients,
            trusted,
            keys: keys::KeyRing::around(key),
            clock,
            http,
            config,
        })
    }

    /// What to print at startup: the issuer, the key, and the clients, with
    /// a secret only when it was generated here (never an operator's).
    pub fn startup_summary(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "issuer {}; ID tokens signed with {} (kid {}) unless a client asks for another of {}",
            self.config.issuer,
            self.keys.default_key().alg().name(),
            self.keys.default_key().kid(),
            self.keys.algs().join(", ")
        )];
        for c in self.clients.all() {
            let secret = match (&c.secret, c.secret_generated) {
                (None, _) => "public (no secret)".to_owned(),
                (Some(s), true) => format!("client_secret {s} (generated)"),
                (Some(_), false) => "client_secret as configured".to_owned(),
            };
            lines.push(format!(
                "client_id {} (clientId {}): {secret}; grant types: {}; redirect URIs: {}",
                c.client_id(),
                c.id,
                c.grant_types.join(" "),
                c.redirect_uris.join(" ")
            ));
        }
        if self.config.registration.enabled {
            let gate = match self.clients.dynamic().initial_token() {
                Some(_) => "an initial access token required",
                None => "open to anyone",
            };
            lines.push(format!(
                "dynamic client registration at {} ({gate}; at most {} clients)",
                self.config.endpoint(&self.config.endpoints.registration),
                self.config.registration.max_clients
            ));
        }
        lines
    }

    /// The credentials the HTTP-served API accepts.
    pub fn http_credentials(&self) -> &http::Credentials {
        &self.http
    }

    /// How many tickets, codes, pushed requests and token records are held.
    pub fn live_objects(&self) -> usize {
        self.store.lock().live()
    }

    /// What the held entries weigh, in bytes (the `max_store_bytes` measure).
    pub fn stored_bytes(&self) -> usize {
        self.store.lock().bytes()
    }

    /// [`Self::live_objects`] by kind (`grant`, `authorization_code`, ...): a
    /// fixed vocabulary, for the metrics gauge.
    pub fn live_objects_by_kind(&self) -> [(&'static str, usize); 9] {
        self.store.lock().counts()
    }

    /// Answers one API call, synchronously.
    pub fn answer(&self, call: &Call) -> Result<Reply, BackendError> {
        let api = call.api;
        if api == Api::TokenDelete {
            // Authlete's one API that answers 204 with no body.
            return match token_manage::delete(self, &call.query) {
                Ok(()) => Ok(Reply {
                    status: 204,
                    body: String::new(),
                    request_id: None,
                }),
                Err(Fault::Caller(message)) => Err(caller_error(api, &message)),
                Err(fault) => Err(BackendError::Other {
                    api: api.path(),
                    detail: fault.message(),
                }),
            };
        }
        let value = match self.dispatch(call) {
            Ok(v) => v,
            Err(Fault::Unsupported) => {
                return Err(BackendError::Unsupported { api: api.path() });
            }
            Err(Fault::Caller(message)) => return Err(caller_error(api, &message)),
            Err(fault) => server_error(api, &fault)?,
        };
        Ok(Reply {
            status: 200,
            body: value.to_string(),
            request_id: None,
        })
    }

    fn dispatch(&self, call: &Call) -> Result<Value, Fault> {
        let body = call.body.as_deref().unwrap_or(b"{}");
        match call.api {
            Api::Authorization => authorization::handle(self, parse(body)?),
            Api::AuthorizationIssue => authz_issue::issue(self, parse(body)?),
            Api::AuthorizationFail => authz_issue::fail(self, parse(body)?),
            Api::PushedAuthorization => par::handle(self, parse(body)?),
            Api::Token => token::handle(self, parse(body)?),
            Api::TokenIssue => token_more::issue(self, parse(body)?),
            Api::TokenFail => token_more::fail(self, parse(body)?),
            Api::TokenCreate => token_more::create(self, parse(body)?),
            Api::TokenUpdate => token_manage::update(self, parse(body)?),
            Api::TokenRevoke => token_manage::revoke(self, parse(body)?),
            Api::TokenList => token_list::list(self, &call.query),
            // Answered by `answer` (no JSON body).
            Api::TokenDelete => Err(Fault::Unsupported),
            Api::Introspection => introspection::handle(self, parse(body)?),
            Api::StandardIntrospection => introspection::standard(self, parse(body)?),
            Api::Revocation => revocation::handle(self, parse(body)?),
            Api::UserInfo => userinfo::handle(self, parse(body)?),
            Api::UserInfoIssue => userinfo::issue(self, parse(body)?),
            Api::ServiceConfiguration => discovery::configuration(self, &call.query),
            Api::ServiceJwks => discovery::jwks(self, &call.query),
            Api::DeviceAuthorization => device::handle(self, parse(body)?),
            Api::DeviceVerification => device_user::verification(self, parse(body)?),
            Api::DeviceComplete => device_user::complete(self, parse(body)?),
            Api::ClientRegistration => registration::register(self, parse(body)?),
            Api::ClientRegistrationGet => registration::get(self, parse(body)?),
            Api::ClientRegistrationUpdate => registration::update(self, parse(body)?),
            Api::ClientRegistrationDelete => registration::delete(self, parse(body)?),
            Api::BackchannelAuthentication => ciba::handle(self, parse(body)?),
            Api::BackchannelAuthenticationIssue => ciba_user::issue(self, parse(body)?),
            Api::BackchannelAuthenticationFail => ciba_user::fail(self, parse(body)?),
            Api::BackchannelAuthenticationComplete => ciba_user::complete(self, parse(body)?),
            // Documented in docs/local-engine.md as needing Authlete.
            Api::IdTokenReissue
            | Api::NativeSso
            | Api::GrantManagement
            | Api::NativeSsoLogout
            | Api::FederationConfiguration
            | Api::FederationRegistration
            | Api::AuthorizationTicketInfo
            | Api::AuthorizationTicketUpdate
            | Api::CredentialIssuerMetadata
            | Api::CredentialJwtIssuerMetadata
            | Api::CredentialIssuerJwks
            | Api::CredentialNonce
            | Api::CredentialOfferCreate
            | Api::CredentialOfferInfo
            | Api::CredentialSingleParse
            | Api::CredentialSingleIssue
            | Api::CredentialBatchParse
            | Api::CredentialBatchIssue
            | Api::CredentialDeferredParse
            | Api::CredentialDeferredIssue
            | Api::BackchannelLogoutToken
            | Api::AttestationChallenge => Err(Fault::Unsupported),
        }
    }

    /// The URL of one of the engine's endpoints.
    fn url(&self, endpoint: impl Fn(&Endpoints) -> &String) -> String {
        self.config.endpoint(endpoint(&self.config.endpoints))
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A lifetime setting (seconds) from now, in epoch milliseconds.
    fn expiry(&self, now: i64, seconds: i64) -> i64 {
        now.saturating_add(seconds.saturating_mul(1000))
    }
}

impl Backend for LocalBackend {
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
        Box::pin(async move { self.answer(&call) })
    }
}

/// Reads a request body. The error names the position only: a serde message
/// may quote a value, which can be a secret.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Fault> {
    serde_json::from_slice(body).map_err(|e| {
        Fault::Caller(format!(
            "The request body is not the JSON this API takes ({:?} error at line {} column {}).",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// Authlete answers a malformed API request with HTTP 400 and a result body.
fn caller_error(api: Api, message: &str) -> BackendError {
    BackendError::Status {
        api: api.path(),
        status: 400,
        result_code: Some(reply::CALLER_ERROR.to_owned()),
        result_message: Some(format!(
            "[{}] {}, {message}",
            reply::CALLER_ERROR,
            api.path()
        )),
        request_id: None,
        retry_after: None,
    }
}

/// An engine failure as the API's INTERNAL_SERVER_ERROR action, with the
/// `responseContent` the API uses (a challenge for protected resources).
fn server_error(api: Api, fault: &Fault) -> Result<Value, BackendError> {
    let code = match fault {
        Fault::Full(_) | Fault::TooLarge(_) => reply::FULL,
        _ => reply::SERVER_ERROR,
    };
    let message = fault.message();
    let action = "INTERNAL_SERVER_ERROR";
    Ok(match api {
        Api::Introspection | Api::UserInfo | Api::UserInfoIssue => {
            reply::bearer_error(action, code, "server_error", &message, None)
        }
        Api::TokenCreate | Api::TokenUpdate => Obj::new(action, code, &message).done(),
        // No `responseContent` in these replies; OpenAPI spells the first
        // action INTERNAL_SERVER_ERROR, the second SERVER_ERROR.
        Api::DeviceVerification => Obj::new(action, code, &message).done(),
        Api::DeviceComplete => Obj::new("SERVER_ERROR", code, &message).done(),
        Api::BackchannelAuthenticationComplete => ciba_user::server_error(code, &message),
        // APIs without an action answer a failure with HTTP 500.
        Api::ServiceConfiguration | Api::ServiceJwks | Api::TokenRevoke | Api::TokenList => {
            return Err(BackendError::Status {
                api: api.path(),
                status: 500,
                result_code: Some(code.to_owned()),
                result_message: Some(reply::described(code, &message)),
                request_id: None,
                retry_after: None,
            });
        }
        _ => reply::json_error(action, code, "server_error", &message),
    })
}
