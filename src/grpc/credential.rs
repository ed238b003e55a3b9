//! `CredentialIssuanceService` (OpenID4VCI).

use tonic::{Request, Response, Status};

use super::convert::{self, reply};
use super::{Gateway, RpcLog};
use crate::api::credential::{self as api, Document, Endpoint};
use crate::pb;
use crate::pb::credential_issuance_service_server::CredentialIssuanceService;

/// The metadata, JWKS and nonce RPCs: the same request and reply shapes.
macro_rules! metadata {
    ($self:ident, $request:ident, $rpc:literal, $doc:expr, $resp:ident, $action:path) => {{
        let log = RpcLog::start($rpc);
        let input = api::MetadataRequest { pretty: $request.into_inner().pretty };
        let outcome = log.outcome(api::metadata($self.backend(), $doc, &input).await)?;
        Ok(Response::new(reply!(outcome => b, pb::$resp, $action {})))
    }};
}

/// The three parse RPCs.
macro_rules! parse {
    ($self:ident, $request:ident, $rpc:literal, $endpoint:expr, $resp:ident, $action:path) => {{
        let log = RpcLog::start($rpc);
        let r = $request.into_inner();
        let input = api::ParseRequest { access_token: r.access_token, request_content: r.request_content };
        let carried = convert::carried(r.dpop_nonce, String::new());
        let outcome = log.outcome(api::parse($self.backend(), $endpoint, &input, &carried).await)?;
        Ok(Response::new(reply!(outcome => b, pb::$resp, $action {}
            info: b.info.map(convert::struct_out),
        )))
    }};
}

#[tonic::async_trait]
impl CredentialIssuanceService for Gateway {
    async fn credential_issuer_metadata(
        &self,
        request: Request<pb::CredentialIssuerMetadataRequest>,
    ) -> Result<Response<pb::CredentialIssuerMetadataResponse>, Status> {
        metadata!(
            self,
            request,
            "CredentialIssuerMetadata",
            Document::IssuerMetadata,
            CredentialIssuerMetadataResponse,
            pb::credential_issuer_metadata_response::Action
        )
    }

    async fn credential_jwt_issuer_metadata(
        &self,
        request: Request<pb::CredentialJwtIssuerMetadataRequest>,
    ) -> Result<Response<pb::CredentialJwtIssuerMetadataResponse>, Status> {
        metadata!(
            self,
            request,
            "CredentialJwtIssuerMetadata",
            Document::JwtIssuerMetadata,
            CredentialJwtIssuerMetadataResponse,
            pb::credential_jwt_issuer_metadata_response::Action
        )
    }

    async fn credential_issuer_jwks(
        &self,
        request: Request<pb::CredentialIssuerJwksRequest>,
    ) -> Result<Response<pb::CredentialIssuerJwksResponse>, Status> {
        metadata!(
            self,
            request,
            "CredentialIssuerJwks",
            Document::IssuerJwks,
            CredentialIssuerJwksResponse,
            pb::credential_issuer_jwks_response::Action
        )
    }

    async fn credential_nonce(
        &self,
        request: Request<pb::CredentialNonceRequest>,
    ) -> Result<Response<pb::CredentialNonceResponse>, Status> {
        metadata!(
            self,
            request,
            "CredentialNonce",
            Document::Nonce,
            CredentialNonceResponse,
            pb::credential_nonce_response::Action
        )
    }

    async fn credential_offer_create(
        &self,
        request: Request<pb::CredentialOfferCreateRequest>,
    ) -> Result<Response<pb::CredentialOfferCreateResponse>, Status> {
        let log = RpcLog::start("CredentialOfferCreate");
        let r = request.into_inner();
        let input = super::convert::fields!(r => api::OfferCreateRequest {
            authorization_code_grant_included, issuer_state_included,
            pre_authorized_code_grant_included, subject, duration, context, jwt_at_claims,
            auth_time, acr, credential_configuration_ids, tx_code, tx_code_input_mode,
            tx_code_description,
        }
            properties: convert::properties_in(r.properties),
        );
        let o = log.outcome(api::offer_create(self.backend(), &input).await)?;
        let b = o.body;
        let name = b.action.name().to_owned();
        Ok(Response::new(pb::CredentialOfferCreateResponse {
            action: convert::action(
                &name,
                pb::credential_offer_create_response::Action::from_str_name,
            ),
            action_name: name,
            http: o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: o.raw,
            info: b.info.map(convert::struct_out),
        }))
    }

