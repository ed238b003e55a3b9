//! ID tokens minted outside the authorization and token endpoints:
//! `/idtoken/reissue` (a fresh ID token on refresh) and `/nativesso`
//! (OpenID Connect Native SSO).

use super::{Error, answer, exchange_carrying, wire_reply, wire_request};
use crate::action::{self, IdTokenAction};
use crate::backend::{Api, Backend};
use crate::http::EndpointHeaders;

wire_request! {
    /// `POST /idtoken/reissue`.
    ReissueRequest {
        access_token: String,
        refresh_token: String,
        ;
        sub: String,
        claims: String,
        idt_header_params: String,
        id_token_aud_type: String,
    }
}

wire_request! {
    /// `POST /nativesso`.
    NativeSsoRequest {
        access_token: String,
        device_secret: String,
        ;
        refresh_token: String,
        device_secret_hash: String,
        sub: String,
        claims: String,
        idt_header_params: String,
        id_token_aud_type: String,
    }
}

wire_reply! {
    /// Reply of `/idtoken/reissue` and `/nativesso`.
    Response {
        action: IdTokenAction,
        result_code: String,
        result_message: String,
        response_content: String,
        id_token: String,
    }
}

answer!(Response => action::id_token);

/// Reissues an ID token for a refreshed access token.
pub async fn reissue(
    backend: &dyn Backend,
    request: &ReissueRequest,
    carried: &EndpointHeaders,
) -> Result<super::Outcome<Response>, Error> {
    exchange_carrying(backend, Api::IdTokenReissue, request, Some(carried)).await
}

/// Issues the Native SSO ID token and device secret.
pub async fn native_sso(
    backend: &dyn Backend,
    request: &NativeSsoRequest,
    carried: &EndpointHeaders,
) -> Result<super::Outcome<Response>, Error> {
    exchange_carrying(backend, Api::NativeSso, request, Some(carried)).await
}

wire_request! {
    /// `POST /nativesso/logout`.
    NativeSsoLogoutRequest { session_id: String, ; }
}

wire_reply! {
    /// Reply of `/nativesso/logout` (no `responseContent`).
    NativeSsoLogoutResponse {
        action: crate::action::NativeSsoLogoutAction,
        result_code: String,
        result_message: String,
        count: i64,
    }
}

super::answer_without_content!(NativeSsoLogoutResponse => action::native_sso_logout);

/// Deletes the tokens of a Native SSO session (the device has logged out).
pub async fn native_sso_logout(
    backend: &dyn Backend,
    request: &NativeSsoLogoutRequest,
) -> Result<super::Outcome<NativeSsoLogoutResponse>, Error> {
    super::require("session_id", &request.session_id)?;
    super::exchange(backend, Api::NativeSsoLogout, request).await
}
