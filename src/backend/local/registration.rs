//! Dynamic client registration (RFC 7591) and its management protocol
//! (RFC 7592): `/client/registration`, `/get`, `/update` and `/delete`,
//! answering with Authlete's actions. A registered client works at every
//! endpoint a configured one does; a deleted one loses its tokens.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::client::{AuthMethod, Client};
use super::client_keys::ClientKeys;
use super::jwt::random_token;
use super::registered::{Entry, Hash};
use super::registration_json;
use super::registration_meta::{self as meta, Invalid, Metadata};
use super::reply::{self, Fault, Obj};

/// The body of every `/client/registration*` API.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    json: Option<String>,
    token: Option<String>,
    client_id: Option<String>,
}

/// Which API, with its success action and result codes (`L` + Authlete's
/// API number: 202 register, 217 get, 213 update, 216 delete).
#[derive(Clone, Copy)]
enum Op {
    Register,
    Get,
    Update,
    Delete,
}

impl Op {
    fn success(self) -> &'static str {
        match self {
            Self::Register => "CREATED",
            Self::Get => "OK",
            Self::Update => "UPDATED",
            Self::Delete => "DELETED",
        }
    }

    fn code(self, suffix: &str) -> String {
        let api = match self {
            Self::Register => "202",
            Self::Get => "217",
            Self::Update => "213",
            Self::Delete => "216",
        };
        format!("L{api}{suffix}")
    }
}

pub(super) fn register(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let op = Op::Register;
    if !engine.config.registration.enabled {
        return Ok(disabled(op));
    }
    // A missing body is invalid metadata, answered as such.
    let json = r.json.unwrap_or_default();
    let dynamic = engine.clients.dynamic();
    if let Some(expected) = dynamic.initial_token() {
        let presented = r.token.unwrap_or_default();
        if presented.is_empty() || !expected.matches(&presented) {
            return Ok(unauthorized(
                op,
                "Registration requires a valid initial access token.",
            ));
        }
    }
    let metadata = match meta::parse(&json) {
        Ok(m) => m,
        Err(invalid) => return Ok(bad_request(op, &invalid)),
    };
    let id = dynamic.next_id(|id| engine.clients.is_configured(id));
    let secret = match metadata.auth_method {
        AuthMethod::None | AuthMethod::PrivateKeyJwt => None,
        _ => Some(random_token()?),
    };
    let token = random_token()?;
    let now = engine.now();
    let entry = Entry {
        client: Arc::new(client(id, secret, &metadata)),
        metadata: Arc::new(metadata),
        token: Hash::of(&token),
        issued_at: now,
        modified_at: now,
    };
    let cap = engine.config.registration.max_clients;
    if dynamic.insert(entry.clone(), cap).is_err() {
        return Ok(full(cap));
    }
    Ok(success(engine, op, &entry, &token))
}

pub(super) fn get(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let (entry, token) = match authorized(engine, Op::Get, r.client_id, r.token)? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    Ok(success(engine, Op::Get, &entry, &token))
}

/// RFC 7592 §2.2: the metadata replaces the old (omitted members are
/// deleted). The secret stays unless the client turns public (dropped) or
/// confidential (generated); the registration access token stays.
pub(super) fn update(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let op = Op::Update;
    let Request {
        json,
        token,
        client_id,
    } = r;
    let (old, token) = match authorized(engine, op, client_id, token)? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let json = json.unwrap_or_default();
    let checked = meta::parse(&json).and_then(|m| same_identity(&json, &old.client).map(|()| m));
    let metadata = match checked {
        Ok(m) => m,
        Err(invalid) => return Ok(bad_request(op, &invalid)),
    };
    let secret = match (metadata.auth_method, &old.client.secret) {
        (AuthMethod::None | AuthMethod::PrivateKeyJwt, _) => None,
        (_, Some(kept)) => Some(kept.clone()),
        (_, None) => Some(random_token()?),
    };
    let entry = Entry {
        client: Arc::new(client(old.client.id, secret, &metadata)),
        metadata: Arc::new(metadata),
        modified_at: engine.now(),
        ..old
    };
    if !engine.clients.dynamic().replace(entry.clone()) {
        return Ok(unauthorized(op, "The client does not exist."));
    }
    Ok(success(engine, op, &entry, &token))
}

