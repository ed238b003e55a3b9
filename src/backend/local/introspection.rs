//! `/auth/introspection` (a resource server checks an access token: the
//! reply's `responseContent` is the WWW-Authenticate challenge) and
//! `/auth/introspection/standard` (the RFC 7662 endpoint's JSON).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::dpop;
use super::idtoken::client_id_as_used;
use super::mtls;
use super::params::Params;
use super::reply::{self, Fault, Obj};
use super::store::{Grant, Inner};

/// `POST /auth/introspection`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    token: Option<String>,
    scopes: Option<Vec<String>>,
    subject: Option<String>,
    #[serde(flatten)]
    dpop: dpop::ProofInput,
    client_certificate: Option<String>,
}

crate::secret::redacted_debug!(Request {
    token,
    scopes,
    subject,
    dpop,
    client_certificate
});

/// Where introspected tokens are used: only the resource server knows, so
/// `htm` and `htu` must come with a proof.
const AT_RESOURCE: dpop::Resource<'static> = dpop::Resource {
    default_htm: None,
    default_htu: None,
    code: "L065304",
};

/// `POST /auth/introspection/standard`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct StandardRequest {
    parameters: Option<String>,
}

crate::secret::redacted_debug!(StandardRequest { parameters });

/// Why a resource request is refused: the action, the RFC 6750 error, the
/// message and the `scope` of the challenge.
pub(super) struct Refusal {
    pub action: &'static str,
    pub error: &'static str,
    pub message: &'static str,
    pub scope: Option<String>,
    pub existent: bool,
}

impl Refusal {
    fn new(action: &'static str, error: &'static str, message: &'static str) -> Self {
        Self {
            action,
            error,
            message,
            scope: None,
            existent: action != "UNAUTHORIZED" || error != "invalid_token",
        }
    }

    /// The reply, its challenge in `responseContent`.
    pub(super) fn reply(&self, code: &str) -> Value {
        reply::bearer_error(
            self.action,
            code,
            self.error,
            self.message,
            self.scope.as_deref(),
        )
    }
}

/// Finds a usable access token, as introspection and userinfo do.
pub(super) fn usable<'a>(store: &'a Inner, token: &str, now: i64) -> Result<&'a Grant, Refusal> {
    if token.is_empty() {
        return Err(Refusal::new(
            "BAD_REQUEST",
            "invalid_request",
            "The request does not contain an access token.",
        ));
    }
    let Some((_, grant)) = store.by_access(token) else {
        let mut r = Refusal::new(
            "UNAUTHORIZED",
            "invalid_token",
            "The access token does not exist.",
        );
        r.existent = false;
        return Err(r);
    };
    if grant.access_expires <= now {
        let mut r = Refusal::new(
            "UNAUTHORIZED",
            "invalid_token",
            "The access token has expired.",
        );
        r.existent = true;
        return Err(r);
    }
    Ok(grant)
}

pub(super) fn handle(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let now = engine.now();
    let store = engine.store.lock();
    let token = r.token.as_deref().unwrap_or_default();
    let grant = match usable(&store, token, now) {
        Ok(g) => g,
        Err(refusal) => {
            let mut v = refusal.reply("L065301");
            if refusal.action == "UNAUTHORIZED" {
                v["existent"] = refusal.existent.into();
                v["usable"] = false.into();
                v["sufficient"] = false.into();
                v["refreshable"] = false.into();
            }
            return Ok(v);
        }
    };
    let bound = grant.cert_thumbprint.as_deref();
    if let Err(message) = mtls::check_bound(bound, r.client_certificate.as_deref()) {
        return Ok(Refusal::new("UNAUTHORIZED", "invalid_token", message).reply("L065305"));
    }
    let jkt = grant.dpop_jkt.as_deref();
    let nonce = match dpop::at_resource(engine, &r.dpop, &grant.client, token, jkt, &AT_RESOURCE)? {
        Ok(nonce) => nonce,
        Err(refusal) => return Ok(refusal),
    };
    let required = r.scopes.unwrap_or_default();
    let missing: Vec<&String> = required
        .iter()
        .filter(|s| !grant.scopes.contains(s))
        .collect();
    if !missing.is_empty() {
        let mut refusal = Refusal::new(
            "FORBIDDEN",
            "insufficient_scope",
            "The access token does not cover the required scopes.",
        );
        refusal.scope = Some(required.join(" "));
        return Ok(refusal.reply("L065302"));
    }
    if r.subject
        .as_deref()
        .is_some_and(|s| !s.is_empty() && s != grant.subject)
    {
        let refusal = Refusal::new(
            "FORBIDDEN",
            "insufficient_scope",
            "The access token was issued to another subject.",
        );
        return Ok(refusal.reply("L065303"));
    }
    let properties: Vec<Value> = grant
        .properties
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    Ok(Obj::new("OK", "L065001", "The access token is valid.")
        .set("clientId", grant.client.id)
        .set(
            "clientIdAlias",
            grant.client.alias.clone().unwrap_or_default(),
        )
        .set("clientIdAliasUsed", grant.alias_used)
        .set("expiresAt", grant.access_expires)
        .set("subject", grant.subject.as_str())
        .set("scopes", grant.scopes.clone())
        .set("existent", true)
        .set("usable", true)
        .set("sufficient", true)
        .set(
            "refreshable",
            grant.refresh_token.is_some() && grant.refresh_expires > now,
        )
        .set("properties", properties)
        .set("accessTokenResources", grant.resources.clone())
        .set("resources", grant.resources.clone())
        .set("grantType", grant.grant_type)
        .set("acr", grant.acr.as_str())
        .set("authTime", grant.auth_time)
        .set("consentedClaims", grant.consented_claims.clone())
        .set("dpopNonce", nonce)
        .set(
            "certificateThumbprint",
            grant.cert_thumbprint.clone().unwrap_or_default(),
        )
        .done())
}

