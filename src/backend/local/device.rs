//! The device authorization grant (RFC 8628), first step:
//! `/device/authorization`. The client authenticates as at the token
//! endpoint and gets a device code (its secret, for polling) and a user code
//! (what the end-user types at the verification URI). What the flow holds
//! between the steps is a [`Flow`] in the store, found by device code; the
//! user code maps to the device code.
//!
//! `device_user.rs` has `/device/verification` and `/device/complete`,
//! `device_grant.rs` the token endpoint's device_code grant.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::LocalBackend;
use super::claims;
use super::client::{self, Client};
use super::jwt::random_token;
use super::params::{Params, split};
use super::reply::{self, Fault, Obj};
use super::store::{self, Property};
use super::{authz_request, client::absolute_without_fragment};

/// The grant type of RFC 8628 §3.4.
pub(super) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Authlete's default user code charset (BASE20: consonants only, so no
/// words and no look-alike characters) and length.
const CHARSET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH: usize = 8;

const OK: &str = "L220001";
const BAD_REQUEST: &str = "L220201";
const UNAUTHORIZED: &str = "L220301";

/// `POST /device/authorization`. The members for mTLS and attestation are
/// not read: the engine supports neither.
// No `Debug`: the request carries the client secret.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    parameters: Option<String>,
    #[serde(flatten)]
    credentials: client::Credentials,
}

/// A device flow between `/device/authorization` and the token request
/// that redeems it.
#[derive(Debug, Clone)]
pub(super) struct Flow {
    pub client: Arc<Client>,
    pub alias_used: bool,
    pub scopes: Vec<String>,
    /// Claims the scopes stand for (only with `openid`, as Authlete does).
    pub claim_names: Vec<String>,
    pub acrs: Vec<String>,
    pub resources: Vec<String>,
    /// When the device and user codes expire (epoch ms). The store keeps the
    /// entry longer, so that a late user or device is told "expired" rather
    /// than "unknown".
    pub expires_at: i64,
    /// The minimum time between polls, in ms (0: no minimum).
    pub interval_ms: i64,
    /// When the device last polled (epoch ms).
    pub last_poll: Option<i64>,
    pub state: State,
}

/// Where a device flow stands.
#[derive(Debug, Clone)]
pub(super) enum State {
    /// Waiting for the end-user (`/device/complete`).
    Pending,
    /// The end-user approved; the next poll gets the tokens.
    Approved(Box<Approval>),
    /// The end-user refused or the transaction failed: every poll gets
    /// this error.
    Refused {
        error: &'static str,
        description: String,
        uri: String,
    },
    /// The tokens were issued: the device code works once.
    Redeemed,
}

/// What `/device/complete` with `AUTHORIZED` said.
#[derive(Debug, Clone)]
pub(super) struct Approval {
    pub subject: String,
    /// The `sub` of the ID token when it differs from `subject`.
    pub sub: String,
    pub auth_time: i64,
    pub acr: String,
    /// Claim values for the ID token.
    pub claims: Map<String, Value>,
    pub properties: Vec<Property>,
    pub scopes: Vec<String>,
    pub consented_claims: Vec<String>,
    pub access_duration: i64,
    pub refresh_duration: i64,
}

fn bad(error: &str, message: &str) -> Value {
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
    let auth = match client::authenticate(
        engine,
        &r.credentials,
        &params,
        &engine.url(|e| &e.device_authorization),
    )? {
        Ok(a) => a,
        Err(f) => return Ok(f.reply(BAD_REQUEST, "UNAUTHORIZED", UNAUTHORIZED)),
    };
    if !auth.client.allows(GRANT_TYPE) {
        return Ok(bad(
            "unauthorized_client",
            "The client is not allowed to use the device authorization grant.",
        ));
    }
    let scopes = match authz_request::scopes(engine, &params) {
        Ok(s) => s,
        Err(m) => return Ok(bad("invalid_scope", &m)),
    };
    let resources = params.all("resource");
    if resources.iter().any(|r| !absolute_without_fragment(r)) {
        return Ok(bad(
            "invalid_target",
            "A 'resource' is not an absolute URI without fragment.",
        ));
    }
    let claim_names = if scopes.iter().any(|s| s == "openid") {
        claims::from_scopes(&scopes, &engine.claims_supported)
    } else {
        Vec::new()
    };
    let now = engine.now();
    let lifetimes = &engine.config.lifetimes;
    let flow = Flow {
        client: auth.client.clone(),
        alias_used: auth.alias_used,
        scopes,
        claim_names,
        acrs: split(params.get("acr_values")),
        resources,
        expires_at: engine.expiry(now, lifetimes.device_code),
        interval_ms: lifetimes.device_polling_interval.saturating_mul(1000),
        last_poll: None,
        state: State::Pending,
    };
    let (device_code, user_code) = register(engine, now, flow.clone())?;
    Ok(ok(
        engine,
        &flow,
        auth.method.name(),
        &device_code,
        &user_code,
    ))
}

