use super::methods;
use super::*;

#[test]
fn every_known_path_has_its_labels_and_others_are_unknown() {
    let token = methods::lookup("/authlete.v1.TokenService/Token");
    assert_eq!(token.service, "authlete.v1.TokenService");
    assert_eq!(token.method, "Token");
    assert_eq!(token.grpc_type, "unary");
    let watch = methods::lookup("/grpc.health.v1.Health/Watch");
    assert_eq!(watch.grpc_type, "server_stream");
    let reflection = methods::lookup("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
    assert_eq!(reflection.grpc_type, "bidi_stream");
    assert!(std::ptr::eq(
        methods::lookup("/x.Y/secret-token"),
        &methods::UNKNOWN
    ));
    assert!(methods::all().count() > 50);
}

#[test]
fn action_labels_stay_in_the_vocabulary() {
    let metrics = Metrics::new();
    metrics
        .outcomes
        .action("authlete.v1.TokenService/Token", "OK");
    metrics
        .outcomes
        .action("authlete.v1.TokenService/Token", "a-token-value");
    let text = metrics.encode();
    assert!(
        text.contains(
            r#"authlete_grpc_actions_total{rpc="authlete.v1.TokenService/Token",action="OK"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"action="UNKNOWN"} 1"#), "{text}");
    assert!(!text.contains("a-token-value"));
}

#[test]
fn build_and_process_metrics_are_exported() {
    let text = Metrics::new().encode();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        text.contains(&format!(
            "authlete_grpc_build_info{{version=\"{version}\"}} 1"
        )),
        "{text}"
    );
    for name in [
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
    ] {
        assert!(
            text.contains(&format!("\n{name} ")),
            "{name} missing: {text}"
        );
    }
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn the_local_engine_gauge_reads_its_counts_at_each_scrape() {
    let engine = std::sync::Arc::new(
        crate::backend::LocalBackend::new(crate::backend::local::LocalConfig::default()).unwrap(),
    );
    let mut metrics = Metrics::new();
    let counted = engine.clone();
    metrics.register_live_objects(move || counted.live_objects_by_kind().to_vec());
    let text = metrics.encode();
    for kind in ["grant", "authorization_code", "device_flow"] {
        assert!(
            text.contains(&format!(
                "authlete_grpc_local_live_objects{{kind=\"{kind}\"}} 0"
            )),
            "{text}"
        );
    }
}

#[test]
fn upstream_status_is_the_http_status_or_the_reason() {
    let metrics = Metrics::new();
    let upstream = metrics.upstream();
    upstream.record("/auth/token", UpstreamStatus::Http(503), 0.01);
    upstream.record(
        "/auth/token",
        UpstreamStatus::Reason("AUTHLETE_TIMEOUT"),
        0.02,
    );
    let text = metrics.encode();
    assert!(
        text.contains(r#"authlete_grpc_upstream_requests_total{api="/auth/token",status="503"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"authlete_grpc_upstream_requests_total{api="/auth/token",status="AUTHLETE_TIMEOUT"} 1"#), "{text}");
    assert!(
        text.contains(r#"authlete_grpc_upstream_duration_seconds_count{api="/auth/token"} 2"#),
        "{text}"
    );
}