pub(super) fn standard(engine: &LocalBackend, r: StandardRequest) -> Result<Value, Fault> {
    let parameters = r
        .parameters
        .ok_or_else(|| Fault::Caller("'parameters' is missing.".to_owned()))?;
    let bad = |m: &str| reply::json_error("BAD_REQUEST", "L066201", "invalid_request", m);
    let params = match Params::parse(&parameters, engine.config.max_list_values) {
        Ok(p) => p,
        Err(m) => return Ok(bad(&m)),
    };
    let Some(token) = params.get("token") else {
        return Ok(bad("The introspection request does not contain 'token'."));
    };
    let now = engine.now();
    let store = engine.store.lock();
    let refresh_first = params.get("token_type_hint") == Some("refresh_token");
    let as_access = || {
        store
            .by_access(token)
            .filter(|(_, g)| g.access_expires > now)
            .map(|(_, g)| (g, true))
    };
    let as_refresh = || {
        store
            .by_refresh(token)
            .filter(|(_, g)| g.refresh_expires > now)
            .map(|(_, g)| (g, false))
    };
    let found = if refresh_first {
        as_refresh().or_else(as_access)
    } else {
        as_access().or_else(as_refresh)
    };
    let mut c = Map::new();
    c.insert("active".into(), found.is_some().into());
    if let Some((g, access)) = found {
        let (issued, expires) = if access {
            (g.access_issued, g.access_expires)
        } else {
            (g.access_issued, g.refresh_expires)
        };
        if !g.scopes.is_empty() {
            c.insert("scope".into(), g.scopes.join(" ").into());
        }
        c.insert(
            "client_id".into(),
            client_id_as_used(&g.client, g.alias_used).into(),
        );
        if !g.subject.is_empty() {
            c.insert("sub".into(), g.subject.clone().into());
        }
        c.insert("exp".into(), (expires / 1000).into());
        c.insert("iat".into(), (issued / 1000).into());
        c.insert("iss".into(), engine.config.issuer.clone().into());
        // RFC 9449 §6.2: a bound token says so, and names its key.
        let jkt = if access { &g.dpop_jkt } else { &g.refresh_jkt };
        let kind = match (access, jkt) {
            (true, Some(_)) => "DPoP",
            (true, None) => "Bearer",
            _ => "refresh_token",
        };
        c.insert("token_type".into(), kind.into());
        // RFC 8705 §3.2 too.
        let mut cnf = Map::new();
        if let Some(jkt) = jkt {
            cnf.insert("jkt".into(), jkt.clone().into());
        }
        if let (true, Some(x5t)) = (access, &g.cert_thumbprint) {
            cnf.insert("x5t#S256".into(), x5t.clone().into());
        }
        if !cnf.is_empty() {
            c.insert("cnf".into(), Value::Object(cnf));
        }
    }
    Ok(
        Obj::new("OK", "L066001", "The introspection request was processed.")
            .set("responseContent", Value::Object(c).to_string())
            .done(),
    )
}
