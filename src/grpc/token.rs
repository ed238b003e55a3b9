//! `TokenService`.

use tonic::{Request, Response, Status};

use super::convert::{self, fields, reply};
use super::{Gateway, RpcLog};
use crate::api::token::{self as api, FailReason};
use crate::pb::token_service_server::TokenService;
use crate::pb::{self, token_fail_request::Reason};

#[tonic::async_trait]
impl TokenService for Gateway {
    async fn token(
        &self,
        request: Request<pb::TokenRequest>,
    ) -> Result<Response<pb::TokenResponse>, Status> {
        let log = RpcLog::start("Token");
        let r = request.into_inner();
        let input = fields!(r => api::Request {
            parameters, client_id, client_secret, client_certificate, client_certificate_path, dpop, htm, htu,
            access_token, jwt_at_claims, oauth_client_attestation, oauth_client_attestation_pop,
            access_token_duration, refresh_token_duration, dpop_nonce_required,
        }
            properties: convert::properties_in(r.properties),
            cimd_options: r.cimd_options.map(convert::cimd_options),
        );
        let outcome = log.outcome(api::token(self.backend(), &input, &self.sealer()).await)?;
        let unsupported_http = api::unsupported(&outcome.body.action).map(convert::http);
        Ok(Response::new(
            reply!(outcome => b, pb::TokenResponse, pb::token_response::Action {
                ticket, username, password, grant_type, client_id, client_id_alias, client_id_alias_used, subject,
                scopes, access_token, access_token_expires_at, access_token_duration, refresh_token,
                refresh_token_expires_at, refresh_token_duration, id_token, jwt_access_token, resources,
                access_token_resources, client_auth_method, grant_id, audiences, requested_token_type,
                subject_token, subject_token_type, actor_token, actor_token_type, assertion,
                previous_refresh_token_used, dpop_nonce, attestation_challenge, requested_id_token_claims,
                refresh_token_scopes, session_id, device_secret, device_secret_hash,
            }
                properties: convert::properties_out(b.properties),
                subject_token_info: b.subject_token_info.map(token_info),
                actor_token_info: b.actor_token_info.map(token_info),
                continuation: outcome.continuation,
                unsupported_http,
            ),
        ))
    }

    async fn token_decision(
        &self,
        request: Request<pb::TokenDecisionRequest>,
    ) -> Result<Response<pb::TokenDecisionResponse>, Status> {
        let log = RpcLog::start("TokenDecision");
        let r = request.into_inner();
        let result = match decision(r.decision) {
            Ok(decision) => {
                api::decision(self.backend(), &self.sealer(), &r.continuation, &decision).await
            }
            Err(e) => Err(e),
        };
        let finished = log.finished(result)?;
        Ok(Response::new(pb::TokenDecisionResponse {
            http: Some(convert::http(finished.http)),
            completion: Some(convert::completion(finished.completion)),
        }))
    }

    async fn token_issue(
        &self,
        request: Request<pb::TokenIssueRequest>,
    ) -> Result<Response<pb::TokenIssueResponse>, Status> {
        let log = RpcLog::start("TokenIssue");
        let r = request.into_inner();
        let input = fields!(r => api::IssueRequest {
            ticket, subject, jwt_at_claims, access_token, access_token_duration, refresh_token_duration,
        }
            properties: convert::properties_in(r.properties),
        );
        let carried = convert::carried(r.dpop_nonce, r.attestation_challenge);
        let outcome = log.outcome(api::issue(self.backend(), &input, &carried).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::TokenIssueResponse, pb::token_issue_response::Action {
                access_token, access_token_expires_at, access_token_duration, refresh_token, refresh_token_expires_at,
                refresh_token_duration, client_id, client_id_alias, client_id_alias_used, subject, scopes,
                jwt_access_token, access_token_resources,
            }
                properties: convert::properties_out(b.properties),
            ),
        ))
    }

    async fn token_fail(
        &self,
        request: Request<pb::TokenFailRequest>,
    ) -> Result<Response<pb::TokenFailResponse>, Status> {
        let log = RpcLog::start("TokenFail");
        let r = request.into_inner();
        let carried = convert::carried(r.dpop_nonce, r.attestation_challenge);
        let result = match fail_reason(r.reason) {
            Some(reason) => {
                let input = api::FailRequest {
                    ticket: r.ticket,
                    reason,
                };
                api::fail(self.backend(), &input, &carried).await
            }
            None => Err(crate::api::Error::InvalidArgument {
                field: "reason",
                reason: "must be one of the documented reasons".to_owned(),
            }),
        };
        let outcome = log.outcome(result)?;
        Ok(Response::new(
            reply!(outcome => b, pb::TokenFailResponse, pb::token_fail_response::Action {}),
        ))
    }
}

fn token_info(t: api::TokenInfo) -> pb::TokenInfo {
    fields!(t => pb::TokenInfo {
        client_id, client_id_alias, client_id_alias_used, subject, expires_at, resources,
        client_entity_id, client_entity_id_used,
    }
        scopes: t.scopes.into_iter().map(|s| s.0).collect(),
        properties: convert::properties_out(t.properties),
    )
}

fn decision(
    d: Option<pb::token_decision_request::Decision>,
) -> Result<api::Decision, crate::api::Error> {
    use pb::token_decision_request::Decision as D;
    match d {
        Some(D::Granted(g)) => Ok(api::Decision::Granted(Box::new(fields!(g => api::Grant {
            subject, scopes, access_token_duration, refresh_token_duration, jwt_at_claims, claims, sub,
            idt_header_params, id_token_aud_type, device_secret, device_secret_hash,
        }
            properties: convert::properties_in(g.properties),
        )))),
        Some(D::Denied(d)) => Ok(api::Decision::Denied {
            error: d.error,
            error_description: d.error_description,
        }),
        None => Err(crate::api::Error::InvalidArgument {
            field: "decision",
            reason: "is required: set granted or denied".to_owned(),
        }),
    }
}

fn fail_reason(value: i32) -> Option<FailReason> {
    Some(match Reason::try_from(value).ok()? {
        Reason::Unspecified => return None,
        Reason::Unknown => FailReason::Unknown,
        Reason::InvalidResourceOwnerCredentials => FailReason::InvalidResourceOwnerCredentials,
        Reason::InvalidTarget => FailReason::InvalidTarget,
        Reason::InvalidClient => FailReason::InvalidClient,
        Reason::UnauthorizedClient => FailReason::UnauthorizedClient,
        Reason::InvalidScope => FailReason::InvalidScope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_reason_maps_and_unspecified_does_not() {
        assert_eq!(fail_reason(0), None);
        for value in 1..=6 {
            let wire = serde_json::to_value(fail_reason(value).unwrap()).unwrap();
            let proto = Reason::try_from(value).unwrap().as_str_name();
            assert_eq!(format!("REASON_{}", wire.as_str().unwrap()), proto);
        }
    }
}
