//! The userinfo endpoint: `/auth/userinfo` and `/auth/userinfo/issue`.

use super::{
    Error, Outcome, Pair, Property, Sealer, answer, exchange, exchange_carrying, json_object,
    json_objects, require, wire_reply, wire_request,
};
use crate::action::{self, ResourceAction, UserInfoIssueAction};
use crate::backend::{Api, Backend};
use crate::http::{EndpointHeaders, HttpResponse};

mod flow;

pub use flow::{Release, decision};

/// The challenge authlete-java-jaxrs `UserInfoRequestHandler` sends when a
/// request carries no access token, without calling Authlete.
pub const MISSING_TOKEN_CHALLENGE: &str = "Bearer error=\"invalid_token\",error_description=\"An access token must be sent as a Bearer Token. See OpenID Connect Core 1.0, 5.3.1. UserInfo Request for details.\"";

wire_request! {
    /// `POST /auth/userinfo`.
    Request {
        token: String,
        ;
        client_certificate: String,
        dpop: String,
        htm: String,
        htu: String,
        uri: String,
        message: String,
        headers: Vec<Pair>,
        target_uri: String,
        dpop_nonce_required: bool,
        request_body_contained: bool,
    }
}

wire_reply! {
    /// Reply of `/auth/userinfo`.
    Response {
        action: ResourceAction,
        result_code: String,
        result_message: String,
        response_content: String,
        claims: Vec<String>,
        client_id: i64,
        client_id_alias: String,
        client_id_alias_used: bool,
        scopes: Vec<String>,
        subject: String,
        token: String,
        properties: Vec<Property>,
        user_info_claims: String,
        consented_claims: Vec<String>,
        requested_claims_for_tx: Vec<String>,
        requested_verified_claims_for_tx: Vec<serde_json::Value>,
        transformed_claims: String,
        client_entity_id: String,
        client_entity_id_used: bool,
        dpop_nonce: String,
    }
}

answer!(Response => action::resource, headers: |r| EndpointHeaders {
    dpop_nonce: Some(r.dpop_nonce.clone()),
    attestation_challenge: None,
});

wire_request! {
    /// `POST /auth/userinfo/issue`.
    IssueRequest {
        token: String,
        ;
        claims: String,
        sub: String,
        claims_for_tx: String,
        request_signature: String,
        headers: Vec<Pair>,
        verified_claims_for_tx: Vec<String>,
    }
}

wire_reply! {
    /// Reply of `/auth/userinfo/issue`.
    IssueResponse {
        action: UserInfoIssueAction,
        result_code: String,
        result_message: String,
        response_content: String,
        signature: String,
        signature_input: String,
        content_digest: String,
    }
}

answer!(IssueResponse => action::user_info_issue);

/// Validates the access token of a userinfo request. A request without a token
/// is answered here, as authlete-java-jaxrs does, without calling Authlete.
pub async fn user_info(
    backend: &dyn Backend,
    request: &Request,
    sealer: &Sealer,
) -> Result<Outcome<Response>, Error> {
    if request.token.is_empty() {
        let body = Response {
            action: ResourceAction::BadRequest,
            result_message: super::NOT_CALLED.to_owned(),
            response_content: MISSING_TOKEN_CHALLENGE.to_owned(),
            ..Response::default()
        };
        return Ok(super::missing_token(MISSING_TOKEN_CHALLENGE, body));
    }
    let mut outcome: Outcome<Response> = exchange(backend, Api::UserInfo, request).await?;
    if outcome.body.action == ResourceAction::Ok {
        outcome.continuation = flow::continuation(&outcome.body, sealer);
    }
    Ok(outcome)
}

/// Builds the userinfo response. Beyond authlete-java-jaxrs, the HTTP message
/// signature headers Authlete returns are copied onto a successful response,
/// as Authlete's `UserInfoIssueResponse` documentation asks.
///
/// `carried` are the endpoint headers of the `/auth/userinfo` reply this step
/// continues.
pub async fn issue(
    backend: &dyn Backend,
    request: &IssueRequest,
    carried: &EndpointHeaders,
) -> Result<Outcome<IssueResponse>, Error> {
    require("token", &request.token)?;
    json_object("claims", &request.claims)?;
    json_object("claims_for_tx", &request.claims_for_tx)?;
    json_objects("verified_claims_for_tx", &request.verified_claims_for_tx)?;
    let mut outcome: Outcome<IssueResponse> =
        exchange_carrying(backend, Api::UserInfoIssue, request, Some(carried)).await?;
    if let Some(http) = outcome.http.take() {
        outcome.http = Some(with_signature_headers(http, &outcome.body));
    }
    Ok(outcome)
}

fn with_signature_headers(mut http: HttpResponse, body: &IssueResponse) -> HttpResponse {
    if http.status != 200 {
        return http;
    }
    for (name, value) in [
        ("Signature", &body.signature),
        ("Signature-Input", &body.signature_input),
        ("Content-Digest", &body.content_digest),
    ] {
        if !value.is_empty() {
            http = http.with_header(name, value.as_str());
        }
    }
    http
}
