//! `/auth/token`: client authentication, the grant type dispatch, and what
//! every grant shares (minting a token record, the OK reply, errors).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::client::{self, AuthMethod, Client};
use super::dpop;
use super::jwt::random_token;
use super::mtls;
use super::params::Params;
use super::reply::{self, Fault, Obj};
use super::store::{Grant, Inner, Property};
use super::token_grants;

/// `POST /auth/token`.
// No `Debug`: the request carries the client secret.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    parameters: Option<String>,
    #[serde(flatten)]
    credentials: client::Credentials,
    properties: Option<Vec<Property>>,
    access_token_duration: Option<i64>,
    refresh_token_duration: Option<i64>,
    #[serde(flatten)]
    dpop: dpop::ProofInput,
}

/// A token request after client authentication.
pub(super) struct Ctx<'a> {
    pub engine: &'a LocalBackend,
    pub params: Params,
    pub client: Arc<Client>,
    pub alias_used: bool,
    pub method: AuthMethod,
    pub properties: Vec<Property>,
    pub access_duration: i64,
    pub refresh_duration: i64,
    pub now: i64,
    /// The DPoP key the new tokens are bound to.
    pub dpop_jkt: Option<String>,
    /// The certificate the new access token is bound to (RFC 8705 §3).
    pub cert_thumbprint: Option<String>,
}

const BAD_REQUEST: &str = "L050201";
const INVALID_CLIENT: &str = "L050301";
const SUPPORTED: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    super::device::GRANT_TYPE,
    super::token_exchange::GRANT_TYPE,
    super::jwt_bearer::GRANT_TYPE,
    super::ciba_client::GRANT_TYPE,
];

/// A BAD_REQUEST reply with a JSON OAuth error.
pub(super) fn bad(error: &str, message: &str) -> Value {
    reply::json_error("BAD_REQUEST", BAD_REQUEST, error, message)
}

pub(super) fn handle(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let parameters = r
        .parameters
        .ok_or_else(|| Fault::Caller("'parameters' is missing.".to_owned()))?;
    let params = match Params::parse(&parameters, engine.config.max_list_values) {
        Ok(p) => p,
        Err(m) => return Ok(bad("invalid_request", &m)),
    };
    let Some(grant_type) = params.get("grant_type").map(str::to_owned) else {
        return Ok(bad(
            "invalid_request",
            "The token request does not contain 'grant_type'.",
        ));
    };
    let auth =
        match client::authenticate(engine, &r.credentials, &params, &engine.url(|e| &e.token))? {
            Ok(a) => a,
            Err(f) => return Ok(f.reply(BAD_REQUEST, "INVALID_CLIENT", INVALID_CLIENT)),
        };
    if !SUPPORTED.contains(&grant_type.as_str()) {
        return Ok(bad(
            "unsupported_grant_type",
            "The grant type is not supported by the local engine.",
        ));
    }
    if !auth.client.allows(&grant_type) {
        return Ok(bad(
            "unauthorized_client",
            "The client is not allowed to use this grant type.",
        ));
    }
    let bound = match dpop::at_token(engine, &r.dpop, &auth.client)? {
        Ok(b) => b,
        Err(refusal) => return Ok(refusal),
    };
    let cert_thumbprint = match bound_certificate(&auth.client, r.credentials.certificate()) {
        Ok(t) => t,
        Err(m) => return Ok(bad("invalid_request", m)),
    };
    let ctx = Ctx {
        engine,
        params,
        client: auth.client,
        alias_used: auth.alias_used,
        method: auth.method,
        properties: r.properties.unwrap_or_default(),
        access_duration: r.access_token_duration.unwrap_or(0),
        refresh_duration: r.refresh_token_duration.unwrap_or(0),
        now: engine.now(),
        dpop_jkt: bound.jkt,
        cert_thumbprint,
    };
    let mut reply = match grant_type.as_str() {
        "authorization_code" => token_grants::authorization_code(&ctx),
        "refresh_token" => token_grants::refresh_token(&ctx),
        "client_credentials" => token_grants::client_credentials(&ctx),
        super::device::GRANT_TYPE => super::device_grant::token(&ctx),
        super::token_exchange::GRANT_TYPE => super::token_exchange::token(&ctx),
        super::jwt_bearer::GRANT_TYPE => super::jwt_bearer::token(&ctx),
        super::ciba_client::GRANT_TYPE => super::ciba_grant::token(&ctx),
        _ => token_grants::password(&ctx),
    }?;
    // Authlete returns the nonce in force with every answer (DPoP-Nonce).
    if let Some(nonce) = bound.nonce {
        reply["dpopNonce"] = nonce.into();
    }
    Ok(reply)
}

