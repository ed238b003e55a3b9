//! The authorization steps the service finishes itself (authlete-java-jaxrs
//! `AuthorizationRequestHandler` and `AuthorizationDecisionHandler`): the
//! `prompt=none` checks, and the end-user's decision after INTERACTION.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FailReason, FailRequest, IssueRequest, Response, fail, issue};
use crate::api::{Error, Finished, Property, Sealer, claims, json_object, verified_claims};
use crate::backend::Api;
use crate::backend::Backend;

/// The end-user's login at the web tier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    pub subject: String,
    /// Seconds since the Unix epoch; 0 when unknown.
    pub auth_time: i64,
    pub acr: String,
    /// The end-user's claim values, a JSON object.
    pub claims: String,
    pub sub: String,
    pub session_id: String,
    /// Scopes to grant in place of the requested ones (jaxrs's `getScopes`).
    pub scopes: Vec<String>,
    /// Extra properties attached to the access token (jaxrs's `getProperties`).
    pub properties: Vec<Property>,
}

/// The end-user's decision on an INTERACTION request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The end-user logged in and authorized the client.
    Approved(Box<Approval>),
    /// The client is not authorized; `None` means DENIED.
    Denied {
        reason: Option<FailReason>,
        description: String,
    },
}

/// What an approval carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    pub subject: String,
    pub auth_time: i64,
    pub acr: String,
    /// The end-user's claim values, a JSON object.
    pub claims: String,
    pub scopes: Vec<String>,
    pub sub: String,
    pub properties: Vec<Property>,
    pub session_id: String,
    pub consented_claims: Vec<String>,
    pub jwt_at_claims: String,
    pub access_token_duration: i64,
    pub idt_header_params: String,
    pub id_token_aud_type: String,
}

const KIND: &str = "authorization";

/// What the decision needs from the first reply.
#[derive(Serialize, Deserialize)]
struct State {
    ticket: String,
    #[serde(default)]
    claims: Vec<String>,
    #[serde(default)]
    claims_locales: Vec<String>,
    #[serde(default)]
    claims_for_tx: Vec<String>,
    /// The subject the request names (`sub` in `claims`, `id_token_hint`).
    #[serde(default)]
    subject: String,
    #[serde(default)]
    acrs: Vec<String>,
    #[serde(default)]
    acr_essential: bool,
    /// The `id_token` part of the `claims` parameter, for `verified_claims`.
    #[serde(default)]
    id_token_claims: String,
    #[serde(default)]
    verified_claims_for_tx: Vec<serde_json::Value>,
}

crate::secret::redacted_debug!(State {
    ticket,
    claims,
    claims_locales,
    claims_for_tx,
    subject,
    acrs,
    acr_essential,
    id_token_claims,
    verified_claims_for_tx
});

/// How long the end-user may take to log in and decide.
const LIFETIME: Duration = Duration::from_secs(3600);

pub(super) fn continuation(reply: &Response, sealer: &Sealer) -> String {
    sealer.seal(
        KIND,
        State {
            ticket: reply.ticket.clone(),
            claims: reply.claims.clone(),
            claims_locales: reply.claims_locales.clone(),
            claims_for_tx: reply.requested_claims_for_tx.clone(),
            subject: reply.subject.clone(),
            acrs: reply.acrs.clone(),
            acr_essential: reply.acr_essential,
            id_token_claims: reply.id_token_claims.clone(),
            verified_claims_for_tx: reply.requested_verified_claims_for_tx.clone(),
        },
        LIFETIME,
    )
}

pub(super) fn now() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since_epoch.map_or(0, |d| d.as_secs() as i64)
}

/// Rejects a malformed session before Authlete is called.
pub(super) fn check_session(session: &Session) -> Result<(), Error> {
    claims::profile("session.claims", &session.claims).map(|_| ())
}

/// The `prompt=none` checks, in authlete-java-jaxrs' order: the login that
/// passes them, or the reason of the first that fails.
pub(super) fn no_interaction_check<'a>(
    reply: &Response,
    session: Option<&'a Session>,
    now: i64,
) -> Result<&'a Session, FailReason> {
    let Some(session) = session.filter(|s| !s.subject.is_empty()) else {
        return Err(FailReason::NotLoggedIn);
    };
    if reply.max_age != 0 && now >= session.auth_time.saturating_add(reply.max_age) {
        return Err(FailReason::ExceedsMaxAge);
    }
    requested_login(
        &reply.subject,
        &reply.acrs,
        reply.acr_essential,
        &session.subject,
        &session.acr,
    )?;
    Ok(session)
}

