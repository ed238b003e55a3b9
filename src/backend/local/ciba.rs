//! OpenID Connect CIBA Core 1.0 (poll and ping modes), first step:
//! `/backchannel/authentication`. The client authenticates as at the token
//! endpoint and names the end-user by exactly one hint; the reply is
//! USER_IDENTIFICATION with a ticket, and the web tier (the service) finds
//! the user and calls `/backchannel/authentication/issue` or `/fail`.
//!
//! What the request holds between the steps is a [`Flow`] in the store, by
//! ticket; once issued, its `auth_req_id` maps to the ticket.
//! `ciba_user.rs` has issue, fail and complete, `ciba_grant.rs` the token
//! endpoint's CIBA grant, `ciba_client.rs` the client's registration.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::LocalBackend;
use super::ciba_client::{DeliveryMode, GRANT_TYPE};
use super::claims;
use super::client::{self, Client, absolute_without_fragment};
use super::device::State;
use super::jwt::random_token;
use super::params::{Params, split};
use super::reply::{self, Fault, Obj};
use super::{authz_request, ciba_hint, store};

const USER_IDENTIFICATION: &str = "L179001";
const BAD_REQUEST: &str = "L179201";
const UNAUTHORIZED: &str = "L179301";

/// CIBA Core §7.1: a client notification token is at most 1024 characters.
const MAX_NOTIFICATION_TOKEN: usize = 1024;

/// `POST /backchannel/authentication`. The attestation members are not
/// read: the engine does not support attestation-based client authentication.
// No `Debug`: the request carries the client secret.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Request {
    parameters: Option<String>,
    #[serde(flatten)]
    credentials: client::Credentials,
}

/// A backchannel authentication request, from `/backchannel/authentication`
/// until its `auth_req_id` is redeemed or expires. Its `Debug` leaves the
/// hint, the user code and the tokens out.
#[derive(Clone)]
pub(super) struct Flow {
    pub client: Arc<Client>,
    pub alias_used: bool,
    pub scopes: Vec<String>,
    /// Claims the scopes stand for.
    pub claim_names: Vec<String>,
    pub acrs: Vec<String>,
    pub resources: Vec<String>,
    /// `LOGIN_HINT`, `ID_TOKEN_HINT` or `LOGIN_HINT_TOKEN`, and its value.
    pub hint_type: &'static str,
    pub hint: String,
    /// The `sub` of an `id_token_hint`.
    pub sub: String,
    pub binding_message: String,
    pub user_code: String,
    pub notification_token: String,
    pub requested_expiry: i64,
    pub mode: DeliveryMode,
    /// Empty until `/backchannel/authentication/issue`.
    pub auth_req_id: String,
    /// When the `auth_req_id` expires (epoch ms); 0 before issue.
    pub expires_at: i64,
    /// When the store drops the entry: one more `auth_req_id` lifetime
    /// after expiry, so a late poll is told "expired" rather than "unknown".
    pub kept_until: i64,
    /// The minimum time between polls, in ms (0: no minimum).
    pub interval_ms: i64,
    pub last_poll: Option<i64>,
    /// Pending from issue until `/backchannel/authentication/complete`.
    pub state: State,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("client", &self.client.id)
            .field("scopes", &self.scopes)
            .field("hint_type", &self.hint_type)
            .field("mode", &self.mode)
            .field("issued", &!self.auth_req_id.is_empty())
            .field("expires_at", &self.expires_at)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Flow {
    /// What the entry weighs besides its key and the overhead.
    pub(super) fn weight(&self) -> usize {
        let lists = [&self.scopes, &self.claim_names, &self.acrs, &self.resources];
        let texts = [
            &self.hint,
            &self.sub,
            &self.binding_message,
            &self.user_code,
            &self.notification_token,
            &self.auth_req_id,
        ];
        let approval = match &self.state {
            State::Approved(a) => {
                a.subject.len()
                    + a.sub.len()
                    + a.acr.len()
                    + Value::Object(a.claims.clone()).to_string().len()
                    + store::properties(&a.properties)
                    + store::strings(&a.scopes)
                    + store::strings(&a.consented_claims)
            }
            State::Refused {
                description, uri, ..
            } => description.len() + uri.len(),
            _ => 0,
        };
        lists.iter().map(|l| store::strings(l)).sum::<usize>()
            + texts.iter().map(|t| t.len()).sum::<usize>()
            + approval
    }
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
        &engine.url(|e| &e.backchannel_authentication),
    )? {
        Ok(a) => a,
        Err(f) => return Ok(f.reply(BAD_REQUEST, "UNAUTHORIZED", UNAUTHORIZED)),
    };
    if !auth.client.allows(GRANT_TYPE) {
        return Ok(bad(
            "unauthorized_client",
            "The client is not allowed to use CIBA (urn:openid:params:grant-type:ciba).",
        ));
    }
    let mut flow = match checked(engine, &auth.client, &params) {
        Ok(f) => f,
        Err((error, message)) => return Ok(bad(error, message)),
    };
    flow.alias_used = auth.alias_used;
    let ticket = register(engine, &flow)?;
    Ok(identification(engine, &flow, auth.method.name(), &ticket))
}

