//! `DeviceFlowService` (RFC 8628).

use tonic::{Request, Response, Status};

use super::authorization::scope;
use super::backchannel::{complete_result, documented};
use super::convert::{self, fields, reply};
use super::{Gateway, RpcLog};
use crate::api::device as api;
use crate::pb;
use crate::pb::device_flow_service_server::DeviceFlowService;

#[tonic::async_trait]
impl DeviceFlowService for Gateway {
    async fn device_authorization(
        &self,
        request: Request<pb::DeviceAuthorizationRequest>,
    ) -> Result<Response<pb::DeviceAuthorizationResponse>, Status> {
        let log = RpcLog::start("DeviceAuthorization");
        let r = request.into_inner();
        let input = fields!(r => api::Request {
            parameters, client_id, client_secret, client_certificate, client_certificate_path,
            oauth_client_attestation, oauth_client_attestation_pop,
        }
            cimd_options: r.cimd_options.map(convert::cimd_options),
        );
        let outcome = log.outcome(api::authorization(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::DeviceAuthorizationResponse, pb::device_authorization_response::Action {
                client_id, client_id_alias, client_id_alias_used, client_name, client_auth_method,
                claim_names, acrs, device_code, user_code, verification_uri, verification_uri_complete,
                expires_in, interval, warnings, resources, gm_action, grant_id, grant_subject,
                attestation_challenge,
            }
                scopes: b.scopes.into_iter().map(scope).collect(),
                dynamic_scopes: b.dynamic_scopes.into_iter().map(|d| pb::DynamicScope { name: d.name, value: d.value }).collect(),
                authorization_details: b.authorization_details.map(convert::struct_out),
            ),
        ))
    }

    async fn device_verification(
        &self,
        request: Request<pb::DeviceVerificationRequest>,
    ) -> Result<Response<pb::DeviceVerificationResponse>, Status> {
        let log = RpcLog::start("DeviceVerification");
        let r = request.into_inner();
        let input = fields!(r => api::VerificationRequest { user_code });
        let o = log.outcome(api::verification(self.backend(), &input, &self.sealer()).await)?;
        // No `responseContent` in this reply, so not the `reply!` macro.
        let b = o.body;
        let name = b.action.name().to_owned();
        Ok(Response::new(pb::DeviceVerificationResponse {
            action: convert::action(
                &name,
                pb::device_verification_response::Action::from_str_name,
            ),
            action_name: name,
            http: o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: o.raw,
            client_id: b.client_id,
            client_id_alias: b.client_id_alias,
            client_id_alias_used: b.client_id_alias_used,
            client_name: b.client_name,
            scopes: b.scopes.into_iter().map(scope).collect(),
            dynamic_scopes: b
                .dynamic_scopes
                .into_iter()
                .map(|d| pb::DynamicScope {
                    name: d.name,
                    value: d.value,
                })
                .collect(),
            claim_names: b.claim_names,
            acrs: b.acrs,
            resources: b.resources,
            authorization_details: b.authorization_details.map(convert::struct_out),
            expires_at: b.expires_at,
            gm_action: b.gm_action,
            grant_id: b.grant_id,
            grant_subject: b.grant_subject,
            continuation: o.continuation,
        }))
    }

    async fn device_decision(
        &self,
        request: Request<pb::DeviceDecisionRequest>,
    ) -> Result<Response<pb::DeviceDecisionResponse>, Status> {
        let log = RpcLog::start("DeviceDecision");
        let r = request.into_inner();
        let result = match decision(r.decision) {
            Ok(d) => api::decision(self.backend(), &self.sealer(), &r.continuation, d).await,
            Err(e) => Err(e),
        };
        let o = log.outcome(result)?;
        Ok(Response::new(pb::DeviceDecisionResponse {
            complete: Some(complete_response(o)),
        }))
    }

    async fn device_complete(
        &self,
        request: Request<pb::DeviceCompleteRequest>,
    ) -> Result<Response<pb::DeviceCompleteResponse>, Status> {
        let log = RpcLog::start("DeviceComplete");
        let r = request.into_inner();
        let result = match complete_result(r.result) {
            Some(result) => {
                let input = fields!(r => api::CompleteRequest {
                    user_code, subject, sub, auth_time, acr, claims, scopes, error_description,
                    error_uri, idt_header_params, consented_claims, jwt_at_claims,
                    access_token_duration, refresh_token_duration, id_token_aud_type,
                }
                    result,
                    properties: convert::properties_in(r.properties),
                );
                api::complete(self.backend(), &input).await
            }
            None => Err(documented("result")),
        };
        let o = log.outcome(result)?;
        Ok(Response::new(complete_response(o)))
    }
}

fn complete_response(o: crate::api::Outcome<api::CompleteResponse>) -> pb::DeviceCompleteResponse {
    let b = o.body;
    let name = b.action.name().to_owned();
    pb::DeviceCompleteResponse {
        action: convert::action(&name, pb::device_complete_response::Action::from_str_name),
        action_name: name,
        http: o.http.map(convert::http),
        result_code: b.result_code,
        result_message: b.result_message,
        authlete_response: o.raw,
    }
}

fn decision(
    d: Option<pb::device_decision_request::Decision>,
) -> Result<api::Decision, crate::api::Error> {
    convert::verdict!(
        d,
        pb::device_decision_request::Decision,
        pb::device_denial::Result
    )
}
