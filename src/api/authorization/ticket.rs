//! `/auth/authorization/ticket/info` and `/update`: the context a web tier
//! attaches to an authorization ticket between the two authorization steps.

use crate::action::{self, AuthorizationTicketAction};
use crate::api::{Error, Outcome, exchange, require, wire_reply, wire_request};
use crate::backend::{Api, Backend};

wire_request! {
    /// `POST /auth/authorization/ticket/info`.
    InfoRequest { ticket: String, ; }
}

wire_request! {
    /// `POST /auth/authorization/ticket/update`.
    UpdateRequest { ticket: String, info: String, ; }
}

wire_reply! {
    /// Authlete `AuthorizationTicketInfo`.
    TicketInfo { context: String, }
}

wire_reply! {
    /// Reply of both APIs (no `responseContent`).
    Response {
        action: AuthorizationTicketAction,
        result_code: String,
        result_message: String,
        info: Option<TicketInfo>,
    }
}

crate::api::answer_without_content!(Response => action::authorization_ticket);

/// Reads the information attached to a ticket.
pub async fn info(
    backend: &dyn Backend,
    request: &InfoRequest,
) -> Result<Outcome<Response>, Error> {
    require("ticket", &request.ticket)?;
    exchange(backend, Api::AuthorizationTicketInfo, request).await
}

/// Replaces the information attached to a ticket.
pub async fn update(
    backend: &dyn Backend,
    request: &UpdateRequest,
) -> Result<Outcome<Response>, Error> {
    require("ticket", &request.ticket)?;
    require("info", &request.info)?;
    exchange(backend, Api::AuthorizationTicketUpdate, request).await
}
