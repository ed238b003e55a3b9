//! The grants of `/auth/token`: authorization_code (single-use codes, PKCE,
//! redirect URI, replay revocation), refresh_token (rotation per config),
//! client_credentials, and password (a PASSWORD ticket for the web tier).

use serde_json::Value;

use super::authz_request::{self, pkce_syntax};
use super::idtoken::{self, IdToken};
use super::jwt::{self, random_token};
use super::params::split;
use super::reply::{Fault, Obj};
use super::store::{self, CodeGrant, CodeState, PasswordTicket, token_hash};
use super::token::{Ctx, NewTokens, bad, mint, ok};

pub(super) fn authorization_code(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    let Some(code) = ctx.params.get("code") else {
        return Ok(bad(
            "invalid_request",
            "The token request does not contain 'code'.",
        ));
    };
    let engine = ctx.engine;
    let mut store = engine.store.lock();
    let state = store.codes.get(code, ctx.now).map(|(s, _)| s.clone());
    let cg = match state {
        None => {
            return Ok(bad(
                "invalid_grant",
                "The authorization code is unknown or has expired.",
            ));
        }
        Some(CodeState::Used(family)) => {
            store.remove_family(family);
            return Ok(bad(
                "invalid_grant",
                "The authorization code has already been used; the tokens issued with it are revoked.",
            ));
        }
        Some(CodeState::Live(cg)) => cg,
    };
    if cg.request.client.id != ctx.client.id {
        return Ok(bad(
            "invalid_grant",
            "The authorization code was issued to another client.",
        ));
    }
    if let Err(message) = check_code(ctx, &cg) {
        // A wrong verifier or redirect URI burns the code: no guessing.
        store.codes.take(code, ctx.now);
        return Ok(bad("invalid_grant", message));
    }
    let request = &cg.request;
    let (id, grant) = mint(
        engine,
        &mut store,
        ctx.now,
        NewTokens {
            client: ctx.client.clone(),
            alias_used: ctx.alias_used,
            subject: cg.subject.clone(),
            scopes: cg.scopes.clone(),
            grant_type: "AUTHORIZATION_CODE",
            properties: merged(&cg.properties, &ctx.properties),
            resources: request.resources.clone(),
            auth_time: cg.auth_time,
            acr: cg.acr.clone(),
            userinfo_claims: request.claims.userinfo.names.clone(),
            userinfo_claims_json: request.claims.userinfo.json.clone(),
            consented_claims: cg.consented_claims.clone(),
            refresh: ctx.client.allows("refresh_token"),
            access_duration: pick(ctx.access_duration, cg.access_duration),
            refresh_duration: ctx.refresh_duration,
            dpop_jkt: ctx.dpop_jkt.clone(),
            cert_thumbprint: ctx.cert_thumbprint.clone(),
        },
    )?;
    store.codes.replace(code, CodeState::Used(id));
    drop(store);
    let mut id_token = String::new();
    if grant.scopes.iter().any(|s| s == "openid") {
        let sub = if cg.sub.is_empty() {
            &cg.subject
        } else {
            &cg.sub
        };
        id_token = idtoken::sign(
            engine,
            &IdToken {
                client: &ctx.client,
                alias_used: ctx.alias_used,
                sub,
                nonce: &request.nonce,
                auth_time: cg.auth_time,
                acr: &cg.acr,
                claims: &cg.id_token_claims,
                access_token: Some(&grant.access_token),
                code: None,
            },
        )?;
    }
    Ok(ok(
        &grant,
        "AUTHORIZATION_CODE",
        ctx.method,
        &id_token,
        ctx.now,
    ))
}