/// RFC 7592 §2.3: the client, its grants and its tokens are gone.
pub(super) fn delete(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let op = Op::Delete;
    let (entry, _) = match authorized(engine, op, r.client_id, r.token)? {
        Ok(found) => found,
        Err(reply) => return Ok(reply),
    };
    let id = entry.client.id;
    // First out of the registry, then its state: token minting checks the
    // registry under the store lock, so nothing new survives the purge.
    if !engine.clients.dynamic().remove(id) {
        return Ok(unauthorized(op, "The client does not exist."));
    }
    engine.store.lock().forget_client(id);
    Ok(Obj::new(
        op.success(),
        &op.code("001"),
        "The client has been deleted.",
    )
    .done())
}

/// The client a management request names, when its registration access
/// token is right; otherwise the reply to give (UNAUTHORIZED, or
/// BAD_REQUEST when registration is off).
fn authorized(
    engine: &LocalBackend,
    op: Op,
    client_id: Option<String>,
    token: Option<String>,
) -> Result<Result<(Entry, String), Value>, Fault> {
    if !engine.config.registration.enabled {
        return Ok(Err(disabled(op)));
    }
    let client_id = required(client_id, "clientId")?;
    // No token is a wrong token: 401, like any other.
    let token = token.unwrap_or_default();
    // One answer for an unknown client, a configured one and a wrong token
    // (RFC 7592 §2: 401 either way), so the reply reveals nothing.
    let entry = client_id
        .parse::<i64>()
        .ok()
        .and_then(|id| engine.clients.dynamic().entry(id))
        .filter(|e| e.token.matches(&token));
    Ok(match entry {
        Some(e) => Ok((e, token)),
        None => Err(unauthorized(
            op,
            "The registration access token is not valid for this client.",
        )),
    })
}

/// RFC 7592 §2.2: `client_id` must be the client's own, and a
/// `client_secret` must be its current one (a client cannot choose it).
fn same_identity(json: &str, client: &Client) -> Result<(), Invalid> {
    let object: Map<String, Value> = serde_json::from_str(json).unwrap_or_default();
    let wrong = |what: &str| Invalid {
        error: "invalid_client_metadata",
        description: format!("'{what}' does not match the registered client."),
    };
    if let Some(id) = object.get("client_id").filter(|v| !v.is_null())
        && id.as_str() != Some(client.client_id().as_str())
    {
        return Err(wrong("client_id"));
    }
    if let Some(secret) = object.get("client_secret").filter(|v| !v.is_null()) {
        let current = client.secret.as_deref().map(Hash::of);
        let fine = match (secret.as_str(), current) {
            (Some(presented), Some(hash)) => hash.matches(presented),
            _ => false,
        };
        if !fine {
            return Err(wrong("client_secret"));
        }
    }
    Ok(())
}

fn required(value: Option<String>, name: &str) -> Result<String, Fault> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Fault::Caller(format!("'{name}' is missing.")))
}

/// The engine client a registration makes.
fn client(id: i64, secret: Option<String>, m: &Metadata) -> Client {
    Client {
        id,
        alias: None,
        secret,
        secret_generated: true,
        name: m.client_name.clone(),
        description: String::new(),
        logo_uri: m.logo_uri.clone(),
        tos_uri: m.tos_uri.clone(),
        policy_uri: m.policy_uri.clone(),
        client_uri: m.client_uri.clone(),
        redirect_uris: m.redirect_uris.clone(),
        grant_types: m.grant_types.clone(),
        response_types: m.response_types.clone(),
        auth_method: m.auth_method,
        id_token_alg: m.id_token_alg,
        userinfo_alg: m.userinfo_alg,
        dpop_required: m.dpop_bound_access_tokens,
        dpop_nonce_required: false,
        tls_name: None,
        self_signed: Vec::new(),
        tls_bound: false,
        access_token_alg: None,
        // Checked to parse when the metadata was.
        keys: m.jwks.as_deref().and_then(|j| ClientKeys::parse(j).ok()),
        require_signed_request_object: m.require_signed_request_object,
        request_object_alg: m.request_object_alg,
        backchannel: Default::default(),
    }
}

