//! APIs the local engine does not implement: through the real gRPC service,
//! UNIMPLEMENTED naming the Authlete API, so a web tier knows it needs the
//! `authlete` backend for them.

mod local_common;

use authlete_grpc::pb;
use authlete_grpc::pb::backchannel_authentication_service_client::BackchannelAuthenticationServiceClient;
use local_common::*;
use tonic::{Code, Status};
use tonic_types::StatusExt;

#[track_caller]
fn assert_unimplemented<T: std::fmt::Debug>(result: Result<T, Status>, api: &str) {
    let status = result.expect_err("UNIMPLEMENTED");
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    assert!(status.message().contains(api), "{}", status.message());
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "LOCAL_ENGINE_UNSUPPORTED");
    assert_eq!(info.metadata["api"], api);
}

/// CIBA runs on the engine (tests/local_ciba.rs covers it): its APIs
/// answer with actions, not UNIMPLEMENTED.
#[tokio::test]
async fn ciba_runs_locally() {
    let env = Env::start(Via::Direct).await;
    let mut ciba = BackchannelAuthenticationServiceClient::new(env.channel());
    let r = ciba
        .backchannel_authentication(pb::BackchannelAuthenticationRequest {
            parameters: "login_hint=alice&scope=openid".to_owned(),
            client_id: WEB.to_owned(),
            client_secret: WEB_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .expect("the local engine implements /backchannel/authentication")
        .into_inner();
    // `web` is not registered for the CIBA grant.
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    let r = ciba
        .backchannel_authentication_issue(pb::BackchannelAuthenticationIssueRequest {
            ticket: "t".to_owned(),
        })
        .await
        .expect("the local engine implements /backchannel/authentication/issue")
        .into_inner();
    assert_eq!(r.action_name, "INVALID_TICKET", "{}", r.result_message);
}

/// The device flow runs on the engine (tests/local_device.rs covers it): its
/// APIs answer with actions, not UNIMPLEMENTED.
#[tokio::test]
async fn device_flow_runs_locally() {
    use authlete_grpc::pb::device_flow_service_client::DeviceFlowServiceClient;
    let env = Env::start(Via::Direct).await;
    let mut device = DeviceFlowServiceClient::new(env.channel());
    let r = device
        .device_authorization(pb::DeviceAuthorizationRequest {
            parameters: "scope=openid".to_owned(),
            client_id: WEB.to_owned(),
            client_secret: WEB_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .expect("the local engine implements /device/authorization")
        .into_inner();
    // `web` is not registered for the device_code grant.
    assert_eq!(r.action_name, "BAD_REQUEST", "{}", r.result_message);
    let r = device
        .device_verification(pb::DeviceVerificationRequest {
            user_code: "ABCD".to_owned(),
        })
        .await
        .expect("the local engine implements /device/verification")
        .into_inner();
    assert_eq!(r.action_name, "NOT_EXIST");
}

/// Dynamic client registration runs on the engine (tests/local_registration*.rs).
#[tokio::test]
async fn grants_and_native_sso_need_authlete() {
    use authlete_grpc::pb::grant_management_service_client::GrantManagementServiceClient;
    use authlete_grpc::pb::native_sso_service_client::NativeSsoServiceClient;
    let env = Env::start(Via::Direct).await;
    let r = GrantManagementServiceClient::new(env.channel())
        .grant_management(pb::GrantManagementRequest {
            gm_action: pb::grant_management_request::GmAction::Query as i32,
            grant_id: "g".to_owned(),
            ..Default::default()
        })
        .await;
    assert_unimplemented(r, "/gm");
    let r = NativeSsoServiceClient::new(env.channel())
        .native_sso_logout(pb::NativeSsoLogoutRequest {
            session_id: "sid".to_owned(),
        })
        .await;
    assert_unimplemented(r, "/nativesso/logout");
}

#[tokio::test]
async fn federation_and_ticket_info_need_authlete() {
    use authlete_grpc::pb::authorization_service_client::AuthorizationServiceClient;
    use authlete_grpc::pb::federation_service_client::FederationServiceClient;
    let env = Env::start(Via::Direct).await;
    let r = FederationServiceClient::new(env.channel())
        .federation_configuration(pb::FederationConfigurationRequest::default())
        .await;
    assert_unimplemented(r, "/federation/configuration");
    let r = AuthorizationServiceClient::new(env.channel())
        .authorization_ticket_info(pb::AuthorizationTicketInfoRequest {
            ticket: "t".to_owned(),
        })
        .await;
    assert_unimplemented(r, "/auth/authorization/ticket/info");
}

#[tokio::test]
async fn credential_issuance_needs_authlete() {
    use authlete_grpc::pb::credential_issuance_service_client::CredentialIssuanceServiceClient;
    let env = Env::start(Via::Direct).await;
    let r = CredentialIssuanceServiceClient::new(env.channel())
        .credential_issuer_metadata(pb::CredentialIssuerMetadataRequest::default())
        .await;
    assert_unimplemented(r, "/vci/metadata");
}

/// `/auth/token/create` runs on the engine (it mints the tokens of token
/// exchange and JWT bearer grants); the rest of token management is in
/// tests/local_token_management.rs.
#[tokio::test]
async fn token_create_runs_locally() {
    use authlete_grpc::pb::token_create_request::GrantType;
    use authlete_grpc::pb::token_management_service_client::TokenManagementServiceClient;
    let env = Env::start(Via::Direct).await;
    let mut tm = TokenManagementServiceClient::new(env.channel());
    // The numeric client ID the engine assigned to the `web` client.
    let client_id = authorize(&env, &code_request(""))
        .await
        .client
        .expect("client")
        .client_id;
    let created = tm
        .token_create(pb::TokenCreateRequest {
            grant_type: GrantType::ClientCredentials as i32,
            client_id,
            scopes: vec!["openid".to_owned()],
            ..Default::default()
        })
        .await
        .expect("the local engine implements /auth/token/create")
        .into_inner();
    assert_eq!(created.action_name, "OK", "{}", created.result_message);
    assert!(!created.access_token.is_empty());
    assert_eq!(created.http, None);
    // The token it minted is live.
    let active = introspect(&env, &created.access_token, &[]).await;
    assert_eq!(active.action_name, "OK");
}

#[tokio::test]
async fn logout_tokens_and_attestation_challenges_need_authlete() {
    use authlete_grpc::pb::backchannel_logout_service_client::BackchannelLogoutServiceClient;
    use authlete_grpc::pb::client_attestation_service_client::ClientAttestationServiceClient;
    let env = Env::start(Via::Direct).await;
    let r = BackchannelLogoutServiceClient::new(env.channel())
        .backchannel_logout_token(pb::BackchannelLogoutTokenRequest {
            client_identifier: WEB.to_owned(),
            subject: "alice".to_owned(),
            ..Default::default()
        })
        .await;
    assert_unimplemented(r, "/backchannel/logout/token");
    let r = ClientAttestationServiceClient::new(env.channel())
        .attestation_challenge(pb::AttestationChallengeRequest::default())
        .await;
    assert_unimplemented(r, "/attestation/challenge");
}
