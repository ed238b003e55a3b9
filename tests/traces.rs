//! OpenTelemetry traces through the real server: a test-side OTLP receiver
//! on loopback (built from the official opentelemetry-proto definitions)
//! gets the server span of an RPC, child of the caller's `traceparent`, and
//! the client span of its Authlete call, child of the server span, whose
//! context reached Authlete; no span carries a secret. With the receiver
//! gone, RPCs still succeed without waiting for it.

mod common;
#[path = "common/otlp.rs"]
mod otlp;

use std::time::{Duration, Instant};

use authlete_grpc::pb;
use authlete_grpc::server::ServerOptions;
use authlete_grpc::telemetry;
use common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use otlp::{Receiver, start_receiver};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const TOKEN: &str = "SECRET-access-token-for-traces";

fn attribute(span: &Span, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

fn string(span: &Span, key: &str) -> String {
    match attribute(span, key) {
        Some(Value::StringValue(s)) => s,
        other => panic!("{key} is {other:?} on {}", span.name),
    }
}

fn int(span: &Span, key: &str) -> i64 {
    match attribute(span, key) {
        Some(Value::IntValue(i)) => i,
        other => panic!("{key} is {other:?} on {}", span.name),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn traced(token: &str) -> tonic::Request<pb::IntrospectionRequest> {
    let mut request = tonic::Request::new(pb::IntrospectionRequest {
        token: token.to_owned(),
        ..Default::default()
    });
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    request
        .metadata_mut()
        .insert("tracestate", "vendor=value".parse().unwrap());
    request
}

/// One test: the exporter and the global subscriber live as long as the
/// runtime they were built in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_the_collector_and_a_dead_collector_costs_nothing() {
    let receiver = Receiver::default();
    let (addr, stop_receiver) = start_receiver(receiver.clone()).await;
    let provider = telemetry::provider(Some(&format!("http://{addr}"))).expect("an exporter");
    tracing_subscriber::registry()
        .with(telemetry::layer(&provider))
        .init();

    let env = Setup::new(V2)
        .server(ServerOptions {
            traces: true,
            ..Setup::new(V2).server
        })
        .start()
        .await;
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    env.introspection()
        .introspection(traced(TOKEN))
        .await
        .expect("OK");

    let flushing = provider.clone();
    tokio::task::spawn_blocking(move || flushing.force_flush())
        .await
        .unwrap()
        .expect("the receiver takes the spans");
    let spans = receiver.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let server = spans.iter().find(|s| s.kind == 2).expect("a server span");
    let client = spans.iter().find(|s| s.kind == 3).expect("a client span");

    assert_eq!(
        server.name,
        "authlete.v1.IntrospectionService/Introspection"
    );
    assert_eq!(
        hex(&server.trace_id),
        TRACE_ID,
        "the caller's trace continues"
    );
    assert_eq!(hex(&server.parent_span_id), PARENT_ID);
    assert_eq!(string(server, "rpc.system"), "grpc");
    assert_eq!(
        string(server, "rpc.service"),
        "authlete.v1.IntrospectionService"
    );
    assert_eq!(string(server, "rpc.method"), "Introspection");
    assert_eq!(int(server, "rpc.grpc.status_code"), 0);

    assert_eq!(hex(&client.trace_id), TRACE_ID);
    assert_eq!(
        client.parent_span_id, server.span_id,
        "Authlete's call is a child of the RPC"
    );
    assert_eq!(string(client, "http.request.method"), "POST");
    assert_eq!(int(client, "http.response.status_code"), 200);
    assert_eq!(string(client, "server.address"), "127.0.0.1");
    assert!(string(client, "url.full").ends_with("/api/auth/introspection"));

    let sent = env.fake.only_request();
    let traceparent = sent
        .header("traceparent")
        .expect("traceparent sent to Authlete");
    assert_eq!(
        traceparent,
        format!("00-{TRACE_ID}-{}-01", hex(&client.span_id))
    );

    let everything = format!("{spans:?}");
    for secret in [TOKEN, API_SECRET, ACCESS_TOKEN, "SECRET"] {
        assert!(!everything.contains(secret), "a span carries {secret}");
    }

    // The collector goes away: RPCs neither fail nor wait for it.
    let _ = stop_receiver.send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    for _ in 0..50 {
        env.introspection()
            .introspection(traced("another-token"))
            .await
            .expect("RPCs are unaffected");
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "50 RPCs took {elapsed:?}");
}
