//! RFC 8693 token exchange at `/auth/token`, as Authlete validates it: the
//! token types, the subject token (and actor token) looked up in the store
//! (`access_token`, `refresh_token`: Authlete's `TokenInfo`) or verified as
//! a JWT (`jwt`, `id_token`: the engine's keys or a trusted issuer's), then
//! TOKEN_EXCHANGE for the authorization server to decide and to issue with
//! `/auth/token/create`. Every refusal is BAD_REQUEST `invalid_request`.

use serde_json::Value;

use super::LocalBackend;
use super::authz_request;
use super::client::absolute_without_fragment;
use super::jwt_trust;
use super::reply::{Fault, Obj};
use super::store::Grant;
use super::token::{Ctx, bad};

pub(super) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8693 §3 token type identifiers and Authlete's `TokenType` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenType {
    Jwt,
    AccessToken,
    RefreshToken,
    IdToken,
    Saml1,
    Saml2,
}

const TYPES: [(TokenType, &str, &str); 6] = [
    (
        TokenType::Jwt,
        "urn:ietf:params:oauth:token-type:jwt",
        "JWT",
    ),
    (
        TokenType::AccessToken,
        "urn:ietf:params:oauth:token-type:access_token",
        "ACCESS_TOKEN",
    ),
    (
        TokenType::RefreshToken,
        "urn:ietf:params:oauth:token-type:refresh_token",
        "REFRESH_TOKEN",
    ),
    (
        TokenType::IdToken,
        "urn:ietf:params:oauth:token-type:id_token",
        "ID_TOKEN",
    ),
    (
        TokenType::Saml1,
        "urn:ietf:params:oauth:token-type:saml1",
        "SAML1",
    ),
    (
        TokenType::Saml2,
        "urn:ietf:params:oauth:token-type:saml2",
        "SAML2",
    ),
];

impl TokenType {
    fn parse(uri: &str) -> Option<Self> {
        TYPES.iter().find(|(_, u, _)| *u == uri).map(|(t, _, _)| *t)
    }

    fn name(self) -> &'static str {
        TYPES
            .iter()
            .find(|(t, _, _)| *t == self)
            .map_or("", |(_, _, n)| n)
    }
}

/// A validated input token: its value, type and, for the engine's own
/// access and refresh tokens, Authlete's `TokenInfo`.
struct Input<'a> {
    token: &'a str,
    kind: TokenType,
    info: Option<Value>,
}

/// A parameter, absent when empty (Authlete treats both alike).
fn given<'a>(ctx: &'a Ctx<'_>, name: &str) -> Option<&'a str> {
    ctx.params.get(name).filter(|v| !v.is_empty())
}

pub(super) fn token(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    match validate(ctx) {
        Ok(reply) => Ok(reply),
        Err(Refusal::Request(m)) => Ok(bad("invalid_request", &m)),
        Err(Refusal::Scope(m)) => Ok(bad("invalid_scope", &m)),
        Err(Refusal::Target(m)) => Ok(bad("invalid_target", m)),
    }
}

