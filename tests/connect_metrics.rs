//! Connect and gRPC-Web calls are counted by the one metrics layer, under
//! their RPC, like gRPC calls: the transcoded call passes through it.

mod common;
#[path = "common/metered.rs"]
mod metered;

use common::connect::{Connect, Version, envelope};
use common::*;
use metered::*;
use prost::Message as _;
use serde_json::json;

const LABELS: &str = r#"grpc_type="unary",grpc_service="authlete.v1.IntrospectionService",grpc_method="Introspection""#;
const PATH: &str = "/authlete.v1.IntrospectionService/Introspection";

#[tokio::test]
async fn connect_and_grpc_web_calls_count_as_rpcs() {
    let (env, url) = metered_env(V2).await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    let connect = Connect::new(env.addr, Version::Http1);
    let bearer = format!("Bearer {KEY}");
    let auth = [("authorization", bearer.as_str())];
    let token = json!({"token": "Ntm9MDb8WXQAevqrBkd84KTTHbYHVQrTjgUZCOWqEUI"});
    assert_eq!(connect.json(PATH, &token, &auth).await.status, 200);
    assert_eq!(connect.json(PATH, &token, &[]).await.status, 401);
    let message = introspection().encode_to_vec();
    let framed = envelope(0, &message);
    let web = connect
        .post(PATH, "application/grpc-web+proto", framed, &auth)
        .await;
    assert_eq!(web.status, 200);

    let (_, text) = scrape(&url, "text/plain").await;
    let series = |name: &str, extra: &str| value(&text, &format!("{name}{{{LABELS}{extra}}}"));
    assert_eq!(series("grpc_server_started_total", ""), 3.0);
    let handled = "grpc_server_handled_total";
    assert_eq!(series(handled, r#",grpc_code="OK""#), 2.0);
    assert_eq!(series(handled, r#",grpc_code="Unauthenticated""#), 1.0);
    assert_eq!(series("grpc_server_msg_received_total", ""), 2.0);
    let refused = r#"authlete_grpc_caller_refusals_total{reason="unauthenticated"}"#;
    assert_eq!(value(&text, refused), 1.0);
    assert_eq!(env.fake.requests().len(), 2);
}
