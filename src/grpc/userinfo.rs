//! `UserInfoService`.

use tonic::{Request, Response, Status};

use super::convert::{self, fields, reply};
use super::{Gateway, RpcLog};
use crate::api::userinfo as api;
use crate::pb;
use crate::pb::user_info_service_server::UserInfoService;

#[tonic::async_trait]
impl UserInfoService for Gateway {
    async fn user_info(
        &self,
        request: Request<pb::UserInfoRequest>,
    ) -> Result<Response<pb::UserInfoResponse>, Status> {
        let log = RpcLog::start("UserInfo");
        let r = request.into_inner();
        let input = fields!(r => api::Request {
            token, client_certificate, dpop, htm, htu, uri, message, target_uri, dpop_nonce_required,
            request_body_contained,
        }
            headers: convert::pairs_in(r.headers),
        );
        let outcome = log.outcome(api::user_info(self.backend(), &input, &self.sealer()).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::UserInfoResponse, pb::user_info_response::Action {
                claims, client_id, client_id_alias, client_id_alias_used, scopes, subject, token, user_info_claims,
                consented_claims, requested_claims_for_tx, transformed_claims, client_entity_id,
                client_entity_id_used, dpop_nonce,
            }
                properties: convert::properties_out(b.properties),
                continuation: outcome.continuation,
            ),
        ))
    }

    async fn user_info_issue(
        &self,
        request: Request<pb::UserInfoIssueRequest>,
    ) -> Result<Response<pb::UserInfoIssueResponse>, Status> {
        let log = RpcLog::start("UserInfoIssue");
        let r = request.into_inner();
        let input = fields!(r => api::IssueRequest {
            token, claims, sub, claims_for_tx, request_signature, verified_claims_for_tx,
        }
            headers: convert::pairs_in(r.headers),
        );
        let carried = convert::carried(r.dpop_nonce, String::new());
        let outcome = log.outcome(api::issue(self.backend(), &input, &carried).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::UserInfoIssueResponse, pb::user_info_issue_response::Action {
                signature, signature_input, content_digest,
            }),
        ))
    }

    async fn user_info_decision(
        &self,
        request: Request<pb::UserInfoDecisionRequest>,
    ) -> Result<Response<pb::UserInfoDecisionResponse>, Status> {
        let log = RpcLog::start("UserInfoDecision");
        let r = request.into_inner();
        let release = api::Release {
            claims: r.claims,
            sub: r.sub,
        };
        let finished = log.finished(
            api::decision(self.backend(), &self.sealer(), &r.continuation, &release).await,
        )?;
        Ok(Response::new(pb::UserInfoDecisionResponse {
            http: Some(convert::http(finished.http)),
            completion: Some(convert::completion(finished.completion)),
        }))
    }
}
