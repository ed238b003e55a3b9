//! The token-endpoint steps the service finishes itself from the web tier's
//! verdict: PASSWORD (`/auth/token/issue` or `/fail`), TOKEN_EXCHANGE and
//! JWT_BEARER (`/auth/token/create`, then the RFC 8693 / RFC 7523 response),
//! NATIVE_SSO (`/nativesso`) and ID_TOKEN_REISSUABLE (`/idtoken/reissue`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FailReason, FailRequest, IssueRequest, Response, fail, issue};
use crate::action::TokenAction;
use crate::api::{Error, Finished, Property, Sealer, claims, id_token, json_object, require};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

mod respond;

pub use respond::unsupported;
use respond::{created, refused};
#[cfg(test)]
use {
    crate::action::TokenCreateAction, crate::api::token_management::CreateResponse,
    crate::http::JSON, respond::ACCESS_TOKEN_TYPE, respond::token_response,
};

/// The web tier's verdict on a token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Granted(Box<Grant>),
    /// An OAuth error code (empty for the flow's default) and description.
    Denied {
        error: String,
        error_description: String,
    },
}

/// What the web tier grants.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Grant {
    pub subject: String,
    pub scopes: Vec<String>,
    pub properties: Vec<Property>,
    pub access_token_duration: i64,
    pub refresh_token_duration: i64,
    pub jwt_at_claims: String,
    /// The end-user's claim values, a JSON object.
    pub claims: String,
    pub sub: String,
    pub idt_header_params: String,
    pub id_token_aud_type: String,
    pub device_secret: String,
    pub device_secret_hash: String,
}

crate::secret::redacted_debug!(Grant {
    subject,
    scopes,
    properties,
    access_token_duration,
    refresh_token_duration,
    jwt_at_claims,
    claims,
    sub,
    idt_header_params,
    id_token_aud_type,
    device_secret,
    device_secret_hash
});

const KIND: &str = "token";

/// What the second step needs from the `/auth/token` reply.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct State {
    action: String,
    ticket: String,
    client_id: i64,
    client_id_alias_used: bool,
    subject: String,
    scopes: Vec<String>,
    resources: Vec<String>,
    access_token: String,
    refresh_token: String,
    requested_id_token_claims: Vec<String>,
    device_secret: String,
    device_secret_hash: String,
    dpop_nonce: String,
    attestation_challenge: String,
}

crate::secret::redacted_debug!(State {
    action,
    ticket,
    client_id,
    client_id_alias_used,
    subject,
    scopes,
    resources,
    access_token,
    refresh_token,
    requested_id_token_claims,
    device_secret,
    device_secret_hash,
    dpop_nonce,
    attestation_challenge
});

/// The continuation for the actions [`decision`] finishes; `None` for others.
/// The second step follows within the client's own token request.
const LIFETIME: Duration = Duration::from_secs(300);

pub(super) fn continuation(reply: &Response, sealer: &Sealer) -> Option<String> {
    use TokenAction as A;
    let needed = matches!(
        reply.action,
        A::Password | A::TokenExchange | A::JwtBearer | A::NativeSso | A::IdTokenReissuable
    );
    needed.then(|| {
        // A JWT access token is the one clients hold; Authlete accepts either.
        let access_token = if reply.jwt_access_token.is_empty() {
            &reply.access_token
        } else {
            &reply.jwt_access_token
        };
        let state = State {
            action: reply.action.name().to_owned(),
            ticket: reply.ticket.clone(),
            client_id: reply.client_id,
            client_id_alias_used: reply.client_id_alias_used,
            subject: reply.subject.clone(),
            scopes: reply.scopes.clone(),
            resources: reply.resources.clone(),
            access_token: access_token.clone(),
            refresh_token: reply.refresh_token.clone(),
            requested_id_token_claims: reply.requested_id_token_claims.clone(),
            device_secret: reply.device_secret.clone(),
            device_secret_hash: reply.device_secret_hash.clone(),
            dpop_nonce: reply.dpop_nonce.clone(),
            attestation_challenge: reply.attestation_challenge.clone(),
        };
        sealer.seal(KIND, state, LIFETIME)
    })
}