/// RFC 6749 §4.1.3 redirect URI and RFC 7636 §4.6 verifier checks.
fn check_code(ctx: &Ctx<'_>, cg: &CodeGrant) -> Result<(), &'static str> {
    let request = &cg.request;
    match ctx.params.get("redirect_uri") {
        Some(uri) if uri != request.target.uri => {
            return Err("'redirect_uri' differs from the one in the authorization request.");
        }
        None if request.redirect_uri_given => {
            return Err("'redirect_uri' is required: the authorization request had one.");
        }
        _ => {}
    }
    let verifier = ctx.params.get("code_verifier");
    match (&request.challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => {
            Err("'code_verifier' is given but the authorization request had no code challenge.")
        }
        (Some(_), None) => Err("'code_verifier' is missing."),
        (Some(_), Some(v)) if !pkce_syntax(v) => {
            Err("'code_verifier' must be 43 to 128 characters of [A-Za-z0-9-._~].")
        }
        (Some(c), Some(v)) => {
            let computed = if c.s256 { jwt::s256(v) } else { v.to_owned() };
            let same = aws_lc_rs::constant_time::verify_slices_are_equal(
                computed.as_bytes(),
                c.value.as_bytes(),
            );
            same.map_err(|_| "'code_verifier' does not match the code challenge.")
        }
    }
}

/// The first non-zero duration.
pub(super) fn pick(first: i64, second: i64) -> i64 {
    if first > 0 { first } else { second }
}

/// Properties of the second step win over the first's with the same key.
pub(super) fn merged(
    first: &[super::store::Property],
    second: &[super::store::Property],
) -> Vec<super::store::Property> {
    let mut out: Vec<_> = first
        .iter()
        .filter(|p| !second.iter().any(|s| s.key == p.key))
        .cloned()
        .collect();
    out.extend(second.iter().cloned());
    out
}

pub(super) fn refresh_token(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    let Some(token) = ctx.params.get("refresh_token") else {
        return Ok(bad(
            "invalid_request",
            "The token request does not contain 'refresh_token'.",
        ));
    };
    let engine = ctx.engine;
    let mut store = engine.store.lock();
    let Some((id, old)) = store.by_refresh(token) else {
        if let Some((&family, _)) = store.rotated.get(&token_hash(token), ctx.now) {
            store.remove_family(family);
            return Ok(bad(
                "invalid_grant",
                "The refresh token has already been used; the tokens issued with it are revoked.",
            ));
        }
        return Ok(bad(
            "invalid_grant",
            "The refresh token is unknown or has been revoked.",
        ));
    };
    if old.refresh_expires <= ctx.now {
        return Ok(bad("invalid_grant", "The refresh token has expired."));
    }
    if old.client.id != ctx.client.id {
        return Ok(bad(
            "invalid_grant",
            "The refresh token was issued to another client.",
        ));
    }
    if old.refresh_jkt.is_some() && old.refresh_jkt != ctx.dpop_jkt {
        return Ok(bad(
            "invalid_dpop_proof",
            "The refresh token is bound to a DPoP key: the proof must be signed with it.",
        ));
    }
    let mut grant = old.clone();
    // The new access token is bound to this request's proof, if any.
    grant.dpop_jkt = ctx.dpop_jkt.clone();
    grant.cert_thumbprint = ctx.cert_thumbprint.clone();
    if ctx.params.has("scope") {
        let requested = split(ctx.params.get("scope"));
        if requested.iter().any(|s| !grant.refresh_scopes.contains(s)) {
            return Ok(bad(
                "invalid_scope",
                "A requested scope was not granted with the refresh token.",
            ));
        }
        grant.scopes = requested;
    } else {
        grant.scopes = grant.refresh_scopes.clone();
    }
    let lifetimes = &engine.config.lifetimes;
    grant.access_issued = ctx.now;
    let access = pick(ctx.access_duration, lifetimes.access_token);
    grant.access_expires = engine.expiry(ctx.now, access);
    grant.properties = merged(&grant.properties, &ctx.properties);
    grant.access_token = super::jwt_at::value(engine, &grant)?;
    // The record is replaced by one this heavy (the old one goes below);
    // rotation also keeps the old refresh token's hash.
    if engine.config.refresh_token_rotation {
        store.room(ctx.now, grant.weight())?;
    } else {
        store.fits(grant.weight())?;
    }
    if engine.config.refresh_token_rotation {
        // `grant` still holds the old refresh token here.
        if let Some(used) = &grant.refresh_token {
            let until = grant.refresh_expires;
            store
                .rotated
                .insert(token_hash(used), grant.family, until, 0);
        }
        grant.refresh_token = Some(random_token()?);
        let refresh = pick(ctx.refresh_duration, lifetimes.refresh_token);
        grant.refresh_expires = engine.expiry(ctx.now, refresh);
    }
    // The old access token stops working; with rotation, the old refresh
    // token too (the record is replaced).
    store.remove_grant(id);
    store.add_grant(grant.clone());
    drop(store);
    Ok(ok(&grant, "REFRESH_TOKEN", ctx.method, "", ctx.now))
}

pub(super) fn client_credentials(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    if ctx.client.is_public() {
        return Ok(bad(
            "unauthorized_client",
            "A public client cannot use client_credentials.",
        ));
    }
    let scopes = match authz_request::scopes(ctx.engine, &ctx.params) {
        Ok(s) => s,
        Err(m) => return Ok(bad("invalid_scope", &m)),
    };
    let mut store = ctx.engine.store.lock();
    let (_, grant) = mint(
        ctx.engine,
        &mut store,
        ctx.now,
        NewTokens {
            client: ctx.client.clone(),
            alias_used: ctx.alias_used,
            subject: String::new(),
            scopes,
            grant_type: "CLIENT_CREDENTIALS",
            properties: ctx.properties.clone(),
            resources: ctx.params.all("resource"),
            auth_time: 0,
            acr: String::new(),
            userinfo_claims: Vec::new(),
            userinfo_claims_json: String::new(),
            consented_claims: Vec::new(),
            refresh: false,
            access_duration: ctx.access_duration,
            refresh_duration: 0,
            dpop_jkt: ctx.dpop_jkt.clone(),
            cert_thumbprint: ctx.cert_thumbprint.clone(),
        },
    )?;
    drop(store);
    Ok(ok(&grant, "CLIENT_CREDENTIALS", ctx.method, "", ctx.now))
}

/// The resource owner password grant: the engine does not know users, so
/// it answers PASSWORD with a ticket, and the web tier checks the password
/// and calls `/auth/token/issue` or `/auth/token/fail`.
pub(super) fn password(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    let (Some(username), Some(password)) = (ctx.params.get("username"), ctx.params.get("password"))
    else {
        return Ok(bad(
            "invalid_request",
            "The token request needs 'username' and 'password'.",
        ));
    };
    let scopes = match authz_request::scopes(ctx.engine, &ctx.params) {
        Ok(s) => s,
        Err(m) => return Ok(bad("invalid_scope", &m)),
    };
    let ticket = random_token()?;
    {
        let mut store = ctx.engine.store.lock();
        let weight = store::strings(&scopes) + store::properties(&ctx.properties);
        store.room(ctx.now, weight)?;
        let expires = ctx
            .engine
            .expiry(ctx.now, ctx.engine.config.lifetimes.password_ticket);
        let pending = PasswordTicket {
            client: ctx.client.clone(),
            alias_used: ctx.alias_used,
            scopes: scopes.clone(),
            properties: ctx.properties.clone(),
            access_duration: ctx.access_duration,
            refresh_duration: ctx.refresh_duration,
            dpop_jkt: ctx.dpop_jkt.clone(),
            cert_thumbprint: ctx.cert_thumbprint.clone(),
        };
        store
            .password_tickets
            .insert(ticket.clone(), pending, expires, weight);
    }
    let message = "The resource owner's credentials must be validated.";
    Ok(Obj::new("PASSWORD", "L053001", message)
        .set("ticket", ticket)
        .set("username", username)
        .set("password", password)
        .set("grantType", "PASSWORD")
        .set("clientId", ctx.client.id)
        .set(
            "clientIdAlias",
            ctx.client.alias.clone().unwrap_or_default(),
        )
        .set("clientIdAliasUsed", ctx.alias_used)
        .set("clientAuthMethod", ctx.method.name())
        .set("scopes", scopes)
        .done())
}
