//! The engine's configuration file (TOML): issuer, endpoints, scopes, claims,
//! lifetimes, PKCE, refresh-token rotation, signing key, clients, and the
//! credentials of the HTTP-served API. Every member is optional; see
//! docs/local-engine.md for the reference.

use serde::Deserialize;

pub use super::client_config::ClientConfig;
pub use super::dpop_state::DpopConfig;
pub use super::jwt_trust::JwtIssuerConfig;
use super::keys::Algorithm;

/// The whole file. `LocalConfig::default()` is what runs with no file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalConfig {
    /// The `iss` of ID tokens and authorization responses.
    pub issuer: String,
    /// Endpoint URLs advertised by `/service/configuration`.
    pub endpoints: Endpoints,
    /// Supported scopes. Empty means the defaults (openid, profile, email,
    /// address, phone, offline_access).
    pub scopes: Vec<ScopeConfig>,
    /// `claims_supported`. Empty means the OpenID Connect standard claims.
    pub claims_supported: Vec<String>,
    /// Lifetimes, in seconds.
    pub lifetimes: Lifetimes,
    /// PKCE for every client (it is always required of public clients).
    pub pkce_required: bool,
    /// Only `S256` is accepted as `code_challenge_method`.
    pub pkce_s256_required: bool,
    /// A refresh replaces the refresh token (the old one stops working).
    pub refresh_token_rotation: bool,
    /// The ID token signing key.
    pub signing: Signing,
    /// At most this many tickets, codes, pushed requests and token records
    /// live at once (expired ones are swept first).
    pub max_live_objects: usize,
    /// At most this many values in one request parameter (space-separated,
    /// or repeated `resource`); more is `invalid_request`.
    pub max_list_values: usize,
    /// At most this many bytes stored for one request (a ticket, pushed
    /// request, code or token record, weighed by its strings); a bigger
    /// authorization or pushed request is refused.
    pub max_request_bytes: usize,
    /// At most this many bytes stored in all (expired entries swept first).
    pub max_store_bytes: usize,
    /// Registered clients. Empty means the two demo clients.
    pub clients: Vec<ClientConfig>,
    /// Credentials of the HTTP-served API (`--local-http-listen`).
    pub http_api: HttpApiConfig,
    /// Dynamic client registration (RFC 7591, RFC 7592).
    pub registration: RegistrationConfig,
    /// DPoP proofs and nonces (RFC 9449).
    pub dpop: DpopConfig,
    /// RFC 9068: every client's access tokens are JWTs signed with this
    /// algorithm (RS256, PS256, ES256, EdDSA); unset: opaque unless the
    /// client has its own `access_token_sign_alg`.
    pub access_token_sign_alg: Option<String>,
    /// A client assertion's `aud` must be the issuer alone, not also the
    /// token endpoint or the endpoint in use (Authlete's
    /// `clientAssertionAudRestrictedToIssuer`; FAPI 2.0).
    pub client_assertion_aud_restricted_to_issuer: bool,
    /// At most this many client assertion `jti`s remembered (each until its
    /// assertion expires); an assertion beyond it is refused with
    /// INTERNAL_SERVER_ERROR until older ones age out.
    pub client_assertion_max_replay_entries: usize,
    /// Seconds a client assertion's `exp` may be ahead of the engine's clock
    /// (its `jti` is remembered that long at most); beyond is INVALID_CLIENT.
    pub client_assertion_max_lifetime: i64,
    /// RFC 7523: the issuers whose assertions the JWT bearer grant accepts.
    pub jwt_bearer_issuers: Vec<JwtIssuerConfig>,
}

impl LocalConfig {
    /// The store's bounds.
    pub(super) fn store_limits(&self) -> super::store::Limits {
        super::store::Limits {
            max_live_objects: self.max_live_objects,
            max_request_bytes: self.max_request_bytes,
            max_store_bytes: self.max_store_bytes,
        }
    }
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8080".to_owned(),
            endpoints: Endpoints::default(),
            scopes: Vec::new(),
            claims_supported: Vec::new(),
            lifetimes: Lifetimes::default(),
            pkce_required: false,
            pkce_s256_required: false,
            refresh_token_rotation: true,
            signing: Signing::default(),
            max_live_objects: 100_000,
            max_list_values: 64,
            max_request_bytes: 64 * 1024,
            max_store_bytes: 256 * 1024 * 1024,
            clients: Vec::new(),
            http_api: HttpApiConfig::default(),
            registration: RegistrationConfig::default(),
            dpop: DpopConfig::default(),
            access_token_sign_alg: None,
            client_assertion_aud_restricted_to_issuer: false,
            client_assertion_max_replay_entries: 100_000,
            client_assertion_max_lifetime: 3600,
            jwt_bearer_issuers: Vec::new(),
        }
    }
}