    async fn credential_offer_info(
        &self,
        request: Request<pb::CredentialOfferInfoRequest>,
    ) -> Result<Response<pb::CredentialOfferInfoResponse>, Status> {
        let log = RpcLog::start("CredentialOfferInfo");
        let input = api::OfferInfoRequest {
            identifier: request.into_inner().identifier,
        };
        let o = log.outcome(api::offer_info(self.backend(), &input).await)?;
        let b = o.body;
        let name = b.action.name().to_owned();
        Ok(Response::new(pb::CredentialOfferInfoResponse {
            action: convert::action(
                &name,
                pb::credential_offer_info_response::Action::from_str_name,
            ),
            action_name: name,
            http: o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: o.raw,
            info: b.info.map(convert::struct_out),
        }))
    }

    async fn credential_single_parse(
        &self,
        request: Request<pb::CredentialSingleParseRequest>,
    ) -> Result<Response<pb::CredentialSingleParseResponse>, Status> {
        parse!(
            self,
            request,
            "CredentialSingleParse",
            Endpoint::Single,
            CredentialSingleParseResponse,
            pb::credential_single_parse_response::Action
        )
    }

    async fn credential_batch_parse(
        &self,
        request: Request<pb::CredentialBatchParseRequest>,
    ) -> Result<Response<pb::CredentialBatchParseResponse>, Status> {
        parse!(
            self,
            request,
            "CredentialBatchParse",
            Endpoint::Batch,
            CredentialBatchParseResponse,
            pb::credential_batch_parse_response::Action
        )
    }

    async fn credential_deferred_parse(
        &self,
        request: Request<pb::CredentialDeferredParseRequest>,
    ) -> Result<Response<pb::CredentialDeferredParseResponse>, Status> {
        parse!(
            self,
            request,
            "CredentialDeferredParse",
            Endpoint::Deferred,
            CredentialDeferredParseResponse,
            pb::credential_deferred_parse_response::Action
        )
    }

    async fn credential_single_issue(
        &self,
        request: Request<pb::CredentialSingleIssueRequest>,
    ) -> Result<Response<pb::CredentialSingleIssueResponse>, Status> {
        let log = RpcLog::start("CredentialSingleIssue");
        let r = request.into_inner();
        let input = api::SingleIssueRequest {
            access_token: r.access_token,
            order: r.order.map(convert::struct_in),
        };
        let carried = convert::carried(r.dpop_nonce, String::new());
        let outcome = log.outcome(api::single_issue(self.backend(), &input, &carried).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::CredentialSingleIssueResponse,
            pb::credential_single_issue_response::Action { transaction_id }),
        ))
    }

    async fn credential_batch_issue(
        &self,
        request: Request<pb::CredentialBatchIssueRequest>,
    ) -> Result<Response<pb::CredentialBatchIssueResponse>, Status> {
        let log = RpcLog::start("CredentialBatchIssue");
        let r = request.into_inner();
        let input = api::BatchIssueRequest {
            access_token: r.access_token,
            orders: r.orders.into_iter().map(convert::struct_in).collect(),
        };
        let carried = convert::carried(r.dpop_nonce, String::new());
        let outcome = log.outcome(api::batch_issue(self.backend(), &input, &carried).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::CredentialBatchIssueResponse,
            pb::credential_batch_issue_response::Action {}),
        ))
    }

    async fn credential_deferred_issue(
        &self,
        request: Request<pb::CredentialDeferredIssueRequest>,
    ) -> Result<Response<pb::CredentialDeferredIssueResponse>, Status> {
        let log = RpcLog::start("CredentialDeferredIssue");
        let r = request.into_inner();
        let input = api::DeferredIssueRequest {
            order: r.order.map(convert::struct_in),
        };
        let carried = convert::carried(r.dpop_nonce, String::new());
        let outcome = log.outcome(api::deferred_issue(self.backend(), &input, &carried).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::CredentialDeferredIssueResponse,
            pb::credential_deferred_issue_response::Action {}),
        ))
    }
}
