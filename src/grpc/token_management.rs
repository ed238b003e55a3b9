//! `TokenManagementService`.

use tonic::{Request, Response, Status};

use super::backchannel::documented;
use super::convert::{self, fields};
use super::{Gateway, RpcLog, Summary};
use crate::api::token_management as api;
use crate::pb;
use crate::pb::token_create_request::GrantType;
use crate::pb::token_management_service_server::TokenManagementService;

/// The pages of `TokenList`, sent as they arrive from Authlete.
type Pages =
    tonic::codegen::tokio_stream::wrappers::ReceiverStream<Result<pb::TokenListResponse, Status>>;

#[tonic::async_trait]
impl TokenManagementService for Gateway {
    type TokenListStream = Pages;

    async fn token_list(
        &self,
        request: Request<pb::TokenListRequest>,
    ) -> Result<Response<Self::TokenListStream>, Status> {
        let r = request.into_inner();
        let input = fields!(r => api::ListRequest { client_identifier, subject, start, end });
        // The first page is fetched before answering, so a failed call is the
        // RPC's status rather than an error inside the stream.
        let log = RpcLog::start("TokenList");
        let first = log.finish(
            api::list_page(self.backend(), &input, input.start).await,
            |(_, reply)| Summary {
                action: "",
                authlete_status: Some(reply.status),
                request_id: reply.request_id.as_deref(),
            },
        )?;
        // Two pages in flight at most: a slow reader slows the paging down.
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let backend = self.backend.clone();
        tokio::spawn(async move {
            let mut page = first;
            let mut asked = input.start;
            loop {
                let next = api::next_start(&input, asked, &page.0);
                if tx.send(Ok(list_page(page))).await.is_err() {
                    return; // the caller went away
                }
                let Some(start) = next else { return };
                asked = start;
                let log = RpcLog::start("TokenList");
                let fetched = log.finish(
                    api::list_page(backend.as_ref(), &input, start).await,
                    |(_, reply)| Summary {
                        action: "",
                        authlete_status: Some(reply.status),
                        request_id: reply.request_id.as_deref(),
                    },
                );
                match fetched {
                    Ok(p) => page = p,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Pages::new(rx)))
    }

    async fn token_create(
        &self,
        request: Request<pb::TokenCreateRequest>,
    ) -> Result<Response<pb::TokenCreateResponse>, Status> {
        let log = RpcLog::start("TokenCreate");
        let r = request.into_inner();
        let result = match grant_type(r.grant_type) {
            Some(grant_type) => {
                let input = fields!(r => api::CreateRequest {
                    client_id, subject, scopes, access_token_duration, refresh_token_duration,
                    client_id_alias_used, access_token, refresh_token, access_token_persistent,
                    certificate_thumbprint, dpop_key_thumbprint, resources, for_external_attachment,
                    jwt_at_claims, acr, auth_time, client_entity_id_used, client_identifier,
                    session_id, metadata_document_used,
                }
                    grant_type: grant_type.to_owned(),
                    properties: convert::properties_in(r.properties),
                    authorization_details: r.authorization_details.map(convert::struct_in),
                );
                api::create_outcome(self.backend(), &input).await
            }
            None => Err(documented("grant_type")),
        };
        let o = log.outcome(result)?;
        let b = o.body;
        let name = b.action.name().to_owned();
        Ok(Response::new(pb::TokenCreateResponse {
            action: convert::action(&name, pb::token_create_response::Action::from_str_name),
            action_name: name,
            http: o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: o.raw,
            access_token: b.access_token,
            client_id: b.client_id,
            expires_at: b.expires_at,
            expires_in: b.expires_in,
            grant_type: b.grant_type,
            properties: convert::properties_out(b.properties),
            refresh_token: b.refresh_token,
            scopes: b.scopes,
            subject: b.subject,
            token_type: b.token_type,
            jwt_access_token: b.jwt_access_token,
            authorization_details: b.authorization_details.map(convert::struct_out),
            for_external_attachment: b.for_external_attachment,
            token_id: b.token_id,
            refresh_token_scopes: b.refresh_token_scopes,
            client_identifier: b.client_identifier,
            session_id: b.session_id,
        }))
    }

    async fn token_update(
        &self,
        request: Request<pb::TokenUpdateRequest>,
    ) -> Result<Response<pb::TokenUpdateResponse>, Status> {
        let log = RpcLog::start("TokenUpdate");
        let r = request.into_inner();
        let input = fields!(r => api::UpdateRequest {
            access_token, access_token_expires_at, scopes,
            access_token_expires_at_updated_on_scope_update, access_token_hash,
            access_token_value_updated, access_token_persistent, certificate_thumbprint,
            dpop_key_thumbprint, for_external_attachment, refresh_token_expires_at,
            refresh_token_expires_at_updated_on_scope_update, token_id,
        }
            properties: convert::properties_in(r.properties),
            authorization_details: r.authorization_details.map(convert::struct_in),
        );
        let o = log.outcome(api::update(self.backend(), &input).await)?;
        let b = o.body;
        let name = b.action.name().to_owned();
        Ok(Response::new(pb::TokenUpdateResponse {
            action: convert::action(&name, pb::token_update_response::Action::from_str_name),
            action_name: name,
            http: o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: o.raw,
            access_token: b.access_token,
            access_token_expires_at: b.access_token_expires_at,
            properties: convert::properties_out(b.properties),
            scopes: b.scopes,
            authorization_details: b.authorization_details.map(convert::struct_out),
            token_type: b.token_type,
            for_external_attachment: b.for_external_attachment,
            token_id: b.token_id,
            refresh_token_expires_at: b.refresh_token_expires_at,
        }))
    }

    async fn token_revoke(
        &self,
        request: Request<pb::TokenRevokeRequest>,
    ) -> Result<Response<pb::TokenRevokeResponse>, Status> {
        let log = RpcLog::start("TokenRevoke");
        let r = request.into_inner();
        let input = fields!(r => api::RevokeRequest {
            access_token_identifier, refresh_token_identifier, client_identifier, subject,
        });
        // No `action` in this reply: log like a document read.
        let (b, reply) = log.finish(api::revoke(self.backend(), &input).await, |(_, reply)| {
            Summary {
                action: "",
                authlete_status: Some(reply.status),
                request_id: reply.request_id.as_deref(),
            }
        })?;
        Ok(Response::new(pb::TokenRevokeResponse {
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: reply.body,
            count: b.count,
        }))
    }

    async fn token_delete(
        &self,
        request: Request<pb::TokenDeleteRequest>,
    ) -> Result<Response<pb::TokenDeleteResponse>, Status> {
        let log = RpcLog::start("TokenDelete");
        let identifier = request.into_inner().access_token_identifier;
        log.finish(api::delete(self.backend(), &identifier).await, |reply| {
            Summary {
                action: "",
                authlete_status: Some(reply.status),
                request_id: reply.request_id.as_deref(),
            }
        })?;
        Ok(Response::new(pb::TokenDeleteResponse {}))
    }
}

/// Authlete's wire name of a grant type.
fn grant_type(value: i32) -> Option<&'static str> {
    Some(match GrantType::try_from(value).ok()? {
        GrantType::Unspecified => return None,
        GrantType::AuthorizationCode => "AUTHORIZATION_CODE",
        GrantType::Implicit => "IMPLICIT",
        GrantType::Password => "PASSWORD",
        GrantType::ClientCredentials => "CLIENT_CREDENTIALS",
        GrantType::RefreshToken => "REFRESH_TOKEN",
        GrantType::Ciba => "CIBA",
        GrantType::DeviceCode => "DEVICE_CODE",
        GrantType::TokenExchange => "TOKEN_EXCHANGE",
        GrantType::JwtBearer => "JWT_BEARER",
        GrantType::PreAuthorizedCode => "PRE_AUTHORIZED_CODE",
    })
}

fn list_page((b, reply): (api::ListResponse, crate::backend::Reply)) -> pb::TokenListResponse {
    pb::TokenListResponse {
        authlete_response: reply.body,
        start: b.start,
        end: b.end,
        total_count: b.total_count,
        client: b.client.map(super::authorization::client),
        subject: b.subject,
        access_tokens: b
            .access_tokens
            .into_iter()
            .map(|t| {
                fields!(t => pb::AccessToken {
                    access_token_hash, access_token_expires_at, refresh_token_hash,
                    refresh_token_expires_at, created_at, last_refreshed_at, client_id, subject,
                    grant_type, scopes, refresh_token_scopes,
                }
                    properties: convert::properties_out(t.properties),
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_type_maps_by_name() {
        assert_eq!(grant_type(0), None);
        for value in 1..=10 {
            let proto = GrantType::try_from(value).unwrap().as_str_name();
            assert_eq!(format!("GRANT_TYPE_{}", grant_type(value).unwrap()), proto);
        }
    }
}
