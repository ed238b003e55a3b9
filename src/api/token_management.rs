//! Token management: `/auth/token/create`, used here to mint the tokens of a
//! token exchange or JWT bearer grant the web tier approved.

use super::{Error, JsonObject, Property, call, wire_reply, wire_request};
use crate::action::TokenCreateAction;
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
        resources: Vec<String>,
        authorization_details: Option<JsonObject>,
        jwt_at_claims: String,
        acr: String,
        auth_time: i64,
        session_id: String,
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
    }
}

/// Creates an access token (and a refresh token when the client may have one).
pub async fn create(
    backend: &dyn Backend,
    request: &CreateRequest,
) -> Result<(CreateResponse, Reply), Error> {
    call(backend, Api::TokenCreate, request).await
}
