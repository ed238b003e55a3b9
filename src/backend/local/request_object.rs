//! Request objects (RFC 9101, OpenID Connect Core §6.1): the `request`
//! parameter of an authorization request, or of a pushed one, is a JWS
//! signed by one of the client's registered keys. Once verified, its claims
//! are the request: as Authlete does by default
//! (`traditionalRequestObjectProcessingApplied` false), RFC 9101 §5 rules,
//! so the parameters outside it are not used, except `client_id`, and a
//! `response_type` outside must agree with the one inside.
//!
//! Unsigned objects (`alg` `none`) are always refused: RFC 9101 §6.3 (and
//! Authlete's JAR processing) requires a signature. Every refusal is
//! `invalid_request_object`, never sent to the redirect URI: the redirect
//! URI may be one the unverified object names.

use serde_json::{Map, Value};

use super::LocalBackend;
use super::alg::Algorithm;
use super::authz_request::{AuthzError, direct};
use super::client::Client;
use super::jws;
use super::params::{Params, split};

/// Authlete's error for a request object that does not verify.
const ERROR: &str = "invalid_request_object";

/// The largest request object accepted (the bound of every JWS the engine
/// verifies); the whole request is bounded by `max_request_bytes` as well.
pub(super) const MAX_BYTES: usize = jws::MAX_JWS_BYTES;

/// FAPI 2.0 Message Signing §5.3.2.1: at most 60 minutes from `nbf` to `exp`.
const MAX_LIFETIME: i64 = 3600;

/// Claims about the object itself rather than request parameters.
const JWT_CLAIMS: &[&str] = &["iss", "aud", "exp", "nbf", "iat", "jti", "sub"];

/// A verified request object: the parameters it stands for.
pub(super) struct Resolved {
    pub params: Params,
    /// The payload, JSON text (Authlete's `requestObjectPayload`).
    pub payload: String,
}

/// The request `outer` stands for when it carries `request`; `None` when it
/// does not and the client may send plain parameters.
pub(super) fn resolve(
    engine: &LocalBackend,
    client: &Client,
    outer: &Params,
) -> Result<Option<Resolved>, AuthzError> {
    let Some(jws) = outer.get("request") else {
        if client.require_signed_request_object {
            return Err(direct(
                "invalid_request",
                "This client must use a signed request object ('request').",
            ));
        }
        return Ok(None);
    };
    if outer.has("request_uri") {
        return Err(direct(
            "invalid_request",
            "'request' and 'request_uri' cannot both be given.",
        ));
    }
    let fail = |m: &str| direct(ERROR, m);
    let claims = verify(client, jws).map_err(|m| fail(&m))?;
    check_claims(engine, client, outer, &claims).map_err(|m| fail(&m))?;
    let form = to_form(outer, &claims).map_err(|m| fail(&m))?;
    let params = Params::parse(&form, engine.config.max_list_values)
        .map_err(|m| fail(&format!("The request object: {m}")))?;
    Ok(Some(Resolved {
        params,
        payload: Value::Object(claims).to_string(),
    }))
}

/// Checks the header's `alg` against what the engine and the client accept,
/// then the signature by the client's keys: the claims.
fn verify(client: &Client, jws: &str) -> Result<Map<String, Value>, String> {
    if jws.len() > MAX_BYTES {
        return Err(format!(
            "The request object is larger than {MAX_BYTES} bytes."
        ));
    }
    let parsed = jws::parse(jws).map_err(|m| format!("The request object is not a JWS: {m}"))?;
    let alg = parsed.header.get("alg").and_then(Value::as_str);
    let alg = match alg {
        None => return Err("The request object's header has no 'alg'.".to_owned()),
        Some("none") => {
            return Err("The request object is unsigned ('alg' none); \
                 RFC 9101 requires a signed one."
                .to_owned());
        }
        Some(name) => Algorithm::from_name(name).ok_or_else(|| {
            format!(
                "The request object's 'alg' is not supported (supported: {}).",
                Algorithm::names()
            )
        })?,
    };
    if let Some(required) = client.request_object_alg
        && required != alg
    {
        return Err(format!(
            "This client's request objects must be signed with {} \
             (request_object_signing_alg).",
            required.name()
        ));
    }
    let keys = client.keys.as_ref().filter(|k| !k.is_empty()).ok_or(
        "The client has no registered keys (jwks or jwks_uri) to verify a request object with.",
    )?;
    let (_, claims) = keys
        .verify(jws)
        .map_err(|m| format!("The request object's signature was not verified: {m}"))?;
    Ok(claims)
}

