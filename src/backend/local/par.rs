//! `/pushed_auth_req` (RFC 9126): the client authenticates and pushes an
//! authorization request; the engine checks it as `/auth/authorization`
//! would and keeps it under a one-time `request_uri`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::authz_request::{self, AuthzError};
use super::client;
use super::jwt::random_token;
use super::params::Params;
use super::reply::{self, Fault, Obj};

/// `POST /pushed_auth_req`.
// No `Debug`: the request carries the client secret.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    parameters: Option<String>,
    #[serde(flatten)]
    credentials: client::Credentials,
}

/// RFC 9126 §2.2: the `request_uri` prefix.
pub(super) const URN: &str = "urn:ietf:params:oauth:request_uri:";

pub(super) fn handle(engine: &LocalBackend, r: Request) -> Result<Value, Fault> {
    let parameters = r
        .parameters
        .ok_or_else(|| Fault::Caller("'parameters' is missing.".to_owned()))?;
    let bad = |error: &str, m: &str| reply::json_error("BAD_REQUEST", "L100201", error, m);
    // RFC 9126 section 2.3: 413 for a request larger than the server accepts.
    if parameters.len() > engine.config.max_request_bytes {
        let m = "The pushed authorization request is larger than this server accepts.";
        return Ok(reply::json_error(
            "PAYLOAD_TOO_LARGE",
            "L100202",
            "invalid_request",
            m,
        ));
    }
    let params = match Params::parse(&parameters, engine.config.max_list_values) {
        Ok(p) => p,
        Err(m) => return Ok(bad("invalid_request", &m)),
    };
    let auth = match client::authenticate(
        engine,
        &r.credentials,
        &params,
        &engine.url(|e| &e.pushed_authorization_request),
    )? {
        Ok(a) => a,
        Err(f) => return Ok(f.reply("L100201", "UNAUTHORIZED", "L100301")),
    };
    if params.has("request_uri") {
        return Ok(bad(
            "invalid_request",
            "A pushed request cannot contain 'request_uri'.",
        ));
    }
    let known = Some((auth.client.clone(), auth.alias_used));
    let request = match authz_request::parse(engine, &params, known) {
        Ok(r) => r,
        Err(
            AuthzError::Direct { error, message } | AuthzError::Redirect { error, message, .. },
        ) => {
            return Ok(bad(error, &message));
        }
    };
    let uri = format!("{URN}{}", random_token()?);
    let lifetime = engine.config.lifetimes.pushed_request;
    {
        let now = engine.now();
        let mut store = engine.store.lock();
        let request = request.weighing(parameters.len());
        let weight = request.weight;
        store.room(now, weight)?;
        store.pushed.insert(
            uri.clone(),
            Arc::new(request),
            engine.expiry(now, lifetime),
            weight,
        );
    }
    let mut content = Map::new();
    content.insert("expires_in".into(), lifetime.into());
    content.insert("request_uri".into(), uri.clone().into());
    Ok(Obj::new(
        "CREATED",
        "L100001",
        "The pushed authorization request was registered.",
    )
    .set("requestUri", uri)
    .set("responseContent", Value::Object(content).to_string())
    .set("clientAuthMethod", auth.method.name())
    .done())
}
