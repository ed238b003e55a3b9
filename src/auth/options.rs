//! The flags of caller authentication, TLS and reflection, and the safe
//! defaults the binary enforces: with the Authlete backend the service does
//! not start without caller authentication unless told so explicitly; the
//! local engine may run without it on loopback only.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::tls::TlsSettings;
use super::{CallerAuth, CallerKeys, Policy, XfccTrust};
use crate::secret::Secret;

/// Who may call, and over what (flattened into the command line).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthArgs {
    /// PEM certificate chain of the gRPC listener: serve TLS. Re-read when
    /// the file changes.
    #[arg(long, env = "AUTHLETE_GRPC_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert. Never printed.
    #[arg(long, env = "AUTHLETE_GRPC_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA certificates of the callers: require a client certificate
    /// signed by them (mTLS) and take the caller's identity from it (URI
    /// SAN, else DNS SAN, else subject CN: `uri:`, `dns:` or `cn:` in the
    /// policy).
    #[arg(long, env = "AUTHLETE_GRPC_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// Caller keys as `NAME=SHA256HEX` entries (comma or newline separated):
    /// the SHA-256 of each key, never the key, and the identity it stands
    /// for. Callers send `authorization: Bearer <key>`.
    #[arg(long, env = "AUTHLETE_GRPC_CALLER_KEYS", hide_env_values = true, value_parser = secret)]
    pub caller_keys: Option<Secret>,

    /// A file of caller keys, one `NAME=SHA256HEX` per line (`#` comments).
    #[arg(long, env = "AUTHLETE_GRPC_CALLER_KEYS_FILE")]
    pub caller_keys_file: Option<PathBuf>,

    /// The TOML policy saying which services or RPCs each caller identity
    /// may call; nobody may call anything else.
    #[arg(long, env = "AUTHLETE_GRPC_CALLER_POLICY")]
    pub caller_policy: Option<PathBuf>,

    /// Take the caller's identity from the `x-forwarded-client-cert` header
    /// of an Envoy/Istio sidecar. Only when nothing but the sidecar can reach
    /// the listener: anybody else could forge it.
    #[arg(long, env = "AUTHLETE_GRPC_TRUST_XFCC")]
    pub trust_xfcc: bool,

    /// With --trust-xfcc: the `By` the sidecar writes (this workload's own
    /// SPIFFE ID); an element with another `By` is refused.
    #[arg(long, env = "AUTHLETE_GRPC_XFCC_BY", requires = "trust_xfcc")]
    pub xfcc_by: Option<String>,

    /// Serve without caller authentication even with the Authlete backend or
    /// off loopback: anyone who reaches the listener can mint tokens for any
    /// subject. Warned about at every start.
    #[arg(long, env = "AUTHLETE_GRPC_INSECURE_NO_CALLER_AUTH")]
    pub insecure_no_caller_auth: bool,

    /// Serve gRPC server reflection (open to every caller; it only describes
    /// the public API). Default: on with the local engine, off with Authlete.
    #[arg(long, env = "AUTHLETE_GRPC_REFLECTION", value_name = "BOOL")]
    pub reflection: Option<bool>,

    /// Also serve grpc.health.v1 alone, in plaintext, on this address (for
    /// the kubelet's gRPC probes, which cannot do TLS). Default: not served.
    #[arg(long, env = "AUTHLETE_GRPC_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,
}

// Hashes are not keys, but a key pasted here by mistake must not be printed.
fn secret(value: &str) -> Result<Secret, String> {
    Ok(Secret::new(value))
}

/// What the flags decide.
#[derive(Debug, Clone)]
pub struct AuthPlan {
    /// TLS on the listener.
    pub tls: Option<TlsSettings>,
    /// Caller authentication and permissions; `None` is open.
    pub caller_auth: Option<CallerAuth>,
    /// Whether reflection is served.
    pub reflection: bool,
    /// What to warn about at startup.
    pub warnings: Vec<String>,
}

