//! PushedAuthorizationService through the real server against a fake Authlete.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{self, pushed_authorization_response::Action};
use common::*;
use serde_json::json;

const PARAMETERS: &str = "response_type=code&client_id=5921531358155430&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb";

async fn created(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("pushed_auth_req/created.json");
    env.fake.reply("/pushed_auth_req", 200, reply.clone());

    let r = env
        .par()
        .pushed_authorization(pb::PushedAuthorizationRequest {
            parameters: PARAMETERS.to_owned(),
            client_id: "5921531358155430".to_owned(),
            client_secret: "SECRET-client-secret-PAR".to_owned(),
            client_certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
                .to_owned(),
            client_certificate_path: vec!["MIIC-intermediate".to_owned()],
            dpop: "dpop-proof".to_owned(),
            htm: "POST".to_owned(),
            htu: "https://as.example.com/par".to_owned(),
            oauth_client_attestation: "attestation-jwt".to_owned(),
            oauth_client_attestation_pop: "attestation-pop-jwt".to_owned(),
            dpop_nonce_required: true,
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/pushed_auth_req",
        json!({
            "parameters": PARAMETERS,
            "clientId": "5921531358155430",
            "clientSecret": "SECRET-client-secret-PAR",
            "clientCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "clientCertificatePath": ["MIIC-intermediate"],
            "dpop": "dpop-proof",
            "htm": "POST",
            "htu": "https://as.example.com/par",
            "oauthClientAttestation": "attestation-jwt",
            "oauthClientAttestationPop": "attestation-pop-jwt",
            "dpopNonceRequired": true,
        }),
    );
    assert_eq!(r.action, Action::Created as i32);
    assert_eq!(r.action_name, "CREATED");
    assert_eq!(r.result_code, "A245001");
    assert_eq!(r.authlete_response, reply);
    assert_eq!(
        r.request_uri,
        "urn:ietf:params:oauth:request_uri:CAK9YEtNorwXE3UwSyihsBOL0jFrqUup7yAACw5y5Zg"
    );
    assert_http(
        r.http.as_ref(),
        201,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn pushed_authorization_v2() {
    created(V2).await;
}

#[tokio::test]
async fn pushed_authorization_v3() {
    created(V3).await;
}

#[tokio::test]
async fn pushed_authorization_sends_parameters_even_when_empty() {
    let env = start(V3).await;
    env.fake.reply(
        "/pushed_auth_req",
        200,
        fixture("pushed_auth_req/created.json"),
    );
    env.par()
        .pushed_authorization(pb::PushedAuthorizationRequest::default())
        .await
        .expect("OK");
    env.assert_posted("/pushed_auth_req", json!({"parameters": ""}));
}

#[tokio::test]
async fn pushed_authorization_carries_the_endpoint_headers() {
    let env = start(V2).await;
    let reply = fixture("pushed_auth_req/created_with_headers.json");
    env.fake.reply("/pushed_auth_req", 200, reply.clone());
    let r = env
        .par()
        .pushed_authorization(pb::PushedAuthorizationRequest {
            parameters: PARAMETERS.to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Created as i32);
    assert_eq!(r.client_auth_method, "ATTEST_JWT_CLIENT_AUTH");
    assert_eq!(r.dpop_nonce, "nonce-par-3Hc8");
    assert_eq!(r.attestation_challenge, "challenge-par-7Tz4");
    assert_http(
        r.http.as_ref(),
        201,
        &json_headers(&[
            ("DPoP-Nonce", "nonce-par-3Hc8"),
            ("OAuth-Client-Attestation-Challenge", "challenge-par-7Tz4"),
        ]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn pushed_authorization_unauthorized_has_no_challenge() {
    let env = start(V3).await;
    let content = r#"{"error":"invalid_client"}"#;
    let reply = fixture_with(
        "pushed_auth_req/created.json",
        json!({"action": "UNAUTHORIZED", "responseContent": content, "requestUri": null}),
    );
    env.fake.reply("/pushed_auth_req", 200, reply.clone());
    let r = env
        .par()
        .pushed_authorization(pb::PushedAuthorizationRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::Unauthorized as i32);
    assert_eq!(r.request_uri, "", "null reads as empty");
    assert_http(r.http.as_ref(), 401, &json_headers(&[]), content);
}