/// Stores a new flow under fresh codes: the device code and the user code.
fn register(engine: &LocalBackend, now: i64, flow: Flow) -> Result<(String, String), Fault> {
    let device_code = random_token()?;
    // Kept for a second lifetime after expiry: "expired", not "unknown".
    let kept_until = engine.expiry(flow.expires_at, engine.config.lifetimes.device_code);
    let mut store = engine.store.lock();
    // Checked under the store lock, as token minting does: a client deleted
    // since it authenticated gets no flow (its deletion swept the store).
    if !engine.clients.is_live(flow.client.id) {
        return Err(Fault::Server("The client no longer exists.".to_owned()));
    }
    // A user code has 34 bits: a collision is rare but possible.
    let mut user_code = new_user_code()?;
    let mut tries = 1;
    while store.user_codes.get(&user_code, now).is_some() {
        if tries == 8 {
            return Err(Fault::Server("No free user code was found.".to_owned()));
        }
        user_code = new_user_code()?;
        tries += 1;
    }
    let lists = [&flow.scopes, &flow.claim_names, &flow.acrs, &flow.resources];
    let weight: usize = lists.iter().map(|l| store::strings(l)).sum();
    store.room(now, weight)?;
    store
        .device_flows
        .insert(device_code.clone(), flow, kept_until, weight);
    if let Err(full) = store.room(now, device_code.len()) {
        store.device_flows.take(&device_code, now);
        return Err(full);
    }
    let weight = device_code.len();
    store
        .user_codes
        .insert(user_code.clone(), device_code.clone(), kept_until, weight);
    Ok((device_code, user_code))
}

/// The OK reply: RFC 8628 §3.2 in `responseContent`, and the typed members.
fn ok(
    engine: &LocalBackend,
    flow: &Flow,
    method: &str,
    device_code: &str,
    user_code: &str,
) -> Value {
    let c = &engine.config;
    let uri = c.endpoint(&c.endpoints.device_verification);
    let complete = complete_uri(&uri, user_code);
    let expires_in = c.lifetimes.device_code;
    let interval = c.lifetimes.device_polling_interval;
    let mut content = Map::new();
    content.insert("device_code".into(), device_code.into());
    content.insert("user_code".into(), user_code.into());
    content.insert("verification_uri".into(), uri.clone().into());
    content.insert("verification_uri_complete".into(), complete.clone().into());
    content.insert("expires_in".into(), expires_in.into());
    if interval > 0 {
        content.insert("interval".into(), interval.into());
    }
    let message = "The device authorization request was processed successfully.";
    let obj = Obj::new("OK", OK, message)
        .set("responseContent", Value::Object(content).to_string())
        .set("clientAuthMethod", method)
        .set("deviceCode", device_code)
        .set("userCode", user_code)
        .set("verificationUri", uri)
        .set("verificationUriComplete", complete)
        .set("expiresIn", expires_in)
        .set("interval", interval);
    described(engine, obj, flow).done()
}

/// The members describing the request, shared with `/device/verification`.
pub(super) fn described(engine: &LocalBackend, obj: Obj, flow: &Flow) -> Obj {
    let client = &flow.client;
    // Authlete sends the scope objects without their descriptions here.
    let scopes: Vec<Value> = flow
        .scopes
        .iter()
        .map(|name| {
            let default = engine.scopes.iter().any(|s| &s.name == name && s.default);
            Obj::empty()
                .set("name", name.as_str())
                .set("defaultEntry", default)
                .done()
        })
        .collect();
    obj.set("clientId", client.id)
        .set("clientIdAlias", client.alias.clone().unwrap_or_default())
        .set("clientIdAliasUsed", flow.alias_used)
        .set("clientName", client.name.as_str())
        .set("scopes", scopes)
        .set("claimNames", flow.claim_names.clone())
        .set("acrs", flow.acrs.clone())
        .set("resources", flow.resources.clone())
}

/// RFC 8628 §3.3.1: the verification URI with the user code in it.
fn complete_uri(uri: &str, user_code: &str) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}user_code={user_code}")
}

/// A random user code of the BASE20 charset (uniform: bytes at or above the
/// largest multiple of 20 are drawn again).
fn new_user_code() -> Result<String, Fault> {
    let mut code = String::with_capacity(USER_CODE_LENGTH);
    let mut bytes = [0u8; 16];
    while code.len() < USER_CODE_LENGTH {
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| Fault::Server("The system random generator failed.".to_owned()))?;
        // Called under the store lock: no indexing, nothing that can panic.
        let drawn = bytes.iter().filter(|b| **b < 240);
        for c in drawn.filter_map(|b| CHARSET.get(usize::from(*b % 20))) {
            if code.len() < USER_CODE_LENGTH {
                code.push(char::from(*c));
            }
        }
    }
    Ok(code)
}

/// A user code as typed: case and the hyphens or spaces people add for
/// readability do not matter (no BASE20 character is a hyphen, a space or
/// lower case, so nothing else could match).
pub(super) fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_base20_of_eight_and_vary() {
        let codes: Vec<String> = (0..50).map(|_| new_user_code().unwrap()).collect();
        for c in &codes {
            assert_eq!(c.len(), USER_CODE_LENGTH);
            assert!(c.bytes().all(|b| CHARSET.contains(&b)), "{c}");
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert!(unique.len() > 45, "codes repeat: {codes:?}");
    }

    #[test]
    fn typed_user_codes_are_normalized() {
        assert_eq!(normalize("bcdf-ghjk"), "BCDFGHJK");
        assert_eq!(normalize(" BCDF GHJK "), "BCDFGHJK");
        assert_eq!(normalize("bcdé"), "BCDé");
    }

    #[test]
    fn the_complete_uri_carries_the_user_code() {
        assert_eq!(
            complete_uri("https://as/device", "BCDFGHJK"),
            "https://as/device?user_code=BCDFGHJK"
        );
        assert_eq!(
            complete_uri("https://as/device?lang=en", "BCDFGHJK"),
            "https://as/device?lang=en&user_code=BCDFGHJK"
        );
    }
}
