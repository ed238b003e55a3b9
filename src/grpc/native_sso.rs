//! `NativeSsoService`.

use tonic::{Request, Response, Status};

use super::convert::{self, fields, reply};
use super::{Gateway, RpcLog};
use crate::api::id_token as api;
use crate::http::EndpointHeaders;
use crate::pb;
use crate::pb::native_sso_service_server::NativeSsoService;

#[tonic::async_trait]
impl NativeSsoService for Gateway {
    async fn native_sso(
        &self,
        request: Request<pb::NativeSsoRequest>,
    ) -> Result<Response<pb::NativeSsoResponse>, Status> {
        let log = RpcLog::start("NativeSso");
        let r = request.into_inner();
        let input = fields!(r => api::NativeSsoRequest {
            access_token, device_secret, refresh_token, device_secret_hash, sub, claims,
            idt_header_params, id_token_aud_type,
        });
        let checked = crate::api::require("access_token", &input.access_token)
            .and_then(|()| crate::api::require("device_secret", &input.device_secret))
            .and_then(|()| crate::api::json_object("claims", &input.claims));
        let result = match checked {
            Ok(()) => api::native_sso(self.backend(), &input, &EndpointHeaders::default()).await,
            Err(e) => Err(e),
        };
        let outcome = log.outcome(result)?;
        Ok(Response::new(reply!(outcome => b, pb::NativeSsoResponse,
            pb::native_sso_response::Action { id_token })))
    }

    async fn native_sso_logout(
        &self,
        request: Request<pb::NativeSsoLogoutRequest>,
    ) -> Result<Response<pb::NativeSsoLogoutResponse>, Status> {
        let log = RpcLog::start("NativeSsoLogout");
        let r = request.into_inner();
        let input = fields!(r => api::NativeSsoLogoutRequest { session_id });
        let o = log.outcome(api::native_sso_logout(self.backend(), &input).await)?;
        // No `responseContent` in this reply, so not the `reply!` macro.
        let b = o.body;
        let name = b.action.name().to_owned();
        Ok(Response::new(pb::NativeSsoLogoutResponse {
            action: convert::action(&name, pb::native_sso_logout_response::Action::from_str_name),
            action_name: name,
            http: o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: o.raw,
            count: b.count,
        }))
    }
}
