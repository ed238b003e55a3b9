//! Bad input from a caller: INVALID_ARGUMENT naming the field, with a
//! `BadRequest` field violation, before any call to Authlete.

mod common;

use authlete_grpc::pb::{self, authorization_fail_request, token_fail_request};
use common::*;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Asserts INVALID_ARGUMENT about `field`, and that Authlete was not called.
#[track_caller]
fn assert_rejected<T: std::fmt::Debug>(env: &Env, result: Result<T, Status>, field: &str) {
    let status = result.expect_err("INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains(field),
        "the message names `{field}`: {}",
        status.message()
    );
    let bad = status
        .get_details_bad_request()
        .expect("google.rpc.BadRequest in the details");
    let fields: Vec<&str> = bad
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, [field]);
    assert!(!bad.field_violations[0].description.is_empty());
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.domain, "authlete-grpc");
    assert_eq!(info.reason, "INVALID_ARGUMENT");
    assert_eq!(info.metadata["field"], field);
    env.fake.assert_no_request();
}

fn issue_request() -> pb::AuthorizationIssueRequest {
    pb::AuthorizationIssueRequest {
        ticket: "t-1".to_owned(),
        subject: "john".to_owned(),
        ..Default::default()
    }
}

async fn issue_with(request: pb::AuthorizationIssueRequest, field: &str) {
    let env = start(V2).await;
    let result = env.authorization().authorization_issue(request).await;
    assert_rejected(&env, result, field);
}

#[tokio::test]
async fn authorization_issue_without_ticket() {
    let request = pb::AuthorizationIssueRequest {
        ticket: String::new(),
        ..issue_request()
    };
    issue_with(request, "ticket").await;
}

#[tokio::test]
async fn authorization_issue_without_subject() {
    let request = pb::AuthorizationIssueRequest {
        subject: String::new(),
        ..issue_request()
    };
    issue_with(request, "subject").await;
}

#[tokio::test]
async fn authorization_issue_with_claims_not_json() {
    let request = pb::AuthorizationIssueRequest {
        claims: "not json".to_owned(),
        ..issue_request()
    };
    issue_with(request, "claims").await;
}

#[tokio::test]
async fn authorization_issue_with_claims_not_an_object() {
    let request = pb::AuthorizationIssueRequest {
        claims: "[1]".to_owned(),
        ..issue_request()
    };
    issue_with(request, "claims").await;
}

#[tokio::test]
async fn authorization_fail_with_unspecified_reason() {
    let env = start(V3).await;
    let result = env
        .authorization()
        .authorization_fail(pb::AuthorizationFailRequest {
            ticket: "t-1".to_owned(),
            reason: authorization_fail_request::Reason::Unspecified as i32,
            description: String::new(),
        })
        .await;
    assert_rejected(&env, result, "reason");
}

#[tokio::test]
async fn token_issue_without_subject() {
    let env = start(V3).await;
    let result = env
        .token()
        .token_issue(pb::TokenIssueRequest {
            ticket: "t-1".to_owned(),
            ..Default::default()
        })
        .await;
    assert_rejected(&env, result, "subject");
}

#[tokio::test]
async fn token_fail_with_unspecified_reason() {
    let env = start(V2).await;
    let result = env
        .token()
        .token_fail(pb::TokenFailRequest {
            ticket: "t-1".to_owned(),
            reason: token_fail_request::Reason::Unspecified as i32,
            ..Default::default()
        })
        .await;
    assert_rejected(&env, result, "reason");
}

#[tokio::test]
async fn userinfo_issue_without_token() {
    let env = start(V2).await;
    let result = env
        .userinfo()
        .user_info_issue(pb::UserInfoIssueRequest {
            claims: r#"{"name":"John"}"#.to_owned(),
            ..Default::default()
        })
        .await;
    assert_rejected(&env, result, "token");
}

#[tokio::test]
async fn service_configuration_with_a_patch_that_is_not_an_array() {
    let env = start(V3).await;
    let result = env
        .discovery()
        .service_configuration(pb::ServiceConfigurationRequest {
            pretty: false,
            patch: "{}".to_owned(),
        })
        .await;
    assert_rejected(&env, result, "patch");
}
