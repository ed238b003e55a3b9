//! `AuthorizationService.AuthorizationTicketInfo` and `...Update`, kept apart
//! from the authorization flow handlers.

use tonic::{Response, Status};

use super::convert;
use super::{Gateway, RpcLog};
use crate::api::authorization::ticket as api;
use crate::pb;

/// Builds a ticket response (no `responseContent`, so not the `reply!` macro).
macro_rules! ticket_reply {
    ($o:ident, $resp:ident, $action:path) => {{
        let b = $o.body;
        let name = b.action.name().to_owned();
        pb::$resp {
            action: convert::action(&name, <$action>::from_str_name),
            action_name: name,
            http: $o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: $o.raw,
            info: b
                .info
                .map(|i| pb::AuthorizationTicketInfo { context: i.context }),
        }
    }};
}

pub(super) async fn info(
    gateway: &Gateway,
    r: pb::AuthorizationTicketInfoRequest,
) -> Result<Response<pb::AuthorizationTicketInfoResponse>, Status> {
    let log = RpcLog::start("AuthorizationTicketInfo");
    let input = api::InfoRequest { ticket: r.ticket };
    let o = log.outcome(api::info(gateway.backend(), &input).await)?;
    Ok(Response::new(ticket_reply!(
        o,
        AuthorizationTicketInfoResponse,
        pb::authorization_ticket_info_response::Action
    )))
}

pub(super) async fn update(
    gateway: &Gateway,
    r: pb::AuthorizationTicketUpdateRequest,
) -> Result<Response<pb::AuthorizationTicketUpdateResponse>, Status> {
    let log = RpcLog::start("AuthorizationTicketUpdate");
    let input = api::UpdateRequest {
        ticket: r.ticket,
        info: r.info,
    };
    let o = log.outcome(api::update(gateway.backend(), &input).await)?;
    Ok(Response::new(ticket_reply!(
        o,
        AuthorizationTicketUpdateResponse,
        pb::authorization_ticket_update_response::Action
    )))
}
