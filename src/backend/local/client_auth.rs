//! Client authentication at the token, PAR, revocation, device and
//! backchannel endpoints: client secrets (Basic or in the form), none for
//! public clients, the client certificate (RFC 8705) and client assertions
//! (RFC 7523, in client_assertion.rs).

use std::sync::Arc;

use super::LocalBackend;
use super::client::{AuthMethod, Client, Registry};
use super::client_assertion;
use super::mtls::Presented;
use super::params::Params;
use super::reply::{self, Fault};
use serde_json::Value;

/// Why client authentication failed: the message, and whether the request
/// is malformed (BAD_REQUEST) rather than the client unknown or not
/// authenticated (INVALID_CLIENT).
pub(super) struct AuthFailure {
    pub malformed: bool,
    pub message: &'static str,
}

impl AuthFailure {
    /// The endpoint's answer: BAD_REQUEST `invalid_request` (result code
    /// `bad_code`) for a malformed request, else `action` (INVALID_CLIENT,
    /// or UNAUTHORIZED where Authlete names it so) with `invalid_client`.
    pub(super) fn reply(&self, bad_code: &str, action: &str, code: &str) -> Value {
        if self.malformed {
            reply::json_error("BAD_REQUEST", bad_code, "invalid_request", self.message)
        } else {
            reply::json_error(action, code, "invalid_client", self.message)
        }
    }
}

/// An authenticated client.
pub(super) struct Authenticated {
    pub client: Arc<Client>,
    pub alias_used: bool,
    pub method: AuthMethod,
}

/// The client credentials of an API request: `clientId`/`clientSecret` (what
/// the web tier took from `Authorization: Basic`) and `clientCertificate`
/// (the TLS connection's, RFC 8705). No `Debug`: it carries the secret.
#[derive(Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Credentials {
    client_id: Option<String>,
    client_secret: Option<String>,
    client_certificate: Option<String>,
}

impl Credentials {
    /// The client certificate (PEM), if any.
    pub(super) fn certificate(&self) -> Option<&str> {
        self.client_certificate.as_deref()
    }
}

/// Authenticates the client of a request to the endpoint at `url` (what a
/// client assertion's `aud` may name). The outer error is the engine's (a
/// full replay cache), the inner one the client's.
pub(super) fn authenticate(
    engine: &LocalBackend,
    credentials: &Credentials,
    params: &Params,
    url: &str,
) -> Result<Result<Authenticated, AuthFailure>, Fault> {
    if !params.has("client_assertion") && !params.has("client_assertion_type") {
        return Ok(by_credentials(&engine.clients, credentials, params));
    }
    let fail = |malformed, message| Ok(Err(AuthFailure { malformed, message }));
    if params.get("client_assertion_type") != Some(client_assertion::JWT_BEARER) {
        return fail(
            true,
            "'client_assertion_type' is missing or not urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
        );
    }
    let Some(assertion) = params.get("client_assertion").filter(|a| !a.is_empty()) else {
        return fail(true, "'client_assertion' is missing.");
    };
    let basic_secret = credentials.client_secret.as_deref().unwrap_or_default();
    if !basic_secret.is_empty() || params.get("client_secret").is_some_and(|s| !s.is_empty()) {
        return fail(true, "The client used more than one authentication method.");
    }
    let id = match client_assertion::claimed_client(assertion) {
        Ok(id) => id,
        Err(f) => return Ok(Err(f)),
    };
    let named = [credentials.client_id.as_deref(), params.get("client_id")];
    if named
        .into_iter()
        .flatten()
        .any(|n| !n.is_empty() && n != id)
    {
        return fail(
            true,
            "'client_id' differs from the client that authenticated.",
        );
    }
    let Some((client, alias_used)) = engine.clients.find(&id) else {
        return fail(false, "The client does not exist.");
    };
    match client_assertion::verify(engine, &client, assertion, url) {
        Ok(method) => Ok(Ok(Authenticated {
            client,
            alias_used,
            method,
        })),
        Err(Ok(f)) => Ok(Err(f)),
        Err(Err(fault)) => Err(fault),
    }
}