/// The request's checks, in CIBA Core §7.1 order; `Err` is the OAuth error
/// and its description.
fn checked(
    engine: &LocalBackend,
    client: &Arc<Client>,
    params: &Params,
) -> Result<Flow, (&'static str, &'static str)> {
    if params.has("request") {
        return Err((
            "invalid_request",
            "Signed backchannel authentication requests ('request') are not supported by the local engine.",
        ));
    }
    let scopes = authz_request::scopes(engine, params)
        .map_err(|_| ("invalid_scope", "A requested scope is not supported."))?;
    if !scopes.iter().any(|s| s == "openid") {
        return Err((
            "invalid_scope",
            "A backchannel authentication request must include the 'openid' scope.",
        ));
    }
    let (hint_type, hint) = hint(params)?;
    let sub = match hint_type {
        "ID_TOKEN_HINT" => {
            ciba_hint::subject(engine, client, &hint).map_err(|m| ("invalid_request", m))?
        }
        _ => String::new(),
    };
    let user_code = params.get("user_code").unwrap_or_default().to_owned();
    if client.backchannel.user_code && user_code.is_empty() {
        return Err((
            "missing_user_code",
            "The client requires a 'user_code' in its backchannel requests.",
        ));
    }
    let requested_expiry = requested_expiry(params)?;
    let notification_token = notification_token(client, params)?;
    let resources = params.all("resource");
    if resources.iter().any(|r| !absolute_without_fragment(r)) {
        return Err((
            "invalid_target",
            "A 'resource' is not an absolute URI without fragment.",
        ));
    }
    let lifetimes = &engine.config.lifetimes;
    Ok(Flow {
        client: client.clone(),
        alias_used: false,
        claim_names: claims::from_scopes(&scopes, &engine.claims_supported),
        scopes,
        acrs: split(params.get("acr_values")),
        resources,
        hint_type,
        hint,
        sub,
        binding_message: params.get("binding_message").unwrap_or_default().to_owned(),
        user_code,
        notification_token,
        requested_expiry,
        mode: client.backchannel.mode,
        auth_req_id: String::new(),
        expires_at: 0,
        kept_until: 0,
        interval_ms: lifetimes.backchannel_polling_interval.saturating_mul(1000),
        last_poll: None,
        state: State::Pending,
    })
}

/// CIBA Core §7.1: `requested_expiry` is a positive integer (0: absent).
fn requested_expiry(params: &Params) -> Result<i64, (&'static str, &'static str)> {
    match params.get("requested_expiry").map(str::parse::<i64>) {
        None => Ok(0),
        Some(Ok(n)) if n > 0 => Ok(n),
        Some(_) => Err((
            "invalid_request",
            "'requested_expiry' is not a positive integer.",
        )),
    }
}

