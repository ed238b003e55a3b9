//! `/auth/userinfo` (checks the access token and says which claims the web
//! tier should gather) and `/auth/userinfo/issue` (builds the JSON response
//! from the claims the web tier gathered).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::authz_issue::{json_object, required};
use super::claims;
use super::dpop;
use super::idtoken::client_id_as_used;
use super::introspection::{Refusal, usable};
use super::jwt;
use super::keys::Algorithm;
use super::mtls;
use super::reply::{Fault, Obj};
use super::store::Grant;

/// `POST /auth/userinfo`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    token: Option<String>,
    #[serde(flatten)]
    dpop: dpop::ProofInput,
    client_certificate: Option<String>,
}

crate::secret::redacted_debug!(Request {
    token,
    dpop,
    client_certificate
});

/// `POST /auth/userinfo/issue`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct IssueRequest {
    token: Option<String>,
    claims: Option<String>,
    sub: Option<String>,
}

crate::secret::redacted_debug!(IssueRequest { token, claims, sub });

/// A token that may be used at the userinfo endpoint: usable, for a user,
/// with the `openid` scope.
fn check(grant: &Grant) -> Result<(), Refusal> {
    if !grant.scopes.iter().any(|s| s == "openid") {
        return Err(Refusal {
            action: "FORBIDDEN",
            error: "insufficient_scope",
            message: "The access token does not cover the 'openid' scope.",
            scope: Some("openid".to_owned()),
            existent: true,
        });
    }
    if grant.subject.is_empty() {
        return Err(Refusal {
            action: "FORBIDDEN",
            error: "insufficient_scope",
            message: "The access token is not bound to an end-user.",
            scope: None,
            existent: true,
        });
    }
    Ok(())
}

pub(super) fn handle(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let token = r.token.unwrap_or_default();
    let store = engine.store.lock();
    let grant = match usable(&store, &token, engine.now()).and_then(|g| check(g).map(|()| g)) {
        Ok(g) => g,
        Err(refusal) => return Ok(refusal.reply("L091301")),
    };
    let bound = grant.cert_thumbprint.as_deref();
    if let Err(message) = mtls::check_bound(bound, r.client_certificate.as_deref()) {
        let refusal = Refusal {
            action: "UNAUTHORIZED",
            error: "invalid_token",
            message,
            scope: None,
            existent: true,
        };
        return Ok(refusal.reply("L091303"));
    }
    // Authlete's defaults: the userinfo endpoint, GET.
    let endpoint = engine.config.endpoint(&engine.config.endpoints.userinfo);
    let at = dpop::Resource {
        default_htm: Some("GET"),
        default_htu: Some(&endpoint),
        code: "L091302",
    };
    let jkt = grant.dpop_jkt.as_deref();
    let nonce = match dpop::at_resource(engine, &r.dpop, &grant.client, &token, jkt, &at)? {
        Ok(nonce) => nonce,
        Err(refusal) => return Ok(refusal),
    };
    let mut names = claims::from_scopes(&grant.scopes, &engine.claims_supported);
    claims::merge(&mut names, grant.userinfo_claims.clone());
    let properties: Vec<Value> = grant
        .properties
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    Ok(Obj::new(
        "OK",
        "L091001",
        "The access token is valid for the userinfo endpoint.",
    )
    .set("claims", names)
    .set("clientId", grant.client.id)
    .set(
        "clientIdAlias",
        grant.client.alias.clone().unwrap_or_default(),
    )
    .set("clientIdAliasUsed", grant.alias_used)
    .set("scopes", grant.scopes.clone())
    .set("subject", grant.subject.as_str())
    .set("token", token)
    .set("properties", properties)
    .set("userInfoClaims", grant.userinfo_claims_json.as_str())
    .set("consentedClaims", grant.consented_claims.clone())
    .set("dpopNonce", nonce)
    .done())
}

pub(super) fn issue(engine: &LocalBackend, r: IssueRequest) -> Result<Value, Fault> {
    let token = required(r.token, "token")?;
    let claims: Map<String, Value> = json_object(r.claims.as_deref(), "claims")?;
    let store = engine.store.lock();
    let grant = match usable(&store, &token, engine.now()).and_then(|g| check(g).map(|()| g)) {
        Ok(g) => g,
        Err(refusal) => return Ok(refusal.reply("L092301")),
    };
    let mut body = Map::new();
    let sub = r
        .sub
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| grant.subject.clone());
    body.insert("sub".into(), sub.into());
    for (name, value) in claims {
        if name != "sub" && !value.is_null() {
            body.insert(name, value);
        }
    }
    if let Some(alg) = grant.client.userinfo_alg {
        return signed(engine, grant, alg, body);
    }
    Ok(Obj::new(
        "JSON",
        "L092001",
        "The userinfo response was built successfully.",
    )
    .set("responseContent", Value::Object(body).to_string())
    .done())
}

/// OpenID Connect Core §5.3.2: a client registered with
/// `userinfo_signed_response_alg` gets the claims as a JWS, with `iss` and
/// `aud`; action JWT, which the action table answers as `application/jwt`.
fn signed(
    engine: &LocalBackend,
    grant: &Grant,
    alg: Algorithm,
    mut body: Map<String, Value>,
) -> Result<Value, Fault> {
    // The engine vouches for these, whatever the web tier gathered.
    body.insert("iss".into(), engine.config.issuer.clone().into());
    body.insert(
        "aud".into(),
        client_id_as_used(&grant.client, grant.alias_used).into(),
    );
    let key = engine.keys.for_alg(Some(alg)).map_err(Fault::Server)?;
    let jws = jwt::sign(key, &Value::Object(body))?;
    Ok(Obj::new(
        "JWT",
        "L092002",
        "The signed userinfo response was built successfully.",
    )
    .set("responseContent", jws)
    .done())
}
