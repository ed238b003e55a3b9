//! `IdTokenService`.

use tonic::{Request, Response, Status};

use super::convert::{fields, reply};
use super::{Gateway, RpcLog};
use crate::api::id_token as api;
use crate::http::EndpointHeaders;
use crate::pb;
use crate::pb::id_token_service_server::IdTokenService;

#[tonic::async_trait]
impl IdTokenService for Gateway {
    async fn id_token_reissue(
        &self,
        request: Request<pb::IdTokenReissueRequest>,
    ) -> Result<Response<pb::IdTokenReissueResponse>, Status> {
        let log = RpcLog::start("IdTokenReissue");
        let r = request.into_inner();
        let input = fields!(r => api::ReissueRequest {
            access_token, refresh_token, sub, claims, idt_header_params, id_token_aud_type,
        });
        let result = match check(&input.access_token, &input.refresh_token, &input.claims) {
            Ok(()) => api::reissue(self.backend(), &input, &EndpointHeaders::default()).await,
            Err(e) => Err(e),
        };
        let outcome = log.outcome(result)?;
        Ok(Response::new(
            reply!(outcome => b, pb::IdTokenReissueResponse,
            pb::id_token_reissue_response::Action { id_token }),
        ))
    }
}

/// The mirror RPC checks what the decision flow guarantees itself.
fn check(access_token: &str, refresh_token: &str, claims: &str) -> Result<(), crate::api::Error> {
    crate::api::require("access_token", access_token)?;
    crate::api::require("refresh_token", refresh_token)?;
    crate::api::json_object("claims", claims)
}
