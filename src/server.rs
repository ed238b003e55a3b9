//! Wiring: the tonic server with every service, health, reflection, limits,
//! caller authentication, TLS and graceful shutdown.

mod deadline;
mod listeners;

pub use deadline::DeadlineLayer;

pub use listeners::HealthListener;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::api::Sealer;
use crate::auth::{CallerAuth, CallerAuthLayer};
use crate::authz::AuthzOptions;
use crate::authz::http::AuthzHttpListener;
use crate::backend::Backend;
use crate::grpc::Gateway;
use crate::limits::{LimitsLayer, LimitsMetrics, ListenerLimits};
use crate::metrics::{Metrics, MetricsLayer};
use crate::notify::{HttpNotifier, NotifyOptions};
use crate::pb::authorization_service_server::AuthorizationServiceServer;
use crate::pb::backchannel_authentication_service_server::BackchannelAuthenticationServiceServer;
use crate::pb::backchannel_logout_service_server::BackchannelLogoutServiceServer;
use crate::pb::client_attestation_service_server::ClientAttestationServiceServer;
use crate::pb::client_registration_service_server::ClientRegistrationServiceServer;
use crate::pb::credential_issuance_service_server::CredentialIssuanceServiceServer;
use crate::pb::device_flow_service_server::DeviceFlowServiceServer;
use crate::pb::discovery_service_server::DiscoveryServiceServer;
use crate::pb::federation_service_server::FederationServiceServer;
use crate::pb::grant_management_service_server::GrantManagementServiceServer;
use crate::pb::id_token_service_server::IdTokenServiceServer;
use crate::pb::introspection_service_server::IntrospectionServiceServer;
use crate::pb::native_sso_service_server::NativeSsoServiceServer;
use crate::pb::pushed_authorization_service_server::PushedAuthorizationServiceServer;
use crate::pb::revocation_service_server::RevocationServiceServer;
use crate::pb::token_management_service_server::TokenManagementServiceServer;
use crate::pb::token_service_server::TokenServiceServer;
use crate::pb::user_info_service_server::UserInfoServiceServer;

/// Server limits, shutdown timing, the continuation key, and who may call.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest request message accepted.
    pub max_message_bytes: usize,
    /// Time spent NOT_SERVING before the listener closes.
    pub shutdown_delay: Duration,
    /// Time in-flight RPCs get to finish after the listener closes.
    pub drain_timeout: Duration,
    /// Seals the continuations of two-step flows; the replicas of one
    /// deployment need the same key. The default is a random key, good for a
    /// single process.
    pub sealer: Sealer,
    /// Caller authentication and permissions, checked before any service
    /// (health and reflection stay open). Default: none, every call is let
    /// through; the binary refuses that with the Authlete backend.
    pub caller_auth: Option<Arc<CallerAuth>>,
    /// TLS on the listener (see `auth::tls`). Default: plaintext.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Whether to serve server reflection. Default: yes.
    pub reflection: bool,
    /// A second, plaintext listener that serves only grpc.health.v1.
    pub health_listener: Option<HealthListener>,
    /// Largest reply message sent. A reply carries Authlete's JSON twice (raw
    /// and as the HTTP body), so the default, [`max_encoding_bytes`] of the
    /// default reply bound, fits any reply Authlete may send.
    pub max_encoding_bytes: usize,
    /// What a peer may make the listeners hold (streams, connections, RPCs
    /// in flight, deadlines).
    pub limits: ListenerLimits,
    /// Counts what the limits refused.
    pub limits_metrics: LimitsMetrics,
    /// Where CIBA notifications may go.
    pub notify: NotifyOptions,
    /// Where every RPC is counted (serve `/metrics` from it with
    /// `metrics::serve_endpoint`). Default: none.
    pub metrics: Option<Arc<Metrics>>,
    /// Whether each RPC opens a server span (see `telemetry`). Default: no.
    pub traces: bool,
    /// How Envoy's `Check` (main listener) and `/authz` answer.
    pub authz: AuthzOptions,
    /// A listener for HTTP forward auth (`/authz`), with the main listener's
    /// TLS, caller authentication and connection limits.
    pub authz_http_listener: Option<AuthzHttpListener>,
}

/// The reply cap that fits an Authlete reply of `max_reply_bytes`: twice the
/// reply (raw JSON and HTTP body) plus 64 KiB for the other fields.
pub fn max_encoding_bytes(max_reply_bytes: usize) -> usize {
    max_reply_bytes.saturating_mul(2).saturating_add(64 * 1024)
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_message_bytes: 256 * 1024,
            shutdown_delay: Duration::ZERO,
            drain_timeout: Duration::from_secs(20),
            sealer: Sealer::random(),
            caller_auth: None,
            tls: None,
            reflection: true,
            health_listener: None,
            max_encoding_bytes: max_encoding_bytes(crate::backend::DEFAULT_MAX_REPLY_BYTES),
            limits: ListenerLimits::default(),
            limits_metrics: LimitsMetrics::default(),
            notify: NotifyOptions::default(),
            metrics: None,
            traces: false,
            authz: AuthzOptions::default(),
            authz_http_listener: None,
        }
    }
}

