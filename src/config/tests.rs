use super::*;

fn cli(args: &[&str]) -> Cli {
    let mut all = vec!["authlete-grpc"];
    all.extend_from_slice(args);
    Cli::try_parse_from(all).expect("valid command line")
}

fn missing(args: &[&str]) -> Vec<&'static str> {
    match cli(args).backend_choice() {
        Err(ConfigError::Missing { names, .. }) => names,
        other => panic!("expected missing settings, got {other:?}"),
    }
}

#[test]
fn no_authlete_setting_selects_the_local_engine() {
    assert!(matches!(
        cli(&[]).backend_choice(),
        Ok(BackendChoice::Local)
    ));
}

#[test]
fn v2_from_key_and_secret_with_the_default_host() {
    let BackendChoice::Authlete(s) = cli(&[
        "--authlete-service-apikey",
        "123",
        "--authlete-service-apisecret",
        "sec",
    ])
    .backend_choice()
    .unwrap() else {
        panic!("expected Authlete");
    };
    assert_eq!(s.version, ApiVersion::V2);
    assert_eq!(s.base_url, DEFAULT_V2_BASE_URL);
    assert_eq!(s.service_api_secret.expose(), "sec");
}

#[test]
fn v3_from_access_token_needs_base_url_and_service_id() {
    assert_eq!(
        missing(&["--authlete-service-accesstoken", "tok"]),
        vec![BASE_URL, API_KEY]
    );
    let choice = cli(&[
        "--authlete-service-accesstoken",
        "tok",
        "--authlete-service-apikey",
        "715948317",
        "--authlete-base-url",
        "https://us.authlete.com",
    ])
    .backend_choice()
    .unwrap();
    let BackendChoice::Authlete(s) = choice else {
        panic!("expected Authlete")
    };
    assert_eq!(s.version, ApiVersion::V3);
}

#[test]
fn version_is_case_insensitive_and_names_what_is_missing() {
    assert_eq!(
        missing(&["--authlete-api-version", "v3"]),
        vec![BASE_URL, API_KEY, ACCESS_TOKEN]
    );
    assert_eq!(
        missing(&[
            "--authlete-api-version",
            "V2",
            "--authlete-service-apikey",
            "k"
        ]),
        vec![API_SECRET]
    );
    let err = cli(&["--authlete-api-version", "v9"])
        .backend_choice()
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                name: API_VERSION,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_partial_setting_is_an_error_not_the_local_engine() {
    assert_eq!(
        missing(&["--authlete-base-url", "https://us.authlete.com"]),
        vec![ACCESS_TOKEN, API_KEY]
    );
}

#[test]
fn both_credentials_without_a_version_is_ambiguous() {
    let names = missing(&[
        "--authlete-service-apisecret",
        "s",
        "--authlete-service-accesstoken",
        "t",
    ]);
    assert_eq!(names, vec![API_VERSION]);
}

#[test]
fn a_bad_base_url_is_named() {
    let err = cli(&[
        "--authlete-base-url",
        "ftp://x",
        "--authlete-service-apikey",
        "k",
        "--authlete-service-apisecret",
        "s",
    ])
    .backend_choice()
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { name: BASE_URL, .. }),
        "{err}"
    );
}

#[test]
fn secrets_never_show_in_debug_output() {
    let c = cli(&[
        "--authlete-service-apisecret",
        "s3cr3t-value",
        "--authlete-service-accesstoken",
        "t0k3n-value",
    ]);
    let text = format!("{c:?}");
    assert!(
        !text.contains("s3cr3t-value") && !text.contains("t0k3n-value"),
        "{text}"
    );
}

#[test]
fn local_engine_settings_are_read_and_refused_with_authlete() {
    let c = cli(&[
        "--local-config",
        "/etc/engine.toml",
        "--local-http-listen",
        "127.0.0.1:8081",
    ]);
    assert_eq!(c.local_config.as_deref(), Some("/etc/engine.toml"));
    assert_eq!(c.local_http_listen, Some("127.0.0.1:8081".parse().unwrap()));
    assert!(matches!(c.backend_choice(), Ok(BackendChoice::Local)));
    let err = cli(&[
        "--local-http-listen",
        "127.0.0.1:8081",
        "--authlete-service-apikey",
        "1",
        "--authlete-service-apisecret",
        "s",
    ])
    .backend_choice()
    .unwrap_err();
    assert!(err.to_string().contains("--local-http-listen"), "{err}");
}

