//! Registered clients: built from the configuration (or the two demo
//! clients) plus the dynamically registered ones, found by numeric ID or
//! alias as Authlete does, and authenticated at the token, revocation and
//! PAR endpoints.

use std::collections::HashMap;
use std::sync::Arc;

pub(super) use super::client_auth::{Credentials, authenticate};
use super::client_keys::ClientKeys;
use super::config::ClientConfig;
use super::jwt::random_token;
use super::keys::Algorithm;
use super::mtls::TlsName;
use super::registered::Dynamic;

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AuthMethod {
    None,
    Basic,
    Post,
    /// RFC 8705 §2.1: a PKI certificate naming the registered DN or SAN.
    TlsClientAuth,
    /// RFC 8705 §2.2: a certificate the client registered.
    SelfSignedTlsClientAuth,
    /// RFC 7523 / OIDC Core §9: a JWT signed with a key the client registered.
    PrivateKeyJwt,
    /// OIDC Core §9: a JWT MACed with the client secret.
    ClientSecretJwt,
}

impl AuthMethod {
    /// Authlete's `ClientAuthMethod` name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Basic => "CLIENT_SECRET_BASIC",
            Self::Post => "CLIENT_SECRET_POST",
            Self::TlsClientAuth => "TLS_CLIENT_AUTH",
            Self::SelfSignedTlsClientAuth => "SELF_SIGNED_TLS_CLIENT_AUTH",
            Self::PrivateKeyJwt => "PRIVATE_KEY_JWT",
            Self::ClientSecretJwt => "CLIENT_SECRET_JWT",
        }
    }
}

/// A client in force. Its `Debug` leaves the secret out.
#[derive(Clone)]
pub(super) struct Client {
    /// Authlete's numeric client ID.
    pub id: i64,
    /// The `client_id` string when it is not the number.
    pub alias: Option<String>,
    /// A confidential client's secret; `None` for public clients.
    pub secret: Option<String>,
    /// Whether the secret was generated here (and may be printed).
    pub secret_generated: bool,
    pub name: String,
    pub description: String,
    pub logo_uri: String,
    pub tos_uri: String,
    pub policy_uri: String,
    pub client_uri: String,
    pub redirect_uris: Vec<String>,
    /// Grant types, as OAuth names them (`authorization_code`, ...).
    pub grant_types: Vec<String>,
    /// Response types, canonical (`code`, `id_token`, `code id_token`).
    pub response_types: Vec<String>,
    pub auth_method: AuthMethod,
    /// `id_token_signed_response_alg`; `None` is the engine's default key.
    pub id_token_alg: Option<Algorithm>,
    /// `userinfo_signed_response_alg`; `None`: UserInfo is plain JSON.
    pub userinfo_alg: Option<Algorithm>,
    /// `dpop_bound_access_tokens` (RFC 9449 §5.2): a proof is required.
    pub dpop_required: bool,
    /// Its DPoP proofs must carry the server nonce.
    pub dpop_nonce_required: bool,
    /// `tls_client_auth`: the DN or SAN its certificate must name.
    pub tls_name: Option<TlsName>,
    /// `self_signed_tls_client_auth`: the `x5t#S256` of its certificates.
    pub self_signed: Vec<String>,
    /// RFC 8705 §3 `tls_client_certificate_bound_access_tokens`.
    pub tls_bound: bool,
    /// RFC 9068: JWT access tokens signed with this; `None`: the engine's choice.
    pub access_token_alg: Option<Algorithm>,
    /// The public keys it registered (`jwks`, or the file `jwks_uri` names):
    /// `private_key_jwt` assertions and request objects are checked with them.
    pub keys: Option<ClientKeys>,
    /// RFC 9101 §10.5 `require_signed_request_object`.
    pub require_signed_request_object: bool,
    /// `request_object_signing_alg`: the one algorithm its request objects may use.
    pub request_object_alg: Option<Algorithm>,
    /// CIBA registration metadata (delivery mode, notification endpoint).
    pub backchannel: super::ciba_client::Backchannel,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("alias", &self.alias)
            .field("public", &self.is_public())
            .field("grant_types", &self.grant_types)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Whether the client is public (no secret).
    pub(super) fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }

    /// Authlete's `ClientType` name.
    pub(super) fn type_name(&self) -> &'static str {
        if self.is_public() {
            "PUBLIC"
        } else {
            "CONFIDENTIAL"
        }
    }

    /// The `client_id` the client uses in OAuth requests.
    pub(super) fn client_id(&self) -> String {
        self.alias.clone().unwrap_or_else(|| self.id.to_string())
    }

    /// Whether the client may use the grant type.
    pub(super) fn allows(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    super::device::GRANT_TYPE,
    super::token_exchange::GRANT_TYPE,
    super::jwt_bearer::GRANT_TYPE,
    super::ciba_client::GRANT_TYPE,
];
const RESPONSE_TYPES: &[&str] = &["code", "id_token", "code id_token"];

