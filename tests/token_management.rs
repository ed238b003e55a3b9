//! TokenManagementService through the real server against a fake Authlete:
//! v3 paths and JSON bodies, typed fields; `http` is never set.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb::{self, token_create_request::GrantType};
use common::*;
use serde_json::json;
use tonic::Code;

async fn create(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("token_create/ok.json");
    env.fake.reply("/auth/token/create", 200, reply.clone());
    let r = env
        .token_management()
        .token_create(pb::TokenCreateRequest {
            grant_type: GrantType::AuthorizationCode as i32,
            client_id: 26888344961664,
            subject: "john".to_owned(),
            scopes: vec!["history.read".to_owned(), "timeline.read".to_owned()],
            access_token_duration: 3600,
            properties: vec![pb::Property {
                key: "k".to_owned(),
                value: "v".to_owned(),
                hidden: false,
            }],
            access_token_persistent: true,
            dpop_key_thumbprint: "jkt".to_owned(),
            resources: vec!["https://rs.example".to_owned()],
            jwt_at_claims: "{}".to_owned(),
            session_id: "sid".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/auth/token/create",
        json!({
            "grantType": "AUTHORIZATION_CODE", "clientId": 26888344961664u64, "subject": "john",
            "scopes": ["history.read", "timeline.read"], "accessTokenDuration": 3600,
            "properties": [{"key": "k", "value": "v"}], "accessTokenPersistent": true,
            "dpopKeyThumbprint": "jkt", "resources": ["https://rs.example"],
            "jwtAtClaims": "{}", "sessionId": "sid",
        }),
    );
    use pb::token_create_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.http, None);
    assert_eq!(
        r.access_token,
        "Z5a40U6dWvw2gMoCOAFbZcM85q4HC0Z--0YKD9-Nf6Q"
    );
    assert_eq!(
        r.refresh_token,
        "9beh15GWkGLseBBO1tPobnsGpKLHV3mTkm0EWnNBa4g"
    );
    assert_eq!((r.expires_in, r.token_type.as_str()), (3600, "Bearer"));
    assert_eq!(r.grant_type, "AUTHORIZATION_CODE");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn token_create_v2() {
    create(V2).await;
}

#[tokio::test]
async fn token_create_v3() {
    create(V3).await;
}

#[tokio::test]
async fn token_create_needs_a_grant_type() {
    let env = start(V3).await;
    let status = env
        .token_management()
        .token_create(pb::TokenCreateRequest::default())
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("grant_type"),
        "{}",
        status.message()
    );
    env.fake.assert_no_request();
}

