//! Dynamic client registration (RFC 7591) and management (RFC 7592) on the
//! local engine, through the real gRPC service: directly, and over the
//! engine's HTTP API through the `authlete` backend (v2 and v3). A
//! registered client gets real tokens, its update changes what the
//! authorization endpoint accepts, and once deleted it has no tokens left.

// Proto messages may gain fields: every literal ends in `..Default::default()`.
#![allow(clippy::needless_update)]

mod local_common;

use authlete_grpc::backend::ApiVersion;
use authlete_grpc::pb;
use local_common::registration::*;
use local_common::*;
use serde_json::{Value, json};

const VIAS: [Via; 3] = [
    Via::Direct,
    Via::Http(ApiVersion::V2),
    Via::Http(ApiVersion::V3),
];
const DYN_REDIRECT: &str = "https://dyn.example/cb";
const DYN_REDIRECT_NEW: &str = "https://dyn.example/new";

fn metadata() -> String {
    json!({
        "client_name": "Dynamic app",
        "redirect_uris": [DYN_REDIRECT],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types": ["code"],
        "contacts": ["dev@dyn.example"],
        "jwks_uri": "https://dyn.example/jwks",
    })
    .to_string()
}

/// An authorization request of the dynamic client, PKCE S256.
fn code_request_of(client_id: &str, redirect_uri: &str) -> String {
    format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=s\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc(redirect_uri)
    )
}

/// The authorization code flow of the dynamic client: the token reply.
async fn code_flow(env: &Env, id: &str, secret: &str, redirect_uri: &str) -> pb::TokenResponse {
    let a = authorize(env, &code_request_of(id, redirect_uri)).await;
    assert_eq!(a.action_name, "INTERACTION", "{}", a.result_message);
    let i = issue(env, &a.ticket, "bob", "").await;
    assert_eq!(i.action_name, "LOCATION", "{}", i.result_message);
    assert!(i.response_content.starts_with(redirect_uri));
    let code = param(&i.response_content, "code").expect("code");
    let exchange = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(redirect_uri)
    );
    token(env, &exchange, Some((id, secret))).await
}

#[tokio::test]
async fn register_use_read_update_delete() {
    for via in VIAS {
        let env = Env::start_with(via, dcr_config(None)).await;
        let doc = discovery_doc(&env).await;
        assert_eq!(doc["registration_endpoint"], format!("{ISSUER}/register"));

        // Register: 201 with the credentials and the management URI.
        let created = register(&env, &metadata(), "").await;
        created.expect("CREATED", 201);
        let id = created.s("client_id");
        let secret = created.s("client_secret");
        let rat = created.s("registration_access_token");
        assert!(id.parse::<i64>().is_ok(), "numeric client_id: {id}");
        assert!(secret.len() >= 32 && rat.len() >= 32);
        let c = &created.content;
        assert_eq!(c["client_id_issued_at"], env.clock_seconds());
        assert_eq!(c["client_secret_expires_at"], 0);
        assert_eq!(
            c["registration_client_uri"],
            format!("{ISSUER}/register/{id}")
        );
        assert_eq!(c["redirect_uris"], json!([DYN_REDIRECT]));
        assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(c["contacts"], json!(["dev@dyn.example"]));
        assert_eq!(c["jwks_uri"], Value::Null, "unknown metadata is ignored");
        let typed = created.client.clone().expect("client");
        assert_eq!(typed.client_id.to_string(), id);
        assert_eq!(typed.client_name, "Dynamic app");
        assert_eq!(typed.client_type, "CONFIDENTIAL");

        // A real client_credentials grant and a code flow with PKCE.
        let cc = token(&env, "grant_type=client_credentials", Some((&id, &secret))).await;
        assert_eq!(cc.action_name, "OK", "{via:?} {}", cc.result_message);
        assert_eq!(
            introspect(&env, &cc.access_token, &[]).await.action_name,
            "OK"
        );
        let t = code_flow(&env, &id, &secret, DYN_REDIRECT).await;
        assert_eq!(t.action_name, "OK", "{}", t.result_message);
        assert_eq!(t.subject, "bob");
        assert!(!t.refresh_token.is_empty());

        // Read: 200 with the same registration.
        let got = read(&env, &id, &rat).await;
        got.expect("OK", 200);
        assert_eq!(got.content, created.content);

        // Update: the new redirect URI replaces the old one (RFC 7592 §2.2).
        let mut changed: Value = serde_json::from_str(&metadata()).unwrap();
        changed["redirect_uris"] = json!([DYN_REDIRECT_NEW]);
        changed["client_id"] = json!(id);
        changed["client_secret"] = json!(secret);
        let updated = update(&env, &id, &rat, &changed.to_string()).await;
        updated.expect("UPDATED", 200);
        assert_eq!(updated.content["redirect_uris"], json!([DYN_REDIRECT_NEW]));
        assert_eq!(updated.s("client_secret"), secret, "the secret stays");
        assert_eq!(updated.s("registration_access_token"), rat);
        let old = authorize(&env, &code_request_of(&id, DYN_REDIRECT)).await;
        assert_eq!(old.action_name, "BAD_REQUEST", "the old URI is gone");
        let t2 = code_flow(&env, &id, &secret, DYN_REDIRECT_NEW).await;
        assert_eq!(t2.action_name, "OK", "{}", t2.result_message);

        // Delete: 204, and nothing of the client works any more.
        delete(&env, &id, &rat).await.expect("DELETED", 204);
        for access in [&cc.access_token, &t.access_token, &t2.access_token] {
            let i = introspect(&env, access, &[]).await;
            assert_eq!(i.action_name, "UNAUTHORIZED", "{via:?}: tokens are gone");
        }
        let refresh = format!(
            "grant_type=refresh_token&refresh_token={}",
            t2.refresh_token
        );
        let r = token(&env, &refresh, Some((&id, &secret))).await;
        assert_eq!(r.action_name, "INVALID_CLIENT");
        let cc = token(&env, "grant_type=client_credentials", Some((&id, &secret))).await;
        assert_eq!(cc.action_name, "INVALID_CLIENT");
        assert_eq!(http_status(&cc.http), 401);
        let gone = authorize(&env, &code_request_of(&id, DYN_REDIRECT_NEW)).await;
        assert_eq!(gone.action_name, "BAD_REQUEST");
        read(&env, &id, &rat)
            .await
            .expect_error("UNAUTHORIZED", 401, "invalid_token");
        delete(&env, &id, &rat)
            .await
            .expect_error("UNAUTHORIZED", 401, "invalid_token");
        let counts = env.checked.counts();
        assert!(counts["/client/registration"] >= 1 && counts["/client/registration/delete"] >= 2);
    }
}

