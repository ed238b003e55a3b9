//! `AuthorizationService`.

use tonic::{Request, Response, Status};

use super::convert::{self, fields, reply};
use super::{Gateway, RpcLog};
use crate::api::authorization::{self as api, FailReason};
use crate::pb::authorization_service_server::AuthorizationService;
use crate::pb::{self, authorization_fail_request::Reason};

#[tonic::async_trait]
impl AuthorizationService for Gateway {
    async fn authorization(
        &self,
        request: Request<pb::AuthorizationRequest>,
    ) -> Result<Response<pb::AuthorizationResponse>, Status> {
        let log = RpcLog::start("Authorization");
        let mut r = request.into_inner();
        let session = r.session.take().map(session);
        let input = fields!(r => api::Request { parameters, context } cimd_options: r.cimd_options.map(convert::cimd_options));
        let outcome = log.outcome(
            api::authorization(self.backend(), &input, session.as_ref(), &self.sealer()).await,
        )?;
        Ok(Response::new(
            reply!(outcome => b, pb::AuthorizationResponse, pb::authorization_response::Action {
                ticket, display, max_age, ui_locales, claims_locales, claims, claims_at_user_info, acr_essential,
                client_id_alias_used, acrs, subject, login_hint, prompts, lowest_prompt, request_object_payload,
                id_token_claims, user_info_claims, resources, purpose, gm_action, grant_id, grant_subject,
                requested_claims_for_tx, transformed_claims, client_entity_id_used, issuable_credentials,
                native_sso_requested, metadata_document_used,
            }
                client: b.client.map(client),
                scopes: b.scopes.into_iter().map(scope).collect(),
                dynamic_scopes: b.dynamic_scopes.into_iter().map(|d| pb::DynamicScope { name: d.name, value: d.value }).collect(),
                authorization_details: b.authorization_details.map(convert::struct_out),
                continuation: outcome.continuation,
                completion: outcome.completion.map(convert::completion),
            ),
        ))
    }

    async fn authorization_decision(
        &self,
        request: Request<pb::AuthorizationDecisionRequest>,
    ) -> Result<Response<pb::AuthorizationDecisionResponse>, Status> {
        let log = RpcLog::start("AuthorizationDecision");
        let r = request.into_inner();
        let result = match decision(r.decision) {
            Ok(decision) => {
                api::decision(self.backend(), &self.sealer(), &r.continuation, &decision).await
            }
            Err(e) => Err(e),
        };
        let finished = log.finished(result)?;
        Ok(Response::new(pb::AuthorizationDecisionResponse {
            http: Some(convert::http(finished.http)),
            completion: Some(convert::completion(finished.completion)),
        }))
    }

    async fn authorization_issue(
        &self,
        request: Request<pb::AuthorizationIssueRequest>,
    ) -> Result<Response<pb::AuthorizationIssueResponse>, Status> {
        let log = RpcLog::start("AuthorizationIssue");
        let r = request.into_inner();
        let input = fields!(r => api::IssueRequest {
            ticket, subject, auth_time, acr, claims, scopes, sub, idt_header_params, claims_for_tx,
            consented_claims, jwt_at_claims, access_token, access_token_duration, session_id,
            id_token_aud_type, verified_claims_for_tx,
        }
            properties: convert::properties_in(r.properties),
            authorization_details: r.authorization_details.map(convert::struct_in),
        );
        let outcome = log.outcome(api::issue(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::AuthorizationIssueResponse, pb::authorization_issue_response::Action {
                access_token, access_token_expires_at, access_token_duration, id_token, authorization_code, jwt_access_token,
            }),
        ))
    }

    async fn authorization_fail(
        &self,
        request: Request<pb::AuthorizationFailRequest>,
    ) -> Result<Response<pb::AuthorizationFailResponse>, Status> {
        let log = RpcLog::start("AuthorizationFail");
        let r = request.into_inner();
        let reason = fail_reason(r.reason);
        let result = match reason {
            Some(reason) => {
                api::fail(
                    self.backend(),
                    &api::FailRequest {
                        ticket: r.ticket,
                        reason,
                        description: r.description,
                    },
                )
                .await
            }
            None => Err(invalid("reason")),
        };
        let outcome = log.outcome(result)?;
        Ok(Response::new(
            reply!(outcome => b, pb::AuthorizationFailResponse, pb::authorization_fail_response::Action {}),
        ))
    }

    async fn authorization_ticket_info(
        &self,
        request: Request<pb::AuthorizationTicketInfoRequest>,
    ) -> Result<Response<pb::AuthorizationTicketInfoResponse>, Status> {
        super::ticket::info(self, request.into_inner()).await
    }

    async fn authorization_ticket_update(
        &self,
        request: Request<pb::AuthorizationTicketUpdateRequest>,
    ) -> Result<Response<pb::AuthorizationTicketUpdateResponse>, Status> {
        super::ticket::update(self, request.into_inner()).await
    }
}

