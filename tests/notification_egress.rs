//! The egress policy of CIBA notifications, through the real server: loopback
//! destinations (by address and by a name resolving to loopback) are refused
//! by default and reached only when allowed, against loopback listeners that
//! must see no connection when refused. Private and link-local destinations
//! are tried only inside a network namespace this test creates, where those
//! addresses sit on the namespace's own loopback; no packet leaves the machine.

#[allow(unused_imports)] // V2: this suite runs on V3 only
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authlete_grpc::notify::{EgressPolicy, NotifyOptions};
use authlete_grpc::pb::{self, backchannel_authentication_complete_request::Result as Verdict};
use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener that counts the connections it accepts and answers each with
/// `204 No Content`.
async fn counting_listener(addr: &str) -> Option<(SocketAddr, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind(addr).await.ok()?;
    let local = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0; 8192];
                let _ = tcp.read(&mut buf).await;
                let _ = tcp
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Some((local, seen))
}

async fn env_with(allow: &[&str]) -> Env {
    let mut setup = Setup::new(V3);
    setup.server.notify = NotifyOptions {
        egress: EgressPolicy::parse(allow.iter().copied()).expect("valid entries"),
        ..NotifyOptions::default()
    };
    setup.start().await
}

/// Completes a CIBA request whose client wants notifications at `endpoint`.
async fn notify(env: &Env, endpoint: &str) -> pb::ClientNotification {
    let reply = json!({
        "action": "NOTIFICATION", "resultCode": "A198001", "resultMessage": "m",
        "deliveryMode": "PING", "authReqId": "arid-1",
        "clientNotificationEndpoint": endpoint,
        "clientNotificationToken": "notif-token-1",
        "responseContent": "{\"auth_req_id\":\"arid-1\"}",
    });
    env.fake.reply(
        "/backchannel/authentication/complete",
        200,
        reply.to_string(),
    );
    env.backchannel()
        .backchannel_authentication_complete(pb::BackchannelAuthenticationCompleteRequest {
            ticket: "t".to_owned(),
            result: Verdict::Authorized as i32,
            subject: "john".to_owned(),
            ..Default::default()
        })
        .await
        .expect("OK")
        .into_inner()
        .client_notification
        .expect("reported")
}

/// The loopback destinations of this machine: by address and by name.
async fn loopback_targets() -> Vec<(String, Arc<AtomicUsize>, &'static str)> {
    let mut targets = Vec::new();
    let (v4, seen) = counting_listener("127.0.0.1:0").await.expect("127.0.0.1");
    targets.push((format!("127.0.0.1:{}", v4.port()), seen, "127.0.0.1"));
    match counting_listener("[::1]:0").await {
        Some((v6, seen)) => targets.push((format!("[::1]:{}", v6.port()), seen, "::1")),
        None => eprintln!("skipping [::1]: no IPv6 loopback here"),
    }
    // `localhost` resolves to 127.0.0.1 (and maybe ::1): listen on both
    // addresses with one port where we can.
    let (name, seen) = counting_listener("127.0.0.1:0").await.expect("127.0.0.1");
    targets.push((format!("localhost:{}", name.port()), seen, "localhost"));
    targets
}

#[tokio::test]
async fn loopback_destinations_are_refused_by_default_without_a_connection() {
    let env = env_with(&[]).await;
    for (target, seen, _) in loopback_targets().await {
        for scheme in ["https", "http"] {
            let n = notify(&env, &format!("{scheme}://{target}/ciba/notify")).await;
            assert!(!n.delivered, "{scheme}://{target}");
            assert_eq!(n.status, 0);
            assert!(
                n.error.contains("egress policy") || n.error.contains("must be https"),
                "{scheme}://{target}: {}",
                n.error
            );
            assert!(!n.error.contains("notif-token-1"));
        }
        let n = notify(&env, &format!("https://{target}/ciba/notify")).await;
        assert!(n.error.contains("loopback"), "{target}: {}", n.error);
        assert!(n.error.contains("--notification-allow"), "{}", n.error);
        assert_eq!(seen.load(Ordering::SeqCst), 0, "{target} saw a connection");
    }
}