#[test]
fn a_continuation_key_must_be_base64_of_32_bytes_or_more() {
    let (_, configured) = cli(&[]).sealer().unwrap();
    assert!(!configured, "no key: a random one");
    let key = "c2VjcmV0LWtleS1vZi10aGUtZGVwbG95bWVudC0wMTIzNDU2Nzg5";
    assert!(cli(&["--continuation-key", key]).sealer().unwrap().1);
    for bad in ["not base64!", "c2hvcnQ="] {
        let err = cli(&["--continuation-key", bad]).sealer().unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: CONTINUATION_KEY,
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_continuation_key_ring_seals_with_the_first_and_opens_with_all() {
    let a = "c2VjcmV0LWtleS1vZi10aGUtZGVwbG95bWVudC0wMTIzNDU2Nzg5";
    let b = "YW5vdGhlci1rZXktb2YtdGhlLWRlcGxveW1lbnQtOTg3NjU0MzIx";
    let (old, _) = cli(&["--continuation-key", a]).sealer().unwrap();
    let (rotated, _) = cli(&["--continuation-key", &format!("{b}, {a}")])
        .sealer()
        .unwrap();
    let (retired, _) = cli(&["--continuation-key", b]).sealer().unwrap();
    let text = old.seal("t", serde_json::json!({}), Duration::from_secs(60));
    assert!(rotated.open::<serde_json::Value>("t", &text).is_ok());
    assert!(retired.open::<serde_json::Value>("t", &text).is_err());
    let err = cli(&["--continuation-key", &format!("{a},c2hvcnQ=")])
        .sealer()
        .unwrap_err()
        .to_string();
    assert!(err.contains("key 2") && !err.contains("c2hvcnQ"), "{err}");
    let err = cli(&["--continuation-key", &format!("{a},{a}")])
        .sealer()
        .unwrap_err()
        .to_string();
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn plain_http_to_authlete_is_for_loopback_unless_allowed() {
    let v3 = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "--authlete-base-url",
            url,
            "--authlete-service-apikey",
            "1",
            "--authlete-service-accesstoken",
            "t",
        ];
        args.extend_from_slice(extra);
        cli(&args).backend_choice()
    };
    for ok in [
        "https://us.authlete.com",
        "http://127.0.0.1:8080",
        "http://[::1]:1",
        "http://localhost:3",
    ] {
        assert!(v3(ok, &[]).is_ok(), "{ok}");
    }
    for insecure in [
        "http://authlete.internal",
        "http://10.0.0.1",
        "http://[fd00::1]",
    ] {
        let err = v3(insecure, &[]).unwrap_err().to_string();
        assert!(err.contains("--authlete-allow-insecure-http"), "{err}");
        assert!(v3(insecure, &["--authlete-allow-insecure-http"]).is_ok());
    }
}

#[test]
fn the_local_http_api_is_for_loopback_unless_allowed() {
    let listen = |extra: &[&str]| {
        let mut args = vec!["--local-http-listen"];
        args.extend_from_slice(extra);
        cli(&args).local_http_listen()
    };
    assert!(listen(&["127.0.0.1:0"]).unwrap().is_some());
    assert!(listen(&["[::1]:0"]).unwrap().is_some());
    let err = listen(&["0.0.0.0:8080"]).unwrap_err().to_string();
    assert!(err.contains("--local-http-allow-remote"), "{err}");
    assert!(listen(&["0.0.0.0:8080", "--local-http-allow-remote"]).is_ok());
    assert_eq!(cli(&[]).local_http_listen(), Ok(None));
}

#[test]
fn resilience_defaults_are_the_documented_ones() {
    let c = cli(&[]);
    let r = c.resilience.resilience(Duration::from_secs(10));
    assert_eq!(r.retries, 2);
    assert_eq!(r.retry_budget_percent, 10);
    assert_eq!(r.breaker.failures, 5);
    assert_eq!(r.breaker.open, Duration::from_secs(1));
    assert_eq!(r.breaker.max_open, Duration::from_secs(30));
    let cache = c.resilience.cache();
    assert_eq!(cache.ttl, Duration::from_secs(300));
    assert_eq!(cache.stale_if_error, Duration::from_secs(3600));
    assert_eq!(cache.max_bytes, 16 * 1024 * 1024);
    assert_eq!(c.resilience.authlete_max_reply_bytes, 4 * 1024 * 1024);
    let introspection = c.resilience.introspection_cache();
    assert_eq!(introspection.ttl, Duration::ZERO, "off unless asked");
    assert_eq!(introspection.max_bytes, 16 * 1024 * 1024);
}

#[test]
fn resilience_flags_reach_the_options() {
    let c = cli(&[
        "--authlete-retries",
        "0",
        "--authlete-breaker-failures",
        "3",
        "--authlete-breaker-open-ms",
        "5000",
        "--authlete-breaker-max-open-ms",
        "100",
        "--discovery-cache-ttl-ms",
        "0",
        "--introspection-cache-ttl-ms",
        "1500",
        "--introspection-cache-bytes",
        "4096",
        "--authlete-max-reply-bytes",
        "1024",
        "--authlete-service-apikey",
        "1",
        "--authlete-service-apisecret",
        "s",
    ]);
    let r = c.resilience.resilience(Duration::from_secs(1));
    assert_eq!((r.retries, r.breaker.failures), (0, 3));
    assert_eq!(
        r.breaker.max_open,
        Duration::from_secs(5),
        "never below the first window"
    );
    assert_eq!(c.resilience.cache().ttl, Duration::ZERO);
    let introspection = c.resilience.introspection_cache();
    assert_eq!(introspection.ttl, Duration::from_millis(1500));
    assert_eq!(introspection.max_bytes, 4096);
    let Ok(BackendChoice::Authlete(s)) = c.backend_choice() else {
        panic!("expected Authlete");
    };
    assert_eq!(s.max_reply_bytes, 1024);
    let mut all = vec!["authlete-grpc", "--authlete-retry-budget-percent", "5000"];
    all.truncate(3);
    assert!(
        Cli::try_parse_from(all).is_err(),
        "the budget is a percentage up to 1000"
    );
}

#[test]
fn listener_limits_default_to_safe_values_and_follow_the_flags() {
    use crate::limits::ListenerLimits;
    assert_eq!(cli(&[]).limits.limits(), ListenerLimits::default());
    let limits = cli(&[
        "--max-concurrent-streams",
        "7",
        "--max-pending-reset-streams",
        "3",
        "--max-local-reset-streams",
        "4",
        "--max-header-list-bytes",
        "4096",
        "--handshake-timeout-ms",
        "250",
        "--idle-timeout-ms",
        "1000",
        "--max-connection-age-ms",
        "60000",
        "--max-connection-age-grace-ms",
        "5000",
        "--max-connections",
        "9",
        "--max-in-flight-rpcs",
        "11",
    ])
    .limits
    .limits();
    assert_eq!(
        limits,
        ListenerLimits {
            max_concurrent_streams: 7,
            max_pending_accept_reset_streams: 3,
            max_local_error_reset_streams: 4,
            max_header_list_bytes: 4096,
            handshake_timeout: Duration::from_millis(250),
            idle_timeout: Duration::from_secs(1),
            max_connection_age: Duration::from_secs(60),
            max_connection_age_grace: Duration::from_secs(5),
            max_connections: 9,
            max_in_flight_rpcs: 11,
            ..ListenerLimits::default()
        }
    );
    for zero in [
        "--max-concurrent-streams",
        "--max-connections",
        "--max-in-flight-rpcs",
    ] {
        let parsed = Cli::try_parse_from(["authlete-grpc", zero, "0"]);
        assert!(parsed.is_err(), "{zero} 0 accepted");
    }
}

#[test]
fn notification_allow_entries_are_checked() {
    let ok = cli(&["--notification-allow", "10.0.0.0/8,localhost,::1"]).notify_options();
    assert!(ok.unwrap().egress.allows_host("localhost"));
    let bad = cli(&["--notification-allow", "10.0.0.0/40"])
        .notify_options()
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("--notification-allow") && bad.contains("10.0.0.0/40"),
        "{bad}"
    );
    let default = cli(&[]).notify_options().unwrap();
    assert_eq!(default, crate::notify::NotifyOptions::default());
}