#[tokio::test]
async fn token_update_ok() {
    let env = start(V3).await;
    let reply = fixture("token_update/ok.json");
    env.fake.reply("/auth/token/update", 200, reply.clone());
    let r = env
        .token_management()
        .token_update(pb::TokenUpdateRequest {
            access_token: "Z5a40U6dWvw2gMoCOAFbZcM85q4HC0Z--0YKD9-Nf6Q".to_owned(),
            access_token_expires_at: 1642048149000,
            scopes: vec!["history.read".to_owned()],
            access_token_expires_at_updated_on_scope_update: true,
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/auth/token/update",
        json!({"accessToken": "Z5a40U6dWvw2gMoCOAFbZcM85q4HC0Z--0YKD9-Nf6Q",
               "accessTokenExpiresAt": 1642048149000u64, "scopes": ["history.read"],
               "accessTokenExpiresAtUpdatedOnScopeUpdate": true}),
    );
    use pb::token_update_response::Action;
    assert_eq!(r.action, Action::Ok as i32);
    assert_eq!(r.http, None);
    assert_eq!(r.access_token_expires_at, 1642048149000);
    assert_eq!(r.scopes, ["history.read"]);
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn token_revoke_reports_the_count() {
    let env = start(V3).await;
    let reply = fixture("token_revoke/ok.json");
    env.fake.reply("/auth/token/revoke", 200, reply.clone());
    let r = env
        .token_management()
        .token_revoke(pb::TokenRevokeRequest {
            client_identifier: "26888344961664".to_owned(),
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner();
    env.assert_posted(
        "/auth/token/revoke",
        json!({"clientIdentifier": "26888344961664", "subject": "john"}),
    );
    assert_eq!(r.count, 1);
    assert_eq!(r.result_code, "A312001");
    assert_eq!(r.authlete_response, reply);
}

#[tokio::test]
async fn token_revoke_refuses_an_empty_filter() {
    let env = start(V3).await;
    let status = env
        .token_management()
        .token_revoke(pb::TokenRevokeRequest::default())
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    env.fake.assert_no_request();
}

#[tokio::test]
async fn token_list_streams_one_page_when_all_fit() {
    let env = start(V3).await;
    let reply = fixture("token_list/ok.json");
    env.fake.reply("/auth/token/get/list", 200, reply.clone());
    let got = token_list_pages(
        &env,
        pb::TokenListRequest {
            client_identifier: "26888344961664".to_owned(),
            subject: "john".to_owned(),
            ..Default::default()
        },
    )
    .await;
    env.assert_got(
        "/auth/token/get/list",
        &[
            ("start", "0"),
            ("end", "100"),
            ("clientIdentifier", "26888344961664"),
            ("subject", "john"),
        ],
    );
    assert_eq!(got.len(), 1);
    let page = &got[0];
    assert_eq!((page.start, page.end, page.total_count), (0, 3, 3));
    assert_eq!(page.access_tokens.len(), 3);
    assert_eq!(
        page.access_tokens[0].access_token_hash,
        "tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco"
    );
    assert_eq!(page.access_tokens[0].grant_type, "AUTHORIZATION_CODE");
    assert_eq!(
        page.client.as_ref().expect("client").client_name,
        "My Device Flow Client"
    );
    assert_eq!(page.authlete_response, reply);
}

#[tokio::test]
async fn token_list_pages_until_the_range_ends() {
    let env = start(V2).await;
    // Every call answers "tokens 2..3 of 10": the stream asks for the next
    // page from 3, whose reply does not advance, which ends the stream.
    let reply = fixture_with(
        "token_list/ok.json",
        json!({"start": 2, "end": 3, "totalCount": 10}),
    );
    env.fake.reply("/auth/token/get/list", 200, reply);
    let got = token_list_pages(
        &env,
        pb::TokenListRequest {
            start: 2,
            end: 7,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(got.len(), 2);
    let queries: Vec<Vec<(String, String)>> = env
        .fake
        .requests()
        .iter()
        .map(|r| r.query_pairs())
        .collect();
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        queries,
        [
            vec![pair("start", "2"), pair("end", "7")],
            vec![pair("start", "3"), pair("end", "7")],
        ]
    );
}

#[tokio::test]
async fn token_list_failure_is_the_rpc_status() {
    let env = start(V3).await;
    env.fake.reply("/auth/token/get/list", 503, "{}");
    let status = env
        .token_management()
        .token_list(pb::TokenListRequest::default())
        .await
        .expect_err("UNAVAILABLE");
    assert_eq!(status.code(), Code::Unavailable);
}

async fn delete(version: ApiVersion) {
    let env = start(version).await;
    // The identifier is a path segment: characters that mean something in a
    // path are percent-encoded.
    env.fake.reply("/auth/token/delete/Bk1Q%2Fne+Tx", 204, "");
    env.token_management()
        .token_delete(pb::TokenDeleteRequest {
            access_token_identifier: "Bk1Q/ne+Tx".to_owned(),
        })
        .await
        .expect("deleted");
    let r = env.fake.only_request();
    assert_eq!(r.method, "DELETE");
    assert_eq!(r.path, env.path("/auth/token/delete/Bk1Q%2Fne+Tx"));
    assert_eq!(r.query, None);
    assert_eq!(
        r.header("authorization"),
        Some(env.authorization_header().as_str())
    );
    assert_eq!(r.body_text, "");
}

#[tokio::test]
async fn token_delete_v2() {
    delete(V2).await;
}

#[tokio::test]
async fn token_delete_v3() {
    delete(V3).await;
}

#[tokio::test]
async fn token_delete_needs_an_identifier_and_reports_failures() {
    let env = start(V3).await;
    let status = env
        .token_management()
        .token_delete(pb::TokenDeleteRequest::default())
        .await
        .expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("access_token_identifier"));
    env.fake.assert_no_request();

    let body = r#"{"resultCode":"A001201","resultMessage":"[A001201] bad"}"#;
    env.fake.reply("/auth/token/delete/x", 400, body);
    let status = env
        .token_management()
        .token_delete(pb::TokenDeleteRequest {
            access_token_identifier: "x".to_owned(),
        })
        .await
        .expect_err("a failed call");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("A001201"), "{}", status.message());
}

#[tokio::test]
async fn token_list_refuses_ranges_authlete_cannot_take() {
    let env = start(V3).await;
    let cases = [
        (i64::MAX - 10, 0, "start"),
        (-1, 0, "start"),
        (0, i64::from(i32::MAX) + 1, "end"),
        (10, 5, "end"),
    ];
    for (start, end, field) in cases {
        let status = env
            .token_management()
            .token_list(pb::TokenListRequest {
                start,
                end,
                ..Default::default()
            })
            .await
            .expect_err("INVALID_ARGUMENT");
        assert_eq!(status.code(), Code::InvalidArgument, "{start} {end}");
        assert!(status.message().contains(field), "{}", status.message());
    }
    env.fake.assert_no_request();
}
