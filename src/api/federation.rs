//! OpenID Federation 1.0: `/federation/configuration` (the entity
//! configuration) and `/federation/registration` (explicit registration).

use super::authorization::Client;
use super::{Error, Outcome, answer, exchange, wire_reply, wire_request};
use crate::action::{self, FederationConfigurationAction, FederationRegistrationAction};
use crate::backend::{Api, Backend};

wire_request! {
    /// `POST /federation/configuration`.
    ConfigurationRequest {
        ;
        entity_types: Vec<String>,
    }
}

wire_reply! {
    /// Reply of `/federation/configuration`.
    ConfigurationResponse {
        action: FederationConfigurationAction,
        result_code: String,
        result_message: String,
        response_content: String,
    }
}

answer!(ConfigurationResponse => action::federation_configuration);

wire_request! {
    /// `POST /federation/registration`.
    RegistrationRequest {
        ;
        entity_configuration: String,
        trust_chain: String,
    }
}

wire_reply! {
    /// Reply of `/federation/registration`.
    RegistrationResponse {
        action: FederationRegistrationAction,
        result_code: String,
        result_message: String,
        response_content: String,
        client: Option<Client>,
    }
}

answer!(RegistrationResponse => action::federation_registration);

/// The entity configuration of this authorization server.
pub async fn configuration(
    backend: &dyn Backend,
    request: &ConfigurationRequest,
) -> Result<Outcome<ConfigurationResponse>, Error> {
    exchange(backend, Api::FederationConfiguration, request).await
}

/// Registers a relying party from its entity configuration or trust chain.
/// Both come from the relying party's request body, so an empty request is
/// the relying party's error: Authlete refuses it with a ready 400 for it
/// (BAD_REQUEST), which is the answer to send, not an error of the web tier.
pub async fn registration(
    backend: &dyn Backend,
    request: &RegistrationRequest,
) -> Result<Outcome<RegistrationResponse>, Error> {
    exchange(backend, Api::FederationRegistration, request).await
}
