//! OpenID for Verifiable Credential Issuance: `/vci/metadata`, `/jwtissuer`,
//! `/jwks`, `/nonce`, `/offer/create`, `/offer/info`, and the single, batch
//! and deferred `parse` and `issue` APIs.

use super::{
    Answer, Error, JsonObject, Outcome, Property, answer, exchange, exchange_carrying, json_object,
    require, wire_reply, wire_request,
};
use crate::action::{
    self, CredentialIssueAction, CredentialMetadataAction, CredentialOfferAction,
    CredentialParseAction,
};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

wire_request! {
    /// `POST /vci/metadata`, `/vci/jwtissuer`, `/vci/jwks` and `/vci/nonce`.
    MetadataRequest { ; pretty: bool, }
}

wire_reply! {
    /// Reply of the metadata, JWKS and nonce APIs.
    MetadataResponse {
        action: CredentialMetadataAction,
        result_code: String,
        result_message: String,
        response_content: String,
    }
}

answer!(MetadataResponse => action::credential_metadata);

/// Which document a [`MetadataRequest`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `/.well-known/openid-credential-issuer`.
    IssuerMetadata,
    /// `/.well-known/jwt-vc-issuer`.
    JwtIssuerMetadata,
    /// The credential issuer's JWK Set.
    IssuerJwks,
    /// A `c_nonce` from the nonce endpoint.
    Nonce,
}

/// Fetches a document of the credential issuer.
pub async fn metadata(
    backend: &dyn Backend,
    document: Document,
    request: &MetadataRequest,
) -> Result<Outcome<MetadataResponse>, Error> {
    let api = match document {
        Document::IssuerMetadata => Api::CredentialIssuerMetadata,
        Document::JwtIssuerMetadata => Api::CredentialJwtIssuerMetadata,
        Document::IssuerJwks => Api::CredentialIssuerJwks,
        Document::Nonce => Api::CredentialNonce,
    };
    exchange(backend, api, request).await
}

wire_request! {
    /// `POST /vci/offer/create`.
    OfferCreateRequest {
        ;
        authorization_code_grant_included: bool,
        issuer_state_included: bool,
        pre_authorized_code_grant_included: bool,
        subject: String,
        duration: i64,
        context: String,
        properties: Vec<Property>,
        jwt_at_claims: String,
        auth_time: i64,
        acr: String,
        credential_configuration_ids: Vec<String>,
        tx_code: String,
        tx_code_input_mode: String,
        tx_code_description: String,
    }
}

wire_request! {
    /// `POST /vci/offer/info`.
    OfferInfoRequest { identifier: String, ; }
}

wire_reply! {
    /// Reply of `/vci/offer/create` (no `responseContent`).
    OfferCreateResponse {
        action: CredentialOfferAction,
        result_code: String,
        result_message: String,
        info: Option<JsonObject>,
    }
}

wire_reply! {
    /// Reply of `/vci/offer/info` (no `responseContent`).
    OfferInfoResponse {
        action: CredentialOfferAction,
        result_code: String,
        result_message: String,
        info: Option<JsonObject>,
        /// Filled from `info.credentialOffer` after parsing.
        #[serde(skip)]
        offer: String,
    }
}

/// Implements [`Answer`] for the offer replies, whose body is not a `responseContent`.
macro_rules! offer_answer {
    ($reply:ty => $table:path, |$r:ident| $content:expr) => {
        impl Answer for $reply {
            fn rule(&self) -> crate::http::Rule {
                $table(&self.action)
            }
            fn action_name(&self) -> &str {
                self.action.name()
            }
            fn result_code(&self) -> &str {
                &self.result_code
            }
            fn result_message(&self) -> &str {
                &self.result_message
            }
            fn content(&self) -> &str {
                let $r = self;
                $content
            }
        }
    };
}

offer_answer!(OfferCreateResponse => action::credential_offer_create, |_r| "");
// jaxrs (`CredentialOfferUriRequestHandler`) answers `info.credentialOffer`
// whenever `info` is present, `resultMessage` otherwise, whatever the action.
offer_answer!(OfferInfoResponse => action::credential_offer_info, |r| match r.info {
    Some(_) => &r.offer,
    None => &r.result_message,
});