fn session(s: pb::UserSession) -> api::Session {
    fields!(s => api::Session { subject, auth_time, acr, claims, sub, session_id, scopes }
        properties: convert::properties_in(s.properties),
    )
}

fn decision(
    d: Option<pb::authorization_decision_request::Decision>,
) -> Result<api::Decision, crate::api::Error> {
    use pb::authorization_decision_request::Decision as D;
    match d {
        Some(D::Approved(a)) => Ok(api::Decision::Approved(Box::new(
            fields!(a => api::Approval {
                subject, auth_time, acr, claims, scopes, sub, session_id, consented_claims, jwt_at_claims,
                access_token_duration, idt_header_params, id_token_aud_type,
            }
                properties: convert::properties_in(a.properties),
            ),
        ))),
        Some(D::Denied(d)) => {
            let reason = match d.reason {
                0 => None,
                value => Some(fail_reason(value).ok_or_else(|| invalid("denied.reason"))?),
            };
            Ok(api::Decision::Denied {
                reason,
                description: d.description,
            })
        }
        None => Err(crate::api::Error::InvalidArgument {
            field: "decision",
            reason: "is required: set approved or denied".to_owned(),
        }),
    }
}

fn invalid(field: &'static str) -> crate::api::Error {
    crate::api::Error::InvalidArgument {
        field,
        reason: "must be one of the documented reasons".to_owned(),
    }
}

fn fail_reason(value: i32) -> Option<FailReason> {
    Some(match Reason::try_from(value).ok()? {
        Reason::Unspecified => return None,
        Reason::Unknown => FailReason::Unknown,
        Reason::NotLoggedIn => FailReason::NotLoggedIn,
        Reason::MaxAgeNotSupported => FailReason::MaxAgeNotSupported,
        Reason::ExceedsMaxAge => FailReason::ExceedsMaxAge,
        Reason::DifferentSubject => FailReason::DifferentSubject,
        Reason::AcrNotSatisfied => FailReason::AcrNotSatisfied,
        Reason::Denied => FailReason::Denied,
        Reason::ServerError => FailReason::ServerError,
        Reason::NotAuthenticated => FailReason::NotAuthenticated,
        Reason::AccountSelectionRequired => FailReason::AccountSelectionRequired,
        Reason::ConsentRequired => FailReason::ConsentRequired,
        Reason::InteractionRequired => FailReason::InteractionRequired,
        Reason::InvalidTarget => FailReason::InvalidTarget,
        Reason::InvalidScope => FailReason::InvalidScope,
        Reason::UnauthorizedClient => FailReason::UnauthorizedClient,
        Reason::TemporarilyUnavailable => FailReason::TemporarilyUnavailable,
    })
}

fn tagged(list: Vec<api::TaggedValue>) -> Vec<pb::TaggedValue> {
    list.into_iter()
        .map(|t| pb::TaggedValue {
            tag: t.tag,
            value: t.value,
        })
        .collect()
}

pub(super) fn client(c: api::Client) -> pb::Client {
    fields!(c => pb::Client {
        client_id, client_id_alias, client_id_alias_enabled, client_name, description, client_type,
        logo_uri, tos_uri, policy_uri, entity_id,
    }
        client_names: tagged(c.client_names),
        descriptions: tagged(c.descriptions),
        logo_uris: tagged(c.logo_uris),
        tos_uris: tagged(c.tos_uris),
        policy_uris: tagged(c.policy_uris),
    )
}

pub(super) fn scope(s: api::Scope) -> pb::Scope {
    pb::Scope {
        name: s.name,
        default_entry: s.default_entry,
        description: s.description,
        descriptions: tagged(s.descriptions),
        attributes: s
            .attributes
            .into_iter()
            .map(|p| pb::Pair {
                key: p.key,
                value: p.value,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_reason_maps_and_unspecified_does_not() {
        assert_eq!(fail_reason(0), None);
        assert_eq!(fail_reason(999), None);
        for value in 1..=16 {
            let reason = fail_reason(value).expect("documented reason");
            let wire = serde_json::to_value(reason).unwrap();
            let proto = Reason::try_from(value).unwrap().as_str_name();
            assert_eq!(format!("REASON_{}", wire.as_str().unwrap()), proto);
        }
    }
}
