//! RevocationService through the real server against a fake Authlete.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{self, revocation_response::Action};
use common::*;
use serde_json::json;

async fn ok(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("revocation/ok.json");
    env.fake.reply("/auth/revocation", 200, reply.clone());

    let r = env
        .revocation()
        .revocation(pb::RevocationRequest {
            parameters: "token=60k0cZ38sJcpTgdxvG9Sqa&token_type_hint=refresh_token".to_owned(),
            client_id: "26478243745571".to_owned(),
            client_secret: "SECRET-client-secret-REV".to_owned(),
            client_certificate: "-----BEGIN CERTIFICATE-----".to_owned(),
            client_certificate_path: vec!["chain-1".to_owned(), "chain-2".to_owned()],
            oauth_client_attestation: "attestation-jwt".to_owned(),
            oauth_client_attestation_pop: "attestation-pop-jwt".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_posted(
        "/auth/revocation",
        json!({
            "parameters": "token=60k0cZ38sJcpTgdxvG9Sqa&token_type_hint=refresh_token",
            "clientId": "26478243745571",
            "clientSecret": "SECRET-client-secret-REV",
            "clientCertificate": "-----BEGIN CERTIFICATE-----",
            "clientCertificatePath": ["chain-1", "chain-2"],
            "oauthClientAttestation": "attestation-jwt",
            "oauthClientAttestationPop": "attestation-pop-jwt",
        }),
    );
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.action_name, "OK");
    assert_eq!(r.result_code, "A113001");
    assert_eq!(
        r.result_message,
        "[A113001] The token has been revoked successfully."
    );
    assert_eq!(r.authlete_response, reply);
    // A JSONP legacy kept by every Authlete library; no responseContent, no body.
    assert_http(
        r.http.as_ref(),
        200,
        &cache_headers(&[("Content-Type", "application/javascript;charset=UTF-8")]),
        "",
    );
}

#[tokio::test]
async fn revocation_ok_v2() {
    ok(V2).await;
}

#[tokio::test]
async fn revocation_ok_v3() {
    ok(V3).await;
}

#[tokio::test]
async fn revocation_sends_parameters_even_when_empty() {
    let env = start(V2).await;
    env.fake
        .reply("/auth/revocation", 200, fixture("revocation/ok.json"));
    env.revocation()
        .revocation(pb::RevocationRequest::default())
        .await
        .expect("OK");
    env.assert_posted("/auth/revocation", json!({"parameters": ""}));
}

#[tokio::test]
async fn revocation_invalid_client_carries_only_the_attestation_challenge() {
    let env = start(V3).await;
    let reply = fixture("revocation/invalid_client_challenge.json");
    env.fake.reply("/auth/revocation", 200, reply.clone());
    let r = env
        .revocation()
        .revocation(pb::RevocationRequest {
            parameters: "token=x".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.action, Action::InvalidClient as i32);
    assert_eq!(r.action_name, "INVALID_CLIENT");
    assert_eq!(r.attestation_challenge, "challenge-rev-8Mn3");
    assert_eq!(r.authlete_response, reply);
    // The fixture also has a dpopNonce: revocation must not forward it.
    assert_http(
        r.http.as_ref(),
        401,
        &json_headers(&[
            ("WWW-Authenticate", r#"Basic realm="revocation""#),
            ("OAuth-Client-Attestation-Challenge", "challenge-rev-8Mn3"),
        ]),
        &response_content(&reply),
    );
}