/// Creates a credential offer.
pub async fn offer_create(
    backend: &dyn Backend,
    request: &OfferCreateRequest,
) -> Result<Outcome<OfferCreateResponse>, Error> {
    json_object("jwt_at_claims", &request.jwt_at_claims)?;
    exchange(backend, Api::CredentialOfferCreate, request).await
}

/// Reads a credential offer, for the `credential_offer_uri` endpoint.
pub async fn offer_info(
    backend: &dyn Backend,
    request: &OfferInfoRequest,
) -> Result<Outcome<OfferInfoResponse>, Error> {
    require("identifier", &request.identifier)?;
    // The body is only known once the reply is parsed; call and render here.
    let (mut body, reply): (OfferInfoResponse, _) =
        super::call(backend, Api::CredentialOfferInfo, request).await?;
    body.offer = match body.info.as_ref().and_then(|i| i.get("credentialOffer")) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let http = crate::http::render(body.rule(), Some(body.content()), &Default::default());
    Ok(Outcome {
        body,
        raw: reply.body,
        http,
        request_id: reply.request_id,
        authlete_status: Some(reply.status),
        continuation: String::new(),
        completion: None,
    })
}

wire_request! {
    /// `POST /vci/single/parse`, `/vci/batch/parse` and `/vci/deferred/parse`.
    ParseRequest {
        ;
        access_token: String,
        request_content: String,
    }
}

wire_reply! {
    /// Reply of the parse APIs.
    ParseResponse {
        action: CredentialParseAction,
        result_code: String,
        result_message: String,
        response_content: String,
        info: Option<JsonObject>,
    }
}

answer!(ParseResponse => action::credential_parse);

/// Which credential endpoint a request arrived at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Single,
    Batch,
    Deferred,
}

/// Parses a credential request. `carried` are the endpoint headers of the
/// introspection that checked the access token (its `DPoP-Nonce`), which
/// every response of the credential endpoint carries.
pub async fn parse(
    backend: &dyn Backend,
    endpoint: Endpoint,
    request: &ParseRequest,
    carried: &EndpointHeaders,
) -> Result<Outcome<ParseResponse>, Error> {
    let api = match endpoint {
        Endpoint::Single => Api::CredentialSingleParse,
        Endpoint::Batch => Api::CredentialBatchParse,
        Endpoint::Deferred => Api::CredentialDeferredParse,
    };
    exchange_carrying(backend, api, request, Some(carried)).await
}

wire_request! {
    /// `POST /vci/single/issue`.
    SingleIssueRequest {
        ;
        access_token: String,
        order: Option<JsonObject>,
    }
}

wire_request! {
    /// `POST /vci/batch/issue`.
    BatchIssueRequest {
        ;
        access_token: String,
        orders: Vec<JsonObject>,
    }
}

wire_request! {
    /// `POST /vci/deferred/issue`.
    DeferredIssueRequest { ; order: Option<JsonObject>, }
}

wire_reply! {
    /// Reply of the issue APIs.
    IssueResponse {
        action: CredentialIssueAction,
        result_code: String,
        result_message: String,
        response_content: String,
        transaction_id: String,
    }
}

answer!(IssueResponse => action::credential_issue);

/// Issues a credential (or defers it). `carried` as for [`parse`].
pub async fn single_issue(
    backend: &dyn Backend,
    request: &SingleIssueRequest,
    carried: &EndpointHeaders,
) -> Result<Outcome<IssueResponse>, Error> {
    exchange_carrying(backend, Api::CredentialSingleIssue, request, Some(carried)).await
}

/// Issues the credentials of a batch request. `carried` as for [`parse`].
pub async fn batch_issue(
    backend: &dyn Backend,
    request: &BatchIssueRequest,
    carried: &EndpointHeaders,
) -> Result<Outcome<IssueResponse>, Error> {
    exchange_carrying(backend, Api::CredentialBatchIssue, request, Some(carried)).await
}

/// Issues a deferred credential. `carried` as for [`parse`].
pub async fn deferred_issue(
    backend: &dyn Backend,
    request: &DeferredIssueRequest,
    carried: &EndpointHeaders,
) -> Result<Outcome<IssueResponse>, Error> {
    exchange_carrying(
        backend,
        Api::CredentialDeferredIssue,
        request,
        Some(carried),
    )
    .await
}
