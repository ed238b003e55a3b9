//! `/auth/revocation` (RFC 7009): the client authenticates; revoking an
//! access or refresh token revokes the whole token record (both tokens), as
//! Authlete does. Unknown tokens, and tokens of other clients (which are
//! left alone), are answered OK: RFC 7009 §2.2 keeps their existence secret.

use serde::Deserialize;
use serde_json::Value;

use super::LocalBackend;
use super::client;
use super::params::Params;
use super::reply::{self, Fault, Obj};

/// `POST /auth/revocation`.
// No `Debug`: the request carries the client secret.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    parameters: Option<String>,
    #[serde(flatten)]
    credentials: client::Credentials,
}

pub(super) fn handle(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let parameters = r
        .parameters
        .ok_or_else(|| Fault::Caller("'parameters' is missing.".to_owned()))?;
    let bad = |m: &str| reply::json_error("BAD_REQUEST", "L067201", "invalid_request", m);
    let params = match Params::parse(&parameters, engine.config.max_list_values) {
        Ok(p) => p,
        Err(m) => return Ok(bad(&m)),
    };
    let auth = match client::authenticate(
        engine,
        &r.credentials,
        &params,
        &engine.url(|e| &e.revocation),
    )? {
        Ok(a) => a,
        Err(f) => return Ok(f.reply("L067201", "INVALID_CLIENT", "L067301")),
    };
    let Some(token) = params.get("token") else {
        return Ok(bad("The revocation request does not contain 'token'."));
    };
    let mut store = engine.store.lock();
    let found = store
        .by_access(token)
        .or_else(|| store.by_refresh(token))
        .map(|(id, g)| (id, g.client.id));
    if let Some((id, _)) = found.filter(|(_, owner)| *owner == auth.client.id) {
        store.remove_grant(id);
    }
    Ok(Obj::new("OK", "L067001", "The revocation request was processed.").done())
}
