//! Dynamic client registration (RFC 7591) and its management protocol
//! (RFC 7592): `/client/registration`, `/get`, `/update` and `/delete`.

use super::authorization::Client;
use super::{Error, Outcome, answer, exchange, require, wire_reply, wire_request};
use crate::action::{self, ClientRegistrationAction};
use crate::backend::{Api, Backend};

wire_request! {
    /// The body of every `/client/registration*` call.
    Request {
        ;
        json: String,
        token: String,
        client_id: String,
    }
}

wire_reply! {
    /// Reply of every `/client/registration*` call.
    Response {
        action: ClientRegistrationAction,
        result_code: String,
        result_message: String,
        response_content: String,
        client: Option<Client>,
    }
}

answer!(Response => action::client_registration);

/// Which of the four APIs, with what each requires of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /register`: the metadata; the initial access token if the service wants one.
    Register,
    /// `GET /register/{id}`: the registration access token and client ID.
    Get,
    /// `PUT /register/{id}`: all three.
    Update,
    /// `DELETE /register/{id}`: token and client ID.
    Delete,
}

impl Operation {
    fn api(self) -> Api {
        match self {
            Self::Register => Api::ClientRegistration,
            Self::Get => Api::ClientRegistrationGet,
            Self::Update => Api::ClientRegistrationUpdate,
            Self::Delete => Api::ClientRegistrationDelete,
        }
    }
}

/// Calls the registration API of `operation`, after checking what it needs.
pub async fn call(
    backend: &dyn Backend,
    operation: Operation,
    request: &Request,
) -> Result<Outcome<Response>, Error> {
    // The metadata and the token come from the client's HTTP request: what
    // is wrong with them is the client's error, which Authlete answers
    // (BAD_REQUEST, UNAUTHORIZED) with a response for it. The client ID comes
    // from the web tier's routing.
    if operation != Operation::Register {
        require("client_id", &request.client_id)?;
    }
    exchange(backend, operation.api(), request).await
}
