//! `BackchannelAuthenticationService` (CIBA).

use tonic::{Request, Response, Status};

use super::authorization::scope;
use super::convert::{self, fields, reply};
use super::{Gateway, RpcLog};
use crate::api::backchannel::{self as api, CompleteResult, FailReason};
use crate::pb;
use crate::pb::backchannel_authentication_fail_request::Reason;
use crate::pb::backchannel_authentication_service_server::BackchannelAuthenticationService;

#[tonic::async_trait]
impl BackchannelAuthenticationService for Gateway {
    async fn backchannel_authentication(
        &self,
        request: Request<pb::BackchannelAuthenticationRequest>,
    ) -> Result<Response<pb::BackchannelAuthenticationResponse>, Status> {
        let log = RpcLog::start("BackchannelAuthentication");
        let r = request.into_inner();
        let input = fields!(r => api::Request {
            parameters, client_id, client_secret, client_certificate, client_certificate_path,
            oauth_client_attestation, oauth_client_attestation_pop,
        }
            cimd_options: r.cimd_options.map(convert::cimd_options),
        );
        let outcome =
            log.outcome(api::authentication(self.backend(), &input, &self.sealer()).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::BackchannelAuthenticationResponse, pb::backchannel_authentication_response::Action {
                ticket, client_id, client_id_alias, client_id_alias_used, client_name, client_auth_method,
                delivery_mode, client_notification_token, claim_names, acrs, hint_type, hint, sub,
                binding_message, user_code, user_code_required, requested_expiry, request_context,
                warnings, resources, gm_action, grant_id, grant_subject, attestation_challenge,
            }
                scopes: b.scopes.into_iter().map(scope).collect(),
                dynamic_scopes: b.dynamic_scopes.into_iter().map(|d| pb::DynamicScope { name: d.name, value: d.value }).collect(),
                authorization_details: b.authorization_details.map(convert::struct_out),
                continuation: outcome.continuation,
            ),
        ))
    }

    async fn backchannel_authentication_decision(
        &self,
        request: Request<pb::BackchannelAuthenticationDecisionRequest>,
    ) -> Result<Response<pb::BackchannelAuthenticationDecisionResponse>, Status> {
        let log = RpcLog::start("BackchannelAuthenticationDecision");
        let r = request.into_inner();
        let id = fields!(r => api::Identification {
            subject, login_hint_token_expired, user_code_verified, binding_message_accepted,
        });
        let result = api::decision(self.backend(), &self.sealer(), &r.continuation, &id).await;
        let (result, next) = match result {
            Ok((finished, next)) => (Ok(finished), next),
            Err(e) => (Err(e), None),
        };
        let finished = log.finished(result)?;
        Ok(Response::new(
            pb::BackchannelAuthenticationDecisionResponse {
                http: Some(convert::http(finished.http)),
                completion: Some(convert::completion(finished.completion)),
                continuation: next.unwrap_or_default(),
            },
        ))
    }

    async fn backchannel_authentication_user_decision(
        &self,
        request: Request<pb::BackchannelAuthenticationUserDecisionRequest>,
    ) -> Result<Response<pb::BackchannelAuthenticationUserDecisionResponse>, Status> {
        let log = RpcLog::start("BackchannelAuthenticationUserDecision");
        let r = request.into_inner();
        let result = match user_decision(r.decision) {
            Ok(d) => api::user_decision(self.backend(), &self.sealer(), &r.continuation, d).await,
            Err(e) => Err(e),
        };
        let outcome = log.outcome(result)?;
        let complete = self.notify_and_reply(outcome).await;
        Ok(Response::new(
            pb::BackchannelAuthenticationUserDecisionResponse {
                complete: Some(complete),
            },
        ))
    }

    async fn backchannel_authentication_issue(
        &self,
        request: Request<pb::BackchannelAuthenticationIssueRequest>,
    ) -> Result<Response<pb::BackchannelAuthenticationIssueResponse>, Status> {
        let log = RpcLog::start("BackchannelAuthenticationIssue");
        let r = request.into_inner();
        let input = fields!(r => api::IssueRequest { ticket });
        let outcome = log.outcome(api::issue(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::BackchannelAuthenticationIssueResponse,
                pb::backchannel_authentication_issue_response::Action { auth_req_id, expires_in, interval }),
        ))
    }

    async fn backchannel_authentication_fail(
        &self,
        request: Request<pb::BackchannelAuthenticationFailRequest>,
    ) -> Result<Response<pb::BackchannelAuthenticationFailResponse>, Status> {
        let log = RpcLog::start("BackchannelAuthenticationFail");
        let r = request.into_inner();
        let result = match fail_reason(r.reason) {
            Some(reason) => {
                let input = api::FailRequest {
                    ticket: r.ticket,
                    reason,
                    error_description: r.error_description,
                    error_uri: r.error_uri,
                };
                api::fail(self.backend(), &input).await
            }
            None => Err(documented("reason")),
        };
        let outcome = log.outcome(result)?;
        Ok(Response::new(reply!(outcome => b,
            pb::BackchannelAuthenticationFailResponse,
            pb::backchannel_authentication_fail_response::Action {})))
    }

    async fn backchannel_authentication_complete(
        &self,
        request: Request<pb::BackchannelAuthenticationCompleteRequest>,
    ) -> Result<Response<pb::BackchannelAuthenticationCompleteResponse>, Status> {
        let log = RpcLog::start("BackchannelAuthenticationComplete");
        let r = request.into_inner();
        let result = match complete_result(r.result) {
            Some(result) => {
                let input = fields!(r => api::CompleteRequest {
                    ticket, subject, sub, auth_time, acr, claims, scopes, idt_header_params,
                    error_description, error_uri, consented_claims, jwt_at_claims, access_token,
                    access_token_duration, refresh_token_duration, id_token_aud_type,
                }
                    result,
                    properties: convert::properties_in(r.properties),
                );
                api::complete(self.backend(), &input).await
            }
            None => Err(documented("result")),
        };
        let outcome = log.outcome(result)?;
        Ok(Response::new(self.notify_and_reply(outcome).await))
    }
}