/// The fully qualified names of every Authlete service, as health reports them.
pub const SERVICE_NAMES: &[&str] = &[
    <AuthorizationServiceServer<Gateway> as NamedService>::NAME,
    <PushedAuthorizationServiceServer<Gateway> as NamedService>::NAME,
    <TokenServiceServer<Gateway> as NamedService>::NAME,
    <IntrospectionServiceServer<Gateway> as NamedService>::NAME,
    <RevocationServiceServer<Gateway> as NamedService>::NAME,
    <UserInfoServiceServer<Gateway> as NamedService>::NAME,
    <DiscoveryServiceServer<Gateway> as NamedService>::NAME,
    <BackchannelAuthenticationServiceServer<Gateway> as NamedService>::NAME,
    <DeviceFlowServiceServer<Gateway> as NamedService>::NAME,
    <ClientRegistrationServiceServer<Gateway> as NamedService>::NAME,
    <GrantManagementServiceServer<Gateway> as NamedService>::NAME,
    <IdTokenServiceServer<Gateway> as NamedService>::NAME,
    <NativeSsoServiceServer<Gateway> as NamedService>::NAME,
    <FederationServiceServer<Gateway> as NamedService>::NAME,
    <CredentialIssuanceServiceServer<Gateway> as NamedService>::NAME,
    <TokenManagementServiceServer<Gateway> as NamedService>::NAME,
    <BackchannelLogoutServiceServer<Gateway> as NamedService>::NAME,
    <ClientAttestationServiceServer<Gateway> as NamedService>::NAME,
];

/// Serves on `listener` until `shutdown` completes, then drains: health goes
/// NOT_SERVING, the listener closes after the shutdown delay, and in-flight
/// RPCs get the drain timeout to finish.
pub async fn serve(
    listener: TcpListener,
    backend: Arc<dyn Backend>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    let notifier = Arc::new(HttpNotifier::new(&options.notify));
    let gateway = Gateway::new(backend.clone(), options.sealer.clone()).with_notifier(notifier);
    let (reporter, health) = tonic_health::server::health_reporter();
    set_all(&reporter, ServingStatus::Serving).await;
    let reflection_v1 = options.reflection.then(|| {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .expect("the embedded descriptor sets are valid")
    });
    let reflection_v1alpha = options.reflection.then(|| {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .expect("the embedded descriptor sets are valid")
    });
    let health_only = options
        .health_listener
        .as_ref()
        .and_then(HealthListener::take)
        .map(|l| {
            let serving = listeners::serve_health(
                l,
                health.clone(),
                options.limits.clone(),
                options.limits_metrics.clone(),
            );
            tokio::spawn(serving)
        });

    let forward_auth = options
        .authz_http_listener
        .as_ref()
        .and_then(AuthzHttpListener::take)
        .map(|l| tokio::spawn(listeners::serve_authz(l, backend.clone(), &options)));
    let _forward_auth = listeners::AbortOnDrop(forward_auth);
    let envoy_check = envoy_types::ext_authz::v3::pb::AuthorizationServer::new(
        crate::authz::envoy::Check::new(backend.clone(), options.authz.clone()),
    )
    .max_decoding_message_size(options.max_message_bytes)
    .max_encoding_message_size(options.max_encoding_bytes);
    let max = options.max_message_bytes;
    let max_out = options.max_encoding_bytes;
    macro_rules! limited {
        ($server:ident) => {
            $server::new(gateway.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max_out)
        };
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let limits = &options.limits;
    let router = listeners::limited_builder(limits)
        // Outermost: shed, refused and undecodable requests are counted too.
        .layer(MetricsLayer::new(options.metrics.clone(), options.traces))
        .layer(LimitsLayer::new(
            limits,
            max,
            options.limits_metrics.clone(),
        ))
        .layer(CallerAuthLayer::new(options.caller_auth.clone()))
        .layer(DeadlineLayer)
        .add_service(health)
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha)
        .add_service(limited!(AuthorizationServiceServer))
        .add_service(limited!(PushedAuthorizationServiceServer))
        .add_service(limited!(TokenServiceServer))
        .add_service(limited!(IntrospectionServiceServer))
        .add_service(limited!(RevocationServiceServer))
        .add_service(limited!(UserInfoServiceServer))
        .add_service(limited!(DiscoveryServiceServer))
        .add_service(limited!(BackchannelAuthenticationServiceServer))
        .add_service(limited!(DeviceFlowServiceServer))
        .add_service(limited!(ClientRegistrationServiceServer))
        .add_service(limited!(GrantManagementServiceServer))
        .add_service(limited!(IdTokenServiceServer))
        .add_service(limited!(NativeSsoServiceServer))
        .add_service(limited!(FederationServiceServer))
        .add_service(limited!(CredentialIssuanceServiceServer))
        .add_service(limited!(TokenManagementServiceServer))
        .add_service(limited!(BackchannelLogoutServiceServer))
        .add_service(limited!(ClientAttestationServiceServer))
        .add_service(envoy_check);
    let stop = async {
        let _ = stop_rx.await;
    };
    let metrics = options.limits_metrics.clone();
    let serving: listeners::Serving =
        match options.tls.clone() {
            Some(config) => Box::pin(router.serve_with_incoming_shutdown(
                crate::auth::tls::incoming(listener, config, limits, metrics),
                stop,
            )),
            None => Box::pin(router.serve_with_incoming_shutdown(
                listeners::plaintext(listener, limits, metrics),
                stop,
            )),
        };
    let _health_only = listeners::AbortOnDrop(health_only);
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return result,
        () = shutdown => {}
    }
    tracing::info!("shutting down: health is NOT_SERVING");
    set_all(&reporter, ServingStatus::NotServing).await;
    tokio::time::sleep(options.shutdown_delay).await;
    let _ = stop_tx.send(());
    match tokio::time::timeout(options.drain_timeout, serving).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                drain_timeout_ms = options.drain_timeout.as_millis() as u64,
                "drain deadline passed; exiting with RPCs in flight"
            );
            Ok(())
        }
    }
}

async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in SERVICE_NAMES {
        reporter.set_service_status(*name, status).await;
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
