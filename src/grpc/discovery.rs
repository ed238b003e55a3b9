//! `DiscoveryService`.

use tonic::{Request, Response, Status};

use super::convert;
use super::{Gateway, RpcLog};
use crate::api::discovery as api;
use crate::pb;
use crate::pb::discovery_service_server::DiscoveryService;

#[tonic::async_trait]
impl DiscoveryService for Gateway {
    async fn service_configuration(
        &self,
        request: Request<pb::ServiceConfigurationRequest>,
    ) -> Result<Response<pb::ServiceConfigurationResponse>, Status> {
        let log = RpcLog::start("ServiceConfiguration");
        let r = request.into_inner();
        let input = api::ConfigurationRequest {
            pretty: r.pretty,
            patch: r.patch,
        };
        let doc = log.document(api::configuration(self.backend(), &input).await)?;
        Ok(Response::new(pb::ServiceConfigurationResponse {
            http: Some(convert::http(doc.http)),
            authlete_response: doc.raw,
        }))
    }

    async fn service_jwks(
        &self,
        request: Request<pb::ServiceJwksRequest>,
    ) -> Result<Response<pb::ServiceJwksResponse>, Status> {
        let log = RpcLog::start("ServiceJwks");
        let r = request.into_inner();
        let input = api::JwksRequest {
            pretty: r.pretty,
            include_private_keys: r.include_private_keys,
        };
        let doc = log.document(api::jwks(self.backend(), &input).await)?;
        Ok(Response::new(pb::ServiceJwksResponse {
            http: Some(convert::http(doc.http)),
            authlete_response: doc.raw,
        }))
    }
}
