//! RFC 7591 client metadata: what a registration or update request may
//! say, the checks it must pass, and the client it makes. Metadata the
//! engine does not understand is ignored (RFC 7591 §2), so it is neither
//! stored nor echoed; metadata it understands but cannot honour (e.g.
//! `private_key_jwt` with only a `jwks_uri`, which it cannot fetch) is an
//! error rather than silently dropped.

use serde_json::{Map, Value};
use url::Host;

use super::client::{AuthMethod, parse_uri};
use super::client_keys::ClientKeys;
use super::keys::Algorithm;

/// Why metadata was refused: the RFC 7591 §3.2.2 error and its description.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Invalid {
    pub error: &'static str,
    pub description: String,
}

fn metadata(description: impl Into<String>) -> Invalid {
    Invalid {
        error: "invalid_client_metadata",
        description: description.into(),
    }
}

fn redirect(description: impl Into<String>) -> Invalid {
    Invalid {
        error: "invalid_redirect_uri",
        description: description.into(),
    }
}

/// The metadata of a registered client, checked and with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Metadata {
    pub redirect_uris: Vec<String>,
    /// OAuth names; `implicit` accompanies response types with `id_token`.
    pub grant_types: Vec<String>,
    /// Canonical: `code`, `id_token`, `code id_token`.
    pub response_types: Vec<String>,
    pub auth_method: AuthMethod,
    /// `web` or `native` (OpenID Connect Registration); empty when not sent.
    pub application_type: String,
    pub client_name: String,
    pub client_uri: String,
    pub logo_uri: String,
    pub tos_uri: String,
    pub policy_uri: String,
    pub contacts: Vec<String>,
    pub software_id: String,
    pub software_version: String,
    /// `id_token_signed_response_alg`; `None` when not sent (the default).
    pub id_token_alg: Option<Algorithm>,
    /// `userinfo_signed_response_alg`; `None` when not sent (plain JSON).
    pub userinfo_alg: Option<Algorithm>,
    /// RFC 9449 §5.2 `dpop_bound_access_tokens`.
    pub dpop_bound_access_tokens: bool,
    /// `jwks`, as JSON text: the client's public keys (`private_key_jwt`,
    /// request objects), checked to parse into [`ClientKeys`].
    pub jwks: Option<String>,
    /// RFC 9101 §10.5 `require_signed_request_object`.
    pub require_signed_request_object: bool,
    /// `request_object_signing_alg`: the one algorithm its request objects may use.
    pub request_object_alg: Option<Algorithm>,
}

/// The largest `json` accepted: it bounds the memory of every client.
pub(super) const MAX_JSON_BYTES: usize = 16 * 1024;

const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    super::token_exchange::GRANT_TYPE,
    super::jwt_bearer::GRANT_TYPE,
];

