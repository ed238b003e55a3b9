//! OpenID Connect Back-Channel Logout: `/backchannel/logout/token`, which
//! generates the Logout Token the web tier delivers to a client.

use super::{Error, Outcome, exchange, require, wire_reply, wire_request};
use crate::action::{self, BackchannelLogoutTokenAction};
use crate::backend::{Api, Backend};

wire_request! {
    /// `POST /backchannel/logout/token`.
    LogoutTokenRequest {
        client_identifier: String,
        ;
        subject: String,
        session_id: String,
    }
}

wire_reply! {
    /// Reply of `/backchannel/logout/token` (no `responseContent`).
    LogoutTokenResponse {
        action: BackchannelLogoutTokenAction,
        result_code: String,
        result_message: String,
        logout_token: String,
        backchannel_logout_uri: String,
    }
}

super::answer_without_content!(LogoutTokenResponse => action::backchannel_logout_token);

/// Generates a Logout Token. A Logout Token names the user, the session or
/// both (Back-Channel Logout 1.0, 2.4), so one of them is required.
pub async fn logout_token(
    backend: &dyn Backend,
    request: &LogoutTokenRequest,
) -> Result<Outcome<LogoutTokenResponse>, Error> {
    require("client_identifier", &request.client_identifier)?;
    if request.subject.is_empty() && request.session_id.is_empty() {
        return Err(Error::InvalidArgument {
            field: "subject",
            reason: "a Logout Token needs a subject, a session_id or both".to_owned(),
        });
    }
    exchange(backend, Api::BackchannelLogoutToken, request).await
}
