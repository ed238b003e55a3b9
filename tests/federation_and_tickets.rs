//! FederationService and the authorization ticket RPCs through the real
//! server against a fake Authlete (the spec has no examples for these APIs:
//! the replies are written inline from its schemas).

mod common;

use authlete_grpc::pb;
use common::*;
use serde_json::json;

const ENTITY_STATEMENT: &str = "application/entity-statement+jwt";

#[tokio::test]
async fn federation_configuration_is_an_entity_statement() {
    let env = start(V3).await;
    let reply = json!({"action": "OK", "resultCode": "A", "resultMessage": "m",
                       "responseContent": "eyJ.entity.configuration"})
    .to_string();
    env.fake
        .reply("/federation/configuration", 200, reply.clone());
    let r = env
        .federation()
        .federation_configuration(pb::FederationConfigurationRequest {
            entity_types: vec!["openid_provider".to_owned()],
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/federation/configuration",
        json!({"entityTypes": ["openid_provider"]}),
    );
    use pb::federation_configuration_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.authlete_response, reply);
    assert_http(
        r.http.as_ref(),
        200,
        &cache_headers(&[("Content-Type", ENTITY_STATEMENT)]),
        "eyJ.entity.configuration",
    );
}

#[tokio::test]
async fn federation_configuration_not_found_v2() {
    let env = start(V2).await;
    env.fake.reply(
        "/federation/configuration",
        200,
        json!({"action": "NOT_FOUND", "resultCode": "A", "resultMessage": "m",
               "responseContent": "{\"error\":\"not_found\"}"})
        .to_string(),
    );
    let r = env
        .federation()
        .federation_configuration(pb::FederationConfigurationRequest::default())
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/federation/configuration", json!({}));
    assert_http(
        r.http.as_ref(),
        404,
        &json_headers(&[]),
        r#"{"error":"not_found"}"#,
    );
}

#[tokio::test]
async fn federation_registration_ok() {
    let env = start(V3).await;
    let reply = json!({"action": "OK", "resultCode": "A", "resultMessage": "m",
                       "responseContent": "eyJ.registration.response",
                       "client": {"clientId": 42, "clientName": "RP"}})
    .to_string();
    env.fake
        .reply("/federation/registration", 200, reply.clone());
    let r = env
        .federation()
        .federation_registration(pb::FederationRegistrationRequest {
            entity_configuration: "eyJ.rp".to_owned(),
            trust_chain: "[\"eyJ.a\"]".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/federation/registration",
        json!({"entityConfiguration": "eyJ.rp", "trustChain": "[\"eyJ.a\"]"}),
    );
    use pb::federation_registration_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    let client = r.client.expect("client");
    assert_eq!((client.client_id, client.client_name.as_str()), (42, "RP"));
    assert_http(
        r.http.as_ref(),
        200,
        &cache_headers(&[("Content-Type", ENTITY_STATEMENT)]),
        "eyJ.registration.response",
    );
}

#[tokio::test]
async fn an_empty_federation_registration_is_authletes_to_refuse() {
    let env = start(V3).await;
    let reply = json!({"action": "BAD_REQUEST", "resultCode": "A327605", "resultMessage": "m",
                       "responseContent": "{\"error\":\"invalid_request\"}"})
    .to_string();
    env.fake.reply("/federation/registration", 200, reply);
    let r = env
        .federation()
        .federation_registration(pb::FederationRegistrationRequest::default())
        .await
        .expect("an OAuth outcome, not an error")
        .into_inner();
    env.assert_posted("/federation/registration", json!({}));
    use pb::federation_registration_response::Action;
    assert_eq!(r.action, Action::BadRequest as i32);
    assert_http(
        r.http.as_ref(),
        400,
        &cache_headers(&[("Content-Type", JSON_UTF8)]),
        r#"{"error":"invalid_request"}"#,
    );
}

#[tokio::test]
async fn authorization_ticket_info_reads_the_context() {
    let env = start(V3).await;
    let reply = json!({"action": "OK", "resultCode": "A", "resultMessage": "m",
                       "info": {"context": "step-2"}})
    .to_string();
    env.fake
        .reply("/auth/authorization/ticket/info", 200, reply.clone());
    let r = env
        .authorization()
        .authorization_ticket_info(pb::AuthorizationTicketInfoRequest {
            ticket: "t-1".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted("/auth/authorization/ticket/info", json!({"ticket": "t-1"}));
    use pb::authorization_ticket_info_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.http, None);
    assert_eq!(r.info.expect("info").context, "step-2");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn authorization_ticket_update_sends_the_info() {
    let env = start(V2).await;
    env.fake.reply(
        "/auth/authorization/ticket/update",
        200,
        json!({"action": "NOT_FOUND", "resultCode": "A", "resultMessage": "m"}).to_string(),
    );
    let r = env
        .authorization()
        .authorization_ticket_update(pb::AuthorizationTicketUpdateRequest {
            ticket: "t-1".to_owned(),
            info: r#"{"context":"step-3"}"#.to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/auth/authorization/ticket/update",
        json!({"ticket": "t-1", "info": "{\"context\":\"step-3\"}"}),
    );
    use pb::authorization_ticket_update_response::Action;
    assert_eq!(r.action, Action::NotFound as i32);
    assert_eq!(r.http, None);
    assert_eq!(r.info, None);
}
