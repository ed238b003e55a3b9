//! Token management: `/auth/token/create` (also used to mint the tokens of a
//! token exchange or JWT bearer grant the web tier approved),
//! `/auth/token/update`, `/auth/token/revoke`, `/auth/token/delete` and
//! `/auth/token/get/list`.

use super::{
    Error, JsonObject, Outcome, Property, call, exchange, json_object, require, wire_reply,
    wire_request,
};
use crate::action::{self, TokenCreateAction, TokenUpdateAction};
use crate::backend::{Api, Backend, Reply};

wire_request! {
    /// `POST /auth/token/create`.
    CreateRequest {
        grant_type: String,
        ;
        client_id: i64,
        subject: String,
        scopes: Vec<String>,
        access_token_duration: i64,
        refresh_token_duration: i64,
        properties: Vec<Property>,
        client_id_alias_used: bool,
        access_token: String,
        refresh_token: String,
        access_token_persistent: bool,
        certificate_thumbprint: String,
        dpop_key_thumbprint: String,
        resources: Vec<String>,
        authorization_details: Option<JsonObject>,
        for_external_attachment: bool,
        jwt_at_claims: String,
        acr: String,
        auth_time: i64,
        client_entity_id_used: bool,
        client_identifier: String,
        session_id: String,
        metadata_document_used: bool,
    }
}

wire_reply! {
    /// Reply of `/auth/token/create`.
    CreateResponse {
        action: TokenCreateAction,
        result_code: String,
        result_message: String,
        access_token: String,
        jwt_access_token: String,
        refresh_token: String,
        token_type: String,
        expires_in: i64,
        expires_at: i64,
        scopes: Vec<String>,
        subject: String,
        client_id: i64,
        grant_type: String,
        properties: Vec<Property>,
        authorization_details: Option<JsonObject>,
        for_external_attachment: bool,
        token_id: String,
        refresh_token_scopes: Vec<String>,
        client_identifier: String,
        session_id: String,
    }
}

wire_request! {
    /// `POST /auth/token/update`.
    UpdateRequest {
        access_token: String,
        ;
        access_token_expires_at: i64,
        scopes: Vec<String>,
        properties: Vec<Property>,
        access_token_expires_at_updated_on_scope_update: bool,
        access_token_hash: String,
        access_token_value_updated: bool,
        access_token_persistent: bool,
        certificate_thumbprint: String,
        dpop_key_thumbprint: String,
        authorization_details: Option<JsonObject>,
        for_external_attachment: bool,
        refresh_token_expires_at: i64,
        refresh_token_expires_at_updated_on_scope_update: bool,
        token_id: String,
    }
}

wire_reply! {
    /// Reply of `/auth/token/update`.
    UpdateResponse {
        action: TokenUpdateAction,
        result_code: String,
        result_message: String,
        access_token: String,
        access_token_expires_at: i64,
        properties: Vec<Property>,
        scopes: Vec<String>,
        authorization_details: Option<JsonObject>,
        token_type: String,
        for_external_attachment: bool,
        token_id: String,
        refresh_token_expires_at: i64,
    }
}

// Management replies: no `responseContent`, never a response to a client.
super::answer_without_content!(CreateResponse => action::token_create);
super::answer_without_content!(UpdateResponse => action::token_update);

wire_request! {
    /// `POST /auth/token/revoke`.
    RevokeRequest {
        ;
        access_token_identifier: String,
        refresh_token_identifier: String,
        client_identifier: String,
        subject: String,
    }
}

wire_reply! {
    /// Reply of `/auth/token/revoke` (no `action`).
    RevokeResponse {
        result_code: String,
        result_message: String,
        count: i64,
    }
}

/// Creates an access token (and a refresh token when the client may have one).
pub async fn create(
    backend: &dyn Backend,
    request: &CreateRequest,
) -> Result<(CreateResponse, Reply), Error> {
    call(backend, Api::TokenCreate, request).await
}

/// As [`create`], for the mirror RPC: checked input, an [`Outcome`].
pub async fn create_outcome(
    backend: &dyn Backend,
    request: &CreateRequest,
) -> Result<Outcome<CreateResponse>, Error> {
    require("grant_type", &request.grant_type)?;
    json_object("jwt_at_claims", &request.jwt_at_claims)?;
    exchange(backend, Api::TokenCreate, request).await
}

/// Updates an access token.
pub async fn update(
    backend: &dyn Backend,
    request: &UpdateRequest,
) -> Result<Outcome<UpdateResponse>, Error> {
    // Authlete finds the token by value, hash or ID: one is needed.
    if request.access_token.is_empty()
        && request.access_token_hash.is_empty()
        && request.token_id.is_empty()
    {
        return Err(Error::InvalidArgument {
            field: "access_token",
            reason: "is required when access_token_hash and token_id are empty".to_owned(),
        });
    }
    exchange(backend, Api::TokenUpdate, request).await
}

