//! One module per Authlete Core API family: the typed wire structs (Authlete's
//! camelCase JSON), input checks, the call, and the table lookup.
//!
//! Architecture invariant: nothing here knows protobuf, tonic or HTTP clients.
//! Requests arrive as these structs, replies leave as [`Outcome`]s.

pub mod authorization;
pub mod backchannel;
pub mod backchannel_logout;
mod claims;
pub mod client_attestation;
pub mod client_registration;
mod continuation;
pub mod credential;

pub use continuation::{DEFAULT_REPLAY_CAPACITY, MIN_KEY_BYTES, Refused, RingError, Sealer};
pub mod device;
pub mod discovery;
pub mod federation;
pub mod grant_management;
pub mod id_token;
pub mod introspection;
pub mod pushed_authorization;
pub mod revocation;
pub mod token;
pub mod token_management;
pub mod userinfo;
pub mod verdict;
mod verified_claims;
mod wire;

pub(crate) use wire::{
    answer, answer_without_content, debug_field, nullable, wire_reply, wire_request,
};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::backend::{Api, Backend, BackendError, Call};
use crate::http::HttpResponse;

/// Why an API call produced no OAuth outcome.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input is wrong; Authlete was not called.
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    /// The call to Authlete failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// An OAuth outcome: Authlete's typed reply, its raw JSON, and the HTTP
/// response to send (none when the caller must continue the flow).
#[derive(Clone)]
pub struct Outcome<T> {
    /// Authlete's reply, typed.
    pub body: T,
    /// Authlete's reply as received.
    pub raw: String,
    /// The ready HTTP response, if any.
    pub http: Option<HttpResponse>,
    /// Authlete's `Request-Id`, for logs.
    pub request_id: Option<String>,
    /// Authlete's HTTP status; `None` when Authlete was not called.
    pub authlete_status: Option<u16>,
    /// What a second step needs, for the caller to hand back (empty when the
    /// flow needs no second step).
    pub continuation: String,
    /// The second call the service made itself to finish the flow, if any.
    pub completion: Option<Completion>,
}

crate::secret::redacted_debug!(Outcome<T> { body, raw, http, request_id, authlete_status, continuation, completion });

/// The second Authlete call the service made to finish a two-step flow, and
/// the response it produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// The Authlete API called (its path); empty when the service answered
    /// without a second call.
    pub api: &'static str,
    /// Its `action`.
    pub action: String,
    /// The fail reason or OAuth error the service chose.
    pub reason: String,
    /// Its `resultCode`.
    pub result_code: String,
    /// Its `resultMessage`.
    pub result_message: String,
    /// Its raw JSON.
    pub raw: String,
    /// Its `Request-Id`.
    pub request_id: Option<String>,
}

/// A finished two-step flow: the final HTTP response and how it was made.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The response to send.
    pub http: HttpResponse,
    /// The second call.
    pub completion: Completion,
}

impl Finished {
    /// The result of a second call to `api`, made with `reason` (a fail
    /// reason or OAuth error; empty for issue calls).
    pub(crate) fn from_outcome<T: Answer>(api: Api, reason: &str, outcome: Outcome<T>) -> Self {
        let completion = Completion {
            api: api.path(),
            action: outcome.body.action_name().to_owned(),
            reason: reason.to_owned(),
            result_code: outcome.body.result_code().to_owned(),
            result_message: outcome.body.result_message().to_owned(),
            raw: outcome.raw,
            request_id: outcome.request_id,
        };
        // Issue and fail APIs have a response for every action they know.
        let http = outcome.http.unwrap_or_else(HttpResponse::unknown_action);
        Self { http, completion }
    }
}

/// The wire name of a serde enum value, e.g. `NOT_LOGGED_IN`.
pub(crate) fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// An extra property attached to a token (Authlete `Property`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Property {
    pub key: String,
    pub value: String,
    #[serde(skip_serializing_if = "is_default")]
    pub hidden: bool,
}

/// A name/value pair (Authlete `Pair`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pair {
    pub key: String,
    pub value: String,
}

/// A JSON object carried as is (e.g. `authorizationDetails`).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// `skip_serializing_if` helper: Authlete reads an absent member as "not
/// given", so zero values (empty strings, 0, false, empty lists) are left out.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Sends `request` to `api` and parses the reply.
pub(crate) async fn call<Req, Resp>(
    backend: &dyn Backend,
    api: Api,
    request: &Req,
) -> Result<(Resp, crate::backend::Reply), Error>
where
    Req: Serialize,
    Resp: DeserializeOwned,
{
    let body = serde_json::to_vec(request).map_err(|e| BackendError::Other {
        api: api.path(),
        detail: format!("cannot encode the request: {e}"),
    })?;
    let reply = backend
        .call(Call {
            api,
            query: Vec::new(),
            body: Some(body),
        })
        .await?;
    let parsed = parse(api, &reply.body, reply.request_id.as_deref())?;
    Ok((parsed, reply))
}