/// Parses and checks the `json` of a registration or update request.
pub(super) fn parse(json: &str) -> Result<Metadata, Invalid> {
    if json.len() > MAX_JSON_BYTES {
        return Err(metadata(format!(
            "The client metadata is larger than {MAX_JSON_BYTES} bytes."
        )));
    }
    let object: Map<String, Value> = serde_json::from_str(json)
        .map_err(|_| metadata("The client metadata is not a JSON object."))?;
    let m = Fields(&object);
    let application_type = m.string("application_type")?;
    if !matches!(application_type.as_str(), "" | "web" | "native") {
        return Err(metadata("'application_type' must be 'web' or 'native'."));
    }
    let (grant_types, response_types) = grant_and_response_types(&m)?;
    let auth_method = auth_method(&m.string("token_endpoint_auth_method")?)?;
    if auth_method == AuthMethod::None && grant_types.iter().any(|g| g == "client_credentials") {
        return Err(metadata(
            "A public client (token_endpoint_auth_method 'none') cannot use client_credentials.",
        ));
    }
    let redirect_uris = m.strings("redirect_uris")?;
    let redirects = grant_types
        .iter()
        .any(|g| g == "authorization_code" || g == "implicit");
    if redirects && redirect_uris.is_empty() {
        return Err(redirect(
            "'redirect_uris' is required for the authorization_code and implicit grant types.",
        ));
    }
    for uri in &redirect_uris {
        check_redirect_uri(uri, application_type == "native")?;
    }
    let jwks = jwks(&object, auth_method)?;
    let require_signed_request_object = m.boolean("require_signed_request_object")?;
    if require_signed_request_object && jwks.is_none() {
        return Err(metadata(
            "require_signed_request_object needs 'jwks' to verify the request objects with.",
        ));
    }
    Ok(Metadata {
        redirect_uris,
        grant_types,
        response_types,
        auth_method,
        client_name: m.string("client_name")?,
        client_uri: m.web_url("client_uri")?,
        logo_uri: m.web_url("logo_uri")?,
        tos_uri: m.web_url("tos_uri")?,
        policy_uri: m.web_url("policy_uri")?,
        contacts: m.strings("contacts")?,
        software_id: m.string("software_id")?,
        software_version: m.string("software_version")?,
        id_token_alg: signing_alg(&m, "id_token_signed_response_alg", "ID token")?,
        userinfo_alg: signing_alg(&m, "userinfo_signed_response_alg", "UserInfo")?,
        dpop_bound_access_tokens: m.boolean("dpop_bound_access_tokens")?,
        require_signed_request_object,
        request_object_alg: signing_alg(&m, "request_object_signing_alg", "request object")?,
        application_type,
        jwks,
    })
}

/// Typed access to the members; `null` is the same as absent (RFC 7592
/// §2.2: an omitted or null member deletes the value).
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn boolean(&self, name: &str) -> Result<bool, Invalid> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(metadata(format!("'{name}' must be a boolean."))),
        }
    }

    fn string(&self, name: &str) -> Result<String, Invalid> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(metadata(format!("'{name}' must be a string."))),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, Invalid> {
        let wrong = || metadata(format!("'{name}' must be an array of strings."));
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(wrong))
                .collect(),
            Some(_) => Err(wrong()),
        }
    }

    /// A URL shown to users (client, logo, terms, policy): http(s) only, so
    /// a consent page never links to `javascript:`.
    fn web_url(&self, name: &str) -> Result<String, Invalid> {
        let value = self.string(name)?;
        let fine = value.is_empty()
            || parse_uri(&value).is_some_and(|u| matches!(u.scheme(), "http" | "https"));
        if fine {
            Ok(value)
        } else {
            Err(metadata(format!("'{name}' must be an http(s) URL.")))
        }
    }
}

/// The grant and response types, with the defaults of RFC 7591 §2 and its
/// consistency rules (`code` needs authorization_code, `id_token` needs
/// implicit, and back). An omitted list is derived from the other one.
fn grant_and_response_types(m: &Fields<'_>) -> Result<(Vec<String>, Vec<String>), Invalid> {
    let mut response_types = Vec::new();
    for value in m.strings("response_types")? {
        let canonical = canonical_response_type(&value).ok_or_else(|| {
            metadata(format!(
                "The response type '{value}' is not supported (supported: code, id_token, code id_token)."
            ))
        })?;
        push_once(&mut response_types, canonical);
    }
    let mut grant_types = Vec::new();
    for value in m.strings("grant_types")? {
        if !GRANT_TYPES.contains(&value.as_str()) {
            return Err(metadata(format!(
                "The grant type '{value}' is not supported (supported: {}).",
                GRANT_TYPES.join(", ")
            )));
        }
        push_once(&mut grant_types, &value);
    }
    let code = |r: &String| r.starts_with("code");
    let id_token = |r: &String| r.ends_with("id_token");
    if grant_types.is_empty() {
        if response_types.is_empty() || response_types.iter().any(code) {
            grant_types.push("authorization_code".to_owned());
        }
        if response_types.iter().any(id_token) {
            grant_types.push("implicit".to_owned());
        }
    }
    let has = |g: &str| grant_types.iter().any(|x| x == g);
    if response_types.is_empty() && has("authorization_code") {
        response_types.push("code".to_owned());
    }
    if response_types.iter().any(code) != has("authorization_code") {
        return Err(metadata(
            "The 'code' response type and the authorization_code grant type go together.",
        ));
    }
    if response_types.iter().any(id_token) != has("implicit") {
        return Err(metadata(
            "Response types with 'id_token' and the implicit grant type go together.",
        ));
    }
    Ok((grant_types, response_types))
}