/// Numeric IDs given to clients configured by alias: 1000001, 1000002, ...
const FIRST_ASSIGNED_ID: i64 = 1_000_001;

/// The clients by numeric ID and by alias.
#[derive(Debug, Default)]
pub(super) struct Registry {
    by_id: HashMap<i64, Arc<Client>>,
    by_alias: HashMap<String, Arc<Client>>,
    ordered: Vec<Arc<Client>>,
    /// Registered at run time, by numeric ID only.
    dynamic: Dynamic,
}

impl Registry {
    /// Builds the clients; the demo clients when none is configured.
    pub(super) fn build(configs: &[ClientConfig], issuer: &str) -> Result<Self, String> {
        let configs = if configs.is_empty() {
            demo_clients(issuer)
        } else {
            configs.to_vec()
        };
        let mut registry = Self::default();
        for (index, config) in configs.iter().enumerate() {
            let client = Arc::new(client(config, index)?);
            let taken = registry.by_id.contains_key(&client.id)
                || client
                    .alias
                    .as_ref()
                    .is_some_and(|a| registry.by_alias.contains_key(a));
            if taken {
                return Err(format!("client `{}` is registered twice", config.client_id));
            }
            registry.by_id.insert(client.id, client.clone());
            if let Some(alias) = &client.alias {
                registry.by_alias.insert(alias.clone(), client.clone());
            }
            registry.ordered.push(client);
        }
        Ok(registry)
    }

    /// The registry with the store of dynamically registered clients.
    pub(super) fn with_dynamic(self, dynamic: Dynamic) -> Self {
        Self { dynamic, ..self }
    }

    /// The client a `client_id` names, and whether it named it by alias.
    pub(super) fn find(&self, client_id: &str) -> Option<(Arc<Client>, bool)> {
        if let Some(c) = self.by_alias.get(client_id) {
            return Some((c.clone(), true));
        }
        let id: i64 = client_id.parse().ok()?;
        self.by_number(id).map(|c| (c, false))
    }

    /// The client with this numeric ID.
    pub(super) fn by_number(&self, id: i64) -> Option<Arc<Client>> {
        match self.by_id.get(&id) {
            Some(c) => Some(c.clone()),
            None => self.dynamic.client(id),
        }
    }

    /// Whether a client with this numeric ID exists (it was not deleted).
    pub(super) fn is_live(&self, id: i64) -> bool {
        self.by_id.contains_key(&id) || self.dynamic.client(id).is_some()
    }

