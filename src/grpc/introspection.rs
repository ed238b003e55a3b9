//! `IntrospectionService`.

use tonic::{Request, Response, Status};

use super::convert::{self, fields, reply};
use super::{Gateway, RpcLog};
use crate::api::introspection as api;
use crate::pb;
use crate::pb::introspection_service_server::IntrospectionService;

#[tonic::async_trait]
impl IntrospectionService for Gateway {
    async fn introspection(
        &self,
        request: Request<pb::IntrospectionRequest>,
    ) -> Result<Response<pb::IntrospectionResponse>, Status> {
        let log = RpcLog::start("Introspection");
        let r = request.into_inner();
        let input = fields!(r => api::Request {
            token, scopes, subject, client_certificate, dpop, htm, htu, resources, acr_values, max_age,
            required_components, uri, message, target_uri, dpop_nonce_required, request_body_contained,
        }
            headers: convert::pairs_in(r.headers),
        );
        let outcome = log.outcome(api::introspection(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::IntrospectionResponse, pb::introspection_response::Action {
                client_id, client_id_alias, client_id_alias_used, expires_at, subject, scopes, existent, usable,
                sufficient, refreshable, certificate_thumbprint, resources, access_token_resources, grant_id,
                consented_claims, grant_type, acr, auth_time, client_entity_id, client_entity_id_used,
                for_credential_issuance, cnonce, cnonce_expires_at, issuable_credentials, dpop_nonce,
                response_signing_required,
            }
                properties: convert::properties_out(b.properties),
                authorization_details: b.authorization_details.map(convert::struct_out),
            ),
        ))
    }

    async fn standard_introspection(
        &self,
        request: Request<pb::StandardIntrospectionRequest>,
    ) -> Result<Response<pb::StandardIntrospectionResponse>, Status> {
        let log = RpcLog::start("StandardIntrospection");
        let r = request.into_inner();
        let input = fields!(r => api::StandardRequest {
            parameters, with_hidden_properties, rs_uri, http_accept_header, introspection_sign_alg,
            introspection_encryption_alg, introspection_encryption_enc, shared_key_for_sign,
            shared_key_for_encryption, public_key_for_encryption,
        });
        let outcome = log.outcome(api::standard(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::StandardIntrospectionResponse, pb::standard_introspection_response::Action {}),
        ))
    }
}
