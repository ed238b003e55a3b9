//! The binary's safe defaults: with the Authlete backend it refuses to start
//! without caller authentication, unless told so explicitly, and then warns.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::stderr_lines;

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
    let rx = stderr_lines(&mut child);
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

/// The binary with the local engine (no Authlete setting) and `args`: its
/// exit status and stderr, when it refuses to start.
fn refused_locally(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_authlete-grpc"))
        .env_clear()
        .env("AUTHLETE_GRPC_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    stderr
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "authlete-grpc-startup-{}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_local_http_api_refuses_a_non_loopback_address() {
    let stderr = refused_locally(&["--local-http-listen", "0.0.0.0:0"], &[]);
    assert!(stderr.contains("--local-http-allow-remote"), "{stderr}");
    assert!(
        stderr.contains("AUTHLETE_LOCAL_HTTP_ALLOW_REMOTE"),
        "{stderr}"
    );
}

#[test]
fn authz_off_loopback_needs_caller_authentication() {
    let stderr = refused_locally(&["--authz-http-listen", "0.0.0.0:0"], &[]);
    assert!(
        stderr.contains("/authz listens on loopback only, not 0.0.0.0:0"),
        "{stderr}"
    );
}

#[test]
fn plain_http_to_a_remote_authlete_is_refused() {
    let stderr = refused_locally(
        &["--insecure-no-caller-auth"],
        &[
            ("AUTHLETE_BASE_URL", "http://authlete.example"),
            ("AUTHLETE_SERVICE_APIKEY", "4711"),
            ("AUTHLETE_SERVICE_ACCESSTOKEN", TOKEN),
        ],
    );
    assert!(
        stderr.contains("--authlete-allow-insecure-http"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");
}

#[test]
fn toml_errors_name_the_line_and_key_never_the_value() {
    let config = temp_file(
        "engine.toml",
        "issuer = \"https://as.example\"\n[registration]\ninitial_access_token = 4242424242\n",
    );
    let stderr = refused_locally(&["--local-config", config.to_str().unwrap()], &[]);
    assert!(
        stderr.contains("line 3, key `initial_access_token`"),
        "{stderr}"
    );
    assert!(!stderr.contains("4242424242"), "{stderr}");
    let broken = temp_file(
        "broken.toml",
        "[registration]\ninitial_access_token = \"SECRET-iat\n",
    );
    let stderr = refused_locally(&["--local-config", broken.to_str().unwrap()], &[]);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(!stderr.contains("SECRET-iat"), "{stderr}");

    let policy = temp_file(
        "policy.toml",
        "[callers.\"key:web\"]\nallow = \"SECRET-pasted-here\"\n",
    );
    let stderr = refused_locally(&["--caller-policy", policy.to_str().unwrap()], &[]);
    assert!(stderr.contains("line 2, key `allow`"), "{stderr}");
    assert!(!stderr.contains("SECRET-pasted"), "{stderr}");
    for path in [config, broken, policy] {
        let _ = std::fs::remove_file(path);
    }
}
