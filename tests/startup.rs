//! The binary's safe defaults: with the Authlete backend it refuses to start
//! without caller authentication, unless told so explicitly, and then warns.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "SECRET-startup-token-4242";

fn authlete_grpc() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authlete-grpc"));
    command
        .env_clear()
        .env("AUTHLETE_BASE_URL", "http://127.0.0.1:9")
        .env("AUTHLETE_SERVICE_APIKEY", "4711")
        .env("AUTHLETE_SERVICE_ACCESSTOKEN", TOKEN)
        .env("AUTHLETE_GRPC_LISTEN", "127.0.0.1:0")
        .env("AUTHLETE_GRPC_LOG_FORMAT", "text")
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null());
    command
}

#[test]
fn refuses_to_start_on_authlete_without_caller_authentication() {
    let out = authlete_grpc().output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("refusing to start"), "{stderr}");
    assert!(stderr.contains("--insecure-no-caller-auth"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");
}

#[test]
fn starts_open_only_when_told_and_warns() {
    let mut child = authlete_grpc()
        .arg("--insecure-no-caller-auth")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let mut serving = false;
    while Instant::now() < deadline && !serving {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            serving = line.contains("serving gRPC");
            seen.push(line);
        }
    }
    child.kill().expect("stop the child we started");
    let _ = child.wait();
    let text = seen.join("\n");
    assert!(serving, "{text}");
    assert!(text.contains("caller authentication is OFF"), "{text}");
    assert!(text.contains("WARN"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}
