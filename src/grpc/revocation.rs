//! `RevocationService`.

use tonic::{Request, Response, Status};

use super::convert::{fields, reply};
use super::{Gateway, RpcLog};
use crate::api::revocation as api;
use crate::pb;
use crate::pb::revocation_service_server::RevocationService;

#[tonic::async_trait]
impl RevocationService for Gateway {
    async fn revocation(
        &self,
        request: Request<pb::RevocationRequest>,
    ) -> Result<Response<pb::RevocationResponse>, Status> {
        let log = RpcLog::start("Revocation");
        let r = request.into_inner();
        let input = fields!(r => api::Request {
            parameters, client_id, client_secret, client_certificate, client_certificate_path,
            oauth_client_attestation, oauth_client_attestation_pop,
        });
        let outcome = log.outcome(api::revocation(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::RevocationResponse, pb::revocation_response::Action { attestation_challenge }),
        ))
    }
}