/// CIBA Core §7.1: required of ping clients, at most 1024 characters.
fn notification_token(
    client: &Client,
    params: &Params,
) -> Result<String, (&'static str, &'static str)> {
    let token = params.get("client_notification_token").unwrap_or_default();
    if client.backchannel.mode == DeliveryMode::Ping && token.is_empty() {
        return Err((
            "invalid_request",
            "A client in the ping mode must send 'client_notification_token'.",
        ));
    }
    if token.chars().count() > MAX_NOTIFICATION_TOKEN {
        return Err((
            "invalid_request",
            "'client_notification_token' is longer than 1024 characters.",
        ));
    }
    Ok(token.to_owned())
}

/// CIBA Core §7.1: exactly one of `login_hint_token`, `id_token_hint` and
/// `login_hint`. A `login_hint_token` is passed on as it is: its format is
/// the deployment's, so the web tier reads it (and says whether it expired).
fn hint(params: &Params) -> Result<(&'static str, String), (&'static str, &'static str)> {
    let given: Vec<(&'static str, &str)> = [
        ("LOGIN_HINT_TOKEN", "login_hint_token"),
        ("ID_TOKEN_HINT", "id_token_hint"),
        ("LOGIN_HINT", "login_hint"),
    ]
    .into_iter()
    .filter_map(|(kind, name)| params.get(name).map(|v| (kind, v)))
    .collect();
    match given.as_slice() {
        [(kind, value)] => Ok((kind, (*value).to_owned())),
        [] => Err((
            "invalid_request",
            "The request has none of 'login_hint', 'id_token_hint' and 'login_hint_token'.",
        )),
        _ => Err((
            "invalid_request",
            "The request has more than one of 'login_hint', 'id_token_hint' and 'login_hint_token'.",
        )),
    }
}

/// Stores the request under a fresh ticket, until the ticket expires.
fn register(engine: &LocalBackend, flow: &Flow) -> Result<String, Fault> {
    let ticket = random_token()?;
    let now = engine.now();
    let until = engine.expiry(now, engine.config.lifetimes.authorization_ticket);
    let mut store = engine.store.lock();
    // Checked under the store lock, as token minting does: a client deleted
    // since it authenticated gets no flow (its deletion swept the store).
    if !engine.clients.is_live(flow.client.id) {
        return Err(Fault::Server("The client no longer exists.".to_owned()));
    }
    let weight = flow.weight();
    store.room(now, ticket.len() + weight)?;
    store
        .backchannel
        .insert(ticket.clone(), flow.clone(), until, weight);
    Ok(ticket)
}

/// The USER_IDENTIFICATION reply: what the web tier needs to find the user.
fn identification(engine: &LocalBackend, flow: &Flow, method: &str, ticket: &str) -> Value {
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
    let message = "The backchannel authentication request was processed successfully.";
    Obj::new("USER_IDENTIFICATION", USER_IDENTIFICATION, message)
        .set("ticket", ticket)
        .set("clientId", client.id)
        .set("clientIdAlias", client.alias.clone().unwrap_or_default())
        .set("clientIdAliasUsed", flow.alias_used)
        .set("clientName", client.name.as_str())
        .set("clientAuthMethod", method)
        .set("deliveryMode", flow.mode.name())
        .set("clientNotificationToken", flow.notification_token.as_str())
        .set("scopes", scopes)
        .set("claimNames", flow.claim_names.clone())
        .set("acrs", flow.acrs.clone())
        .set("resources", flow.resources.clone())
        .set("hintType", flow.hint_type)
        .set("hint", flow.hint.as_str())
        .set("sub", flow.sub.as_str())
        .set("bindingMessage", flow.binding_message.as_str())
        .set("userCode", flow.user_code.as_str())
        .set("userCodeRequired", client.backchannel.user_code)
        .set("requestedExpiry", flow.requested_expiry)
        .done()
}
