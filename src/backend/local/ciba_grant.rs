//! The CIBA grant of `/auth/token` (CIBA Core §10, §11): the client sends
//! its `auth_req_id` and gets `authorization_pending` until the end-user
//! decides, `slow_down` when it polls faster than the interval,
//! `expired_token` once the `auth_req_id` expired, `access_denied` (or the
//! failure the web tier gave), or the tokens, once. Ping clients use it
//! after the notification; the same rules apply.

use super::ciba::Flow;
use super::device::State;
use super::device_grant::{approved_id_token, approved_tokens, refused};
use super::reply::Fault;
use super::token::{Ctx, bad, mint, ok};
use serde_json::Value;

pub(super) fn token(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    let Some(id) = ctx.params.get("auth_req_id") else {
        return Ok(bad(
            "invalid_request",
            "The token request does not contain 'auth_req_id'.",
        ));
    };
    let now = ctx.now;
    let mut store = ctx.engine.store.lock();
    let flow = store.auth_req_ids.get(id, now).and_then(|(ticket, _)| {
        store
            .backchannel
            .get(ticket, now)
            .map(|(f, _)| (ticket.clone(), f.clone()))
    });
    let Some((ticket, mut flow)) = flow else {
        return Ok(bad("invalid_grant", "The auth_req_id is unknown."));
    };
    if flow.client.id != ctx.client.id {
        return Ok(bad(
            "invalid_grant",
            "The auth_req_id was issued to another client.",
        ));
    }
    match &flow.state {
        State::Redeemed => Ok(bad(
            "invalid_grant",
            "The auth_req_id has already been used.",
        )),
        _ if flow.expires_at <= now => Ok(bad("expired_token", "The auth_req_id has expired.")),
        State::Refused {
            error,
            description,
            uri,
        } => Ok(refused(error, description, uri)),
        State::Pending => {
            // Counted from the last poll, slow_down included, as the device flow does.
            let early = flow
                .last_poll
                .is_some_and(|last| now - last < flow.interval_ms);
            flow.last_poll = Some(now);
            store.backchannel.replace(&ticket, flow);
            Ok(if early {
                bad(
                    "slow_down",
                    "The client polls faster than the interval allows.",
                )
            } else {
                bad(
                    "authorization_pending",
                    "The end-user has not yet been authenticated.",
                )
            })
        }
        State::Approved(approval) => {
            let approval = approval.clone();
            let (_, grant) = mint(
                ctx.engine,
                &mut store,
                now,
                approved_tokens(ctx, &flow.resources, &approval, "CIBA"),
            )?;
            // Single use: the entry stays (so a replay is told so) without
            // what the approval carried.
            let redeemed = Flow {
                state: State::Redeemed,
                ..flow.clone()
            };
            let weight = redeemed.weight();
            let until = redeemed.kept_until;
            store.backchannel.insert(ticket, redeemed, until, weight);
            drop(store);
            let client = (&*flow.client, flow.alias_used);
            let id_token =
                approved_id_token(ctx, client, &approval, &grant.scopes, &grant.access_token)?;
            Ok(ok(&grant, "CIBA", ctx.method, &id_token, now))
        }
    }
}
