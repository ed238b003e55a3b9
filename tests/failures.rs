//! The failure model: a failed call to Authlete is a gRPC error with
//! `google.rpc.ErrorInfo` details, never leaks a credential, and leaves the
//! server healthy.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use base64::Engine as _;
use common::*;
use tonic::{Code, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

/// A client secret sent in the request: must never come back in an error.
const CLIENT_SECRET: &str = "SECRET-client-secret-QQQ";
const REQUEST_ID: &str = "req-7f3a9c";

fn token_request() -> pb::TokenRequest {
    pb::TokenRequest {
        parameters: "grant_type=client_credentials".to_owned(),
        client_id: "26478243745571".to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        ..Default::default()
    }
}

/// Authlete's error body for a failed API call.
fn error_body(code: &str) -> String {
    format!(r#"{{"resultCode":"{code}","resultMessage":"[{code}] The API call failed."}}"#)
}

/// Asserts the code, the ErrorInfo and that nothing secret leaks; returns the metadata.
#[track_caller]
fn assert_error(status: &Status, code: Code, reason: &str) -> HashMap<String, String> {
    assert_eq!(status.code(), code, "{status:?}");
    assert!(!status.message().is_empty());
    let info = status
        .get_details_error_info()
        .expect("google.rpc.ErrorInfo in the details");
    assert_eq!(info.domain, "authlete-grpc");
    assert_eq!(info.reason, reason);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:{API_SECRET}"));
    let details = String::from_utf8_lossy(status.details()).into_owned();
    for secret in [API_SECRET, ACCESS_TOKEN, CLIENT_SECRET, basic.as_str()] {
        assert!(
            !status.message().contains(secret),
            "message leaks {secret}: {}",
            status.message()
        );
        assert!(!details.contains(secret), "details leak {secret}");
        assert!(
            !info.metadata.values().any(|v| v.contains(secret)),
            "metadata leaks {secret}"
        );
    }
    info.metadata
}

/// After a failure: health still SERVING and a normal Token call works.
async fn assert_still_healthy(env: &Env) {
    assert_eq!(env.health_of("").await, ServingStatus::Serving);
    env.fake
        .script("/auth/token", Scripted::new(200, fixture("token/ok.json")));
    let r = env
        .token()
        .token(token_request())
        .await
        .expect("a normal call succeeds after a failure")
        .into_inner();
    assert_eq!(r.action_name, "OK");
}

/// Authlete answers `/auth/token` with `status`; checks the gRPC error.
async fn authlete_status(version: ApiVersion, status: u16, code: Code, reason: &str) {
    let env = start(version).await;
    let result_code = format!("A0012{status}");
    env.fake.script(
        "/auth/token",
        Scripted::new(status, error_body(&result_code)).header("Request-Id", REQUEST_ID),
    );

    let err = env
        .token()
        .token(token_request())
        .await
        .expect_err("an error");

    let metadata = assert_error(&err, code, reason);
    assert_eq!(metadata["http_status"], status.to_string());
    assert_eq!(metadata["result_code"], result_code);
    assert_eq!(metadata["request_id"], REQUEST_ID);
    assert_eq!(metadata["api"], "/auth/token");
    assert!(
        err.message().contains(&status.to_string()),
        "{}",
        err.message()
    );
    assert_eq!(env.fake.requests().len(), 1, "never retried");
    assert_still_healthy(&env).await;
}

#[tokio::test]
async fn authlete_400_is_invalid_argument() {
    authlete_status(V2, 400, Code::InvalidArgument, "AUTHLETE_BAD_REQUEST").await;
}

#[tokio::test]
async fn authlete_401_is_internal() {
    authlete_status(V3, 401, Code::Internal, "AUTHLETE_CREDENTIALS_REJECTED").await;
}

#[tokio::test]
async fn authlete_403_is_internal() {
    authlete_status(V2, 403, Code::Internal, "AUTHLETE_CREDENTIALS_REJECTED").await;
}

#[tokio::test]
async fn authlete_500_is_unavailable() {
    authlete_status(V3, 500, Code::Unavailable, "AUTHLETE_SERVER_ERROR").await;
}

#[tokio::test]
async fn authlete_503_is_unavailable() {
    authlete_status(V2, 503, Code::Unavailable, "AUTHLETE_SERVER_ERROR").await;
}

#[tokio::test]
async fn authlete_429_is_unavailable() {
    authlete_status(V3, 429, Code::Unavailable, "AUTHLETE_RATE_LIMITED").await;
}

#[tokio::test]
async fn authlete_error_without_a_json_body_still_has_the_http_status() {
    let env = start(V2).await;
    env.fake
        .reply("/service/jwks/get", 502, "<html>Bad Gateway</html>");
    let err = env
        .discovery()
        .service_jwks(pb::ServiceJwksRequest::default())
        .await
        .expect_err("an error");
    let metadata = assert_error(&err, Code::Unavailable, "AUTHLETE_SERVER_ERROR");
    assert_eq!(metadata["http_status"], "502");
    assert_eq!(metadata["api"], "/service/jwks/get");
    assert!(!metadata.contains_key("result_code"));
    assert!(!metadata.contains_key("request_id"));
    assert_still_healthy(&env).await;
}

#[tokio::test]
async fn redirect_from_a_post_api_is_internal() {
    let env = start(V3).await;
    env.fake.script(
        "/auth/token",
        Scripted::new(302, "").header("Location", "https://elsewhere.example.com/"),
    );
    let err = env
        .token()
        .token(token_request())
        .await
        .expect_err("an error");
    let metadata = assert_error(&err, Code::Internal, "AUTHLETE_UNEXPECTED_REDIRECT");
    assert_eq!(metadata["api"], "/auth/token");
    assert_eq!(env.fake.requests().len(), 1, "the redirect is not followed");
    assert_still_healthy(&env).await;
}

#[tokio::test]
async fn garbage_reply_is_internal() {
    let env = start(V3).await;
    env.fake.script(
        "/auth/token",
        Scripted::new(200, "<html>not json</html>").header("Request-Id", REQUEST_ID),
    );
    let err = env
        .token()
        .token(token_request())
        .await
        .expect_err("an error");
    let metadata = assert_error(&err, Code::Internal, "AUTHLETE_BAD_REPLY");
    assert_eq!(metadata["request_id"], REQUEST_ID);
    assert_eq!(metadata["api"], "/auth/token");
    assert!(!err.message().contains("not json"), "{}", err.message());
    assert_still_healthy(&env).await;
}

#[tokio::test]
async fn garbage_discovery_document_is_internal() {
    let env = start(V2).await;
    env.fake
        .reply("/service/configuration", 200, "<html>proxy error</html>");
    let err = env
        .discovery()
        .service_configuration(pb::ServiceConfigurationRequest::default())
        .await
        .expect_err("an error");
    let metadata = assert_error(&err, Code::Internal, "AUTHLETE_BAD_REPLY");
    assert_eq!(metadata["api"], "/service/configuration");
    assert_still_healthy(&env).await;
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let env = Setup::new(V2)
        .base_url(format!("http://{closed}"))
        .start()
        .await;

    let err = env
        .token()
        .token(token_request())
        .await
        .expect_err("an error");

    let metadata = assert_error(&err, Code::Unavailable, "AUTHLETE_UNREACHABLE");
    assert_eq!(metadata["api"], "/auth/token");
    assert!(!metadata.contains_key("http_status"));
    assert_eq!(env.health_of("").await, ServingStatus::Serving);
    // A call that needs no Authlete still succeeds.
    let r = env
        .introspection()
        .introspection(pb::IntrospectionRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(r.http.expect("http").status, 400);
}

#[tokio::test]
async fn hang_is_unavailable_within_the_timeout() {
    let timeout = Duration::from_millis(500);
    let env = Setup::new(V3).request_timeout(timeout).start().await;
    env.fake.script(
        "/auth/token",
        Scripted::new(200, fixture("token/ok.json")).delay(Duration::from_secs(30)),
    );

    let started = Instant::now();
    let err = env
        .token()
        .token(token_request())
        .await
        .expect_err("an error");
    let elapsed = started.elapsed();

    assert!(elapsed < timeout * 5, "took {elapsed:?}");
    let metadata = assert_error(&err, Code::Unavailable, "AUTHLETE_TIMEOUT");
    assert_eq!(metadata["api"], "/auth/token");
    assert_eq!(env.fake.requests().len(), 1, "never retried");
    assert_still_healthy(&env).await;
}
