//! The engine's HTTP API (Authlete's REST paths) seen by a plain HTTP
//! client: credentials, unknown paths, unsupported APIs, caller errors; and
//! the engine's configuration: a TOML file, a key file (RS256), and the
//! startup summary that never shows an operator's secret.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::local::{Algorithm, LocalConfig, SigningKey};
use authlete_grpc::backend::{ApiVersion, LocalBackend};
use authlete_grpc::pb;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use local_common::*;
use serde_json::Value;

async fn post(url: &str, auth: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = request.send().await.expect("HTTP call");
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).expect("JSON body"),
    )
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

#[tokio::test]
async fn http_api_checks_credentials_and_paths() {
    let env = Env::start(Via::Http(ApiVersion::V2)).await;
    let base = env.http_base.clone().unwrap();
    let body = r#"{"parameters":"grant_type=client_credentials"}"#;
    let good_v2 = basic("local", "api-secret");
    for (url, auth) in [
        (format!("{base}/api/auth/token"), None),
        (
            format!("{base}/api/auth/token"),
            Some(basic("local", "wrong")),
        ),
        (
            format!("{base}/api/auth/token"),
            Some("Bearer api-token".to_owned()),
        ), // v3 token on a v2 path
        (
            format!("{base}/api/local/auth/token"),
            Some("Bearer wrong".to_owned()),
        ),
        (
            format!("{base}/api/local/auth/token"),
            Some(good_v2.clone()),
        ), // v2 credentials on a v3 path
    ] {
        let (status, json) = post(&url, auth.as_deref(), body).await;
        assert_eq!(status, 401, "{url} {auth:?}");
        assert_eq!(json["resultCode"], "A001202");
        assert!(
            json["resultMessage"]
                .as_str()
                .unwrap()
                .starts_with("[A001202] /auth/token,")
        );
        assert!(schema::problems("result", &json).is_empty());
    }
    let (status, json) = post(&format!("{base}/api/auth/token"), Some(&good_v2), body).await;
    assert_eq!(status, 200);
    assert_eq!(json["action"], "INVALID_CLIENT");
    let (status, _) = post(
        &format!("{base}/api/local/auth/token"),
        Some("Bearer api-token"),
        body,
    )
    .await;
    assert_eq!(status, 200);
    let (status, json) = post(&format!("{base}/api/nothing/here"), Some(&good_v2), body).await;
    assert_eq!(status, 404);
    assert!(schema::problems("result", &json).is_empty());
    let (status, json) = post(&format!("{base}/api/idtoken/reissue"), Some(&good_v2), "{}").await;
    assert_eq!(status, 501);
    assert!(
        json["resultMessage"]
            .as_str()
            .unwrap()
            .contains("/idtoken/reissue")
    );
    let (status, json) = post(
        &format!("{base}/api/auth/authorization/issue"),
        Some(&good_v2),
        r#"{"ticket":"t"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        json["resultMessage"]
            .as_str()
            .unwrap()
            .contains("'subject'")
    );
    let (status, _) = post(
        &format!("{base}/api/service/configuration"),
        Some(&good_v2),
        "{}",
    )
    .await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn engine_caller_errors_reach_the_grpc_edge_over_http() {
    for version in [ApiVersion::V2, ApiVersion::V3] {
        let env = Env::start(Via::Http(version)).await;
        let status = env
            .authz()
            .authorization_issue(pb::AuthorizationIssueRequest {
                ticket: "t".to_owned(),
                subject: "alice".to_owned(),
                claims: "[1]".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            tonic::Code::InvalidArgument,
            "{version:?}: {status:?}"
        );
        assert!(
            !status.message().contains("api-secret") && !status.message().contains("api-token")
        );
    }
}

/// An RSA key written as PKCS#8 PEM, as `openssl genpkey` writes it.
fn rsa_pem() -> String {
    let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = key.as_der().unwrap();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(der.as_ref())
    )
}

#[tokio::test]
async fn a_toml_file_with_an_rs256_key_file() {
    let dir = std::env::temp_dir().join(format!("local-engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    std::fs::write(&key, rsa_pem()).unwrap();
    let file = dir.join("engine.toml");
    let text = format!(
        r#"
issuer = "{ISSUER}"
refresh_token_rotation = false
[signing]
key_file = "{}"
[lifetimes]
access_token = 120
[[scopes]]
name = "openid"
[[scopes]]
name = "profile"
[[scopes]]
name = "email"
[[clients]]
client_id = "{WEB}"
client_secret = "{WEB_SECRET}"
redirect_uris = ["{REDIRECT}"]
"#,
        key.display()
    );
    std::fs::write(&file, text).unwrap();
    let config = LocalConfig::load(file.to_str().unwrap()).unwrap();
    assert_eq!(config.lifetimes.access_token, 120);
    let env = Env::start_with(Via::Direct, config).await;
    let t = tokens(&env).await;
    assert_eq!(t.access_token_duration, 120);
    let jwks: Value = serde_json::from_str(
        &env.discovery()
            .service_jwks(pb::ServiceJwksRequest::default())
            .await
            .unwrap()
            .into_inner()
            .authlete_response,
    )
    .unwrap();
    let jwk = &jwks["keys"][0];
    assert_eq!(
        (jwk["kty"].as_str(), jwk["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    let decode = |m: &str| URL_SAFE_NO_PAD.decode(jwk[m].as_str().unwrap()).unwrap();
    let (input, signature) = t.id_token.rsplit_once('.').unwrap();
    RsaPublicKeyComponents {
        n: decode("n"),
        e: decode("e"),
    }
    .verify(
        &RSA_PKCS1_2048_8192_SHA256,
        input.as_bytes(),
        &URL_SAFE_NO_PAD.decode(signature).unwrap(),
    )
    .expect("RS256 signature verifies");
    assert_eq!(jwt_parts(&t.id_token).0["alg"], "RS256");
    // The summary never shows a configured secret.
    let summary = env.engine.startup_summary().join("\n");
    assert!(
        !summary.contains(WEB_SECRET) && summary.contains("as configured"),
        "{summary}"
    );

    std::fs::write(&key, "not a key").unwrap();
    let config = LocalConfig::load(file.to_str().unwrap()).unwrap();
    let err = LocalBackend::new(config).unwrap_err();
    assert!(err.contains("key.pem"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn demo_clients_and_generated_secrets_are_shown() {
    let engine = LocalBackend::new(LocalConfig::default()).unwrap();
    let summary = engine.startup_summary().join("\n");
    assert!(
        summary.contains("client_id demo-confidential") && summary.contains("(generated)"),
        "{summary}"
    );
    assert!(summary.contains("client_id demo-public") && summary.contains("public (no secret)"));
    let generated = engine.http_credentials().summary().join("\n");
    assert!(generated.contains(engine.http_credentials().access_token().expose()));
    let mut config = LocalConfig::default();
    config.signing.algorithm = Algorithm::RS256;
    assert!(LocalBackend::new(config).is_ok());
    assert!(
        SigningKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            Algorithm::RS256,
        )
        .is_err()
    );
    assert!(
        LocalConfig::from_toml("[[clients]]\nclient_id = \"x\"\nclient_type = \"odd\"\n").is_ok()
    );
    let odd =
        LocalConfig::from_toml("[[clients]]\nclient_id = \"x\"\nclient_type = \"odd\"\n").unwrap();
    assert!(LocalBackend::new(odd).unwrap_err().contains("client_type"));
}
