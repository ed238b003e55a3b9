//! Token validation: `/auth/introspection` (for resource servers) and
//! `/auth/introspection/standard` (the RFC 7662 endpoint).

use super::{
    Error, JsonObject, Outcome, Pair, Property, answer, exchange, wire_reply, wire_request,
};
use crate::action::{self, ResourceAction, StandardIntrospectionAction};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

/// The challenge authlete-java-jaxrs `AccessTokenValidator` sends when a
/// request carries no access token, without calling Authlete.
pub const MISSING_TOKEN_CHALLENGE: &str =
    r#"Bearer error="invalid_token",error_description="An access token is missing.""#;

wire_request! {
    /// `POST /auth/introspection`.
    Request {
        token: String,
        ;
        scopes: Vec<String>,
        subject: String,
        client_certificate: String,
        dpop: String,
        htm: String,
        htu: String,
        resources: Vec<String>,
        acr_values: Vec<String>,
        max_age: i64,
        required_components: Vec<String>,
        uri: String,
        message: String,
        headers: Vec<Pair>,
        target_uri: String,
        dpop_nonce_required: bool,
        request_body_contained: bool,
    }
}

wire_reply! {
    /// Reply of `/auth/introspection`.
    Response {
        action: ResourceAction,
        result_code: String,
        result_message: String,
        response_content: String,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        expires_at: i64,
        subject: String,
        scopes: Vec<String>,
        existent: bool,
        usable: bool,
        sufficient: bool,
        refreshable: bool,
        properties: Vec<Property>,
        certificate_thumbprint: String,
        resources: Vec<String>,
        access_token_resources: Vec<String>,
        authorization_details: Option<JsonObject>,
        grant_id: String,
        consented_claims: Vec<String>,
        grant_type: String,
        acr: String,
        auth_time: i64,
        client_entity_id: String,
        client_entity_id_used: bool,
        for_credential_issuance: bool,
        cnonce: String,
        cnonce_expires_at: i64,
        issuable_credentials: String,
        dpop_nonce: String,
        response_signing_required: bool,
    }
}

answer!(Response => action::resource, headers: |r| EndpointHeaders {
    dpop_nonce: Some(r.dpop_nonce.clone()),
    attestation_challenge: None,
});

wire_request! {
    /// `POST /auth/introspection/standard`.
    StandardRequest {
        parameters: String,
        ;
        with_hidden_properties: bool,
        rs_uri: String,
        http_accept_header: String,
        introspection_sign_alg: String,
        introspection_encryption_alg: String,
        introspection_encryption_enc: String,
        shared_key_for_sign: String,
        shared_key_for_encryption: String,
        public_key_for_encryption: String,
    }
}

wire_reply! {
    /// Reply of `/auth/introspection/standard`.
    StandardResponse {
        action: StandardIntrospectionAction,
        result_code: String,
        result_message: String,
        response_content: String,
    }
}

answer!(StandardResponse => action::standard_introspection);

/// Validates an access token for a resource server. A request without a token
/// is answered here, as authlete-java-jaxrs does, without calling Authlete.
pub async fn introspection(
    backend: &dyn Backend,
    request: &Request,
) -> Result<Outcome<Response>, Error> {
    if request.token.is_empty() {
        return Ok(missing_token());
    }
    exchange(backend, Api::Introspection, request).await
}

fn missing_token() -> Outcome<Response> {
    let body = Response {
        action: ResourceAction::BadRequest,
        result_message: super::NOT_CALLED.to_owned(),
        response_content: MISSING_TOKEN_CHALLENGE.to_owned(),
        ..Response::default()
    };
    super::missing_token(MISSING_TOKEN_CHALLENGE, body)
}

/// Answers an RFC 7662 introspection request.
pub async fn standard(
    backend: &dyn Backend,
    request: &StandardRequest,
) -> Result<Outcome<StandardResponse>, Error> {
    exchange(backend, Api::StandardIntrospection, request).await
}
