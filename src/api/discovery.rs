//! Server metadata: `/service/configuration` (the discovery document) and
//! `/service/jwks/get` (the JWK Set). Authlete returns no `action` for these.

use super::{Error, parse};
use crate::backend::{Api, Backend, BackendError, Call, Reply};
use crate::http::{HttpResponse, JSON};

/// Input of `/service/configuration`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigurationRequest {
    /// Pretty-print the JSON.
    pub pretty: bool,
    /// A JSON Patch (RFC 6902) to apply to the document.
    pub patch: String,
}

/// Input of `/service/jwks/get`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwksRequest {
    /// Pretty-print the JSON.
    pub pretty: bool,
    /// Include private keys.
    pub include_private_keys: bool,
}

/// A metadata document and the HTTP response that serves it.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document as Authlete returned it (empty for 204 and 302).
    pub raw: String,
    /// The response to send.
    pub http: HttpResponse,
    /// Authlete's `Request-Id`.
    pub request_id: Option<String>,
    /// Authlete's HTTP status.
    pub authlete_status: u16,
}

/// The discovery document: 200 JSON (authlete-java-jaxrs `ConfigurationRequestHandler`).
pub async fn configuration(
    backend: &dyn Backend,
    request: &ConfigurationRequest,
) -> Result<Document, Error> {
    super::json_patch("patch", &request.patch)?;
    let mut query = Vec::new();
    if request.pretty {
        query.push(("pretty", "true".to_owned()));
    }
    if !request.patch.is_empty() {
        query.push(("patch", request.patch.clone()));
    }
    let reply = backend
        .call(Call {
            api: Api::ServiceConfiguration,
            query,
            body: None,
        })
        .await?;
    json_document(Api::ServiceConfiguration, reply)
}

/// The JWK Set: 200 JSON, 204 when the service has none, or 302 to the
/// service's `jwks_uri` (authlete-java-jaxrs `JwksRequestHandler`).
pub async fn jwks(backend: &dyn Backend, request: &JwksRequest) -> Result<Document, Error> {
    let query = vec![
        ("pretty", request.pretty.to_string()),
        (
            "includePrivateKeys",
            request.include_private_keys.to_string(),
        ),
    ];
    match backend
        .call(Call {
            api: Api::ServiceJwks,
            query,
            body: None,
        })
        .await
    {
        Ok(reply) if reply.body.trim().is_empty() => Ok(Document {
            raw: String::new(),
            http: HttpResponse::new(204),
            request_id: reply.request_id,
            authlete_status: reply.status,
        }),
        Ok(reply) => json_document(Api::ServiceJwks, reply),
        Err(BackendError::Redirect { location, .. }) => Ok(Document {
            raw: String::new(),
            http: HttpResponse::new(302).with_header("Location", location),
            request_id: None,
            authlete_status: 302,
        }),
        Err(e) => Err(e.into()),
    }
}

/// Serves Authlete's JSON as a 200 response. The body is checked first so that
/// a proxy's error page answered with 200 never reaches clients.
fn json_document(api: Api, reply: Reply) -> Result<Document, Error> {
    parse::<serde_json::Value>(api, &reply.body, reply.request_id.as_deref())?;
    let http = HttpResponse::new(200).with_body(JSON, reply.body.as_str());
    Ok(Document {
        raw: reply.body,
        http,
        request_id: reply.request_id,
        authlete_status: reply.status,
    })
}