    /// Whether the numeric ID belongs to a configured client.
    pub(super) fn is_configured(&self, id: i64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// The dynamically registered clients.
    pub(super) fn dynamic(&self) -> &Dynamic {
        &self.dynamic
    }

    /// Every configured client, in configuration order.
    pub(super) fn all(&self) -> &[Arc<Client>] {
        &self.ordered
    }
}

fn client(c: &ClientConfig, index: usize) -> Result<Client, String> {
    let who = format!("client `{}`", c.client_id);
    if c.client_id.trim().is_empty() {
        return Err(format!("client #{} has no client_id", index + 1));
    }
    let public = match c.client_type.as_deref().unwrap_or("confidential") {
        "public" => true,
        "confidential" => false,
        other => {
            return Err(format!(
                "{who}: client_type `{other}` is neither confidential nor public"
            ));
        }
    };
    let (id, alias) = match c.client_id.parse::<i64>() {
        Ok(n) if n > 0 => (n, None),
        _ => (
            FIRST_ASSIGNED_ID + i64::try_from(index).unwrap_or(0),
            Some(c.client_id.clone()),
        ),
    };
    let auth_method = auth_method(c, public, &who)?;
    let no_secret = matches!(
        auth_method,
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::PrivateKeyJwt
    );
    let (secret, secret_generated) = match (&c.client_secret, public || no_secret) {
        (_, true) => (None, false),
        (Some(s), false) if !s.is_empty() => (Some(s.clone()), false),
        _ => (Some(random_token().map_err(|f| f.message())?), true),
    };

    let grant_types = defaulted(&c.grant_types, &["authorization_code", "refresh_token"]);
    let response_types = defaulted(&c.response_types, &["code"]);
    check_list(&who, "grant type", &grant_types, GRANT_TYPES)?;
    check_list(&who, "response type", &response_types, RESPONSE_TYPES)?;
    if public && grant_types.iter().any(|g| g == "client_credentials") {
        return Err(format!(
            "{who}: a public client cannot use client_credentials"
        ));
    }
    if let Some(uri) = c
        .redirect_uris
        .iter()
        .find(|u| !absolute_without_fragment(u))
    {
        return Err(format!(
            "{who}: redirect URI `{uri}` is not an absolute URI without fragment"
        ));
    }
    let alg = |member: &str, value: &Option<String>| match value.as_deref() {
        None | Some("") => Ok(None),
        Some(name) => Algorithm::from_name(name).map(Some).ok_or_else(|| {
            format!(
                "{who}: {member} `{name}` is not one of {}",
                Algorithm::names()
            )
        }),
    };
    let id_token_alg = alg(
        "id_token_signed_response_alg",
        &c.id_token_signed_response_alg,
    )?;
    let userinfo_alg = alg(
        "userinfo_signed_response_alg",
        &c.userinfo_signed_response_alg,
    )?;
    let access_token_alg = alg("access_token_sign_alg", &c.access_token_sign_alg)?;
    let request_object_alg = alg("request_object_signing_alg", &c.request_object_signing_alg)?;
    let backchannel = super::ciba_client::Backchannel::from_config(c, &grant_types, &who)?;
    Ok(Client {
        id,
        alias,
        secret,
        secret_generated,
        name: c.client_name.clone(),
        description: c.description.clone(),
        logo_uri: c.logo_uri.clone(),
        tos_uri: c.tos_uri.clone(),
        policy_uri: c.policy_uri.clone(),
        client_uri: c.client_uri.clone(),
        redirect_uris: c.redirect_uris.clone(),
        grant_types,
        response_types,
        auth_method,
        id_token_alg,
        userinfo_alg,
        dpop_required: c.dpop_bound_access_tokens,
        dpop_nonce_required: c.dpop_nonce_required,
        tls_name: tls_name(c, auth_method, &who)?,
        self_signed: match (&c.jwks, auth_method) {
            (Some(jwks), AuthMethod::SelfSignedTlsClientAuth) => {
                super::mtls::registered_thumbprints(jwks).map_err(|e| format!("{who}: {e}"))?
            }
            (None, AuthMethod::SelfSignedTlsClientAuth) => {
                return Err(format!(
                    "{who}: self_signed_tls_client_auth needs `jwks` with the certificates (x5c)"
                ));
            }
            _ => Vec::new(),
        },
        tls_bound: c.tls_client_certificate_bound_access_tokens,
        access_token_alg,
        keys: client_keys(c, auth_method, &who)?,
        require_signed_request_object: c.require_signed_request_object,
        request_object_alg,
        backchannel,
    })
}

/// The client's public keys: `jwks` inline, or `jwks_uri` naming a JWK Set
/// file (`file:` URL or a path; the engine fetches nothing from the network).
fn client_keys(
    c: &ClientConfig,
    method: AuthMethod,
    who: &str,
) -> Result<Option<ClientKeys>, String> {
    let text = match (&c.jwks, &c.jwks_uri) {
        (Some(_), Some(_)) => {
            return Err(format!("{who}: give `jwks` or `jwks_uri`, not both"));
        }
        (Some(jwks), None) => jwks.clone(),
        (None, Some(uri)) => {
            let path = uri.strip_prefix("file://").unwrap_or(uri);
            if path.starts_with("http://") || path.starts_with("https://") {
                return Err(format!(
                    "{who}: jwks_uri must name a file (the local engine fetches nothing)"
                ));
            }
            std::fs::read_to_string(path)
                .map_err(|e| format!("{who}: cannot read jwks_uri {path}: {e}"))?
        }
        (None, None) if method == AuthMethod::PrivateKeyJwt => {
            return Err(format!("{who}: private_key_jwt needs `jwks` or `jwks_uri`"));
        }
        (None, None) => return Ok(None),
    };
    let keys = ClientKeys::parse(&text).map_err(|e| format!("{who}: {e}"))?;
    if keys.is_empty() && method == AuthMethod::PrivateKeyJwt {
        return Err(format!("{who}: its JWK Set has no signing key"));
    }
    Ok(Some(keys))
}

fn auth_method(c: &ClientConfig, public: bool, who: &str) -> Result<AuthMethod, String> {
    Ok(match (c.token_auth_method.as_deref(), public) {
        (None | Some("none"), true) => AuthMethod::None,
        (None | Some("client_secret_basic"), false) => AuthMethod::Basic,
        (Some("client_secret_post"), false) => AuthMethod::Post,
        (Some("tls_client_auth"), false) => AuthMethod::TlsClientAuth,
        (Some("self_signed_tls_client_auth"), false) => AuthMethod::SelfSignedTlsClientAuth,
        (Some("private_key_jwt"), false) => AuthMethod::PrivateKeyJwt,
        (Some("client_secret_jwt"), false) => AuthMethod::ClientSecretJwt,
        (Some(other), _) => {
            return Err(format!(
                "{who}: token_auth_method `{other}` does not fit this client type"
            ));
        }
    })
}

/// RFC 8705 §2.1.2: a `tls_client_auth` client registers exactly one name.
fn tls_name(c: &ClientConfig, method: AuthMethod, who: &str) -> Result<Option<TlsName>, String> {
    let given: Vec<TlsName> = [
        c.tls_client_auth_subject_dn.clone().map(TlsName::SubjectDn),
        c.tls_client_auth_san_dns.clone().map(TlsName::SanDns),
        c.tls_client_auth_san_uri.clone().map(TlsName::SanUri),
        c.tls_client_auth_san_ip.clone().map(TlsName::SanIp),
        c.tls_client_auth_san_email.clone().map(TlsName::SanEmail),
    ]
    .into_iter()
    .flatten()
    .collect();
    match (method, given.len()) {
        (AuthMethod::TlsClientAuth, 1) => Ok(given.into_iter().next()),
        (AuthMethod::TlsClientAuth, _) => Err(format!(
            "{who}: tls_client_auth needs exactly one of tls_client_auth_subject_dn,              tls_client_auth_san_dns, _san_uri, _san_ip, _san_email"
        )),
        (_, 0) => Ok(None),
        _ => Err(format!(
            "{who}: tls_client_auth_* members need token_auth_method tls_client_auth"
        )),
    }
}

/// Redirect URIs and resources must be absolute URIs without fragment.
pub(super) fn absolute_without_fragment(uri: &str) -> bool {
    parse_uri(uri).is_some_and(|u| u.fragment().is_none())
}

/// An absolute URI the engine may store or echo. The URL parser silently
/// drops tabs and newlines and trims control characters, while the engine
/// keeps the raw string and writes it back (a `Location` header): any
/// control character or space refuses the URI (RFC 3986 allows neither).
pub(super) fn parse_uri(uri: &str) -> Option<url::Url> {
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    url::Url::parse(uri).ok()
}

fn defaulted(list: &[String], default: &[&str]) -> Vec<String> {
    if list.is_empty() {
        default.iter().map(|s| (*s).to_owned()).collect()
    } else {
        list.to_vec()
    }
}

fn check_list(who: &str, what: &str, values: &[String], known: &[&str]) -> Result<(), String> {
    match values.iter().find(|v| !known.contains(&v.as_str())) {
        Some(bad) => Err(format!(
            "{who}: unsupported {what} `{bad}` (supported: {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// The demo clients: one confidential (every grant and response type), one
/// public (authorization code with PKCE, refresh).
fn demo_clients(issuer: &str) -> Vec<ClientConfig> {
    let callback = format!("{}/callback", issuer.trim_end_matches('/'));
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    vec![
        ClientConfig {
            client_id: "demo-confidential".to_owned(),
            client_name: "Demo confidential client".to_owned(),
            redirect_uris: vec![callback.clone()],
            grant_types: strings(GRANT_TYPES),
            response_types: strings(RESPONSE_TYPES),
            ..ClientConfig::default()
        },
        ClientConfig {
            client_id: "demo-public".to_owned(),
            client_type: Some("public".to_owned()),
            client_name: "Demo public client".to_owned(),
            redirect_uris: vec![callback],
            ..ClientConfig::default()
        },
    ]
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn registry() -> Registry {
        let configs = vec![
            ClientConfig {
                client_id: "web".to_owned(),
                client_secret: Some("s3cret".to_owned()),
                ..ClientConfig::default()
            },
            ClientConfig {
                client_id: "42".to_owned(),
                client_type: Some("public".to_owned()),
                ..ClientConfig::default()
            },
        ];
        Registry::build(&configs, "https://as").unwrap()
    }

    #[test]
    fn finds_by_alias_or_number() {
        let r = registry();
        let (c, alias) = r.find("web").unwrap();
        assert!(alias);
        assert_eq!(c.id, FIRST_ASSIGNED_ID);
        assert!(!r.find(&FIRST_ASSIGNED_ID.to_string()).unwrap().1);
        assert!(r.find("42").unwrap().0.is_public());
        assert!(r.find("nobody").is_none());
    }

    #[test]
    fn demo_clients_get_generated_secrets() {
        let r = Registry::build(&[], "http://localhost:8080").unwrap();
        let (c, _) = r.find("demo-confidential").unwrap();
        assert!(c.secret_generated);
        assert_eq!(c.redirect_uris, ["http://localhost:8080/callback"]);
        assert!(r.find("demo-public").unwrap().0.is_public());
    }
}