/// Endpoint URLs: absolute, or paths joined to the issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Endpoints {
    pub authorization: String,
    pub token: String,
    pub userinfo: String,
    pub jwks: String,
    pub revocation: String,
    pub introspection: String,
    pub pushed_authorization_request: String,
    /// RFC 8628 device authorization endpoint.
    pub device_authorization: String,
    /// The `verification_uri` of device authorization responses.
    pub device_verification: String,
    /// The client registration endpoint (advertised when registration is
    /// enabled); `registration_client_uri` is this plus `/{client_id}`.
    pub registration: String,
    /// The CIBA backchannel authentication endpoint (discovery only).
    pub backchannel_authentication: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            authorization: "/authorize".to_owned(),
            token: "/token".to_owned(),
            userinfo: "/userinfo".to_owned(),
            jwks: "/jwks".to_owned(),
            revocation: "/revoke".to_owned(),
            introspection: "/introspect".to_owned(),
            pushed_authorization_request: "/par".to_owned(),
            device_authorization: "/device_authorization".to_owned(),
            device_verification: "/device".to_owned(),
            registration: "/register".to_owned(),
            backchannel_authentication: "/backchannel".to_owned(),
        }
    }
}

/// A supported scope.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Granted when a request has no `scope` (Authlete's `defaultEntry`).
    #[serde(default)]
    pub default: bool,
}

/// Lifetimes in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lifetimes {
    pub authorization_ticket: i64,
    pub authorization_code: i64,
    pub access_token: i64,
    pub refresh_token: i64,
    pub id_token: i64,
    pub pushed_request: i64,
    pub password_ticket: i64,
    /// Device and user codes (Authlete `deviceFlowCodeDuration`).
    pub device_code: i64,
    /// Seconds a device waits between polls (Authlete
    /// `deviceFlowPollingInterval`); 0: no minimum, `interval` not sent.
    pub device_polling_interval: i64,
    /// CIBA `auth_req_id`s (Authlete `backchannelAuthReqIdDuration`).
    pub auth_req_id: i64,
    /// Seconds a CIBA client waits between polls (Authlete
    /// `backchannelPollingInterval`); 0: no minimum.
    pub backchannel_polling_interval: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            authorization_ticket: 600,
            authorization_code: 600,
            access_token: 3600,
            refresh_token: 86_400,
            id_token: 3600,
            pushed_request: 90,
            password_ticket: 300,
            device_code: 600,
            device_polling_interval: 5,
            auth_req_id: 600,
            backchannel_polling_interval: 5,
        }
    }
}

/// Where the signing key comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Signing {
    /// A PEM private key (P-256, RSA or Ed25519). Unset: a key is generated
    /// at startup.
    pub key_file: Option<String>,
    /// The algorithm of a generated key; with an RSA `key_file`, RS256 or PS256.
    pub algorithm: Algorithm,
}

impl Default for Signing {
    fn default() -> Self {
        Self {
            key_file: None,
            algorithm: Algorithm::RS256,
        }
    }
}

/// Credentials of the HTTP-served API, as Authlete's SDK settings name them.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpApiConfig {
    /// v2: the service API key. v3: the service ID in `/api/{serviceId}/...`.
    pub api_key: String,
    /// v2 Basic password. Unset: generated and printed.
    pub api_secret: Option<String>,
    /// v3 Bearer token. Unset: generated and printed.
    pub access_token: Option<String>,
}

crate::secret::redacted_debug!(HttpApiConfig {
    api_key,
    api_secret,
    access_token
});

impl Default for HttpApiConfig {
    fn default() -> Self {
        Self {
            api_key: "local".to_owned(),
            api_secret: None,
            access_token: None,
        }
    }
}

