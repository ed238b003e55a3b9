//! The token responses the service builds itself: minted tokens (RFC 8693
//! section 2.2.1, RFC 6749 section 5.1), refusals, and jaxrs's answer for a
//! grant the web tier does not support.

use super::{State, TokenAction};
use crate::action::TokenCreateAction;
use crate::api::token_management::{self, CreateRequest, CreateResponse};
use crate::api::{Completion, Error, Finished, json_object, require};
use crate::backend::{Api, Backend};
use crate::http::{EndpointHeaders, HttpResponse, JSON};

use super::Grant;

pub(super) const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// jaxrs's answer when its SPI does not handle the grant (`TokenRequestHandler`:
/// the SPI returned null), for `Token` to hand out next to the continuation.
/// It carries no endpoint headers, as jaxrs sends none on it.
pub fn unsupported(action: &TokenAction) -> Option<HttpResponse> {
    let body = match action {
        TokenAction::TokenExchange | TokenAction::JwtBearer => {
            r#"{"error":"unsupported_grant_type"}"#
        }
        TokenAction::NativeSso => concat!(
            r#"{"error":"invalid_grant","error_description":"The token request appears to "#,
            r#"comply with the Native SSO specification, but this authorization server has "#,
            r#"not implemented support for it yet."}"#
        ),
        _ => return None,
    };
    Some(HttpResponse::new(400).with_body(JSON, body))
}

/// Mints the tokens of an approved token exchange or JWT bearer grant and
/// builds the token response.
pub(super) async fn created(
    backend: &dyn Backend,
    state: &State,
    grant: &Grant,
    token_exchange: bool,
    headers: &EndpointHeaders,
) -> Result<Finished, Error> {
    require("granted.subject", &grant.subject)?;
    json_object("granted.jwt_at_claims", &grant.jwt_at_claims)?;
    // Authlete lets a service accept these grants from clients it cannot
    // identify (clientId 0); a token with no client is not issued, and
    // java-oauth-server answers the client this way.
    if state.client_id == 0 {
        let description = if token_exchange {
            "This authorization server does not allow unidentifiable clients to make token exchange requests."
        } else {
            "This authorization server does not allow unidentifiable clients to make token requests with the grant type 'urn:ietf:params:oauth:grant-type:jwt-bearer'."
        };
        return refused("", "invalid_request", description, headers);
    }
    let grant_type = if token_exchange {
        "TOKEN_EXCHANGE"
    } else {
        "JWT_BEARER"
    };
    let request = CreateRequest {
        grant_type: grant_type.to_owned(),
        client_id: state.client_id,
        client_id_alias_used: state.client_id_alias_used,
        subject: grant.subject.clone(),
        scopes: if grant.scopes.is_empty() {
            state.scopes.clone()
        } else {
            grant.scopes.clone()
        },
        resources: state.resources.clone(),
        access_token_duration: grant.access_token_duration,
        refresh_token_duration: grant.refresh_token_duration,
        properties: grant.properties.clone(),
        jwt_at_claims: grant.jwt_at_claims.clone(),
        ..CreateRequest::default()
    };
    let (created, reply) = token_management::create(backend, &request).await?;
    let http = token_response(&created, token_exchange, headers);
    let completion = Completion {
        api: Api::TokenCreate.path(),
        action: created.action.name().to_owned(),
        reason: String::new(),
        result_code: created.result_code,
        result_message: created.result_message,
        raw: reply.body,
        request_id: reply.request_id,
    };
    Ok(Finished { http, completion })
}

/// The token response for minted tokens. When Authlete refuses to mint them
/// for this client (BAD_REQUEST, FORBIDDEN: an unknown client or one not
/// allowed the grant), the client gets 400 `invalid_request`; only Authlete's
/// own failure is a `server_error`. The details are in the completion.
pub(super) fn token_response(
    created: &CreateResponse,
    token_exchange: bool,
    headers: &EndpointHeaders,
) -> HttpResponse {
    let failure = |status: u16, error: &str, description: &str| {
        let body = serde_json::json!({"error": error, "error_description": description});
        headers.apply(HttpResponse::new(status).with_body(JSON, body.to_string()))
    };
    match created.action {
        TokenCreateAction::Ok => {}
        TokenCreateAction::BadRequest | TokenCreateAction::Forbidden => {
            return failure(
                400,
                "invalid_request",
                "The authorization server cannot issue a token to this client.",
            );
        }
        TokenCreateAction::InternalServerError | TokenCreateAction::Unknown(_) => {
            return failure(
                500,
                "server_error",
                "The authorization server could not issue the token.",
            );
        }
    }
    let mut body = serde_json::Map::new();
    let access_token = if created.jwt_access_token.is_empty() {
        &created.access_token
    } else {
        &created.jwt_access_token
    };
    body.insert("access_token".into(), access_token.clone().into());
    if token_exchange {
        body.insert("issued_token_type".into(), ACCESS_TOKEN_TYPE.into());
    }
    let token_type = if created.token_type.is_empty() {
        "Bearer"
    } else {
        &created.token_type
    };
    body.insert("token_type".into(), token_type.into());
    if created.expires_in > 0 {
        body.insert("expires_in".into(), created.expires_in.into());
    }
    if !created.scopes.is_empty() {
        body.insert("scope".into(), created.scopes.join(" ").into());
    }
    if !created.refresh_token.is_empty() {
        body.insert("refresh_token".into(), created.refresh_token.clone().into());
    }
    let body = serde_json::Value::Object(body).to_string();
    headers.apply(HttpResponse::new(200).with_body(JSON, body))
}

/// A refused grant: 400 with the OAuth error, built without calling Authlete.
pub(super) fn refused(
    error: &str,
    default: &str,
    description: &str,
    headers: &EndpointHeaders,
) -> Result<Finished, Error> {
    let error = if error.is_empty() { default } else { error };
    check_error_text("denied.error", error)?;
    check_error_text("denied.error_description", description)?;
    let mut body = serde_json::json!({ "error": error });
    if !description.is_empty() {
        body["error_description"] = description.into();
    }
    let http = headers.apply(HttpResponse::new(400).with_body(JSON, body.to_string()));
    let completion = Completion {
        reason: error.to_owned(),
        ..Completion::default()
    };
    Ok(Finished { http, completion })
}

/// RFC 6749 section 5.2: `error` and `error_description` use printable ASCII
/// without `"` and `\`.
fn check_error_text(field: &'static str, text: &str) -> Result<(), Error> {
    let allowed =
        |c: char| matches!(c, '\u{20}'..='\u{21}' | '\u{23}'..='\u{5B}' | '\u{5D}'..='\u{7E}');
    if text.chars().all(allowed) {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        field,
        reason: "must be printable ASCII without '\"' or '\\' (RFC 6749 5.2)".to_owned(),
    })
}