/// Revokes the tokens matching the request; the reply counts them.
pub async fn revoke(
    backend: &dyn Backend,
    request: &RevokeRequest,
) -> Result<(RevokeResponse, Reply), Error> {
    if request.access_token_identifier.is_empty()
        && request.refresh_token_identifier.is_empty()
        && request.client_identifier.is_empty()
        && request.subject.is_empty()
    {
        // Authlete would reject an empty filter; never revoke "everything" by accident.
        return Err(Error::InvalidArgument {
            field: "access_token_identifier",
            reason: "set a token, a client or a subject to revoke".to_owned(),
        });
    }
    call(backend, Api::TokenRevoke, request).await
}

/// Deletes an access token, named by its value or its hash. Authlete
/// answers 204 with no body, so there is nothing to parse.
pub async fn delete(backend: &dyn Backend, access_token_identifier: &str) -> Result<Reply, Error> {
    // "." and ".." cannot be a path segment: URL normalisation drops them.
    if matches!(access_token_identifier, "" | "." | "..") {
        return Err(Error::InvalidArgument {
            field: "access_token_identifier",
            reason: "is required and must be a token or a token hash".to_owned(),
        });
    }
    let reply = backend
        .call(crate::backend::Call {
            api: Api::TokenDelete,
            query: vec![("accessTokenIdentifier", access_token_identifier.to_owned())],
            body: None,
        })
        .await?;
    Ok(reply)
}

/// The filter and range of `/auth/token/get/list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Only the tokens of this client (ID, alias or entity ID).
    pub client_identifier: String,
    /// Only the tokens of this subject.
    pub subject: String,
    /// The first index (inclusive).
    pub start: i64,
    /// The last index (exclusive); 0 means up to the end.
    pub end: i64,
}

wire_reply! {
    /// One access token in a list (Authlete `AccessToken`).
    AccessToken {
        access_token_hash: String,
        access_token_expires_at: i64,
        refresh_token_hash: String,
        refresh_token_expires_at: i64,
        created_at: i64,
        last_refreshed_at: i64,
        client_id: i64,
        subject: String,
        grant_type: String,
        scopes: Vec<String>,
        properties: Vec<Property>,
        refresh_token_scopes: Vec<String>,
    }
}

wire_reply! {
    /// Reply of `/auth/token/get/list` (no `action`).
    ListResponse {
        start: i64,
        end: i64,
        total_count: i64,
        client: Option<super::authorization::Client>,
        subject: String,
        access_tokens: Vec<AccessToken>,
    }
}

/// Tokens fetched per call: the stream asks Authlete page by page, so a long
/// list never sits in memory at once.
pub const PAGE: i64 = 100;

/// Fetches one page, `[start, min(start + PAGE, end))`.
pub async fn list_page(
    backend: &dyn Backend,
    request: &ListRequest,
    start: i64,
) -> Result<(ListResponse, Reply), Error> {
    check_range(request)?;
    let next = start.saturating_add(PAGE);
    let end = if request.end > 0 {
        request.end.min(next)
    } else {
        next
    };
    let mut query = vec![("start", start.to_string()), ("end", end.to_string())];
    if !request.client_identifier.is_empty() {
        query.push(("clientIdentifier", request.client_identifier.clone()));
    }
    if !request.subject.is_empty() {
        query.push(("subject", request.subject.clone()));
    }
    let reply = backend
        .call(crate::backend::Call {
            api: Api::TokenList,
            query,
            body: None,
        })
        .await?;
    let body = super::parse(Api::TokenList, &reply.body, reply.request_id.as_deref())?;
    Ok((body, reply))
}

/// Authlete takes `start` and `end` as 32-bit indexes, `end` not below `start`.
fn check_range(request: &ListRequest) -> Result<(), Error> {
    let index = 0..=i64::from(i32::MAX);
    let bad = |field, reason: &str| {
        Err(Error::InvalidArgument {
            field,
            reason: reason.to_owned(),
        })
    };
    if !index.contains(&request.start) {
        return bad("start", "must be between 0 and 2147483647");
    }
    if !index.contains(&request.end) {
        return bad(
            "end",
            "must be between 0 (the end of the list) and 2147483647",
        );
    }
    if request.end > 0 && request.end < request.start {
        return bad("end", "must not be below start");
    }
    Ok(())
}

/// Where the page after `page` (asked from `asked`) starts, or `None` when
/// the list is done. A reply that does not advance ends the list, so a
/// misbehaving backend cannot make the stream loop forever.
pub fn next_start(request: &ListRequest, asked: i64, page: &ListResponse) -> Option<i64> {
    let next = page.end;
    if next <= asked {
        return None;
    }
    let limit = if request.end > 0 {
        request.end.min(page.total_count)
    } else {
        page.total_count
    };
    (!page.access_tokens.is_empty() && next < limit).then_some(next)
}
