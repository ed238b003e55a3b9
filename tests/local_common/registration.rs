//! Dynamic client registration through the service: the four RPCs reduced
//! to one outcome shape, and the HTTP response checks of action-mapping.md
//! §2.8.

use authlete_grpc::backend::local::LocalConfig;
use authlete_grpc::pb;
use authlete_grpc::pb::client_registration_service_client::ClientRegistrationServiceClient;
use serde_json::Value;

use super::{Env, config, idtoken::header};

/// The test configuration with registration enabled.
pub fn dcr_config(initial_access_token: Option<&str>) -> LocalConfig {
    let mut c = config();
    c.registration.enabled = true;
    c.registration.initial_access_token = initial_access_token.map(str::to_owned);
    c
}

/// What every registration RPC answers.
#[derive(Debug)]
pub struct Outcome {
    pub action_name: String,
    pub result_code: String,
    pub http: pb::HttpResponse,
    pub content: Value,
    pub client: Option<pb::Client>,
}

impl Outcome {
    /// `responseContent`'s string member.
    pub fn s(&self, name: &str) -> String {
        self.content[name].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts the action and the HTTP response: status, JSON body equal to
    /// `responseContent` (none for 204), no-store, and a Bearer challenge
    /// exactly when the status is 401 (RFC 6750 §3).
    #[track_caller]
    pub fn expect(&self, action: &str, status: i32) {
        assert_eq!(self.action_name, action, "{self:?}");
        assert_eq!(self.http.status, status, "{self:?}");
        assert_eq!(header(&self.http, "Cache-Control"), Some("no-store"));
        let challenge = (status == 401).then_some(r#"Bearer error="invalid_token""#);
        assert_eq!(
            header(&self.http, "WWW-Authenticate"),
            challenge,
            "{self:?}"
        );
        if status == 204 {
            assert!(self.http.body.is_empty());
            assert_eq!(header(&self.http, "Content-Type"), None);
        } else {
            let body: Value = serde_json::from_str(&self.http.body).expect("JSON body");
            assert_eq!(body, self.content);
            assert!(
                header(&self.http, "Content-Type")
                    .is_some_and(|t| t.starts_with("application/json"))
            );
        }
    }

    /// Asserts an OAuth error reply: action, status and `error`.
    #[track_caller]
    pub fn expect_error(&self, action: &str, status: i32, error: &str) {
        self.expect(action, status);
        assert_eq!(self.content["error"], error, "{self:?}");
    }
}

macro_rules! outcome {
    ($r:expr) => {{
        let r = $r.expect("registration RPC").into_inner();
        Outcome {
            content: serde_json::from_str(&r.response_content).unwrap_or(Value::Null),
            action_name: r.action_name,
            result_code: r.result_code,
            http: r.http.expect("http"),
            client: r.client,
        }
    }};
}

fn rpc(env: &Env) -> ClientRegistrationServiceClient<tonic::transport::Channel> {
    ClientRegistrationServiceClient::new(env.channel())
}

pub async fn register(env: &Env, json: &str, token: &str) -> Outcome {
    outcome!(
        rpc(env)
            .client_registration(pb::ClientRegistrationRequest {
                json: json.to_owned(),
                token: token.to_owned(),
                client_id: String::new(),
            })
            .await
    )
}

pub async fn read(env: &Env, client_id: &str, token: &str) -> Outcome {
    outcome!(
        rpc(env)
            .client_registration_get(pb::ClientRegistrationGetRequest {
                json: String::new(),
                token: token.to_owned(),
                client_id: client_id.to_owned(),
            })
            .await
    )
}

pub async fn update(env: &Env, client_id: &str, token: &str, json: &str) -> Outcome {
    outcome!(
        rpc(env)
            .client_registration_update(pb::ClientRegistrationUpdateRequest {
                json: json.to_owned(),
                token: token.to_owned(),
                client_id: client_id.to_owned(),
            })
            .await
    )
}

pub async fn delete(env: &Env, client_id: &str, token: &str) -> Outcome {
    outcome!(
        rpc(env)
            .client_registration_delete(pb::ClientRegistrationDeleteRequest {
                json: String::new(),
                token: token.to_owned(),
                client_id: client_id.to_owned(),
            })
            .await
    )
}
