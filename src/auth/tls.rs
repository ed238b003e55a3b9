//! TLS and mTLS on the gRPC listener with rustls (aws-lc-rs only): the
//! server certificate is re-read when its files change, so cert-manager or a
//! rotated Kubernetes Secret takes effect without a restart; with a client
//! CA, every caller must present a certificate it signed, and the caller's
//! identity is taken from it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use crate::limits::conn::Guarded;
use crate::limits::{ConnInfo, LimitsMetrics, ListenerLimits};

/// How often, at most, the certificate files are checked for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// TLS on the gRPC listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM CA certificates that sign client certificates: when set, every
    /// caller must present one (mTLS).
    pub client_ca: Option<PathBuf>,
}

/// The one crypto provider of this process.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Makes aws-lc-rs the process-wide rustls provider (reqwest and tonic use
/// the process default). Call once at startup; later calls do nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl TlsSettings {
    /// The rustls configuration: HTTP/2 only, the reloading certificate, and
    /// the client verifier when a client CA is set. Fails on unreadable files.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let provider = provider();
        let resolver = ReloadingCert::load(&self.cert, &self.key, provider.clone())?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match &self.client_ca {
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for cert in read_certs(path)? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("client CA {}: {e}", path.display()))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| format!("client CA {}: {e}", path.display()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(resolver));
        // h2 first (gRPC); http/1.1 for Connect and gRPC-Web clients such as
        // curl, which a server offering h2 alone would refuse in the handshake.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no PEM certificate in {}", path.display()));
    }
    Ok(certs)
}

fn load_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, String> {
    let chain = read_certs(cert)?;
    // The error names the file, never its contents.
    let der = PrivateKeyDer::from_pem_file(key)
        .map_err(|_| format!("cannot read a PEM private key from {}", key.display()))?;
    CertifiedKey::from_der(chain, der, provider)
        .map(Arc::new)
        .map_err(|e| {
            format!(
                "the key {} does not fit the certificate {}: {e}",
                key.display(),
                cert.display()
            )
        })
}

/// When each file last changed (and its length): a change means reload.
fn stamp(paths: [&Path; 2]) -> [Option<(SystemTime, u64)>; 2] {
    paths.map(|p| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    })
}

/// Serves the certificate of two files, re-reading them when they change
/// (checked at most once a second, at a handshake). A broken new pair is
/// logged and the previous one kept.
struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    state: Mutex<Loaded>,
}

struct Loaded {
    key: Arc<CertifiedKey>,
    stamp: [Option<(SystemTime, u64)>; 2],
    checked: Instant,
}

impl ReloadingCert {
    fn load(cert: &Path, key: &Path, provider: Arc<CryptoProvider>) -> Result<Self, String> {
        let stamp = stamp([cert, key]);
        let loaded = load_key(cert, key, &provider)?;
        Ok(Self {
            cert: cert.to_owned(),
            key: key.to_owned(),
            provider,
            state: Mutex::new(Loaded {
                key: loaded,
                stamp,
                checked: Instant::now(),
            }),
        })
    }
}

// Only the paths: the loaded key is nobody's business.
impl std::fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingCert")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.checked.elapsed() >= RELOAD_CHECK {
            state.checked = Instant::now();
            let now = stamp([&self.cert, &self.key]);
            if now != state.stamp {
                match load_key(&self.cert, &self.key, &self.provider) {
                    Ok(key) => {
                        state.key = key;
                        state.stamp = now;
                        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                    }
                    // Often the two files of a pair are not replaced at once:
                    // try again at the next check.
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS certificate changed but cannot be loaded; serving the previous one")
                    }
                }
            }
        }
        Some(state.key.clone())
    }
}

/// Accepts TCP connections on `listener` within the listener limits and
/// hands over those that complete the TLS handshake within the handshake
/// timeout. Failed handshakes (an unknown client CA, no client certificate,
/// plaintext) are logged at debug level and dropped. Stops accepting when
/// the stream is dropped.
pub fn incoming(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: &ListenerLimits,
    metrics: LimitsMetrics,
) -> ReceiverStream<io::Result<Guarded<TlsStream<TcpStream>>>> {
    let acceptor = TlsAcceptor::from(config);
    crate::limits::incoming(listener, limits, metrics, move |tcp, peer| {
        let accept = acceptor.accept(tcp);
        async move {
            accept
                .await
                .inspect_err(|e| tracing::debug!(%peer, error = %e, "TLS handshake failed"))
                .ok()
        }
    })
}

/// The client certificates of a request's connection (verified by rustls
/// against the client CA), from what tonic puts in its extensions.
pub fn peer_certs(extensions: &http::Extensions) -> Option<Arc<Vec<CertificateDer<'static>>>> {
    extensions
        .get::<ConnInfo<TlsConnectInfo<TcpConnectInfo>>>()
        .and_then(|c| c.inner.peer_certs())
}

/// The identity a client certificate names, with its source: `uri:` and its
/// first URI SAN (a SPIFFE ID), else `dns:` and its first DNS SAN, else `cn:`
/// and its subject CN.
pub fn identity(der: &[u8]) -> Option<String> {
    use super::Source;
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        let names = &san.value.general_names;
        let uri = names.iter().find_map(|n| match n {
            GeneralName::URI(u) if !u.is_empty() => Some(Source::Uri.name(u)),
            _ => None,
        });
        let dns = || {
            names.iter().find_map(|n| match n {
                GeneralName::DNSName(d) if !d.is_empty() => Some(Source::Dns.name(d)),
                _ => None,
            })
        };
        if let Some(name) = uri.or_else(dns) {
            return Some(name);
        }
    }
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .filter(|cn| !cn.is_empty())
        .map(|cn| Source::Cn.name(cn))
}