/// Finishes the token request the continuation describes.
pub async fn decision(
    backend: &dyn Backend,
    sealer: &Sealer,
    continuation: &str,
    decision: &Decision,
) -> Result<Finished, Error> {
    use TokenAction as A;
    // Token exchange, JWT bearer and Native SSO mint tokens with no Authlete
    // ticket to spend: the continuation itself is good once.
    let state: State = sealer.open_once_if(KIND, continuation, |s: &State| {
        matches!(
            TokenAction::parse(&s.action),
            A::TokenExchange | A::JwtBearer | A::NativeSso
        )
    })?;
    let headers = EndpointHeaders {
        dpop_nonce: Some(state.dpop_nonce.clone()),
        attestation_challenge: Some(state.attestation_challenge.clone()),
    };
    match (TokenAction::parse(&state.action), decision) {
        (A::Password, Decision::Granted(grant)) => {
            password_granted(backend, &state, grant, &headers).await
        }
        (A::Password, Decision::Denied { .. }) => {
            let reason = FailReason::InvalidResourceOwnerCredentials;
            let request = FailRequest {
                ticket: state.ticket.clone(),
                reason,
            };
            let outcome = fail(backend, &request, &headers).await?;
            Ok(Finished::from_outcome(
                Api::TokenFail,
                &crate::api::wire_name(&reason),
                outcome,
            ))
        }
        (action @ (A::TokenExchange | A::JwtBearer), Decision::Granted(grant)) => {
            created(backend, &state, grant, action == A::TokenExchange, &headers).await
        }
        (
            action @ (A::TokenExchange | A::JwtBearer),
            Decision::Denied {
                error,
                error_description,
            },
        ) => {
            // RFC 7523 §3.1: a refused assertion is invalid_grant.
            let default = match action {
                A::JwtBearer => "invalid_grant",
                _ => "invalid_request",
            };
            refused(error, default, error_description, &headers)
        }
        (A::NativeSso, Decision::Granted(grant)) => {
            native_sso(backend, &state, grant, &headers).await
        }
        (
            A::NativeSso,
            Decision::Denied {
                error,
                error_description,
            },
        ) => refused(error, "invalid_grant", error_description, &headers),
        (A::IdTokenReissuable, Decision::Granted(grant)) => {
            reissue(backend, &state, grant, &headers).await
        }
        (A::IdTokenReissuable, Decision::Denied { .. }) => Err(Error::InvalidArgument {
            field: "denied",
            reason:
                "ID_TOKEN_REISSUABLE has nothing to refuse: send the Token reply's http as it is"
                    .to_owned(),
        }),
        (other, _) => Err(Error::InvalidArgument {
            field: "continuation",
            reason: format!(
                "continues a {} token request, which needs no decision",
                other.name()
            ),
        }),
    }
}

async fn password_granted(
    backend: &dyn Backend,
    state: &State,
    grant: &Grant,
    headers: &EndpointHeaders,
) -> Result<Finished, Error> {
    require("granted.subject", &grant.subject)?;
    json_object("granted.jwt_at_claims", &grant.jwt_at_claims)?;
    let request = IssueRequest {
        ticket: state.ticket.clone(),
        subject: grant.subject.clone(),
        properties: grant.properties.clone(),
        jwt_at_claims: grant.jwt_at_claims.clone(),
        access_token_duration: grant.access_token_duration,
        refresh_token_duration: grant.refresh_token_duration,
        ..IssueRequest::default()
    };
    let outcome = issue(backend, &request, headers).await?;
    Ok(Finished::from_outcome(Api::TokenIssue, "", outcome))
}

async fn native_sso(
    backend: &dyn Backend,
    state: &State,
    grant: &Grant,
    headers: &EndpointHeaders,
) -> Result<Finished, Error> {
    // Authlete's `/nativesso` documentation leaves minting the device secret
    // to the authorization server when the request carried none; Authlete
    // computes the hash of a minted one (a web tier's hash cannot match it).
    let (device_secret, hash) = if !grant.device_secret.is_empty() {
        (
            grant.device_secret.clone(),
            grant.device_secret_hash.clone(),
        )
    } else if !state.device_secret.is_empty() {
        let hash = [&grant.device_secret_hash, &state.device_secret_hash]
            .into_iter()
            .find(|h| !h.is_empty());
        (
            state.device_secret.clone(),
            hash.cloned().unwrap_or_default(),
        )
    } else {
        (new_device_secret(), String::new())
    };
    let request = id_token::NativeSsoRequest {
        access_token: state.access_token.clone(),
        device_secret,
        refresh_token: state.refresh_token.clone(),
        device_secret_hash: hash,
        sub: grant.sub.clone(),
        claims: selected_claims(state, grant)?,
        idt_header_params: checked_header_params(grant)?,
        id_token_aud_type: grant.id_token_aud_type.clone(),
    };
    let outcome = id_token::native_sso(backend, &request, headers).await?;
    Ok(Finished::from_outcome(Api::NativeSso, "", outcome))
}

/// A new device secret: 256 bits from the OS random source, base64url.
fn new_device_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system CSPRNG works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn reissue(
    backend: &dyn Backend,
    state: &State,
    grant: &Grant,
    headers: &EndpointHeaders,
) -> Result<Finished, Error> {
    let request = id_token::ReissueRequest {
        access_token: state.access_token.clone(),
        refresh_token: state.refresh_token.clone(),
        sub: grant.sub.clone(),
        claims: selected_claims(state, grant)?,
        idt_header_params: checked_header_params(grant)?,
        id_token_aud_type: grant.id_token_aud_type.clone(),
    };
    let outcome = id_token::reissue(backend, &request, headers).await?;
    Ok(Finished::from_outcome(Api::IdTokenReissue, "", outcome))
}

/// The ID token claims the request asked for, from the granted profile.
fn selected_claims(state: &State, grant: &Grant) -> Result<String, Error> {
    let profile = claims::profile("granted.claims", &grant.claims)?;
    Ok(claims::to_text(&claims::select(
        &state.requested_id_token_claims,
        &[],
        &profile,
    )))
}

fn checked_header_params(grant: &Grant) -> Result<String, Error> {
    json_object("granted.idt_header_params", &grant.idt_header_params)?;
    Ok(grant.idt_header_params.clone())
}

#[cfg(test)]
mod tests;
