//! Mutual-TLS client authentication and certificate-bound tokens (RFC 8705):
//! the client certificate the web tier passes as `clientCertificate` (PEM),
//! its `x5t#S256` thumbprint, and the two ways a client is recognised by it:
//! `tls_client_auth` (the subject DN or one SAN equals the registered one,
//! §2.1) and `self_signed_tls_client_auth` (the certificate is one the
//! client registered in its JWK Set's `x5c`, §2.2).

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use x509_parser::extensions::GeneralName;

/// The largest certificate accepted, PEM: client certificates are a few KiB.
const MAX_PEM_BYTES: usize = 16 * 1024;

/// What a `tls_client_auth` client is registered with (exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TlsName {
    SubjectDn(String),
    SanDns(String),
    SanUri(String),
    SanIp(String),
    SanEmail(String),
}

/// A presented client certificate, DER.
pub(super) struct Presented(Vec<u8>);

impl Presented {
    /// The certificate of a `clientCertificate` member; `None` when absent,
    /// an error when it is not a PEM X.509 certificate.
    pub(super) fn from_member(pem: Option<&str>) -> Result<Option<Self>, &'static str> {
        let Some(pem) = pem.filter(|p| !p.trim().is_empty()) else {
            return Ok(None);
        };
        if pem.len() > MAX_PEM_BYTES {
            return Err("The client certificate is too large.");
        }
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map_err(|_| "The client certificate is not PEM.")?;
        x509_parser::parse_x509_certificate(&block.contents)
            .map_err(|_| "The client certificate is not an X.509 certificate.")?;
        Ok(Some(Self(block.contents)))
    }

    /// RFC 8705 §3.1 `x5t#S256`: base64url(SHA-256(DER)).
    pub(super) fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest(&SHA256, &self.0).as_ref())
    }

    /// Whether the certificate names `expected` (§2.1.2).
    pub(super) fn names(&self, expected: &TlsName) -> bool {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(&self.0) else {
            return false;
        };
        if let TlsName::SubjectDn(dn) = expected {
            return same_dn(&cert.subject().to_string(), dn);
        }
        let Ok(Some(san)) = cert.subject_alternative_name() else {
            return false;
        };
        san.value.general_names.iter().any(|n| match (n, expected) {
            (GeneralName::DNSName(d), TlsName::SanDns(e)) => d.eq_ignore_ascii_case(e),
            (GeneralName::URI(u), TlsName::SanUri(e)) => u == e,
            (GeneralName::RFC822Name(m), TlsName::SanEmail(e)) => m == e,
            (GeneralName::IPAddress(bytes), TlsName::SanIp(e)) => {
                ip_text(bytes).as_deref() == Some(e)
            }
            _ => false,
        })
    }
}

/// RFC 4514 strings written in either order (RFC 4514 lists the last RDN
/// first; x509-parser the first), attribute names case-insensitive and
/// spaces around separators ignored.
fn same_dn(subject: &str, registered: &str) -> bool {
    let rdns = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|rdn| match rdn.split_once('=') {
                Some((k, v)) => format!("{}={}", k.trim().to_ascii_uppercase(), v.trim()),
                None => rdn.trim().to_owned(),
            })
            .collect()
    };
    let (a, mut b) = (rdns(subject), rdns(registered));
    if a == b {
        return true;
    }
    b.reverse();
    a == b
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

/// RFC 8705 §3: a token bound to a certificate (`bound`, its `x5t#S256`)
/// is usable only over a connection with that certificate.
pub(super) fn check_bound(bound: Option<&str>, pem: Option<&str>) -> Result<(), &'static str> {
    let Some(bound) = bound else {
        return Ok(());
    };
    match Presented::from_member(pem)? {
        Some(cert) if cert.thumbprint() == bound => Ok(()),
        Some(_) => Err("The access token is bound to another client certificate."),
        None => Err("The access token is bound to a client certificate, which was not presented."),
    }
}

/// The `x5t#S256` of the first certificate of every key with an `x5c` in a
/// JWK Set (JSON text): what `self_signed_tls_client_auth` accepts.
pub(super) fn registered_thumbprints(jwks: &str) -> Result<Vec<String>, String> {
    let set: Value = serde_json::from_str(jwks).map_err(|_| "jwks is not JSON".to_owned())?;
    let keys = set["keys"].as_array().ok_or("jwks has no `keys` array")?;
    keys.iter()
        .filter_map(|k| k["x5c"].get(0).and_then(Value::as_str))
        .map(|b64| {
            let der = STANDARD
                .decode(b64)
                .map_err(|_| "an x5c is not base64".to_owned())?;
            Ok(URL_SAFE_NO_PAD.encode(digest(&SHA256, &der).as_ref()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguished_names_compare_in_either_order() {
        assert!(same_dn("CN=client, O=Example", "CN=client,O=Example"));
        assert!(same_dn("CN=client, O=Example", "o=Example, cn=client"));
        assert!(!same_dn("CN=client, O=Example", "CN=other,O=Example"));
        assert_eq!(ip_text(&[127, 0, 0, 1]).as_deref(), Some("127.0.0.1"));
        assert!(Presented::from_member(Some("not pem")).is_err());
        assert!(Presented::from_member(Some("  ")).unwrap().is_none());
        assert!(registered_thumbprints(r#"{"keys":[{"x5c":["!"]}]}"#).is_err());
    }
}
