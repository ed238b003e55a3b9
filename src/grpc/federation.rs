//! `FederationService` (OpenID Federation 1.0).

use tonic::{Request, Response, Status};

use super::authorization::client;
use super::convert::{fields, reply};
use super::{Gateway, RpcLog};
use crate::api::federation as api;
use crate::pb;
use crate::pb::federation_service_server::FederationService;

#[tonic::async_trait]
impl FederationService for Gateway {
    async fn federation_configuration(
        &self,
        request: Request<pb::FederationConfigurationRequest>,
    ) -> Result<Response<pb::FederationConfigurationResponse>, Status> {
        let log = RpcLog::start("FederationConfiguration");
        let r = request.into_inner();
        let input = fields!(r => api::ConfigurationRequest { entity_types });
        let outcome = log.outcome(api::configuration(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::FederationConfigurationResponse,
            pb::federation_configuration_response::Action {}),
        ))
    }

    async fn federation_registration(
        &self,
        request: Request<pb::FederationRegistrationRequest>,
    ) -> Result<Response<pb::FederationRegistrationResponse>, Status> {
        let log = RpcLog::start("FederationRegistration");
        let r = request.into_inner();
        let input = fields!(r => api::RegistrationRequest { entity_configuration, trust_chain });
        let outcome = log.outcome(api::registration(self.backend(), &input).await)?;
        Ok(Response::new(
            reply!(outcome => b, pb::FederationRegistrationResponse,
                pb::federation_registration_response::Action {}
                client: b.client.map(client),
            ),
        ))
    }
}
