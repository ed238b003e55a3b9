//! Test certificates made with rcgen: CAs, a server certificate for
//! localhost, and client certificates with a URI SAN, a DNS SAN or only a CN;
//! PEM files in a temporary directory.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};

/// A CA that signs server and client certificates.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, in PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

/// What a client certificate names.
pub enum Names<'a> {
    Uri(&'a str),
    Dns(&'a str),
    CommonName(&'a str),
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn server(&self) -> Leaf {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        params
            .distinguished_name
            .push(DnType::CommonName, "authlete-grpc test");
        self.sign(params)
    }

    /// A client certificate naming `names`.
    pub fn client(&self, names: Names<'_>) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        match names {
            Names::Uri(uri) => {
                params
                    .distinguished_name
                    .push(DnType::CommonName, "ignored-cn");
                params
                    .subject_alt_names
                    .push(SanType::URI(uri.try_into().unwrap()));
                params
                    .subject_alt_names
                    .push(SanType::DnsName("ignored.example".try_into().unwrap()));
            }
            Names::Dns(dns) => {
                params
                    .distinguished_name
                    .push(DnType::CommonName, "ignored-cn");
                params
                    .subject_alt_names
                    .push(SanType::DnsName(dns.try_into().unwrap()));
            }
            Names::CommonName(cn) => params.distinguished_name.push(DnType::CommonName, cn),
        }
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A fresh temporary directory for PEM files.
pub fn temp_dir(label: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "authlete-grpc-{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
