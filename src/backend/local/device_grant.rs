//! The device_code grant of `/auth/token` (RFC 8628 §3.4, §3.5): the device
//! polls with its device code and gets `authorization_pending` until the
//! end-user decides, `slow_down` when it polls faster than the interval,
//! `expired_token` once the code expired, the refusal the end-user gave,
//! or the tokens, once.

use serde_json::{Map, Value};

use super::client::Client;
use super::device::{Approval, Flow, State};
use super::idtoken::{self, IdToken};
use super::reply::{Fault, Obj};
use super::token::{Ctx, NewTokens, bad, mint, ok};
use super::token_grants::{merged, pick};

/// Result code of a refusal the end-user (or the web tier) gave.
const REFUSED: &str = "L054201";

pub(super) fn token(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    let Some(code) = ctx.params.get("device_code") else {
        return Ok(bad(
            "invalid_request",
            "The token request does not contain 'device_code'.",
        ));
    };
    let now = ctx.now;
    let mut store = ctx.engine.store.lock();
    let Some((flow, _)) = store.device_flows.get(code, now) else {
        return Ok(bad("invalid_grant", "The device code is unknown."));
    };
    let mut flow: Flow = flow.clone();
    if flow.client.id != ctx.client.id {
        return Ok(bad(
            "invalid_grant",
            "The device code was issued to another client.",
        ));
    }
    match &flow.state {
        State::Redeemed => Ok(bad(
            "invalid_grant",
            "The device code has already been used.",
        )),
        _ if flow.expires_at <= now => Ok(bad("expired_token", "The device code has expired.")),
        State::Refused {
            error,
            description,
            uri,
        } => Ok(refused(error, description, uri)),
        State::Pending => {
            // Polls are counted from the last one, slow_down included, so a
            // device that keeps hammering keeps being told to slow down.
            let early = flow
                .last_poll
                .is_some_and(|last| now - last < flow.interval_ms);
            flow.last_poll = Some(now);
            store.device_flows.replace(code, flow);
            Ok(if early {
                bad(
                    "slow_down",
                    "The device polls faster than the interval allows.",
                )
            } else {
                bad(
                    "authorization_pending",
                    "The end-user has not yet decided on the request.",
                )
            })
        }
        State::Approved(approval) => {
            let approval = approval.clone();
            let (_, grant) = mint(
                ctx.engine,
                &mut store,
                now,
                approved_tokens(ctx, &flow.resources, &approval, "DEVICE_CODE"),
            )?;
            store.device_flows.replace(
                code,
                Flow {
                    state: State::Redeemed,
                    ..flow.clone()
                },
            );
            drop(store);
            let client = (&*flow.client, flow.alias_used);
            let id_token =
                approved_id_token(ctx, client, &approval, &grant.scopes, &grant.access_token)?;
            Ok(ok(&grant, "DEVICE_CODE", ctx.method, &id_token, now))
        }
    }
}

/// The tokens of an approved poll, of the device flow or CIBA (`grant_type`
/// DEVICE_CODE or CIBA): what the approval says, the requested resources.
pub(super) fn approved_tokens(
    ctx: &Ctx<'_>,
    resources: &[String],
    a: &Approval,
    grant_type: &'static str,
) -> NewTokens {
    NewTokens {
        client: ctx.client.clone(),
        alias_used: ctx.alias_used,
        subject: a.subject.clone(),
        scopes: a.scopes.clone(),
        grant_type,
        properties: merged(&a.properties, &ctx.properties),
        resources: resources.to_vec(),
        auth_time: a.auth_time,
        acr: a.acr.clone(),
        userinfo_claims: Vec::new(),
        userinfo_claims_json: String::new(),
        consented_claims: a.consented_claims.clone(),
        refresh: ctx.client.allows("refresh_token"),
        access_duration: pick(ctx.access_duration, a.access_duration),
        refresh_duration: pick(ctx.refresh_duration, a.refresh_duration),
        dpop_jkt: ctx.dpop_jkt.clone(),
        cert_thumbprint: ctx.cert_thumbprint.clone(),
    }
}

/// The ID token of an approved poll when `openid` was granted (the
/// decision may narrow the scopes); empty otherwise. Neither RFC 8628 nor
/// CIBA requests carry a nonce.
pub(super) fn approved_id_token(
    ctx: &Ctx<'_>,
    (client, alias_used): (&Client, bool),
    a: &Approval,
    scopes: &[String],
    access_token: &str,
) -> Result<String, Fault> {
    if !scopes.iter().any(|s| s == "openid") {
        return Ok(String::new());
    }
    let sub = if a.sub.is_empty() { &a.subject } else { &a.sub };
    idtoken::sign(
        ctx.engine,
        &IdToken {
            client,
            alias_used,
            sub,
            nonce: "",
            auth_time: a.auth_time,
            acr: &a.acr,
            claims: &a.claims,
            access_token: Some(access_token),
            code: None,
        },
    )
}

/// The refusal `/device/complete` recorded, with the description and URI
/// the web tier gave (verbatim, as Authlete uses them). CIBA's too.
pub(super) fn refused(error: &str, description: &str, uri: &str) -> Value {
    let mut content = Map::new();
    content.insert("error".into(), error.into());
    content.insert("error_description".into(), description.into());
    if !uri.is_empty() {
        content.insert("error_uri".into(), uri.into());
    }
    Obj::new("BAD_REQUEST", REFUSED, description)
        .set("responseContent", Value::Object(content).to_string())
        .done()
}
