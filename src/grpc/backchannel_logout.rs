//! `BackchannelLogoutService`.

use tonic::{Request, Response, Status};

use super::convert::{self, fields};
use super::{Gateway, RpcLog};
use crate::api::backchannel_logout as api;
use crate::pb;
use crate::pb::backchannel_logout_service_server::BackchannelLogoutService;

#[tonic::async_trait]
impl BackchannelLogoutService for Gateway {
    async fn backchannel_logout_token(
        &self,
        request: Request<pb::BackchannelLogoutTokenRequest>,
    ) -> Result<Response<pb::BackchannelLogoutTokenResponse>, Status> {
        let log = RpcLog::start("BackchannelLogoutToken");
        let r = request.into_inner();
        let input =
            fields!(r => api::LogoutTokenRequest { client_identifier, subject, session_id });
        let o = log.outcome(api::logout_token(self.backend(), &input).await)?;
        // No `responseContent` in this reply, so not the `reply!` macro.
        let b = o.body;
        let name = b.action.name().to_owned();
        let lookup = pb::backchannel_logout_token_response::Action::from_str_name;
        Ok(Response::new(pb::BackchannelLogoutTokenResponse {
            action: convert::action(&name, lookup),
            action_name: name,
            http: o.http.map(convert::http),
            result_code: b.result_code,
            result_message: b.result_message,
            authlete_response: o.raw,
            logout_token: b.logout_token,
            backchannel_logout_uri: b.backchannel_logout_uri,
        }))
    }
}
