//! The `authlete-grpc` binary: parse settings, pick the backend, serve.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use authlete_grpc::backend::{Api, AuthleteBackend, Backend, BackendError, Call};
use authlete_grpc::config::{BackendChoice, Cli, LogFormat};
use authlete_grpc::server::{self, ServerOptions};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let backend: Arc<dyn Backend> = match cli.backend_choice() {
        Ok(BackendChoice::Authlete(settings)) => match AuthleteBackend::new(&settings) {
            Ok(b) => {
                tracing::info!(base_url = %settings.base_url, version = ?settings.version, "backend: Authlete");
                Arc::new(b)
            }
            Err(e) => return fail(&e),
        },
        Ok(BackendChoice::Local) => {
            return fail(
                "the offline local engine is not part of this build yet, so the service needs Authlete: set \
                 AUTHLETE_BASE_URL, AUTHLETE_SERVICE_APIKEY (the service ID) and AUTHLETE_SERVICE_ACCESSTOKEN for \
                 API v3, or AUTHLETE_SERVICE_APIKEY and AUTHLETE_SERVICE_APISECRET for API v2; see --help",
            );
        }
        Err(e) => return fail(&e.to_string()),
    };
    let listener = match tokio::net::TcpListener::bind(cli.listen).await {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {}: {e}", cli.listen)),
    };
    tracing::info!(listen = %cli.listen, "serving gRPC");
    tokio::spawn(check_authlete(backend.clone()));
    let options = ServerOptions {
        max_message_bytes: cli.max_message_bytes,
        shutdown_delay: Duration::from_millis(cli.shutdown_delay_ms),
        drain_timeout: Duration::from_millis(cli.drain_timeout_ms),
    };
    match server::serve(listener, backend, options, server::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("server failed: {e}")),
    }
}

/// Reads the discovery document once at startup so that wrong credentials
/// show up in the log at once, not at the first OAuth request.
async fn check_authlete(backend: Arc<dyn Backend>) {
    let call = Call {
        api: Api::ServiceConfiguration,
        query: Vec::new(),
        body: None,
    };
    match backend.call(call).await {
        Ok(_) => tracing::info!("Authlete answered the startup check"),
        Err(
            e @ BackendError::Status {
                status: 401 | 403, ..
            },
        ) => {
            tracing::error!(error = %e, "Authlete rejected this service's credentials: every RPC will fail until AUTHLETE_* settings are fixed");
        }
        Err(e) => tracing::warn!(error = %e, "Authlete startup check failed"),
    }
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn fail(message: &str) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("authlete-grpc: {message}");
    ExitCode::FAILURE
}