fn success(engine: &LocalBackend, op: Op, entry: &Entry, token: &str) -> Value {
    let message = match op {
        Op::Register => format!("The client was created with id {}.", entry.client.id),
        Op::Get => "The client information has been returned.".to_owned(),
        _ => "The client has been updated.".to_owned(),
    };
    Obj::new(op.success(), &op.code("001"), &message)
        .set(
            "responseContent",
            registration_json::content(engine, entry, token).to_string(),
        )
        .set("client", registration_json::client(entry))
        .done()
}

fn bad_request(op: Op, invalid: &Invalid) -> Value {
    reply::json_error(
        "BAD_REQUEST",
        &op.code("201"),
        invalid.error,
        &invalid.description,
    )
}

fn unauthorized(op: Op, message: &str) -> Value {
    reply::json_error("UNAUTHORIZED", &op.code("301"), "invalid_token", message)
}

/// Registration off: what a service without dynamic registration does,
/// a BAD_REQUEST; no client is created, read or changed.
fn disabled(op: Op) -> Value {
    reply::json_error(
        "BAD_REQUEST",
        &op.code("202"),
        "invalid_request",
        "Dynamic client registration is not enabled (registration.enabled in the engine's configuration).",
    )
}

/// The cap on registered clients: the engine's usual answer when full.
fn full(cap: usize) -> Value {
    reply::json_error(
        "INTERNAL_SERVER_ERROR",
        reply::FULL,
        "server_error",
        &format!(
            "The local engine holds its maximum of {cap} registered clients \
             (registration.max_clients); delete some or raise the limit."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::token::{NewTokens, mint};
    use super::super::{LocalConfig, ManualClock};
    use super::*;
    use crate::backend::{Api, Call};
    use serde_json::json;

    fn call(engine: &LocalBackend, api: Api, body: Value) -> Value {
        let call = Call {
            api,
            query: Vec::new(),
            body: Some(body.to_string().into_bytes()),
        };
        serde_json::from_str(&engine.answer(&call).expect("reply").body).expect("JSON")
    }

    /// A token request that authenticated the client just before its
    /// deletion gets no token: minting checks under the store lock.
    #[test]
    fn a_client_deleted_mid_request_gets_no_tokens() {
        let mut config = LocalConfig::default();
        config.registration.enabled = true;
        let clock = Arc::new(ManualClock::starting_now());
        let engine = LocalBackend::with_clock(config, clock).expect("engine");
        let metadata = r#"{"grant_types":["client_credentials"]}"#;
        let created = call(&engine, Api::ClientRegistration, json!({"json": metadata}));
        let content: Value =
            serde_json::from_str(created["responseContent"].as_str().unwrap()).unwrap();
        let id = content["client_id"].as_str().unwrap();
        let authenticated = engine.clients.find(id).expect("registered").0;
        let token = content["registration_access_token"].clone();
        let deleted = call(
            &engine,
            Api::ClientRegistrationDelete,
            json!({"clientId": id, "token": token}),
        );
        assert_eq!(deleted["action"], "DELETED");
        let mut store = engine.store.lock();
        let tokens = NewTokens {
            client: authenticated,
            alias_used: false,
            subject: String::new(),
            scopes: Vec::new(),
            grant_type: "CLIENT_CREDENTIALS",
            properties: Vec::new(),
            resources: Vec::new(),
            auth_time: 0,
            acr: String::new(),
            userinfo_claims: Vec::new(),
            userinfo_claims_json: String::new(),
            consented_claims: Vec::new(),
            refresh: false,
            access_duration: 0,
            refresh_duration: 0,
            dpop_jkt: None,
            cert_thumbprint: None,
        };
        assert!(mint(&engine, &mut store, engine.now(), tokens).is_err());
        assert_eq!(store.live(), 0);
    }
}
