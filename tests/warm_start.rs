//! Warm start: with the Authlete backend, the binary's startup check of the
//! credentials fills the discovery cache, so the first discovery request a
//! web tier forwards is answered without calling Authlete.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authlete_grpc::pb;
use common::*;
use tonic::transport::Channel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_startup_check_fills_the_discovery_cache() {
    let fake = FakeAuthlete::start().await;
    let document = r#"{"issuer":"https://as.example"}"#;
    fake.reply("/service/configuration", 200, document);
    let mut child = Command::new(env!("CARGO_BIN_EXE_authlete-grpc"))
        .env_clear()
        .env("AUTHLETE_BASE_URL", fake.base_url())
        .env("AUTHLETE_SERVICE_APIKEY", API_KEY)
        .env("AUTHLETE_SERVICE_ACCESSTOKEN", ACCESS_TOKEN)
        .env("AUTHLETE_GRPC_LISTEN", "127.0.0.1:0")
        .env("AUTHLETE_GRPC_INSECURE_NO_CALLER_AUTH", "true")
        .env("AUTHLETE_GRPC_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let rx = stderr_lines(&mut child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut listen, mut checked, mut seen) = (None, false, Vec::new());
    while Instant::now() < deadline && !(checked && listen.is_some()) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(rest) = line.split("listen=").nth(1) {
                listen = rest.split_whitespace().next().map(str::to_owned);
            }
            checked |= line.contains("Authlete answered the startup check");
            seen.push(line);
        }
    }
    let result = async {
        let listen = listen.clone().expect("the listen address");
        let channel = Channel::from_shared(format!("http://{listen}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        pb::discovery_service_client::DiscoveryServiceClient::new(channel)
            .service_configuration(pb::ServiceConfigurationRequest::default())
            .await
    }
    .await;
    child.kill().expect("stop the child we started");
    let _ = child.wait();
    let text = seen.join("\n");
    assert!(checked, "{text}");
    assert_eq!(result.expect("OK").into_inner().authlete_response, document);
    assert_eq!(
        fake.requests().len(),
        1,
        "only the startup check reached Authlete"
    );
}
