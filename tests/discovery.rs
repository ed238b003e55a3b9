//! DiscoveryService through the real server against a fake Authlete.

mod common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use common::*;

async fn configuration(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("service_configuration/ok.json");
    env.fake.reply("/service/configuration", 200, reply.clone());

    let r = env
        .discovery()
        .service_configuration(pb::ServiceConfigurationRequest::default())
        .await
        .expect("OK")
        .into_inner();

    env.assert_got("/service/configuration", &[]);
    assert_eq!(env.fake.only_request().query, None);
    assert_eq!(r.authlete_response, reply);
    assert_http(r.http.as_ref(), 200, &json_headers(&[]), &reply);
}

#[tokio::test]
async fn service_configuration_v2() {
    configuration(V2).await;
}

#[tokio::test]
async fn service_configuration_v3() {
    configuration(V3).await;
}

#[tokio::test]
async fn service_configuration_pretty_and_patch_go_in_the_query() {
    let env = start(V3).await;
    let reply = fixture("service_configuration/ok.json");
    env.fake.reply("/service/configuration", 200, reply.clone());
    let patch = r#"[{"op":"add","path":"/custom_endpoint","value":"https://as.example.com/x"}]"#;

    let r = env
        .discovery()
        .service_configuration(pb::ServiceConfigurationRequest {
            pretty: true,
            patch: patch.to_owned(),
        })
        .await
        .expect("OK")
        .into_inner();

    env.assert_got(
        "/service/configuration",
        &[("pretty", "true"), ("patch", patch)],
    );
    assert_http(r.http.as_ref(), 200, &json_headers(&[]), &reply);
}

async fn jwks(version: ApiVersion) {
    let env = start(version).await;
    let reply = fixture("service_jwks/ok.json");
    env.fake.reply("/service/jwks/get", 200, reply.clone());

    let r = env
        .discovery()
        .service_jwks(pb::ServiceJwksRequest::default())
        .await
        .expect("OK")
        .into_inner();

    env.assert_got(
        "/service/jwks/get",
        &[("pretty", "false"), ("includePrivateKeys", "false")],
    );
    assert_eq!(r.authlete_response, reply);
    assert_http(r.http.as_ref(), 200, &json_headers(&[]), &reply);
}

#[tokio::test]
async fn service_jwks_v2() {
    jwks(V2).await;
}

#[tokio::test]
async fn service_jwks_v3() {
    jwks(V3).await;
}

#[tokio::test]
async fn service_jwks_flags_go_in_the_query() {
    let env = start(V2).await;
    env.fake
        .reply("/service/jwks/get", 200, fixture("service_jwks/ok.json"));
    env.discovery()
        .service_jwks(pb::ServiceJwksRequest {
            pretty: true,
            include_private_keys: true,
        })
        .await
        .expect("OK");
    env.assert_got(
        "/service/jwks/get",
        &[("pretty", "true"), ("includePrivateKeys", "true")],
    );
}

#[tokio::test]
async fn service_jwks_without_keys_is_204() {
    for (status, body) in [(200, ""), (204, "")] {
        let env = start(V3).await;
        env.fake.reply("/service/jwks/get", status, body);
        let r = env
            .discovery()
            .service_jwks(pb::ServiceJwksRequest::default())
            .await
            .expect("OK")
            .into_inner();
        assert_eq!(r.authlete_response, "", "Authlete answered {status}");
        assert_http(r.http.as_ref(), 204, &cache_headers(&[]), "");
    }
}

#[tokio::test]
async fn service_jwks_hosted_elsewhere_is_a_302() {
    let env = start(V2).await;
    env.fake.script(
        "/service/jwks/get",
        Scripted::new(302, "").header("Location", "https://keys.example.com/jwks.json"),
    );
    let r = env
        .discovery()
        .service_jwks(pb::ServiceJwksRequest::default())
        .await
        .expect("OK")
        .into_inner();
    assert_eq!(env.fake.requests().len(), 1, "the redirect is not followed");
    assert_eq!(r.authlete_response, "");
    assert_http(
        r.http.as_ref(),
        302,
        &cache_headers(&[("Location", "https://keys.example.com/jwks.json")]),
        "",
    );
}

#[tokio::test]
async fn a_redirect_without_location_is_an_unreadable_reply() {
    let env = start(V3).await;
    env.fake.script(
        "/service/jwks/get",
        Scripted::new(302, "").header("Request-Id", "rid-302"),
    );
    let status = env
        .discovery()
        .service_jwks(pb::ServiceJwksRequest::default())
        .await
        .expect_err("no Location: nothing to redirect to");
    assert_eq!(status.code(), tonic::Code::Internal);
    let info = tonic_types::StatusExt::get_details_error_info(&status).expect("ErrorInfo");
    assert_eq!(info.reason, "AUTHLETE_BAD_REPLY");
    assert_eq!(
        info.metadata.get("request_id").map(String::as_str),
        Some("rid-302")
    );
}
