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
async fn client_registration_unauthorized_has_no_challenge() {
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
    assert_http(
        r.http.as_ref(),
        401,
        &json_headers(&[]),
        r#"{"error":"invalid_token"}"#,
    );
}

#[tokio::test]
async fn client_registration_checks_what_each_api_needs() {
    let env = start(V3).await;
    let mut rpc = env.registration();
    let missing = rpc
        .client_registration(pb::ClientRegistrationRequest::default())
        .await
        .expect_err("json is required");
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(missing.message().contains("json"), "{}", missing.message());
    let not_object = rpc
        .client_registration(pb::ClientRegistrationRequest {
            json: "[]".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("json must be an object");
    assert_eq!(not_object.code(), Code::InvalidArgument);
    let no_token = rpc
        .client_registration_delete(pb::ClientRegistrationDeleteRequest {
            client_id: "1".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("token is required");
    assert!(
        no_token.message().contains("token"),
        "{}",
        no_token.message()
    );
    let no_id = rpc
        .client_registration_get(pb::ClientRegistrationGetRequest {
            token: "rat".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("client_id is required");
    assert!(no_id.message().contains("client_id"), "{}", no_id.message());
    env.fake.assert_no_request();
}