/// RFC 8705 §3: the thumbprint to bind a client's access tokens to, when it
/// asked for certificate-bound tokens (then a certificate is required).
fn bound_certificate(client: &Client, pem: Option<&str>) -> Result<Option<String>, &'static str> {
    if !client.tls_bound {
        return Ok(None);
    }
    match mtls::Presented::from_member(pem)? {
        Some(cert) => Ok(Some(cert.thumbprint())),
        None => Err("The client must present its certificate: its access tokens are bound to it."),
    }
}

/// What a new token record holds.
pub(super) struct NewTokens {
    pub client: Arc<Client>,
    pub alias_used: bool,
    pub subject: String,
    pub scopes: Vec<String>,
    pub grant_type: &'static str,
    pub properties: Vec<Property>,
    pub resources: Vec<String>,
    pub auth_time: i64,
    pub acr: String,
    pub userinfo_claims: Vec<String>,
    pub userinfo_claims_json: String,
    pub consented_claims: Vec<String>,
    pub refresh: bool,
    /// Seconds; 0 means the configured lifetime.
    pub access_duration: i64,
    pub refresh_duration: i64,
    /// The DPoP key to bind the tokens to (RFC 9449).
    pub dpop_jkt: Option<String>,
    /// The certificate to bind the access token to (RFC 8705).
    pub cert_thumbprint: Option<String>,
}

/// Mints an access token (and a refresh token when asked) and stores the
/// record. The caller holds the store lock.
pub(super) fn mint(
    engine: &LocalBackend,
    store: &mut Inner,
    now: i64,
    t: NewTokens,
) -> Result<(u64, Grant), Fault> {
    // Checked under the store lock: a client deleted meanwhile (RFC 7592)
    // has had its tokens forgotten and must not get new ones.
    if !engine.clients.is_live(t.client.id) {
        return Err(Fault::Server("The client no longer exists.".to_owned()));
    }
    let lifetimes = &engine.config.lifetimes;
    let access = if t.access_duration > 0 {
        t.access_duration
    } else {
        lifetimes.access_token
    };
    let refresh = if t.refresh_duration > 0 {
        t.refresh_duration
    } else {
        lifetimes.refresh_token
    };
    let refresh_token = if t.refresh {
        Some(random_token()?)
    } else {
        None
    };
    let public = t.client.is_public();
    let grant = Grant {
        refresh_expires: if t.refresh {
            engine.expiry(now, refresh)
        } else {
            0
        },
        refresh_token,
        access_token: String::new(),
        access_issued: now,
        access_expires: engine.expiry(now, access),
        client: t.client,
        alias_used: t.alias_used,
        subject: t.subject,
        refresh_scopes: t.scopes.clone(),
        scopes: t.scopes,
        grant_type: t.grant_type,
        properties: t.properties,
        resources: t.resources,
        auth_time: t.auth_time,
        acr: t.acr,
        userinfo_claims: t.userinfo_claims,
        userinfo_claims_json: t.userinfo_claims_json,
        consented_claims: t.consented_claims,
        family: 0,
        // RFC 9449 §5: a public client's refresh token is bound too (a
        // confidential one is bound by its client authentication).
        refresh_jkt: t.dpop_jkt.clone().filter(|_| public),
        dpop_jkt: t.dpop_jkt,
        cert_thumbprint: t.cert_thumbprint,
    };
    let mut grant = grant;
    grant.access_token = super::jwt_at::value(engine, &grant)?;
    store.room(now, grant.weight())?;
    let id = store.add_grant(grant.clone());
    Ok((id, grant))
}

