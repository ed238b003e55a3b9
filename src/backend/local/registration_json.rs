//! The two shapes of a registered client: the RFC 7591 §3.2.1 response
//! (`responseContent`, what the client reads) and Authlete's `Client`
//! object (the typed `client` member, what the web tier reads).

use serde_json::Value;

use super::LocalBackend;
use super::registered::Entry;
use super::reply::Obj;

/// The client information response: the registered metadata, the
/// credentials, and where and how to manage the registration.
pub(super) fn content(engine: &LocalBackend, entry: &Entry, token: &str) -> Value {
    let c = &entry.client;
    let m = &entry.metadata;
    let client_id = c.client_id();
    let obj = Obj::empty()
        .set("client_id", client_id.as_str())
        .set("client_id_issued_at", entry.issued_at / 1000);
    // RFC 7591 §3.2.1: client_secret_expires_at is required with a
    // secret; 0 means it does not expire.
    let obj = match &c.secret {
        Some(secret) => obj
            .set("client_secret", secret.as_str())
            .set("client_secret_expires_at", 0),
        None => obj,
    };
    let config = &engine.config;
    let endpoint = config.endpoint(&config.endpoints.registration);
    obj.set("registration_access_token", token)
        .set(
            "registration_client_uri",
            format!("{}/{client_id}", endpoint.trim_end_matches('/')),
        )
        .set("redirect_uris", m.redirect_uris.clone())
        .set(
            "token_endpoint_auth_method",
            c.auth_method.name().to_ascii_lowercase(),
        )
        .set("grant_types", m.grant_types.clone())
        .set("response_types", m.response_types.clone())
        .set("application_type", m.application_type.as_str())
        .set("client_name", m.client_name.as_str())
        .set("client_uri", m.client_uri.as_str())
        .set("logo_uri", m.logo_uri.as_str())
        .set("tos_uri", m.tos_uri.as_str())
        .set("policy_uri", m.policy_uri.as_str())
        .set("contacts", m.contacts.clone())
        .set("software_id", m.software_id.as_str())
        .set("software_version", m.software_version.as_str())
        .set(
            "id_token_signed_response_alg",
            engine.keys.alg_or_default(c.id_token_alg).name(),
        )
        // Unset, UserInfo is plain JSON: the member stays absent (RFC 7591
        // §3.2.1 returns what is registered).
        .set(
            "userinfo_signed_response_alg",
            c.userinfo_alg.map(|a| a.name()).unwrap_or_default(),
        )
        .set("dpop_bound_access_tokens", c.dpop_required.then_some(true))
        .set(
            "require_signed_request_object",
            c.require_signed_request_object.then_some(true),
        )
        .set(
            "request_object_signing_alg",
            c.request_object_alg.map(|a| a.name()).unwrap_or_default(),
        )
        .set(
            "jwks",
            m.jwks
                .as_deref()
                .and_then(|j| serde_json::from_str::<Value>(j).ok()),
        )
        .done()
}

/// Authlete's `Client`, the members the engine has values for.
pub(super) fn client(entry: &Entry) -> Value {
    let c = &entry.client;
    let m = &entry.metadata;
    // Authlete's enum names: `code id_token` is CODE_ID_TOKEN, and the
    // device grant's URN is DEVICE_CODE.
    let upper = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|v| match v.as_str() {
                "urn:ietf:params:oauth:grant-type:device_code" => "DEVICE_CODE".to_owned(),
                v => v.replace(' ', "_").to_ascii_uppercase(),
            })
            .collect()
    };
    let client_type = c.type_name();
    Obj::empty()
        .set("clientId", c.id)
        .set("clientIdAliasEnabled", false)
        .set("clientSecret", c.secret.clone().unwrap_or_default())
        .set("clientType", client_type)
        .set("clientName", c.name.as_str())
        .set("applicationType", m.application_type.to_ascii_uppercase())
        .set("redirectUris", c.redirect_uris.clone())
        .set("grantTypes", upper(&c.grant_types))
        .set("responseTypes", upper(&c.response_types))
        .set("tokenAuthMethod", c.auth_method.name())
        .set("jwks", m.jwks.clone())
        .set("requestObjectRequired", c.require_signed_request_object)
        .set(
            "requestSignAlg",
            c.request_object_alg.map(|a| a.name()).unwrap_or_default(),
        )
        .set("logoUri", c.logo_uri.as_str())
        .set("tosUri", c.tos_uri.as_str())
        .set("policyUri", c.policy_uri.as_str())
        .set("clientUri", c.client_uri.as_str())
        .set("contacts", m.contacts.clone())
        .set("softwareId", m.software_id.as_str())
        .set("softwareVersion", m.software_version.as_str())
        .set("subjectType", "PUBLIC")
        .set(
            "idTokenSignAlg",
            c.id_token_alg.map(|a| a.name()).unwrap_or_default(),
        )
        .set(
            "userInfoSignAlg",
            c.userinfo_alg.map(|a| a.name()).unwrap_or_default(),
        )
        .set("dynamicallyRegistered", true)
        .set("createdAt", entry.issued_at)
        .set("modifiedAt", entry.modified_at)
        .done()
}
