//! `PushedAuthorizationService`.

use tonic::{Request, Response, Status};

use super::convert::{fields, reply};
use super::{Gateway, RpcLog};
use crate::api::pushed_authorization as api;
use crate::pb;
use crate::pb::pushed_authorization_service_server::PushedAuthorizationService;

#[tonic::async_trait]
impl PushedAuthorizationService for Gateway {
    async fn pushed_authorization(
        &self,
        request: Request<pb::PushedAuthorizationRequest>,
    ) -> Result<Response<pb::PushedAuthorizationResponse>, Status> {
        let log = RpcLog::start("PushedAuthorization");
        let r = request.into_inner();
        let input = fields!(r => api::Request {
            parameters, client_id, client_secret, client_certificate, client_certificate_path, dpop, htm, htu,
            oauth_client_attestation, oauth_client_attestation_pop, dpop_nonce_required,
        });
        let outcome = log.outcome(api::pushed_authorization(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::PushedAuthorizationResponse, pb::pushed_authorization_response::Action {
                request_uri, client_auth_method, dpop_nonce, attestation_challenge,
            }),
        ))
    }
}