/// Dynamic client registration. Off by default, as on an Authlete service.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Whether `/client/registration` and its management APIs work.
    pub enabled: bool,
    /// The initial access token registration requires (RFC 7591 §3).
    /// Unset: anyone may register. Only its SHA-256 is kept once the
    /// engine is built.
    pub initial_access_token: Option<String>,
    /// At most this many dynamically registered clients exist at once.
    pub max_clients: usize,
}

crate::secret::redacted_debug!(RegistrationConfig {
    enabled,
    initial_access_token,
    max_clients
});

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            initial_access_token: None,
            max_clients: 1000,
        }
    }
}

impl LocalConfig {
    /// Parses TOML text. An error names the line and key, never the value
    /// (which may be a client secret).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| crate::toml_error::describe(text, &e))
    }

    /// Reads and parses a file.
    pub fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        Self::from_toml(&text).map_err(|e| format!("{path}: {e}"))
    }

    /// The scopes in force (the configured ones or the defaults).
    pub(super) fn scopes_in_force(&self) -> Vec<ScopeConfig> {
        if !self.scopes.is_empty() {
            return self.scopes.clone();
        }
        let scope = |name: &str, description: &str| ScopeConfig {
            name: name.to_owned(),
            description: description.to_owned(),
            default: false,
        };
        vec![
            scope("openid", "Sign you in with OpenID Connect."),
            scope("profile", "Your name, picture and other profile data."),
            scope("email", "Your email address."),
            scope("address", "Your postal address."),
            scope("phone", "Your phone number."),
            scope("offline_access", "Access while you are away."),
        ]
    }

    /// The claims in force.
    pub(super) fn claims_in_force(&self) -> Vec<String> {
        if !self.claims_supported.is_empty() {
            return self.claims_supported.clone();
        }
        super::claims::STANDARD
            .iter()
            .map(|c| (*c).to_owned())
            .collect()
    }

    /// Checks the values that have rules.
    pub(super) fn check(&self) -> Result<(), String> {
        check_url("issuer", &self.issuer)?;
        self.dpop.check()?;
        if self.client_assertion_max_replay_entries == 0
            || !(1..=MAX_LIFETIME).contains(&self.client_assertion_max_lifetime)
        {
            return Err(
                "client_assertion_max_replay_entries and client_assertion_max_lifetime must be positive"
                    .to_owned(),
            );
        }
        let l = &self.lifetimes;
        for (name, value) in [
            ("authorization_ticket", l.authorization_ticket),
            ("authorization_code", l.authorization_code),
            ("access_token", l.access_token),
            ("refresh_token", l.refresh_token),
            ("id_token", l.id_token),
            ("pushed_request", l.pushed_request),
            ("password_ticket", l.password_ticket),
            ("device_code", l.device_code),
            ("auth_req_id", l.auth_req_id),
        ] {
            if !(1..=MAX_LIFETIME).contains(&value) {
                return Err(format!(
                    "lifetimes.{name} must be between 1 and {MAX_LIFETIME} seconds"
                ));
            }
        }
        if !(0..=MAX_POLLING_INTERVAL).contains(&l.device_polling_interval) {
            return Err(format!(
                "lifetimes.device_polling_interval must be between 0 and {MAX_POLLING_INTERVAL} seconds"
            ));
        }
        if !(0..=MAX_POLLING_INTERVAL).contains(&l.backchannel_polling_interval) {
            return Err(format!(
                "lifetimes.backchannel_polling_interval must be between 0 and {MAX_POLLING_INTERVAL} seconds"
            ));
        }
        if self.max_live_objects == 0 {
            return Err("max_live_objects must be at least 1".to_owned());
        }
        if self.max_list_values == 0 {
            return Err("max_list_values must be at least 1".to_owned());
        }
        if self.max_request_bytes < 1024 {
            return Err("max_request_bytes must be at least 1024".to_owned());
        }
        if self.max_store_bytes < self.max_request_bytes {
            return Err("max_store_bytes must be at least max_request_bytes".to_owned());
        }
        if self.registration.max_clients == 0 {
            return Err("registration.max_clients must be at least 1".to_owned());
        }
        if self.registration.initial_access_token.as_deref() == Some("") {
            return Err("registration.initial_access_token must not be empty".to_owned());
        }
        if self.http_api.api_key.is_empty() {
            return Err("http_api.api_key must not be empty".to_owned());
        }
        Ok(())
    }

    /// An endpoint setting made absolute.
    pub(super) fn endpoint(&self, value: &str) -> String {
        if value.starts_with('/') {
            format!("{}{value}", self.issuer.trim_end_matches('/'))
        } else {
            value.to_owned()
        }
    }
}