impl Gateway {
    /// Delivers the notification a NOTIFICATION reply asks for, and builds
    /// the complete reply with what became of it.
    async fn notify_and_reply(
        &self,
        outcome: crate::api::Outcome<api::CompleteResponse>,
    ) -> pb::BackchannelAuthenticationCompleteResponse {
        let delivery = api::notify(self.notifier.as_ref(), &outcome.body).await;
        if let Some(d) = delivery.as_ref().filter(|d| !d.error.is_empty()) {
            tracing::warn!(status = d.status, error = %d.error, "CIBA notification not delivered");
        }
        reply!(outcome => b, pb::BackchannelAuthenticationCompleteResponse,
            pb::backchannel_authentication_complete_response::Action {
            client_id, client_id_alias, client_id_alias_used, client_name, delivery_mode,
            client_notification_endpoint, client_notification_token, auth_req_id, access_token,
            refresh_token, id_token, access_token_duration, refresh_token_duration,
            id_token_duration, jwt_access_token, resources, grant_id,
        }
            client_notification: delivery.map(|d| pb::ClientNotification {
                delivered: d.error.is_empty(),
                status: i32::from(d.status),
                error: d.error,
            }),
        )
    }
}

/// The web tier's verdict, checked.
fn user_decision(
    d: Option<pb::backchannel_authentication_user_decision_request::Decision>,
) -> Result<crate::api::verdict::Decision, crate::api::Error> {
    convert::verdict!(
        d,
        pb::backchannel_authentication_user_decision_request::Decision,
        pb::backchannel_authentication_denial::Result
    )
}

/// INVALID_ARGUMENT for an enum field left unset or out of range.
pub(super) fn documented(field: &'static str) -> crate::api::Error {
    crate::api::Error::InvalidArgument {
        field,
        reason: "must be one of the documented values".to_owned(),
    }
}

fn fail_reason(value: i32) -> Option<FailReason> {
    Some(match Reason::try_from(value).ok()? {
        Reason::Unspecified => return None,
        Reason::AccessDenied => FailReason::AccessDenied,
        Reason::ExpiredLoginHintToken => FailReason::ExpiredLoginHintToken,
        Reason::InvalidBindingMessage => FailReason::InvalidBindingMessage,
        Reason::InvalidTarget => FailReason::InvalidTarget,
        Reason::InvalidUserCode => FailReason::InvalidUserCode,
        Reason::MissingUserCode => FailReason::MissingUserCode,
        Reason::ServerError => FailReason::ServerError,
        Reason::UnauthorizedClient => FailReason::UnauthorizedClient,
        Reason::UnknownUserId => FailReason::UnknownUserId,
    })
}

/// The verdict of a CIBA or device flow completion; the two proto enums
/// have the same values.
pub(super) fn complete_result(value: i32) -> Option<CompleteResult> {
    use pb::backchannel_authentication_complete_request::Result as R;
    Some(match R::try_from(value).ok()? {
        R::Unspecified => return None,
        R::TransactionFailed => CompleteResult::TransactionFailed,
        R::AccessDenied => CompleteResult::AccessDenied,
        R::Authorized => CompleteResult::Authorized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_reason_maps_and_unspecified_does_not() {
        assert_eq!(fail_reason(0), None);
        assert_eq!(fail_reason(99), None);
        for value in 1..=9 {
            let wire = serde_json::to_value(fail_reason(value).unwrap()).unwrap();
            let proto = Reason::try_from(value).unwrap().as_str_name();
            assert_eq!(format!("REASON_{}", wire.as_str().unwrap()), proto);
        }
    }

    #[test]
    fn every_result_maps_by_name_in_both_services() {
        use pb::backchannel_authentication_complete_request::Result as C;
        use pb::device_complete_request::Result as D;
        assert_eq!(complete_result(0), None);
        for value in 1..=3 {
            let wire = serde_json::to_value(complete_result(value).unwrap()).unwrap();
            let name = format!("RESULT_{}", wire.as_str().unwrap());
            assert_eq!(C::try_from(value).unwrap().as_str_name(), name);
            assert_eq!(D::try_from(value).unwrap().as_str_name(), name);
        }
    }
}