/// RFC 9101 §6.3 and §5: who issued it, for whom, when, for which client.
fn check_claims(
    engine: &LocalBackend,
    client: &Client,
    outer: &Params,
    claims: &Map<String, Value>,
) -> Result<(), String> {
    let names_client = |id: &str| {
        engine
            .clients
            .find(id)
            .is_some_and(|(c, _)| c.id == client.id)
    };
    match claims.get("iss").and_then(Value::as_str) {
        None => return Err("The request object has no 'iss'.".to_owned()),
        Some(iss) if !names_client(iss) => {
            return Err("The request object's 'iss' is not the client's ID.".to_owned());
        }
        Some(_) => {}
    }
    let issuer = engine.config.issuer.as_str();
    let for_us = match claims.get("aud") {
        Some(Value::String(aud)) => aud == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !for_us {
        return Err("The request object's 'aud' does not contain this server's issuer.".to_owned());
    }
    times(engine.now() / 1000, claims)?;
    match claims.get("client_id") {
        None => {}
        Some(Value::String(id)) if names_client(id) => {}
        Some(_) => {
            return Err(
                "The request object's 'client_id' is not the client of the request.".to_owned(),
            );
        }
    }
    if ["request", "request_uri"]
        .iter()
        .any(|n| claims.contains_key(*n))
    {
        return Err("A request object cannot contain 'request' or 'request_uri'.".to_owned());
    }
    let inner = claims.get("response_type").and_then(Value::as_str);
    if let Some(outside) = outer.get("response_type")
        && !inner.is_some_and(|i| same_words(i, outside))
    {
        return Err(
            "The 'response_type' outside the request object differs from the one inside."
                .to_owned(),
        );
    }
    Ok(())
}

/// `exp` (required) has not passed and `nbf` (if any) has come, by the
/// engine's clock, with no more than [`MAX_LIFETIME`] between them.
fn times(now: i64, claims: &Map<String, Value>) -> Result<(), String> {
    let time = |name: &str| -> Result<Option<i64>, String> {
        match claims.get(name) {
            None => Ok(None),
            // A fractional time counts as its whole second.
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| format!("The request object's '{name}' is not a number.")),
            Some(_) => Err(format!("The request object's '{name}' is not a number.")),
        }
    };
    let exp = time("exp")?.ok_or("The request object has no 'exp'.")?;
    if exp <= now {
        return Err("The request object has expired ('exp').".to_owned());
    }
    if let Some(nbf) = time("nbf")? {
        if nbf > now {
            return Err("The request object is not valid yet ('nbf').".to_owned());
        }
        if exp.saturating_sub(nbf) > MAX_LIFETIME {
            return Err(format!(
                "The request object's lifetime from 'nbf' to 'exp' exceeds {MAX_LIFETIME} seconds."
            ));
        }
    }
    Ok(())
}

fn same_words(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (split(Some(a)), split(Some(b)));
    a.sort();
    b.sort();
    a == b
}

/// The request the claims stand for, as form parameters (so that the
/// parameter bounds apply to it as to any request): every claim but the
/// JWT's own, plus the `client_id` from outside.
fn to_form(outer: &Params, claims: &Map<String, Value>) -> Result<String, String> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    if let Some(id) = outer.get("client_id") {
        form.append_pair("client_id", id);
    }
    for (name, value) in claims {
        if JWT_CLAIMS.contains(&name.as_str()) || name == "client_id" {
            continue;
        }
        for v in values(name, value)? {
            form.append_pair(name, &v);
        }
    }
    Ok(form.finish())
}

/// A claim as parameter values: strings as they are, numbers (`max_age`)
/// and booleans as their text, an object (`claims`) as its JSON text (OIDC
/// Core §6.1), an array of strings only for `resource` (RFC 8707).
fn values(name: &str, value: &Value) -> Result<Vec<String>, String> {
    Ok(match value {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Object(_) => vec![value.to_string()],
        Value::Array(list) if name == "resource" => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or("The request object's 'resource' is not an array of strings.")?,
        Value::Array(_) => {
            return Err(format!(
                "The request object's {} is an array, which it cannot be.",
                quoted(name)
            ));
        }
    })
}

/// A claim name as an error message may show it (names come from the client).
fn quoted(name: &str) -> String {
    let plain = name.len() <= 40 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain {
        format!("'{name}'")
    } else {
        "member".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn times_follow_exp_nbf_and_the_fapi_lifetime() {
        assert!(times(100, &obj(json!({"exp": 101}))).is_ok());
        assert!(times(100, &obj(json!({"exp": 100.5}))).is_err());
        assert!(
            times(100, &obj(json!({})))
                .unwrap_err()
                .contains("no 'exp'")
        );
        assert!(times(100, &obj(json!({"exp": "101"}))).is_err());
        assert!(times(100, &obj(json!({"exp": 200, "nbf": 100}))).is_ok());
        assert!(
            times(100, &obj(json!({"exp": 200, "nbf": 101})))
                .unwrap_err()
                .contains("nbf")
        );
        let long = obj(json!({"exp": 100 + MAX_LIFETIME, "nbf": 99}));
        assert!(times(100, &long).unwrap_err().contains("lifetime"));
    }

    #[test]
    fn claims_become_parameters() {
        let outer = Params::parse("client_id=web&scope=ignored", 8).unwrap();
        let claims = obj(
            json!({"iss": "web", "aud": "x", "exp": 1, "client_id": "web",
            "scope": "openid", "max_age": 60, "claims": {"userinfo": {"email": null}},
            "resource": ["https://a", "https://b"], "state": null}),
        );
        let form = to_form(&outer, &claims).unwrap();
        let p = Params::parse(&form, 8).unwrap();
        assert_eq!(p.get("client_id"), Some("web"));
        assert_eq!(p.get("scope"), Some("openid"));
        assert_eq!(p.get("max_age"), Some("60"));
        assert_eq!(p.get("claims"), Some(r#"{"userinfo":{"email":null}}"#));
        assert_eq!(p.all("resource"), ["https://a", "https://b"]);
        assert!(!p.has("iss") && !p.has("exp") && !p.has("state"));
        let bad = obj(json!({"scope": ["openid"]}));
        assert!(to_form(&outer, &bad).unwrap_err().contains("'scope'"));
        let odd = obj(json!({"a\nb": ["x"]}));
        assert!(!to_form(&outer, &odd).unwrap_err().contains('\n'));
        assert!(same_words("code  id_token", "id_token code"));
        assert!(!same_words("code", "code id_token"));
    }
}