enum Refusal {
    Request(String),
    Scope(String),
    Target(&'static str),
}

fn request(m: impl Into<String>) -> Refusal {
    Refusal::Request(m.into())
}

fn validate(ctx: &Ctx<'_>) -> Result<Value, Refusal> {
    let requested = match given(ctx, "requested_token_type") {
        None => None,
        Some(uri) => Some(TokenType::parse(uri).ok_or_else(|| {
            request("'requested_token_type' is not a token type the local engine knows.")
        })?),
    };
    let subject = input(ctx, "subject")?
        .ok_or_else(|| request("The token exchange request does not contain 'subject_token'."))?;
    let actor = input(ctx, "actor")?;
    let scopes = if ctx.params.has("scope") {
        authz_request::scopes(ctx.engine, &ctx.params).map_err(Refusal::Scope)?
    } else {
        Vec::new()
    };
    let resources = ctx.params.all("resource");
    if resources.iter().any(|r| !absolute_without_fragment(r)) {
        return Err(Refusal::Target(
            "A 'resource' is not an absolute URI without fragment.",
        ));
    }
    let client = &ctx.client;
    let mut reply = Obj::new(
        "TOKEN_EXCHANGE",
        "L050011",
        "The token exchange request is valid: the authorization server decides and issues.",
    )
    .set("grantType", "TOKEN_EXCHANGE")
    .set("clientId", client.id)
    .set("clientIdAlias", client.alias.clone().unwrap_or_default())
    .set("clientIdAliasUsed", ctx.alias_used)
    .set("clientAuthMethod", ctx.method.name())
    .set("scopes", scopes)
    .set("resources", resources)
    .set("audiences", ctx.params.all("audience"))
    .set("requestedTokenType", requested.map_or("", TokenType::name))
    .set("subjectToken", subject.token)
    .set("subjectTokenType", subject.kind.name())
    .set("subjectTokenInfo", subject.info.unwrap_or(Value::Null));
    if let Some(actor) = actor {
        reply = reply
            .set("actorToken", actor.token)
            .set("actorTokenType", actor.kind.name())
            .set("actorTokenInfo", actor.info.unwrap_or(Value::Null));
    }
    Ok(reply.done())
}

/// The `{role}_token` and `{role}_token_type` pair, validated; `None` when
/// neither is given.
fn input<'a>(ctx: &'a Ctx<'_>, role: &str) -> Result<Option<Input<'a>>, Refusal> {
    let token = given(ctx, &format!("{role}_token"));
    let kind = given(ctx, &format!("{role}_token_type"));
    let (token, kind) = match (token, kind) {
        (None, None) => return Ok(None),
        (Some(t), Some(k)) => (t, k),
        (Some(_), None) => {
            return Err(request(format!(
                "'{role}_token_type' is required with '{role}_token'."
            )));
        }
        (None, Some(_)) if role == "subject" => return Ok(None),
        (None, Some(_)) => {
            return Err(request(format!(
                "'{role}_token_type' is given without '{role}_token'."
            )));
        }
    };
    let kind = TokenType::parse(kind).ok_or_else(|| {
        request(format!(
            "'{role}_token_type' is not a token type the local engine supports."
        ))
    })?;
    let info = check(ctx.engine, token, kind, ctx.now)
        .map_err(|why| request(format!("The {role} token is invalid: {why}")))?;
    Ok(Some(Input { token, kind, info }))
}

/// Authlete's validation of one input token by its type (the `TokenResponse`
/// documentation): the engine's own access and refresh tokens must exist
/// and be unexpired; JWTs and ID tokens must verify. SAML assertions are
/// passed on unchecked, as Authlete does: the authorization server checks them.
fn check(
    engine: &LocalBackend,
    token: &str,
    kind: TokenType,
    now: i64,
) -> Result<Option<Value>, &'static str> {
    match kind {
        TokenType::AccessToken => {
            let store = engine.store.lock();
            let (_, g) = store
                .by_access(token)
                .ok_or("it does not exist or has been revoked.")?;
            if g.access_expires <= now {
                return Err("it has expired.");
            }
            Ok(Some(info(engine, g, &g.scopes, g.access_expires)))
        }
        TokenType::RefreshToken => {
            let store = engine.store.lock();
            let (_, g) = store
                .by_refresh(token)
                .ok_or("it does not exist or has been revoked.")?;
            if g.refresh_expires <= now {
                return Err("it has expired.");
            }
            Ok(Some(info(engine, g, &g.refresh_scopes, g.refresh_expires)))
        }
        TokenType::Jwt => {
            let p = jwt_trust::parse(token)?;
            jwt_trust::check_times(&p.claims, now / 1000, false, false)?;
            jwt_trust::verify(engine, token, &p, true)?;
            // The engine's own JWT access tokens end when revoked, which
            // their signature does not say: the store does.
            let own =
                p.claims.get("iss").and_then(Value::as_str) == Some(engine.config.issuer.as_str());
            if own && super::jws::is_access_token(&p.header) {
                let store = engine.store.lock();
                let live = store
                    .by_access(token)
                    .is_some_and(|(_, g)| g.access_expires > now);
                if !live {
                    return Err("it does not exist or has been revoked.");
                }
            }
            Ok(None)
        }
        TokenType::IdToken => {
            let p = jwt_trust::parse(token)?;
            if super::jws::is_access_token(&p.header) {
                return Err("it is an access token (typ at+jwt), not an ID token.");
            }
            jwt_trust::check_times(&p.claims, now / 1000, true, true)?;
            if !jwt_trust::audience_shaped(p.claims.get("aud")) {
                return Err("its 'aud' is not a string or an array of strings.");
            }
            if p.claims.get("nonce").is_some_and(|n| !n.is_string()) {
                return Err("its 'nonce' is not a string.");
            }
            jwt_trust::verify(engine, token, &p, true)?;
            Ok(None)
        }
        TokenType::Saml1 | TokenType::Saml2 => Ok(None),
    }
}