const NEEDED: &str = "configure caller authentication (AUTHLETE_GRPC_CALLER_POLICY with AUTHLETE_GRPC_CALLER_KEYS, \
     AUTHLETE_GRPC_TLS_CLIENT_CA or AUTHLETE_GRPC_TRUST_XFCC), or pass --insecure-no-caller-auth";

impl AuthArgs {
    /// Reads the key and policy files and applies the safe defaults for the
    /// chosen backend (`authlete`: true) and listen address.
    pub fn plan(&self, authlete: bool, listen: SocketAddr) -> Result<AuthPlan, String> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsSettings {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_client_ca.clone(),
            }),
            (None, None) if self.tls_client_ca.is_some() => {
                return Err("--tls-client-ca needs --tls-cert and --tls-key".to_owned());
            }
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key go together".to_owned()),
        };
        let mut keys = CallerKeys::default();
        if let Some(text) = &self.caller_keys {
            keys.add(text.expose())
                .map_err(|e| format!("AUTHLETE_GRPC_CALLER_KEYS (--caller-keys): {e}"))?;
        }
        if let Some(path) = &self.caller_keys_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read caller keys {}: {e}", path.display()))?;
            keys.add(&text)
                .map_err(|e| format!("caller keys {}: {e}", path.display()))?;
        }
        let policy = match &self.caller_policy {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read caller policy {}: {e}", path.display()))?;
                Some(
                    Policy::parse(&text)
                        .map_err(|e| format!("caller policy {}: {e}", path.display()))?,
                )
            }
            None => None,
        };
        let identified = !keys.is_empty() || self.tls_client_ca.is_some() || self.trust_xfcc;
        let mut warnings = Vec::new();
        let caller_auth = match (policy, identified) {
            (Some(policy), true) => {
                if self.insecure_no_caller_auth {
                    return Err(
                        "--insecure-no-caller-auth contradicts the caller authentication configured"
                            .to_owned(),
                    );
                }
                if self.trust_xfcc {
                    warnings.push(format!(
                        "x-forwarded-client-cert is trusted: make sure nothing but the sidecar can reach {listen}"
                    ));
                }
                for name in keys.names().filter(|n| policy.callers().all(|c| c != *n)) {
                    warnings.push(format!(
                        "caller `{name}` has a key but no grant in the policy: its calls will be denied"
                    ));
                }
                Some(CallerAuth {
                    keys,
                    xfcc: self.trust_xfcc.then(|| XfccTrust {
                        by: self.xfcc_by.clone(),
                    }),
                    policy,
                })
            }
            (Some(_), false) => {
                return Err("a caller policy is set but no way to identify callers: set \
                     AUTHLETE_GRPC_CALLER_KEYS(_FILE), AUTHLETE_GRPC_TLS_CLIENT_CA or AUTHLETE_GRPC_TRUST_XFCC"
                    .to_owned());
            }
            (None, true) => {
                return Err(
                    "callers can be identified but no caller policy says what they may call: \
                     set AUTHLETE_GRPC_CALLER_POLICY (--caller-policy)"
                        .to_owned(),
                );
            }
            (None, false) if self.insecure_no_caller_auth => {
                warnings.push(format!(
                    "caller authentication is OFF (--insecure-no-caller-auth): anyone who reaches {listen} can \
                     mint tokens for any subject"
                ));
                None
            }
            (None, false) if authlete => {
                return Err(format!(
                    "refusing to start: with the Authlete backend, anyone who reaches {listen} could mint tokens \
                     for any subject; {NEEDED}"
                ));
            }
            (None, false) if listen.ip().is_loopback() => {
                warnings.push(format!(
                    "no caller authentication: every process on this host may call {listen} (development only)"
                ));
                None
            }
            (None, false) => {
                return Err(format!(
                    "refusing to start: without caller authentication the local engine listens on loopback only, \
                     not {listen}; {NEEDED}"
                ));
            }
        };
        Ok(AuthPlan {
            tls,
            caller_auth,
            reflection: self.reflection.unwrap_or(!authlete),
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::hash_hex;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn policy_file(text: &str) -> PathBuf {
        // Tests run in parallel and remove their files: one name per call.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "authlete-grpc-policy-{}-{n}-{}.toml",
            std::process::id(),
            hash_hex(text)
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn authlete_backend_refuses_to_start_without_caller_auth() {
        let args = AuthArgs::default();
        let err = args.plan(true, addr("0.0.0.0:50051")).unwrap_err();
        assert!(err.starts_with("refusing to start"), "{err}");
        assert!(err.contains("--insecure-no-caller-auth"), "{err}");
        let err = args.plan(true, addr("127.0.0.1:50051")).unwrap_err();
        assert!(err.starts_with("refusing to start"), "{err}");
    }

    #[test]
    fn the_insecure_flag_starts_open_with_a_warning() {
        let args = AuthArgs {
            insecure_no_caller_auth: true,
            ..AuthArgs::default()
        };
        let plan = args.plan(true, addr("0.0.0.0:50051")).unwrap();
        assert!(plan.caller_auth.is_none());
        assert!(plan.warnings[0].contains("OFF"), "{:?}", plan.warnings);
        assert!(
            !plan.reflection,
            "reflection is off with Authlete by default"
        );
    }

    #[test]
    fn local_engine_runs_open_on_loopback_only() {
        let args = AuthArgs::default();
        let plan = args.plan(false, addr("127.0.0.1:50051")).unwrap();
        assert!(plan.caller_auth.is_none());
        assert_eq!(plan.warnings.len(), 1);
        assert!(plan.reflection);
        let err = args.plan(false, addr("0.0.0.0:50051")).unwrap_err();
        assert!(err.contains("loopback"), "{err}");
    }

    #[test]
    fn keys_and_policy_go_together() {
        let policy = policy_file("[callers.\"key:web\"]\nallow = [\"*\"]\n");
        let keys = format!("web={}", hash_hex("k"));
        let both = AuthArgs {
            caller_keys: Some(Secret::new(keys.clone())),
            caller_policy: Some(policy.clone()),
            ..AuthArgs::default()
        };
        let plan = both.plan(true, addr("0.0.0.0:50051")).unwrap();
        let auth = plan.caller_auth.expect("caller auth");
        assert_eq!(auth.keys.identify("k").as_deref(), Some("key:web"));
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);

        let keys_only = AuthArgs {
            caller_keys: Some(Secret::new(keys)),
            ..AuthArgs::default()
        };
        assert!(keys_only.plan(true, addr("0.0.0.0:1")).is_err());
        let policy_only = AuthArgs {
            caller_policy: Some(policy.clone()),
            ..AuthArgs::default()
        };
        assert!(policy_only.plan(true, addr("0.0.0.0:1")).is_err());
        let contradiction = AuthArgs {
            insecure_no_caller_auth: true,
            ..both
        };
        assert!(contradiction.plan(true, addr("0.0.0.0:1")).is_err());
        let _ = std::fs::remove_file(policy);
    }

    #[test]
    fn a_plaintext_key_is_refused_without_being_echoed() {
        let policy = policy_file("[callers.\"key:web\"]\nallow = [\"*\"]\n");
        let args = AuthArgs {
            caller_keys: Some(Secret::new("web=PLAINTEXT-caller-key-123")),
            caller_policy: Some(policy.clone()),
            ..AuthArgs::default()
        };
        let err = args.plan(true, addr("0.0.0.0:1")).unwrap_err();
        assert!(!err.contains("PLAINTEXT-caller-key"), "{err}");
        assert!(!format!("{args:?}").contains("PLAINTEXT"));
        let _ = std::fs::remove_file(policy);
    }
}