/// A native app (RFC 8252): public, a private-use scheme, PKCE; then it
/// turns confidential by update and gets a generated secret.
#[tokio::test]
async fn public_native_client_then_confidential() {
    let env = Env::start_with(Via::Direct, dcr_config(None)).await;
    let native = json!({
        "application_type": "native",
        "redirect_uris": ["com.example.app:/cb", "http://127.0.0.1/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    });
    let created = register(&env, &native.to_string(), "").await;
    created.expect("CREATED", 201);
    assert_eq!(created.content["client_secret"], Value::Null);
    assert_eq!(created.content["client_secret_expires_at"], Value::Null);
    assert_eq!(created.content["application_type"], "native");
    assert_eq!(created.client.as_ref().unwrap().client_type, "PUBLIC");
    let id = created.s("client_id");
    let t = code_flow(&env, &id, "", "com.example.app:/cb").await;
    assert_eq!(t.action_name, "OK", "{}", t.result_message);
    assert_eq!(t.client_auth_method, "NONE");

    let rat = created.s("registration_access_token");
    let mut confidential = native.clone();
    confidential["token_endpoint_auth_method"] = json!("client_secret_post");
    let updated = update(&env, &id, &rat, &confidential.to_string()).await;
    updated.expect("UPDATED", 200);
    let secret = updated.s("client_secret");
    assert!(!secret.is_empty(), "a confidential client gets a secret");
    let post = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={id}&client_secret={secret}",
        t.refresh_token
    );
    let r = token(&env, &post, None).await;
    assert_eq!(r.action_name, "OK", "{}", r.result_message);
}

fn http_status(http: &Option<pb::HttpResponse>) -> i32 {
    http.as_ref().map(|h| h.status).unwrap_or_default()
}

/// A registered client may use the device flow (RFC 8628): no redirect URI,
/// and a public client is fine.
#[tokio::test]
async fn registered_public_client_runs_the_device_flow() {
    use authlete_grpc::pb::device_flow_service_client::DeviceFlowServiceClient;
    let env = Env::start_with(Via::Direct, dcr_config(None)).await;
    let tv = json!({
        "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
        "token_endpoint_auth_method": "none",
        "client_name": "Living room TV",
    });
    let created = register(&env, &tv.to_string(), "").await;
    created.expect("CREATED", 201);
    let id = created.s("client_id");
    let r = DeviceFlowServiceClient::new(env.channel())
        .device_authorization(pb::DeviceAuthorizationRequest {
            parameters: format!("client_id={id}&scope=openid"),
            ..Default::default()
        })
        .await
        .expect("DeviceAuthorization RPC")
        .into_inner();
    assert_eq!(r.action_name, "OK", "{}", r.result_message);
    assert_eq!(r.client_name, "Living room TV");
    assert!(!r.user_code.is_empty());
    env.checked.assert_all_valid();
}
