//! No secret the local engine hands out reaches the logs: dynamic client
//! registration, a device flow, a CIBA ping flow, a private_key_jwt client's
//! grant and token management run over the engine's
//! HTTP API (so reqwest, hyper and axum log too) with every target at TRACE
//! into a buffer, and none of the client secret, registration access token,
//! device code, user code, auth_req_id, client notification token, client
//! assertion or tokens
//! the replies carried may appear in it,
//! nor in the `/metrics` text of the same calls.

mod local_common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use authlete_grpc::pb::device_decision_request::Decision;
use authlete_grpc::pb::device_flow_service_client::DeviceFlowServiceClient;
use authlete_grpc::pb::token_management_service_client::TokenManagementServiceClient;
use local_common::registration::{dcr_config, delete, read, register};
use local_common::*;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the flows; returns every secret value the replies carried.
async fn flows(env: &Env) -> Vec<(&'static str, String)> {
    let mut secrets = Vec::new();
    let metadata = json!({
        "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
        "client_name": "hygiene",
    });
    let created = register(env, &metadata.to_string(), "").await;
    created.expect("CREATED", 201);
    let (id, secret) = (created.s("client_id"), created.s("client_secret"));
    let rat = created.s("registration_access_token");
    secrets.push(("client secret", secret.clone()));
    secrets.push(("registration access token", rat.clone()));

    let mut device = DeviceFlowServiceClient::new(env.channel());
    let started = device
        .device_authorization(pb::DeviceAuthorizationRequest {
            parameters: "scope=openid+profile".to_owned(),
            client_id: id.clone(),
            client_secret: secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.action_name, "OK", "{}", started.result_message);
    secrets.push(("device code", started.device_code.clone()));
    secrets.push(("user code", started.user_code.clone()));
    let verified = device
        .device_verification(pb::DeviceVerificationRequest {
            user_code: started.user_code.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    secrets.push((
        "continuation",
        verified.continuation.chars().take(24).collect(),
    ));
    device
        .device_decision(pb::DeviceDecisionRequest {
            continuation: verified.continuation,
            decision: Some(Decision::Approved(pb::DeviceApproval {
                subject: "alice".to_owned(),
                claims: r#"{"name":"Alice"}"#.to_owned(),
                ..Default::default()
            })),
        })
        .await
        .unwrap();
    let grant = format!(
        "grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code={}",
        started.device_code
    );
    let t = token(env, &grant, Some((&id, &secret))).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    secrets.push(("access token", t.access_token.clone()));
    secrets.push(("refresh token", t.refresh_token.clone()));
    secrets.push(("ID token", t.id_token.clone()));

    let mut manage = TokenManagementServiceClient::new(env.channel());
    let updated = manage
        .token_update(pb::TokenUpdateRequest {
            access_token: t.access_token.clone(),
            access_token_value_updated: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    secrets.push(("updated access token", updated.access_token.clone()));
    manage
        .token_delete(pb::TokenDeleteRequest {
            access_token_identifier: updated.access_token,
        })
        .await
        .unwrap();
    read(env, &id, &rat).await.expect("OK", 200);
    delete(env, &id, &rat).await.expect("DELETED", 204);
    secrets
}

/// A CIBA ping flow: the ticket, `auth_req_id`, notification token and
/// tokens it carries.
async fn ciba_flow(env: &Env) -> Vec<(&'static str, String)> {
    use local_common::ciba::*;
    let params =
        format!("login_hint=alice&scope=openid&client_notification_token={NOTIFICATION_TOKEN}");
    let first = authenticate(env, &params, PINGER, PINGER_SECRET).await;
    let mut secrets = vec![
        ("CIBA ticket", first.ticket.clone()),
        ("client notification token", NOTIFICATION_TOKEN.to_owned()),
    ];
    let decided = decide(env, &first.continuation, "alice").await;
    let body: serde_json::Value = serde_json::from_str(&decided.http.expect("http").body).unwrap();
    let id = body["auth_req_id"]
        .as_str()
        .expect("auth_req_id")
        .to_owned();
    let done = user_decision(env, &decided.continuation, approved()).await;
    assert!(done.client_notification.expect("notified").delivered);
    let t = poll(env, &id, PINGER, PINGER_SECRET).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    secrets.push(("auth_req_id", id));
    secrets.push(("CIBA access token", t.access_token));
    secrets.push(("CIBA ID token", t.id_token));
    secrets
}

/// A client registered with `jwks` authenticates with a `private_key_jwt`
/// assertion: the assertion and the token it gets.
async fn assertion_flow(env: &Env) -> Vec<(&'static str, String)> {
    let key = local_common::dpop::DpopKey::es256();
    let metadata = json!({"grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.jwk]}});
    let created = register(env, &metadata.to_string(), "").await;
    created.expect("CREATED", 201);
    let id = created.s("client_id");
    let now = env.clock_seconds();
    let assertion = key.sign_jws(
        &json!({"alg": key.alg()}),
        &json!({"iss": id, "sub": id, "aud": ISSUER, "exp": now + 60, "jti": format!("jti-{now}")}),
    );
    let parameters = format!(
        "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
        enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let t = token(env, &parameters, None).await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    vec![
        ("client assertion", assertion),
        ("assertion client's access token", t.access_token),
    ]
}

#[test]
fn no_secret_the_engine_hands_out_is_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber of this test binary");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let metrics = Arc::new(authlete_grpc::metrics::Metrics::new());
    let secrets = runtime.block_on(async {
        let (url, _inbox) = local_common::ciba::notification_endpoint().await;
        let mut config = dcr_config(None);
        let ciba = local_common::ciba::ciba_config(&url).clients;
        config.clients.extend(
            ciba.into_iter()
                .filter(|c| c.client_id == local_common::ciba::PINGER),
        );
        let env =
            Env::start_observed(Via::Http(ApiVersion::V3), config, Some(metrics.clone())).await;
        let mut secrets = flows(&env).await;
        secrets.extend(ciba_flow(&env).await);
        secrets.extend(assertion_flow(&env).await);
        env.checked.assert_all_valid();
        secrets
    });
    drop(runtime);

    let exposition = metrics.encode();
    assert!(
        exposition.contains(r#"grpc_method="DeviceDecision",grpc_code="OK""#),
        "the flows were metered:\n{exposition}"
    );
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    let text = format!("{logs}\n{exposition}");
    // The capture works: our audit lines and the HTTP libraries' lines.
    assert!(text.contains("rpc=\"DeviceDecision\""), "no audit line");
    assert!(text.contains("rpc=\"TokenDelete\""), "no audit line");
    assert!(
        text.contains("hyper") || text.contains("reqwest"),
        "no HTTP client lines"
    );
    for (what, value) in &secrets {
        assert!(value.len() >= 8, "{what} was not captured from the replies");
    }
    let leaks: Vec<&str> = secrets
        .iter()
        .filter(|(_, value)| text.contains(value.as_str()))
        .map(|(what, _)| *what)
        .collect();
    if !leaks.is_empty() {
        let dump = std::env::temp_dir().join("authlete-grpc-local-secret-hygiene.log");
        let _ = std::fs::write(&dump, &text);
        panic!(
            "secrets in the logs: {leaks:?} (captured output in {})",
            dump.display()
        );
    }
}