/// Authlete's `TokenInfo` of a token record.
fn info(engine: &LocalBackend, g: &Grant, scopes: &[String], expires_at: i64) -> Value {
    let properties: Vec<Value> = g
        .properties
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    Obj::empty()
        .set("clientId", g.client.id)
        .set("clientIdAlias", g.client.alias.clone().unwrap_or_default())
        .set("clientIdAliasUsed", g.alias_used)
        .set("subject", g.subject.as_str())
        .set("scopes", super::authorization::scopes_json(engine, scopes))
        .set("expiresAt", expires_at)
        .set("properties", properties)
        .set("resources", g.resources.clone())
        .done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types_round_trip_and_unknown_ones_are_none() {
        for (kind, uri, name) in TYPES {
            assert_eq!(TokenType::parse(uri), Some(kind));
            assert_eq!(kind.name(), name);
        }
        assert_eq!(TokenType::parse("urn:example:token"), None);
        assert_eq!(TokenType::parse("access_token"), None);
    }
}

#[cfg(test)]
mod engine_tests {
    use serde_json::json;

    use super::super::jwt;
    use super::super::jwt_bearer::tests::{IDP, engine};
    use super::super::keys::{Algorithm, SigningKey};
    use super::*;

    #[test]
    fn input_tokens_are_checked_by_their_type() {
        let idp = SigningKey::generate(Algorithm::ES256).unwrap();
        let e = engine(&idp);
        let now = e.now();
        let s = now / 1000;
        let own = e.keys.default_key();
        let id_token = json!({"iss": "http://localhost:8080", "sub": "a", "aud": "c", "exp": s + 60, "iat": s});
        let sign = |k: &SigningKey, c: &Value| jwt::sign(k, c).unwrap();
        let run = |token: &str, kind| check(&e, token, kind, now);
        assert_eq!(run(&sign(own, &id_token), TokenType::IdToken), Ok(None));
        let mut no_iat = id_token.clone();
        no_iat.as_object_mut().unwrap().remove("iat");
        assert_eq!(
            run(&sign(own, &no_iat), TokenType::IdToken),
            Err("The JWT has no 'iat'.")
        );
        assert_eq!(
            run(&sign(own, &no_iat), TokenType::Jwt),
            Ok(None),
            "jwt: iat optional"
        );
        let mut nonce = id_token.clone();
        nonce["nonce"] = json!(1);
        assert!(run(&sign(own, &nonce), TokenType::IdToken).is_err());
        let mut aud = id_token.clone();
        aud["aud"] = json!(1);
        assert!(run(&sign(own, &aud), TokenType::IdToken).is_err());
        let foreign = json!({"iss": IDP, "exp": s + 60});
        assert_eq!(run(&sign(&idp, &foreign), TokenType::Jwt), Ok(None));
        let stranger = SigningKey::generate(Algorithm::ES256).unwrap();
        assert!(run(&sign(&stranger, &foreign), TokenType::Jwt).is_err());
        assert_eq!(
            run("opaque", TokenType::AccessToken),
            Err("it does not exist or has been revoked.")
        );
        assert_eq!(
            run("opaque", TokenType::RefreshToken).map(|_| ()),
            Err("it does not exist or has been revoked.")
        );
        assert_eq!(
            run("<saml/>", TokenType::Saml1),
            Ok(None),
            "passed on, as Authlete does"
        );
    }
}
