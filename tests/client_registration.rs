//! ClientRegistrationService (RFC 7591/7592) through the real server against
//! a fake Authlete: v3 paths and JSON bodies, typed fields, ready responses.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use common::*;
use serde_json::json;
use tonic::Code;

const METADATA: &str =
    r#"{"client_name":"My Dynamic Client","redirect_uris":["https://c.example/cb"]}"#;

async fn register(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("client_registration/created.json");
    env.fake.reply("/client/registration", 200, reply.clone());
    let r = env
        .registration()
        .client_registration(pb::ClientRegistrationRequest {
            json: METADATA.to_owned(),
            token: "initial-at".to_owned(),
            client_id: String::new(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/client/registration",
        json!({"json": METADATA, "token": "initial-at"}),
    );
    use pb::client_registration_response::Action;
    assert_eq!(r.action, Action::Created as i32);
    assert_eq!(r.action_name, "CREATED");
    assert_eq!(r.result_code, "A202001");
    assert_eq!(r.authlete_response, reply);
    let client = r.client.expect("client");
    assert_eq!(client.client_id, 26837717140341);
    assert_eq!(client.client_name, "My Dynamic Client");
    assert_http(
        r.http.as_ref(),
        201,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn client_registration_v2() {
    register(V2).await;
}

#[tokio::test]
async fn client_registration_v3() {
    register(V3).await;
}

#[tokio::test]
async fn client_registration_get_ok() {
    let env = start(V3).await;
    let reply = fixture("client_registration_get/ok.json");
    env.fake
        .reply("/client/registration/get", 200, reply.clone());
    let r = env
        .registration()
        .client_registration_get(pb::ClientRegistrationGetRequest {
            json: String::new(),
            token: "rat".to_owned(),
            client_id: "26837717140341".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/client/registration/get",
        json!({"token": "rat", "clientId": "26837717140341"}),
    );
    use pb::client_registration_get_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.client.expect("client").client_id, 26837717140341);
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn client_registration_update_updated() {
    let env = start(V3).await;
    let reply = fixture("client_registration_update/updated.json");
    env.fake
        .reply("/client/registration/update", 200, reply.clone());
    let r = env
        .registration()
        .client_registration_update(pb::ClientRegistrationUpdateRequest {
            json: METADATA.to_owned(),
            token: "rat".to_owned(),
            client_id: "26837717140341".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/client/registration/update",
        json!({"json": METADATA, "token": "rat", "clientId": "26837717140341"}),
    );
    use pb::client_registration_update_response::Action;
    assert_eq!(r.action, Action::Updated as i32);
    assert_eq!(
        r.client.expect("client").client_name,
        "My Updated Dynamic Client"
    );
    assert_http(
        r.http.as_ref(),
        200,
        &json_headers(&[]),
        &response_content(&reply),
    );
}

#[tokio::test]
async fn client_registration_delete_is_204_without_a_body() {
    let env = start(V3).await;
    let reply = fixture("client_registration_delete/deleted.json");
    env.fake
        .reply("/client/registration/delete", 200, reply.clone());
    let r = env
        .registration()
        .client_registration_delete(pb::ClientRegistrationDeleteRequest {
            json: String::new(),
            token: "rat".to_owned(),
            client_id: "26837717140341".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/client/registration/delete",
        json!({"token": "rat", "clientId": "26837717140341"}),
    );
    use pb::client_registration_delete_response::Action;
    assert_eq!(r.action, Action::Deleted as i32);
    assert_eq!(r.client, None);
    assert_http(r.http.as_ref(), 204, &cache_headers(&[]), "");
}

#[tokio::test]
async fn client_registration_unauthorized_has_the_bearer_challenge() {
    let env = start(V3).await;
    let reply = json!({"action": "UNAUTHORIZED", "resultCode": "A", "resultMessage": "m",
                       "responseContent": "{\"error\":\"invalid_token\"}"});
    env.fake
        .reply("/client/registration/get", 200, reply.to_string());
    let r = env
        .registration()
        .client_registration_get(pb::ClientRegistrationGetRequest {
            json: String::new(),
            token: "bad".to_owned(),
            client_id: "1".to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();
    // RFC 6750 §3 (jaxrs sends no challenge; ARCHITECTURE.md says why we do).
    let headers = cache_headers(&[
        ("WWW-Authenticate", r#"Bearer error="invalid_token""#),
        ("Content-Type", "application/json;charset=UTF-8"),
    ]);
    assert_http(
        r.http.as_ref(),
        401,
        &headers,
        r#"{"error":"invalid_token"}"#,
    );
}

#[tokio::test]
async fn client_registration_passes_the_clients_mistakes_to_authlete() {
    // The metadata and the token come from the client: Authlete answers what
    // is wrong with them, with a response for the client.
    let env = start(V3).await;
    let mut rpc = env.registration();
    let bad = json!({"action": "BAD_REQUEST", "resultCode": "A", "resultMessage": "m",
                     "responseContent": "{\"error\":\"invalid_client_metadata\"}"});
    env.fake.reply("/client/registration", 200, bad.to_string());
    let r = rpc
        .client_registration(pb::ClientRegistrationRequest {
            json: "[]".to_owned(),
            ..Default::default()
        })
        .await
        .expect("an action")
        .into_inner();
    env.assert_posted("/client/registration", json!({"json": "[]"}));
    assert_eq!(r.http.expect("http").status, 400);
    let unauthorized = json!({"action": "UNAUTHORIZED", "resultCode": "A", "resultMessage": "m",
                              "responseContent": "{\"error\":\"invalid_token\"}"});
    // A new fake, so that the next request is its only one.
    let env2 = start(V3).await;
    env2.fake
        .reply("/client/registration/delete", 200, unauthorized.to_string());
    let r = env2
        .registration()
        .client_registration_delete(pb::ClientRegistrationDeleteRequest {
            client_id: "1".to_owned(),
            ..Default::default()
        })
        .await
        .expect("an action")
        .into_inner();
    env2.assert_posted("/client/registration/delete", json!({"clientId": "1"}));
    assert_eq!(r.http.expect("http").status, 401);
}

#[tokio::test]
async fn client_registration_management_needs_the_client_id() {
    let env = start(V3).await;
    let no_id = env
        .registration()
        .client_registration_get(pb::ClientRegistrationGetRequest {
            token: "rat".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("client_id is required");
    assert_eq!(no_id.code(), Code::InvalidArgument);
    assert!(no_id.message().contains("client_id"), "{}", no_id.message());
    env.fake.assert_no_request();
}