/// What OIDC Core requires of the login the issued tokens describe: the
/// subject the request names (section 3.1.2.2), an essential ACR it asks for
/// (section 5.5.1.1).
fn requested_login(
    requested_subject: &str,
    acrs: &[String],
    acr_essential: bool,
    subject: &str,
    acr: &str,
) -> Result<(), FailReason> {
    if !requested_subject.is_empty() && requested_subject != subject {
        return Err(FailReason::DifferentSubject);
    }
    if acr_essential && !acrs.is_empty() && !acrs.iter().any(|a| a == acr) {
        return Err(FailReason::AcrNotSatisfied);
    }
    Ok(())
}

/// Finishes a NO_INTERACTION request: issue when the login passes the checks,
/// fail with the first failed check's reason otherwise.
pub(super) async fn no_interaction(
    backend: &dyn Backend,
    reply: &Response,
    session: Option<&Session>,
    now: i64,
) -> Result<Finished, Error> {
    let session = match no_interaction_check(reply, session, now) {
        Ok(session) => session,
        Err(reason) => return denied(backend, &reply.ticket, reason, String::new()).await,
    };
    let profile = claims::profile("session.claims", &session.claims)?;
    let request = IssueRequest {
        ticket: reply.ticket.clone(),
        subject: session.subject.clone(),
        auth_time: session.auth_time,
        acr: session.acr.clone(),
        claims: claims::to_text(&claims::select(
            &reply.claims,
            &reply.claims_locales,
            &profile,
        )),
        sub: session.sub.clone(),
        session_id: session.session_id.clone(),
        scopes: session.scopes.clone(),
        properties: session.properties.clone(),
        ..IssueRequest::default()
    };
    let outcome = issue(backend, &request).await?;
    Ok(Finished::from_outcome(Api::AuthorizationIssue, "", outcome))
}

/// Finishes an INTERACTION request with the end-user's decision.
pub async fn decision(
    backend: &dyn Backend,
    sealer: &Sealer,
    continuation: &str,
    decision: &Decision,
) -> Result<Finished, Error> {
    let state: State = sealer.open(KIND, continuation)?;
    let approval = match decision {
        Decision::Denied {
            reason,
            description,
        } => {
            let reason = reason.unwrap_or(FailReason::Denied);
            return denied(backend, &state.ticket, reason, description.clone()).await;
        }
        Decision::Approved(approval) => approval,
    };
    // jaxrs: an approval without a subject means nobody logged in.
    let login = if approval.subject.is_empty() {
        Err(FailReason::NotAuthenticated)
    } else {
        let s = &state;
        requested_login(
            &s.subject,
            &s.acrs,
            s.acr_essential,
            &approval.subject,
            &approval.acr,
        )
    };
    if let Err(reason) = login {
        return denied(backend, &state.ticket, reason, String::new()).await;
    }
    json_object("approved.jwt_at_claims", &approval.jwt_at_claims)?;
    json_object("approved.idt_header_params", &approval.idt_header_params)?;
    let profile = claims::profile("approved.claims", &approval.claims)?;
    let verified = verified_claims::collect(
        &state.id_token_claims,
        &profile,
        &state.verified_claims_for_tx,
    );
    let selected = claims::select(&state.claims, &state.claims_locales, &profile);
    let request = IssueRequest {
        ticket: state.ticket,
        subject: approval.subject.clone(),
        auth_time: approval.auth_time,
        acr: approval.acr.clone(),
        claims: claims::to_text(&verified_claims::merge(selected, &verified)),
        verified_claims_for_tx: verified.for_tx,
        claims_for_tx: claims::to_text(&claims::select(
            &state.claims_for_tx,
            &state.claims_locales,
            &profile,
        )),
        scopes: approval.scopes.clone(),
        sub: approval.sub.clone(),
        properties: approval.properties.clone(),
        session_id: approval.session_id.clone(),
        consented_claims: approval.consented_claims.clone(),
        jwt_at_claims: approval.jwt_at_claims.clone(),
        access_token_duration: approval.access_token_duration,
        idt_header_params: approval.idt_header_params.clone(),
        id_token_aud_type: approval.id_token_aud_type.clone(),
        ..IssueRequest::default()
    };
    let outcome = issue(backend, &request).await?;
    Ok(Finished::from_outcome(Api::AuthorizationIssue, "", outcome))
}

async fn denied(
    backend: &dyn Backend,
    ticket: &str,
    reason: FailReason,
    description: String,
) -> Result<Finished, Error> {
    let request = FailRequest {
        ticket: ticket.to_owned(),
        reason,
        description,
    };
    let outcome = fail(backend, &request).await?;
    Ok(Finished::from_outcome(
        Api::AuthorizationFail,
        &crate::api::wire_name(&reason),
        outcome,
    ))
}

#[cfg(test)]
mod tests;
