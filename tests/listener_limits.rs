//! The listener limits through a real server on loopback: the handshake
//! deadline, the stream limit, the reset-flood cut-offs ("Rapid Reset",
//! "MadeYouReset"), the connection bound, the idle timeout, in-flight RPC
//! shedding (health still answers) and the request size bound. Raw HTTP/2
//! frames are written by hand where a well-behaved client (h2) cannot misbehave.

#[path = "common/certs.rs"]
#[allow(dead_code)] // client certificates are not needed here
mod certs;
#[allow(unused_imports)] // V2: this suite runs on V3 only
mod common;

use std::time::{Duration, Instant};

use authlete_grpc::limits::{LimitsMetrics, ListenerLimits};
use authlete_grpc::pb;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

async fn env_with(limits: ListenerLimits) -> Env {
    env_counting(limits, LimitsMetrics::default()).await
}

async fn env_counting(limits: ListenerLimits, metrics: LimitsMetrics) -> Env {
    let mut setup = Setup::new(V3);
    setup.server.limits = limits;
    setup.server.limits_metrics = metrics;
    setup.start().await
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const END_HEADERS: u8 = 0x4;
const ENHANCE_YOUR_CALM: u32 = 0xb;
const REFUSED_STREAM: u32 = 0x7;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// An HPACK literal (without indexing) with an indexed name, or a new name.
fn literal(out: &mut Vec<u8>, name: Result<u8, &str>, value: &str) {
    match name {
        Ok(index) if index < 15 => out.push(index),
        Ok(index) => out.extend([0x0f, index - 15]),
        Err(name) => {
            out.extend([0x00, name.len() as u8]);
            out.extend(name.as_bytes());
        }
    }
    out.push(value.len() as u8);
    out.extend(value.as_bytes());
}

/// The HEADERS of a gRPC request that has not ended (no END_STREAM).
fn request_headers(stream: u32) -> Vec<u8> {
    let mut block = vec![0x83, 0x86]; // :method POST, :scheme http
    literal(&mut block, Ok(4), "/grpc.health.v1.Health/Check"); // :path
    literal(&mut block, Ok(1), "localhost"); // :authority
    literal(&mut block, Ok(31), "application/grpc"); // content-type
    literal(&mut block, Err("te"), "trailers");
    frame(HEADERS, END_HEADERS, stream, &block)
}

/// A raw HTTP/2 connection: the preface and an empty SETTINGS sent.
async fn raw(env: &Env) -> TcpStream {
    let mut tcp = TcpStream::connect(env.addr).await.unwrap();
    tcp.write_all(PREFACE).await.unwrap();
    tcp.write_all(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
    tcp
}

/// The frames the server sends until it closes the connection or `wait`
/// passes: (type, stream, error code of RST_STREAM / GOAWAY).
async fn frames_until_close(tcp: &mut TcpStream, wait: Duration) -> (Vec<(u8, u32, u32)>, bool) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let closed = loop {
        match tokio::time::timeout(wait, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => buf.extend(&chunk[..n]),
            Err(_) => break false,
        }
    };
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 9 <= buf.len() {
        let len = u32::from_be_bytes([0, buf[at], buf[at + 1], buf[at + 2]]) as usize;
        let (kind, stream) = (
            buf[at + 3],
            u32::from_be_bytes(buf[at + 5..at + 9].try_into().unwrap()),
        );
        let payload = &buf[at + 9..(at + 9 + len).min(buf.len())];
        let code = match kind {
            RST_STREAM if payload.len() >= 4 => {
                u32::from_be_bytes(payload[..4].try_into().unwrap())
            }
            GOAWAY if payload.len() >= 8 => u32::from_be_bytes(payload[4..8].try_into().unwrap()),
            _ => 0,
        };
        frames.push((kind, stream & 0x7fff_ffff, code));
        at += 9 + len;
    }
    (frames, closed)
}

fn has(frames: &[(u8, u32, u32)], kind: u8, code: u32) -> bool {
    frames.iter().any(|&(k, _, c)| k == kind && c == code)
}

#[tokio::test]
async fn a_connection_that_never_speaks_http2_is_closed_after_the_handshake_timeout() {
    let metrics = LimitsMetrics::default();
    let limits = ListenerLimits {
        handshake_timeout: Duration::from_millis(300),
        ..ListenerLimits::default()
    };
    let env = env_counting(limits, metrics.clone()).await;
    for sent in [&b""[..], &PREFACE[..10]] {
        let mut tcp = TcpStream::connect(env.addr).await.unwrap();
        tcp.write_all(sent).await.unwrap();
        let started = Instant::now();
        let (_, closed) = frames_until_close(&mut tcp, Duration::from_secs(5)).await;
        assert!(
            closed,
            "still open after 5 s having sent {} bytes",
            sent.len()
        );
        assert!(started.elapsed() >= Duration::from_millis(250));
    }
    // A client that sends its preface in time is served past the deadline.
    let mut tcp = raw(&env).await;
    let (frames, closed) = frames_until_close(&mut tcp, Duration::from_millis(800)).await;
    assert!(!closed && has(&frames, SETTINGS, 0), "{frames:?}");
    assert_eq!(metrics.handshake_timeouts.get(), 2);
}

#[tokio::test]
async fn a_client_opening_more_streams_than_allowed_is_limited() {
    let env = env_with(ListenerLimits {
        max_concurrent_streams: 2,
        ..ListenerLimits::default()
    })
    .await;
    // A well-behaved client learns the limit from SETTINGS.
    let tcp = TcpStream::connect(env.addr).await.unwrap();
    let (mut client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    client = client.ready().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while client.current_max_send_streams() != 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(client.current_max_send_streams(), 2);

    // One that ignores it gets its third open stream refused.
    let mut tcp = raw(&env).await;
    for stream in [1, 3, 5] {
        tcp.write_all(&request_headers(stream)).await.unwrap();
    }
    let (frames, _) = frames_until_close(&mut tcp, Duration::from_millis(500)).await;
    assert!(
        frames
            .iter()
            .any(|&(k, s, c)| k == RST_STREAM && s == 5 && c == REFUSED_STREAM),
        "{frames:?}"
    );
    assert!(
        !frames.iter().any(|&(k, s, _)| k == RST_STREAM && s != 5),
        "{frames:?}"
    );
}

/// Opens `n` streams, each followed by `abuse(stream)`, in one write.
async fn flood(env: &Env, n: u32, abuse: impl Fn(u32) -> Vec<u8>) -> Vec<(u8, u32, u32)> {
    let mut tcp = raw(env).await;
    let mut burst = Vec::new();
    for i in 0..n {
        let stream = 2 * i + 1;
        burst.extend(request_headers(stream));
        burst.extend(abuse(stream));
    }
    let _ = tcp.write_all(&burst).await;
    let (frames, closed) = frames_until_close(&mut tcp, Duration::from_secs(3)).await;
    assert!(closed, "the flooding connection stays open: {frames:?}");
    frames
}

#[tokio::test]
async fn a_rapid_reset_flood_is_cut_off() {
    let env = env_with(ListenerLimits {
        max_pending_accept_reset_streams: 5,
        ..ListenerLimits::default()
    })
    .await;
    // Open and cancel at once (CVE-2023-44487).
    let frames = flood(&env, 200, |s| frame(RST_STREAM, 0, s, &8u32.to_be_bytes())).await;
    assert!(has(&frames, GOAWAY, ENHANCE_YOUR_CALM), "{frames:?}");
}

#[tokio::test]
async fn a_made_you_reset_flood_is_cut_off() {
    let env = env_with(ListenerLimits {
        max_local_error_reset_streams: 5,
        ..ListenerLimits::default()
    })
    .await;
    // A WINDOW_UPDATE that overflows the stream's window: the server must
    // reset the stream itself (CVE-2025-8671).
    let overflow = |s| frame(WINDOW_UPDATE, 0, s, &0x7fff_ffffu32.to_be_bytes());
    let frames = flood(&env, 50, overflow).await;
    assert!(has(&frames, GOAWAY, ENHANCE_YOUR_CALM), "{frames:?}");
    let resets = frames.iter().filter(|f| f.0 == RST_STREAM).count();
    assert!(resets <= 5, "{resets} resets before the GOAWAY");
}

#[tokio::test]
async fn connections_beyond_the_maximum_are_refused() {
    let metrics = LimitsMetrics::default();
    let limits = ListenerLimits {
        max_connections: 2,
        ..ListenerLimits::default()
    };
    let env = env_counting(limits, metrics.clone()).await;
    let mut held = vec![raw(&env).await, raw(&env).await];
    for tcp in &mut held {
        let (frames, closed) = frames_until_close(tcp, Duration::from_millis(300)).await;
        assert!(!closed && has(&frames, SETTINGS, 0));
    }
    let mut third = raw(&env).await;
    let (frames, closed) = frames_until_close(&mut third, Duration::from_secs(2)).await;
    assert!(closed && frames.is_empty(), "{frames:?}");
    assert_eq!(metrics.refused_connections.get(), 1);
    // A freed place is taken again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = raw(&env).await;
    let (frames, closed) = frames_until_close(&mut again, Duration::from_millis(300)).await;
    assert!(!closed && has(&frames, SETTINGS, 0), "{frames:?}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_busy_one_is_not() {
    let env = env_with(ListenerLimits {
        idle_timeout: Duration::from_millis(400),
        ..ListenerLimits::default()
    })
    .await;
    let mut idle = raw(&env).await;
    let (_, closed) = frames_until_close(&mut idle, Duration::from_secs(3)).await;
    assert!(closed, "an idle connection stays open");
    // An RPC in flight for longer than the idle timeout keeps it open.
    env.fake.script(
        "/auth/introspection",
        Scripted::new(200, fixture("introspection/ok.json")).delay(Duration::from_millis(900)),
    );
    let reply = env.introspection().introspection(introspection()).await;
    assert!(reply.is_ok(), "{reply:?}");
}

fn introspection() -> pb::IntrospectionRequest {
    pb::IntrospectionRequest {
        token: "t".to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn rpcs_beyond_the_in_flight_limit_are_shed_at_once_while_health_answers() {
    let metrics = LimitsMetrics::default();
    let limits = ListenerLimits {
        max_in_flight_rpcs: 2,
        retry_after: Duration::from_millis(250),
        ..ListenerLimits::default()
    };
    let env = env_counting(limits, metrics.clone()).await;
    env.fake.script(
        "/auth/introspection",
        Scripted::new(200, fixture("introspection/ok.json")).delay(Duration::from_secs(2)),
    );
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let mut client = env.introspection();
            tokio::spawn(async move { client.introspection(introspection()).await })
        })
        .collect();
    // Until both are in flight at the fake.
    let deadline = Instant::now() + Duration::from_secs(2);
    while env.fake.requests().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    let shed = env
        .introspection()
        .introspection(introspection())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "not at once"
    );
    assert_eq!(shed.code(), Code::ResourceExhausted, "{shed:?}");
    let details = shed.get_error_details();
    assert_eq!(
        details.retry_info().and_then(|r| r.retry_delay),
        Some(Duration::from_millis(250))
    );
    assert_eq!(
        details.error_info().map(|e| e.reason.as_str()),
        Some("OVERLOADED")
    );
    assert_eq!(env.fake.requests().len(), 2, "the shed RPC reached nobody");
    assert_eq!(metrics.shed.get(), 1);
    assert_eq!(env.health_of("").await, ServingStatus::Serving);
    for call in slow {
        assert!(call.await.unwrap().is_ok());
    }
    // Places come back once the RPCs end.
    env.fake
        .reply("/auth/introspection", 200, fixture("introspection/ok.json"));
    assert!(
        env.introspection()
            .introspection(introspection())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_oversized_request_is_resource_exhausted() {
    let mut setup = Setup::new(V3);
    setup.server.max_message_bytes = 1024;
    let env = setup.start().await;
    let mut request = introspection();
    request.token = "x".repeat(2048);
    let error = env
        .introspection()
        .introspection(request)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted, "{error:?}");
    assert!(
        error.message().contains("--max-message-bytes"),
        "{}",
        error.message()
    );
    assert_eq!(
        error
            .get_error_details()
            .error_info()
            .map(|e| e.reason.as_str()),
        Some("REQUEST_TOO_LARGE")
    );
    env.fake.assert_no_request();
}

#[tokio::test]
async fn an_old_connection_is_told_to_go_away_then_closed_after_the_grace() {
    let env = env_with(ListenerLimits {
        max_connection_age: Duration::from_millis(300),
        max_connection_age_grace: Duration::from_millis(400),
        ..ListenerLimits::default()
    })
    .await;
    let started = Instant::now();
    let mut tcp = raw(&env).await;
    // A request that never ends keeps the connection past its GOAWAY.
    tcp.write_all(&request_headers(1)).await.unwrap();
    let (frames, closed) = frames_until_close(&mut tcp, Duration::from_secs(3)).await;
    assert!(has(&frames, GOAWAY, 0), "no GOAWAY: {frames:?}");
    assert!(closed, "still open after the grace");
    assert!(
        started.elapsed() >= Duration::from_millis(650),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_tls_listener_has_the_same_handshake_deadline() {
    use authlete_grpc::auth::tls::{TlsSettings, install_crypto_provider};
    use tonic::transport::{Certificate, Channel, ClientTlsConfig};
    install_crypto_provider();
    let ca = certs::Ca::new("test CA");
    let dir = certs::temp_dir("limits-tls");
    let leaf = ca.server();
    let tls = TlsSettings {
        cert: certs::write(&dir, "server.crt", &leaf.cert_pem),
        key: certs::write(&dir, "server.key", &leaf.key_pem),
        client_ca: None,
    };
    let mut setup = Setup::new(V3);
    setup.server.tls = Some(tls.server_config().expect("valid TLS files"));
    setup.server.limits = ListenerLimits {
        handshake_timeout: Duration::from_millis(300),
        ..ListenerLimits::default()
    };
    let env = setup.start().await;
    // Silent TCP, no ClientHello: closed at the deadline.
    let mut tcp = TcpStream::connect(env.addr).await.unwrap();
    let (_, closed) = frames_until_close(&mut tcp, Duration::from_secs(5)).await;
    assert!(closed, "a silent TLS connection stays open");
    // A real TLS client is served.
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca.pem()))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{}", env.addr.port()))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("TLS connection");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health over TLS");
    assert_eq!(reply.into_inner().status(), ServingStatus::Serving);
}
