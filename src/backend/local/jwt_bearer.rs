//! The RFC 7523 JWT bearer grant at `/auth/token`: Authlete's checks of the
//! assertion (`iss`, `sub`, `aud` naming the issuer or the token endpoint,
//! `exp`, `iat`, `nbf`), plus what Authlete leaves to the authorization
//! server and the engine can do offline: the signature, by a key of a
//! trusted issuer (`[[jwt_bearer_issuers]]`). Then JWT_BEARER for the
//! authorization server to decide and to issue with `/auth/token/create`.
//! A missing assertion is `invalid_request`, a bad one `invalid_grant`
//! (RFC 7521 §5.2).

use serde_json::Value;

use super::authz_request;
use super::client::absolute_without_fragment;
use super::jwt_trust;
use super::reply::{Fault, Obj};
use super::token::{Ctx, bad};

pub(super) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub(super) fn token(ctx: &Ctx<'_>) -> Result<Value, Fault> {
    let Some(assertion) = ctx.params.get("assertion").filter(|a| !a.is_empty()) else {
        return Ok(bad(
            "invalid_request",
            "The token request does not contain 'assertion'.",
        ));
    };
    if let Err(why) = check(ctx, assertion) {
        return Ok(bad(
            "invalid_grant",
            &format!("The assertion is invalid: {why}"),
        ));
    }
    let scopes = if ctx.params.has("scope") {
        match authz_request::scopes(ctx.engine, &ctx.params) {
            Ok(s) => s,
            Err(m) => return Ok(bad("invalid_scope", &m)),
        }
    } else {
        Vec::new()
    };
    let resources = ctx.params.all("resource");
    if resources.iter().any(|r| !absolute_without_fragment(r)) {
        return Ok(bad(
            "invalid_target",
            "A 'resource' is not an absolute URI without fragment.",
        ));
    }
    let client = &ctx.client;
    Ok(Obj::new(
        "JWT_BEARER",
        "L050012",
        "The assertion is valid: the authorization server decides and issues.",
    )
    .set("grantType", "JWT_BEARER")
    .set("clientId", client.id)
    .set("clientIdAlias", client.alias.clone().unwrap_or_default())
    .set("clientIdAliasUsed", ctx.alias_used)
    .set("clientAuthMethod", ctx.method.name())
    .set("scopes", scopes)
    .set("resources", resources)
    .set("assertion", assertion)
    .done())
}

/// The assertion's claims (RFC 7523 §3), then its signature.
fn check(ctx: &Ctx<'_>, assertion: &str) -> Result<(), &'static str> {
    let p = jwt_trust::parse(assertion)?;
    let text = |name: &str| p.claims.get(name).and_then(Value::as_str);
    if text("iss").is_none_or(str::is_empty) {
        return Err("it has no 'iss' string.");
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err("it has no 'sub' string.");
    }
    let config = &ctx.engine.config;
    let token_endpoint = config.endpoint(&config.endpoints.token);
    let audiences = [config.issuer.as_str(), token_endpoint.as_str()];
    if !jwt_trust::audience_has(p.claims.get("aud"), &audiences) {
        return Err("its 'aud' names neither the issuer nor the token endpoint.");
    }
    jwt_trust::check_times(&p.claims, ctx.now / 1000, true, false)?;
    // The engine's own JWTs (ID tokens, JWT access tokens) are no assertions.
    jwt_trust::verify(ctx.engine, assertion, &p, false)
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::super::client::AuthMethod;
    use super::super::keys::{Algorithm, SigningKey};
    use super::super::params::Params;
    use super::super::{LocalBackend, jwt};
    use super::*;
    use crate::backend::local::{JwtIssuerConfig, LocalConfig, ManualClock};

    pub(crate) const IDP: &str = "https://idp.example";

    /// An engine (ES256 default key: quick to make) trusting `IDP`'s `key`.
    pub(crate) fn engine(key: &SigningKey) -> LocalBackend {
        let mut c = LocalConfig::default();
        c.signing.algorithm = Algorithm::ES256;
        c.jwt_bearer_issuers = vec![JwtIssuerConfig {
            issuer: IDP.to_owned(),
            jwks: Some(json!({"keys": [key.public_jwk()]}).to_string()),
            jwks_file: None,
        }];
        LocalBackend::with_clock(c, Arc::new(ManualClock::starting_now())).unwrap()
    }

    fn ctx<'a>(engine: &'a LocalBackend) -> Ctx<'a> {
        Ctx {
            engine,
            params: Params::parse("", 64).unwrap(),
            client: engine.clients.all()[0].clone(),
            alias_used: true,
            method: AuthMethod::Basic,
            properties: Vec::new(),
            access_duration: 0,
            refresh_duration: 0,
            now: engine.now(),
            dpop_jkt: None,
            cert_thumbprint: None,
        }
    }

    #[test]
    fn an_assertion_needs_its_claims_and_a_trusted_signature() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let e = engine(&key);
        let c = ctx(&e);
        let now = c.now / 1000;
        let good = json!({"iss": IDP, "sub": "bob", "aud": "http://localhost:8080/token", "exp": now + 60});
        let with = |name: &str, value: Value| {
            let mut claims = good.clone();
            claims[name] = value;
            claims
        };
        let run = |k: &SigningKey, claims: &Value| check(&c, &jwt::sign(k, claims).unwrap());
        assert_eq!(run(&key, &good), Ok(()));
        assert_eq!(
            run(&key, &with("aud", json!(["x", "http://localhost:8080"]))),
            Ok(())
        );
        assert_eq!(
            run(&key, &with("exp", json!(now))),
            Err("The JWT has expired.")
        );
        assert!(
            run(&key, &with("aud", json!("https://rs")))
                .unwrap_err()
                .contains("'aud'")
        );
        assert!(
            run(&key, &with("sub", json!("")))
                .unwrap_err()
                .contains("'sub'")
        );
        assert!(
            run(&key, &with("iss", json!(7)))
                .unwrap_err()
                .contains("'iss'")
        );
        let other = SigningKey::generate(Algorithm::ES256).unwrap();
        assert!(run(&other, &good).unwrap_err().contains("does not verify"));
        // The engine's own key signs no assertions.
        let own = with("iss", json!("http://localhost:8080"));
        assert_eq!(
            run(e.keys.default_key(), &own),
            Err("The JWT's issuer is not trusted.")
        );
    }
}
