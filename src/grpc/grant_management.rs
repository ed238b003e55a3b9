//! `GrantManagementService`.

use tonic::{Request, Response, Status};

use super::backchannel::documented;
use super::convert::{fields, reply};
use super::{Gateway, RpcLog};
use crate::api::grant_management::{self as api, GmAction};
use crate::pb;
use crate::pb::grant_management_request::GmAction as Proto;
use crate::pb::grant_management_service_server::GrantManagementService;

#[tonic::async_trait]
impl GrantManagementService for Gateway {
    async fn grant_management(
        &self,
        request: Request<pb::GrantManagementRequest>,
    ) -> Result<Response<pb::GrantManagementResponse>, Status> {
        let log = RpcLog::start("GrantManagement");
        let r = request.into_inner();
        let result = match gm_action(r.gm_action) {
            Some(gm_action) => {
                let input = fields!(r => api::Request {
                    grant_id, access_token, client_certificate, dpop, htm, htu, dpop_nonce_required,
                } gm_action);
                api::grant_management(self.backend(), &input).await
            }
            None => Err(documented("gm_action")),
        };
        let outcome = log.outcome(result)?;
        Ok(Response::new(
            reply!(outcome => b, pb::GrantManagementResponse,
            pb::grant_management_response::Action { dpop_nonce }),
        ))
    }
}

fn gm_action(value: i32) -> Option<GmAction> {
    Some(match Proto::try_from(value).ok()? {
        Proto::Unspecified => return None,
        Proto::Create => GmAction::Create,
        Proto::Query => GmAction::Query,
        Proto::Replace => GmAction::Replace,
        Proto::Revoke => GmAction::Revoke,
        Proto::Merge => GmAction::Merge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gm_action_maps_by_name() {
        assert_eq!(gm_action(0), None);
        for value in 1..=5 {
            let wire = serde_json::to_value(gm_action(value).unwrap()).unwrap();
            let proto = Proto::try_from(value).unwrap().as_str_name();
            assert_eq!(format!("GM_ACTION_{}", wire.as_str().unwrap()), proto);
        }
    }
}