fn push_once(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

/// `code`, `id_token` or `code id_token` (in any order), canonical.
fn canonical_response_type(value: &str) -> Option<&'static str> {
    let mut words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    match words.as_slice() {
        ["code"] => Some("code"),
        ["id_token"] => Some("id_token"),
        ["code", "id_token"] => Some("code id_token"),
        _ => None,
    }
}

/// An algorithm the engine signs with, or refused: a client must not
/// receive tokens or UserInfo signed with something it did not ask for (nor
/// unsigned ones when it asked for `none`).
fn signing_alg(m: &Fields<'_>, member: &str, what: &str) -> Result<Option<Algorithm>, Invalid> {
    let name = m.string(member)?;
    if name.is_empty() {
        return Ok(None);
    }
    Algorithm::from_name(&name).map(Some).ok_or_else(|| {
        metadata(format!(
            "The {what} signing algorithm '{name}' is not supported (supported: {}).",
            Algorithm::names()
        ))
    })
}

/// RFC 7591's default is client_secret_basic.
fn auth_method(value: &str) -> Result<AuthMethod, Invalid> {
    match value {
        "" | "client_secret_basic" => Ok(AuthMethod::Basic),
        "client_secret_post" => Ok(AuthMethod::Post),
        "client_secret_jwt" => Ok(AuthMethod::ClientSecretJwt),
        "private_key_jwt" => Ok(AuthMethod::PrivateKeyJwt),
        "none" => Ok(AuthMethod::None),
        other => Err(metadata(format!(
            "The token endpoint authentication method '{other}' is not supported \
             (supported: client_secret_basic, client_secret_post, client_secret_jwt, \
             private_key_jwt, none)."
        ))),
    }
}

/// `jwks`: a JWK Set of public keys; required by `private_key_jwt`, for
/// which a `jwks_uri` alone will not do (the engine fetches nothing).
fn jwks(object: &Map<String, Value>, method: AuthMethod) -> Result<Option<String>, Invalid> {
    let text = match object.get("jwks") {
        None | Some(Value::Null) => None,
        Some(set @ Value::Object(_)) => Some(set.to_string()),
        Some(_) => return Err(metadata("'jwks' must be a JWK Set (a JSON object).")),
    };
    let keys = match &text {
        Some(t) => Some(ClientKeys::parse(t).map_err(|e| metadata(format!("'jwks': {e}.")))?),
        None => None,
    };
    if method == AuthMethod::PrivateKeyJwt && keys.is_none_or(|k| k.is_empty()) {
        return Err(metadata(
            "private_key_jwt needs 'jwks' with a signing key (the local engine does not fetch 'jwks_uri').",
        ));
    }
    Ok(text)
}