/// The RFC 6749 §5.1 response body, with the token's visible properties.
pub(super) fn content(grant: &Grant, id_token: &str, now: i64) -> String {
    let mut c = Map::new();
    c.insert("access_token".into(), grant.access_token.clone().into());
    if let Some(r) = &grant.refresh_token {
        c.insert("refresh_token".into(), r.clone().into());
    }
    if !grant.scopes.is_empty() {
        c.insert("scope".into(), grant.scopes.join(" ").into());
    }
    if !id_token.is_empty() {
        c.insert("id_token".into(), id_token.into());
    }
    let token_type = match grant.dpop_jkt {
        Some(_) => "DPoP",
        None => "Bearer",
    };
    c.insert("token_type".into(), token_type.into());
    c.insert(
        "expires_in".into(),
        seconds_left(grant.access_expires, now).into(),
    );
    for p in grant.properties.iter().filter(|p| !p.hidden) {
        c.entry(p.key.clone())
            .or_insert_with(|| p.value.clone().into());
    }
    Value::Object(c).to_string()
}

/// Whole seconds until `at`.
pub(super) fn seconds_left(at: i64, now: i64) -> i64 {
    (at - now).max(0) / 1000
}

/// The token members shared by `/auth/token` and `/auth/token/issue` OK replies.
pub(super) fn token_members(obj: Obj, grant: &Grant, now: i64) -> Obj {
    let alias = grant.client.alias.clone().unwrap_or_default();
    let refresh = grant.refresh_token.clone().unwrap_or_default();
    let (refresh_at, refresh_duration) = match grant.refresh_token {
        Some(_) => (
            grant.refresh_expires,
            seconds_left(grant.refresh_expires, now),
        ),
        None => (0, 0),
    };
    let properties: Vec<Value> = grant
        .properties
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    let obj = obj
        .set("accessToken", grant.access_token.as_str())
        .set("accessTokenExpiresAt", grant.access_expires)
        .set(
            "accessTokenDuration",
            seconds_left(grant.access_expires, now),
        )
        .set("refreshToken", refresh)
        // RFC 9068: a JWT access token (an opaque one has no dots).
        .set(
            "jwtAccessToken",
            match grant.access_token.matches('.').count() {
                2 => grant.access_token.as_str(),
                _ => "",
            },
        );
    let obj = if refresh_at > 0 {
        obj.set("refreshTokenExpiresAt", refresh_at)
            .set("refreshTokenDuration", refresh_duration)
    } else {
        obj
    };
    obj.set("clientId", grant.client.id)
        .set("clientIdAlias", alias)
        .set("clientIdAliasUsed", grant.alias_used)
        .set("subject", grant.subject.as_str())
        .set("scopes", grant.scopes.clone())
        .set("properties", properties)
        .set("accessTokenResources", grant.resources.clone())
}

/// The OK reply of `/auth/token`.
pub(super) fn ok(
    grant: &Grant,
    grant_type: &str,
    method: AuthMethod,
    id_token: &str,
    now: i64,
) -> Value {
    let message = format!(
        "The token request (grant_type={}) was processed successfully.",
        grant_type.to_ascii_lowercase()
    );
    let obj = Obj::new("OK", "L050001", &message)
        .set("responseContent", content(grant, id_token, now))
        .set("grantType", grant_type)
        .set("idToken", id_token)
        .set("clientAuthMethod", method.name())
        .set(
            "refreshTokenScopes",
            match grant.refresh_token {
                Some(_) => grant.refresh_scopes.clone(),
                None => Vec::new(),
            },
        )
        .set("resources", grant.resources.clone());
    token_members(obj, grant, now).done()
}