/// Parses Authlete's JSON. The error names the position only: a serde message
/// may quote the offending value, which can be a token.
pub(crate) fn parse<T: DeserializeOwned>(
    api: Api,
    body: &str,
    request_id: Option<&str>,
) -> Result<T, BackendError> {
    serde_json::from_str(body).map_err(|e| BackendError::Decode {
        api: api.path(),
        detail: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
        request_id: request_id.map(str::to_owned),
    })
}

/// Fails with INVALID_ARGUMENT when a required string is empty.
pub(crate) fn require(field: &'static str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::InvalidArgument {
            field,
            reason: "is required".to_owned(),
        });
    }
    Ok(())
}

/// Fails with INVALID_ARGUMENT when an optional field holding JSON is not a
/// JSON object. Authlete takes these fields as strings and would only reject
/// them later with a less precise message.
pub(crate) fn json_object(field: &'static str, value: &str) -> Result<(), Error> {
    json_shaped(field, value, "a JSON object", serde_json::Value::is_object)
}

/// Fails with INVALID_ARGUMENT when a JSON Patch (RFC 6902) is not a JSON array.
pub(crate) fn json_patch(field: &'static str, value: &str) -> Result<(), Error> {
    json_shaped(
        field,
        value,
        "a JSON array of patch operations",
        serde_json::Value::is_array,
    )
}

fn json_shaped(
    field: &'static str,
    value: &str,
    what: &str,
    ok: fn(&serde_json::Value) -> bool,
) -> Result<(), Error> {
    if value.is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(v) if ok(&v) => Ok(()),
        Ok(_) => Err(Error::InvalidArgument {
            field,
            reason: format!("must be {what}"),
        }),
        Err(e) => Err(Error::InvalidArgument {
            field,
            reason: format!(
                "is not valid JSON (line {} column {})",
                e.line(),
                e.column()
            ),
        }),
    }
}

/// As [`json_object`], for each element of a list.
pub(crate) fn json_objects(field: &'static str, values: &[String]) -> Result<(), Error> {
    values.iter().try_for_each(|v| {
        if v.is_empty() {
            return Err(Error::InvalidArgument {
                field,
                reason: "has an empty element".to_owned(),
            });
        }
        json_object(field, v)
    })
}

/// An Authlete reply that the action table can turn into HTTP.
pub(crate) trait Answer: DeserializeOwned {
    /// The table row for this reply's action.
    fn rule(&self) -> crate::http::Rule;
    /// Authlete's `responseContent`.
    fn content(&self) -> &str;
    /// Authlete's action name, as sent.
    fn action_name(&self) -> &str;
    /// Authlete's `resultCode`.
    fn result_code(&self) -> &str;
    /// Authlete's `resultMessage`.
    fn result_message(&self) -> &str;
    /// Endpoint headers (`DPoP-Nonce`, ...) to put on the response.
    fn endpoint_headers(&self) -> crate::http::EndpointHeaders {
        crate::http::EndpointHeaders::default()
    }
}

/// Calls `api` and renders the reply through the action table, with the
/// endpoint headers of the reply itself.
pub(crate) async fn exchange<Req, Resp>(
    backend: &dyn Backend,
    api: Api,
    request: &Req,
) -> Result<Outcome<Resp>, Error>
where
    Req: Serialize,
    Resp: Answer,
{
    exchange_carrying(backend, api, request, None).await
}

/// As [`exchange`], for a second step: the endpoint headers are the ones the
/// first step's reply carried (authlete-java-jaxrs puts them on the final response).
pub(crate) async fn exchange_carrying<Req, Resp>(
    backend: &dyn Backend,
    api: Api,
    request: &Req,
    carried: Option<&crate::http::EndpointHeaders>,
) -> Result<Outcome<Resp>, Error>
where
    Req: Serialize,
    Resp: Answer,
{
    let (body, reply): (Resp, _) = call(backend, api, request).await?;
    let headers = carried.cloned().unwrap_or_else(|| body.endpoint_headers());
    let http = crate::http::render(body.rule(), Some(body.content()), &headers);
    Ok(Outcome {
        body,
        raw: reply.body,
        http,
        request_id: reply.request_id,
        authlete_status: Some(reply.status),
        continuation: String::new(),
        completion: None,
    })
}

/// The answer to a resource request that carries no access token, given
/// without calling Authlete (authlete-java-jaxrs does the same): action
/// BAD_REQUEST and a 400 with a fixed bearer challenge.
pub(crate) fn missing_token<T>(challenge: &str, body: T) -> Outcome<T> {
    let http = HttpResponse::new(400).with_header("WWW-Authenticate", challenge);
    Outcome {
        body,
        raw: String::new(),
        http: Some(http),
        request_id: None,
        authlete_status: None,
        continuation: String::new(),
        completion: None,
    }
}

/// `resultMessage` of a reply given without calling Authlete.
pub(crate) const NOT_CALLED: &str = "No access token in the request; Authlete was not called.";
