//! `ClientRegistrationService` (RFC 7591, RFC 7592).

use tonic::{Request, Response, Status};

use super::authorization::client;
use super::convert::{fields, reply};
use super::{Gateway, RpcLog};
use crate::api::client_registration::{self as api, Operation};
use crate::pb;
use crate::pb::client_registration_service_server::ClientRegistrationService;

/// One handler body for the four RPCs: their messages have the same fields.
macro_rules! registration {
    ($self:ident, $request:ident, $rpc:literal, $op:expr, $resp:ident, $action:path) => {{
        let log = RpcLog::start($rpc);
        let r = $request.into_inner();
        let input = fields!(r => api::Request { json, token, client_id });
        let outcome = log.outcome(api::call($self.backend(), $op, &input).await)?;
        Ok(Response::new(reply!(outcome => b, pb::$resp, $action {}
            client: b.client.map(client),
        )))
    }};
}

#[tonic::async_trait]
impl ClientRegistrationService for Gateway {
    async fn client_registration(
        &self,
        request: Request<pb::ClientRegistrationRequest>,
    ) -> Result<Response<pb::ClientRegistrationResponse>, Status> {
        registration!(
            self,
            request,
            "ClientRegistration",
            Operation::Register,
            ClientRegistrationResponse,
            pb::client_registration_response::Action
        )
    }

    async fn client_registration_get(
        &self,
        request: Request<pb::ClientRegistrationGetRequest>,
    ) -> Result<Response<pb::ClientRegistrationGetResponse>, Status> {
        registration!(
            self,
            request,
            "ClientRegistrationGet",
            Operation::Get,
            ClientRegistrationGetResponse,
            pb::client_registration_get_response::Action
        )
    }

    async fn client_registration_update(
        &self,
        request: Request<pb::ClientRegistrationUpdateRequest>,
    ) -> Result<Response<pb::ClientRegistrationUpdateResponse>, Status> {
        registration!(
            self,
            request,
            "ClientRegistrationUpdate",
            Operation::Update,
            ClientRegistrationUpdateResponse,
            pb::client_registration_update_response::Action
        )
    }

    async fn client_registration_delete(
        &self,
        request: Request<pb::ClientRegistrationDeleteRequest>,
    ) -> Result<Response<pb::ClientRegistrationDeleteResponse>, Status> {
        registration!(
            self,
            request,
            "ClientRegistrationDelete",
            Operation::Delete,
            ClientRegistrationDeleteResponse,
            pb::client_registration_delete_response::Action
        )
    }
}
