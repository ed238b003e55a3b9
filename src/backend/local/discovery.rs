//! `/service/configuration` (the discovery document: exactly what the
//! engine supports) and `/service/jwks/get` (the public signing key).

use serde_json::{Value, json};

use super::LocalBackend;
use super::reply::Fault;

/// The client authentication methods of the token and revocation endpoints.
const AUTH_METHODS: [&str; 7] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
    "tls_client_auth",
    "self_signed_tls_client_auth",
];

/// The discovery document, with the caller's JSON Patch applied.
pub(super) fn configuration(
    engine: &LocalBackend,
    query: &[(&'static str, String)],
) -> Result<Value, Fault> {
    let c = &engine.config;
    let e = &c.endpoints;
    // Client assertions: the algorithms of private_key_jwt, then of
    // client_secret_jwt.
    let assertion_algs: Vec<&str> = super::alg::Algorithm::ALL
        .map(super::alg::Algorithm::name)
        .into_iter()
        .chain(super::client_keys::HMAC_ALGS)
        .collect();
    let pkce: &[&str] = if c.pkce_s256_required {
        &["S256"]
    } else {
        &["plain", "S256"]
    };
    let scopes: Vec<&str> = engine.scopes.iter().map(|s| s.name.as_str()).collect();
    let mut doc = json!({
        "issuer": c.issuer,
        "authorization_endpoint": c.endpoint(&e.authorization),
        "token_endpoint": c.endpoint(&e.token),
        "userinfo_endpoint": c.endpoint(&e.userinfo),
        "jwks_uri": c.endpoint(&e.jwks),
        "revocation_endpoint": c.endpoint(&e.revocation),
        "introspection_endpoint": c.endpoint(&e.introspection),
        "pushed_authorization_request_endpoint": c.endpoint(&e.pushed_authorization_request),
        "device_authorization_endpoint": c.endpoint(&e.device_authorization),
        "scopes_supported": scopes,
        "response_types_supported": ["code", "id_token", "code id_token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password", super::device::GRANT_TYPE, super::ciba_client::GRANT_TYPE],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": engine.keys.algs(),
        "userinfo_signing_alg_values_supported": engine.keys.algs(),
        "dpop_signing_alg_values_supported": super::alg::Algorithm::ALL.map(super::alg::Algorithm::name),
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "tls_client_certificate_bound_access_tokens": true,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "claims_supported": engine.claims_supported,
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": true,
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": super::alg::Algorithm::ALL.map(super::alg::Algorithm::name),
        "request_uri_parameter_supported": false,
        "require_pushed_authorization_requests": false,
        "code_challenge_methods_supported": pkce,
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account", "create"],
        "display_values_supported": ["page", "popup", "touch", "wap"],
        "backchannel_authentication_endpoint": c.endpoint(&e.backchannel_authentication),
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_user_code_parameter_supported": true,
    });
    // RFC 8693 always; RFC 7523 once an issuer's assertions can verify.
    let grants = &mut doc["grant_types_supported"];
    if let Some(list) = grants.as_array_mut() {
        list.push(super::token_exchange::GRANT_TYPE.into());
        if !engine.trusted.is_empty() {
            list.push(super::jwt_bearer::GRANT_TYPE.into());
        }
    }
    if c.registration.enabled {
        doc["registration_endpoint"] = c.endpoint(&e.registration).into();
    }
    if let Some((_, patch)) = query.iter().find(|(k, v)| *k == "patch" && !v.is_empty()) {
        apply_patch(&mut doc, patch)?;
    }
    Ok(doc)
}

/// The JWK Set. Private keys are never exported, whatever
/// `includePrivateKeys` says: the key never leaves the process.
pub(super) fn jwks(
    engine: &LocalBackend,
    _query: &[(&'static str, String)],
) -> Result<Value, Fault> {
    let keys = engine.keys.public_jwks().map_err(Fault::Server)?;
    Ok(json!({ "keys": keys }))
}

/// RFC 6902, the `add`, `replace` and `remove` operations (what adjusting
/// a discovery document needs).
fn apply_patch(doc: &mut Value, patch: &str) -> Result<(), Fault> {
    let bad = |m: &str| Fault::Caller(format!("'patch' {m}."));
    let ops: Vec<Value> = serde_json::from_str(patch).map_err(|_| bad("is not a JSON array"))?;
    for op in ops {
        let kind = op["op"]
            .as_str()
            .ok_or_else(|| bad("has an operation without 'op'"))?;
        let path = op["path"]
            .as_str()
            .ok_or_else(|| bad("has an operation without 'path'"))?;
        let (parent, last) = match path.rfind('/') {
            Some(i) => (&path[..i], unescape(&path[i + 1..])),
            None => return Err(bad("has a path that is not a JSON Pointer")),
        };
        let target = doc
            .pointer_mut(parent)
            .ok_or_else(|| bad("has a path whose parent does not exist"))?;
        match (kind, target) {
            ("add" | "replace", Value::Object(map)) => {
                map.insert(last, op["value"].clone());
            }
            ("remove", Value::Object(map)) => {
                map.remove(&last);
            }
            ("add", Value::Array(list)) if last == "-" => list.push(op["value"].clone()),
            _ => return Err(bad("uses an operation the local engine does not support")),
        }
    }
    Ok(())
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_add_replace_and_remove() {
        let mut doc = json!({"a": 1, "b": [1], "c": {"d": 2}});
        let patch = r#"[{"op":"replace","path":"/a","value":3},{"op":"add","path":"/b/-","value":2},
            {"op":"remove","path":"/c/d"},{"op":"add","path":"/e~1f","value":true}]"#;
        apply_patch(&mut doc, patch).unwrap();
        assert_eq!(doc, json!({"a": 3, "b": [1, 2], "c": {}, "e/f": true}));
        assert!(apply_patch(&mut doc, r#"[{"op":"move","path":"/a"}]"#).is_err());
        assert!(apply_patch(&mut doc, "{}").is_err());
    }
}