#[tokio::test]
async fn allowed_loopback_destinations_are_reached() {
    let env = env_with(&["127.0.0.1", "::1", "localhost"]).await;
    for (target, seen, _) in loopback_targets().await {
        let n = notify(&env, &format!("http://{target}/ciba/notify")).await;
        assert!(n.delivered, "{target}: {}", n.error);
        assert_eq!(n.status, 204);
        assert_eq!(seen.load(Ordering::SeqCst), 1, "{target}");
    }
}

#[tokio::test]
async fn each_allow_entry_covers_only_itself() {
    // (127.0.0.1 also covers `localhost` when it resolves to 127.0.0.1 only.)
    for (allow, reached) in [("::1", "::1"), ("localhost", "localhost")] {
        let env = env_with(&[allow]).await;
        for (target, seen, name) in loopback_targets().await {
            let n = notify(&env, &format!("http://{target}/ciba/notify")).await;
            let expected = name == reached;
            assert_eq!(
                n.delivered, expected,
                "allow {allow}, {target}: {}",
                n.error
            );
            assert_eq!(seen.load(Ordering::SeqCst), usize::from(expected));
        }
    }
}

#[tokio::test]
async fn other_schemes_are_refused() {
    let env = env_with(&["127.0.0.1"]).await;
    let n = notify(&env, "ftp://127.0.0.1:21/x").await;
    assert!(n.error.contains("must be https"), "{}", n.error);
    let n = notify(&env, "not a url").await;
    assert!(n.error.contains("not a URL"), "{}", n.error);
}

/// Inside a new network namespace (as root: `unshare -n`), puts 10.0.0.1
/// and 169.254.169.254 on the namespace's loopback and runs the
/// `namespaced` test there.
#[test]
fn private_and_link_local_destinations_inside_a_network_namespace() {
    if std::env::var_os("AUTHLETE_GRPC_TEST_IN_NETNS").is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "ip link set lo up && ip addr add 10.0.0.1/32 dev lo && \
         ip addr add 169.254.169.254/32 dev lo && \
         exec {} namespaced --exact --include-ignored --nocapture",
        exe.display()
    );
    let run = std::process::Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .env("AUTHLETE_GRPC_TEST_IN_NETNS", "1")
        .output();
    let out = match run {
        Ok(out) if out.status.success() => out,
        Ok(out)
            if String::from_utf8_lossy(&out.stderr).contains("unshare failed")
                || String::from_utf8_lossy(&out.stderr).contains("Operation not permitted") =>
        {
            eprintln!(
                "skipping the namespace cases: cannot create a network namespace here ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Ok(out) => panic!(
            "the namespaced test failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            eprintln!("skipping the namespace cases: no unshare ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// Runs only inside the namespace made above (ignored otherwise, so it never
/// binds those addresses on the host).
#[tokio::test]
#[ignore = "run inside a network namespace by private_and_link_local_destinations_inside_a_network_namespace"]
async fn namespaced() {
    assert!(
        std::env::var_os("AUTHLETE_GRPC_TEST_IN_NETNS").is_some(),
        "only inside the test's own network namespace"
    );
    let refused = env_with(&[]).await;
    let allowed = env_with(&["10.0.0.0/8", "169.254.169.254"]).await;
    for addr in ["10.0.0.1", "169.254.169.254"] {
        let (local, seen) = counting_listener(&format!("{addr}:0")).await.expect(addr);
        let n = notify(&refused, &format!("https://{local}/ciba/notify")).await;
        assert!(!n.delivered);
        let class = if addr == "10.0.0.1" {
            "private"
        } else {
            "link-local"
        };
        assert!(n.error.contains(class), "{addr}: {}", n.error);
        assert_eq!(seen.load(Ordering::SeqCst), 0, "{addr} saw a connection");
        let n = notify(&allowed, &format!("http://{local}/ciba/notify")).await;
        assert!(n.delivered, "{addr}: {}", n.error);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