/// Authenticates a client from its [`Credentials`] or the `client_id` /
/// `client_secret` parameters (client_secret_post, or a public client).
pub(super) fn by_credentials(
    registry: &Registry,
    credentials: &Credentials,
    params: &Params,
) -> Result<Authenticated, AuthFailure> {
    let basic_id = credentials.client_id.as_deref().unwrap_or_default();
    let basic_secret = credentials.client_secret.as_deref().unwrap_or_default();
    let certificate = credentials.certificate();
    let fail = |malformed, message| Err(AuthFailure { malformed, message });
    let post_id = params.get("client_id").unwrap_or_default();
    let post_secret = params.get("client_secret").unwrap_or_default();
    if !basic_secret.is_empty() && !post_secret.is_empty() {
        return fail(true, "The client used more than one authentication method.");
    }
    if !basic_id.is_empty() && !post_id.is_empty() && basic_id != post_id {
        return fail(
            true,
            "'client_id' differs from the client that authenticated.",
        );
    }
    let id = if basic_id.is_empty() {
        post_id
    } else {
        basic_id
    };
    if id.is_empty() {
        return fail(false, "The client could not be identified: no client ID.");
    }
    let Some((client, alias_used)) = registry.find(id) else {
        return fail(false, "The client does not exist.");
    };
    if matches!(
        client.auth_method,
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth
    ) {
        if !basic_secret.is_empty() || !post_secret.is_empty() {
            return fail(
                false,
                "The client used an authentication method it is not registered for.",
            );
        }
        return by_certificate(client, alias_used, certificate);
    }
    if matches!(
        client.auth_method,
        AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
    ) {
        return fail(
            false,
            "The client must authenticate with a client assertion (client_assertion).",
        );
    }
    let Some(secret) = &client.secret else {
        return Ok(Authenticated {
            client,
            alias_used,
            method: AuthMethod::None,
        });
    };
    let (presented, method) = if basic_secret.is_empty() {
        (post_secret, AuthMethod::Post)
    } else {
        (basic_secret, AuthMethod::Basic)
    };
    if presented.is_empty() {
        return fail(false, "The client authentication failed: no client secret.");
    }
    if method != client.auth_method {
        return fail(
            false,
            "The client used an authentication method it is not registered for.",
        );
    }
    let equal =
        aws_lc_rs::constant_time::verify_slices_are_equal(secret.as_bytes(), presented.as_bytes());
    if equal.is_err() {
        return fail(
            false,
            "The client authentication failed: wrong client secret.",
        );
    }
    Ok(Authenticated {
        client,
        alias_used,
        method,
    })
}

/// RFC 8705 §2: the presented certificate must be the client's.
fn by_certificate(
    client: Arc<Client>,
    alias_used: bool,
    certificate: Option<&str>,
) -> Result<Authenticated, AuthFailure> {
    let fail = |malformed, message| Err(AuthFailure { malformed, message });
    let cert = match Presented::from_member(certificate) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return fail(
                false,
                "The client authentication failed: no client certificate.",
            );
        }
        Err(m) => return fail(true, m),
    };
    let recognised = match (&client.tls_name, client.auth_method) {
        (Some(name), AuthMethod::TlsClientAuth) => cert.names(name),
        (_, AuthMethod::SelfSignedTlsClientAuth) => client.self_signed.contains(&cert.thumbprint()),
        _ => false,
    };
    if !recognised {
        return fail(
            false,
            "The client authentication failed: the certificate is not the client's.",
        );
    }
    let method = client.auth_method;
    Ok(Authenticated {
        client,
        alias_used,
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::super::client::tests::registry;
    use super::*;

    fn creds(id: &str, secret: &str) -> Credentials {
        let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        Credentials {
            client_id: some(id),
            client_secret: some(secret),
            client_certificate: None,
        }
    }

    #[test]
    fn authenticates_basic_and_rejects_the_rest() {
        let r = registry();
        let none = Params::default();
        assert!(by_credentials(&r, &creds("web", "s3cret"), &none).is_ok());
        assert!(by_credentials(&r, &creds("web", "wrong"), &none).is_err());
        let post = Params::parse("client_id=web&client_secret=s3cret", 8).unwrap();
        let err = by_credentials(&r, &creds("", ""), &post).err().unwrap();
        assert!(!err.malformed, "post is not the registered method");
        let both = Params::parse("client_secret=s3cret", 8).unwrap();
        assert!(
            by_credentials(&r, &creds("web", "s3cret"), &both)
                .err()
                .unwrap()
                .malformed
        );
        let public = Params::parse("client_id=42", 8).unwrap();
        assert_eq!(
            by_credentials(&r, &creds("", ""), &public)
                .ok()
                .unwrap()
                .method,
            AuthMethod::None
        );
    }
}