/// Ten years: long enough for anything, short enough that milliseconds
/// never overflow.
const MAX_LIFETIME: i64 = 10 * 365 * 86_400;

/// A device polling more rarely than hourly would outlive most codes.
const MAX_POLLING_INTERVAL: i64 = 3600;

/// An absolute http(s) URL without query or fragment (issuer rules).
fn check_url(name: &str, value: &str) -> Result<(), String> {
    match super::client::parse_uri(value) {
        Some(u)
            if matches!(u.scheme(), "http" | "https")
                && u.query().is_none()
                && u.fragment().is_none() =>
        {
            Ok(())
        }
        _ => Err(format!(
            "{name} must be an http(s) URL without query or fragment"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_is_optional_and_typos_are_errors() {
        let c = LocalConfig::from_toml("").unwrap();
        assert_eq!(c.lifetimes.access_token, 3600);
        assert!(c.refresh_token_rotation);
        let text = "issuer = \"https://as.example\"\n[lifetimes]\naccess_token = 60\n";
        let c = LocalConfig::from_toml(text).unwrap();
        assert_eq!(c.lifetimes.access_token, 60);
        assert_eq!(c.lifetimes.refresh_token, 86_400);
        let err = LocalConfig::from_toml("isuer = \"x\"").unwrap_err();
        assert!(err.contains("isuer"), "{err}");
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let text = "[[clients]]\nclient_id = \"web-1\"\nclient_secret = \"SECRET-client\"\n\
                    [http_api]\napi_key = \"k\"\napi_secret = \"SECRET-api\"\naccess_token = \"SECRET-at\"\n\
                    [registration]\ninitial_access_token = \"SECRET-iat\"\n";
        let c = LocalConfig::from_toml(text).unwrap();
        assert_eq!(c.clients[0].client_secret.as_deref(), Some("SECRET-client"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("client_id: \"web-1\""), "{shown}");
    }

    #[test]
    fn registration_is_off_unless_enabled() {
        let c = LocalConfig::from_toml("").unwrap();
        assert!(!c.registration.enabled);
        assert_eq!(c.endpoints.registration, "/register");
        let text =
            "[registration]\nenabled = true\ninitial_access_token = \"t\"\nmax_clients = 5\n";
        let c = LocalConfig::from_toml(text).unwrap();
        assert!(c.registration.enabled && c.check().is_ok());
        assert_eq!(c.registration.max_clients, 5);
        let mut bad = c.clone();
        bad.registration.max_clients = 0;
        assert!(bad.check().unwrap_err().contains("max_clients"));
        bad = c;
        bad.registration.initial_access_token = Some(String::new());
        assert!(bad.check().unwrap_err().contains("initial_access_token"));
    }

    #[test]
    fn checks_issuer_and_lifetimes() {
        let mut c = LocalConfig::default();
        assert!(c.check().is_ok());
        c.issuer = "https://as.example/?q".to_owned();
        assert!(c.check().is_err());
        c.issuer = "https://as.example".to_owned();
        c.lifetimes.access_token = 0;
        assert!(c.check().unwrap_err().contains("access_token"));
    }

    #[test]
    fn device_flow_settings_have_defaults_and_bounds() {
        let mut c = LocalConfig::from_toml("[lifetimes]\ndevice_code = 300\n").unwrap();
        assert_eq!(c.lifetimes.device_code, 300);
        assert_eq!(c.lifetimes.device_polling_interval, 5);
        assert_eq!(c.endpoints.device_verification, "/device");
        c.lifetimes.device_polling_interval = 0;
        assert!(c.check().is_ok(), "0: no minimum interval");
        c.lifetimes.device_polling_interval = -1;
        assert!(c.check().unwrap_err().contains("device_polling_interval"));
        c.lifetimes.device_polling_interval = 5;
        c.lifetimes.device_code = 0;
        assert!(c.check().unwrap_err().contains("device_code"));
    }
}