/// An absolute URI without fragment or control characters; https, or http to a loopback host
/// (RFC 8252 §7.3, and any local development server); a private-use scheme
/// only for native applications (RFC 8252 §7.1). Schemes that run code or
/// read local data in a browser are never accepted.
fn check_redirect_uri(uri: &str, native: bool) -> Result<(), Invalid> {
    let Some(url) = parse_uri(uri) else {
        return Err(redirect("A redirect URI is not an absolute URI."));
    };
    if url.fragment().is_some() {
        return Err(redirect("A redirect URI has a fragment."));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url.host()) => Ok(()),
        "http" => Err(redirect(
            "An http redirect URI must point to localhost or a loopback address; use https.",
        )),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ftp" | "ws" | "wss" => {
            Err(redirect(
                "A redirect URI uses a scheme that is not allowed.",
            ))
        }
        _ if native => Ok(()),
        _ => Err(redirect(
            "A private-use URI scheme is only allowed for application_type 'native'.",
        )),
    }
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(json: &str) -> &'static str {
        parse(json).expect_err(json).error
    }

    #[test]
    fn defaults_follow_rfc_7591() {
        let m = parse(r#"{"redirect_uris":["https://a.example/cb"]}"#).unwrap();
        assert_eq!(m.grant_types, ["authorization_code"]);
        assert_eq!(m.response_types, ["code"]);
        assert_eq!(m.auth_method, AuthMethod::Basic);
        let m = parse(r#"{"grant_types":["client_credentials"]}"#).unwrap();
        assert!(m.response_types.is_empty(), "no redirect-based grant");
        let m = parse(r#"{"response_types":["id_token code"],"redirect_uris":["https://a/cb"]}"#)
            .unwrap();
        assert_eq!(m.response_types, ["code id_token"]);
        assert_eq!(m.grant_types, ["authorization_code", "implicit"]);
    }

    #[test]
    fn refuses_what_the_engine_cannot_honour() {
        assert_eq!(error("[]"), "invalid_client_metadata");
        assert_eq!(error(r#"{"grant_types":"x"}"#), "invalid_client_metadata");
        assert_eq!(
            error(r#"{"grant_types":["urn:openid:params:grant-type:ciba"]}"#),
            "invalid_client_metadata"
        );
        let jwt = r#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt"}"#;
        assert_eq!(error(jwt), "invalid_client_metadata");
        let public =
            r#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}"#;
        assert_eq!(error(public), "invalid_client_metadata");
        let mismatch = r#"{"grant_types":["authorization_code"],"response_types":["id_token"],"redirect_uris":["https://a/cb"]}"#;
        assert_eq!(error(mismatch), "invalid_client_metadata");
        assert_eq!(
            error(r#"{"logo_uri":"javascript:alert(1)","grant_types":["client_credentials"]}"#),
            "invalid_client_metadata"
        );
        let uri = r#"{"client_uri":"https://a.example/\r\n","grant_types":["client_credentials"]}"#;
        assert_eq!(error(uri), "invalid_client_metadata");
        let big = format!(r#"{{"client_name":"{}"}}"#, "x".repeat(MAX_JSON_BYTES));
        assert_eq!(error(&big), "invalid_client_metadata");
    }

    #[test]
    fn redirect_uris_follow_rfc_8252() {
        let with = |uri: &str, native: bool| {
            let kind = if native { "native" } else { "web" };
            parse(&format!(
                r#"{{"redirect_uris":["{uri}"],"application_type":"{kind}"}}"#
            ))
        };
        assert!(with("https://a.example/cb", false).is_ok());
        assert!(with("http://localhost:3000/cb", false).is_ok());
        assert!(with("http://127.0.0.1:9/cb", true).is_ok());
        assert!(with("http://[::1]/cb", true).is_ok());
        assert!(with("com.example.app:/cb", true).is_ok());
        for (uri, native) in [
            ("http://a.example/cb", false),
            ("https://a.example/cb#f", false),
            ("/relative", false),
            ("com.example.app:/cb", false),
            ("javascript:alert(1)", true),
            // The URL parser drops tabs and newlines; the stored string
            // would keep them and reach a Location header.
            ("https://a.example/cb\\r\\nSet-Cookie: x", false),
            ("https://a.example/c\\tb", false),
            ("https://a.example/c b", false),
            ("https://a.example/cb\\u0000", false),
        ] {
            let err = with(uri, native).expect_err(uri);
            assert_eq!(err.error, "invalid_redirect_uri", "{uri}");
        }
        assert_eq!(error(r#"{"client_name":"x"}"#), "invalid_redirect_uri");
    }
}
