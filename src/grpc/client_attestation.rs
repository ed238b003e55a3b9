//! `ClientAttestationService`.

use tonic::{Request, Response, Status};

use super::convert::{fields, reply};
use super::{Gateway, RpcLog};
use crate::api::client_attestation as api;
use crate::pb;
use crate::pb::client_attestation_service_server::ClientAttestationService;

#[tonic::async_trait]
impl ClientAttestationService for Gateway {
    async fn attestation_challenge(
        &self,
        request: Request<pb::AttestationChallengeRequest>,
    ) -> Result<Response<pb::AttestationChallengeResponse>, Status> {
        let log = RpcLog::start("AttestationChallenge");
        let r = request.into_inner();
        let input = fields!(r => api::ChallengeRequest { pretty });
        let outcome = log.outcome(api::challenge(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::AttestationChallengeResponse,
            pb::attestation_challenge_response::Action { attestation_challenge }),
        ))
    }
}
