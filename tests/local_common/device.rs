//! Helpers of the device flow tests: two device clients on top of the
//! standard test configuration, and the RPCs of the flow.

use authlete_grpc::backend::local::{ClientConfig, LocalConfig};
use authlete_grpc::pb;
use authlete_grpc::pb::device_flow_service_client::DeviceFlowServiceClient;
use serde_json::Value;
use tonic::transport::Channel;

use super::{Env, Via, config, enc, token};

/// Confidential, client_secret_basic, device_code and refresh_token.
pub const TV: &str = "tv";
pub const TV_SECRET: &str = "tv-secret-0123456789";
/// Public, device_code only.
pub const KIOSK: &str = "kiosk";
pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub fn device_config() -> LocalConfig {
    let mut c = config();
    c.clients.push(ClientConfig {
        client_id: TV.to_owned(),
        client_secret: Some(TV_SECRET.to_owned()),
        client_name: "Living room TV".to_owned(),
        grant_types: vec![GRANT.to_owned(), "refresh_token".to_owned()],
        ..ClientConfig::default()
    });
    c.clients.push(ClientConfig {
        client_id: KIOSK.to_owned(),
        client_type: Some("public".to_owned()),
        grant_types: vec![GRANT.to_owned()],
        ..ClientConfig::default()
    });
    c
}

pub async fn start(via: Via) -> Env {
    Env::start_with(via, device_config()).await
}

pub fn device(env: &Env) -> DeviceFlowServiceClient<Channel> {
    DeviceFlowServiceClient::new(env.channel())
}

/// `/device/authorization` as the TV (Basic credentials).
pub async fn authorize_device(env: &Env, parameters: &str) -> pb::DeviceAuthorizationResponse {
    authorize_as(env, parameters, TV, TV_SECRET).await
}

pub async fn authorize_as(
    env: &Env,
    parameters: &str,
    id: &str,
    secret: &str,
) -> pb::DeviceAuthorizationResponse {
    device(env)
        .device_authorization(pb::DeviceAuthorizationRequest {
            parameters: parameters.to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .expect("DeviceAuthorization RPC")
        .into_inner()
}

/// A started flow: the device code and the user code.
pub async fn started(env: &Env, scope: &str) -> (String, String) {
    let r = authorize_device(env, &format!("scope={scope}")).await;
    assert_eq!(r.action_name, "OK", "{}", r.result_message);
    (r.device_code, r.user_code)
}

pub async fn verify(env: &Env, user_code: &str) -> pb::DeviceVerificationResponse {
    device(env)
        .device_verification(pb::DeviceVerificationRequest {
            user_code: user_code.to_owned(),
        })
        .await
        .expect("DeviceVerification RPC")
        .into_inner()
}

pub async fn complete(env: &Env, request: pb::DeviceCompleteRequest) -> pb::DeviceCompleteResponse {
    device(env)
        .device_complete(request)
        .await
        .expect("DeviceComplete RPC")
        .into_inner()
}

/// A token request of the device_code grant, as the TV.
pub async fn poll(env: &Env, device_code: &str) -> pb::TokenResponse {
    let params = format!("grant_type={}&device_code={device_code}", enc(GRANT));
    token(env, &params, Some((TV, TV_SECRET))).await
}

/// The OAuth `error` of a BAD_REQUEST token reply (HTTP 400).
#[track_caller]
pub fn error_of(t: &pb::TokenResponse) -> String {
    assert_eq!(t.action_name, "BAD_REQUEST", "{}", t.result_message);
    assert_eq!(t.http.as_ref().expect("http").status, 400);
    let body: Value = serde_json::from_str(&t.response_content).expect("JSON error");
    body["error"].as_str().expect("error").to_owned()
}
