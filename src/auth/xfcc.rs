//! `x-forwarded-client-cert` (XFCC), as Envoy and Istio set it when a sidecar
//! terminates mTLS in front of this service:
//! `By=spiffe://.../sa/authlete-grpc;Hash=...;URI=spiffe://.../sa/web,By=...`.
//!
//! Elements are separated by `,` (one per proxy hop), their pairs by `;`,
//! and a value with any of `,;="` is double-quoted with `\"` escapes, as
//! Envoy's header grammar defines. Several header lines are one list (RFC
//! 9110 section 5.3): every line is read, in order, and optional whitespace
//! around the separators is allowed. The last element is the one the nearest
//! proxy (our own sidecar) appended; its client identity is `uri:` its
//! `URI`, else `dns:` its `DNS`, else `cn:` the CN of `Subject`.
//!
//! Anybody who reaches the listener without the sidecar can send this
//! header, so it is trusted only when explicitly enabled.

use super::Source;

/// Trusting `x-forwarded-client-cert` from a sidecar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XfccTrust {
    /// When set, the element used must carry this `By` (the identity of our
    /// own sidecar, e.g. this workload's SPIFFE ID).
    pub by: Option<String>,
}

/// One element: its key-value pairs, keys as sent.
type Element = Vec<(String, String)>;

impl XfccTrust {
    /// The caller identity the header lines name, with its source prefix.
    pub fn identity(&self, lines: &[&str]) -> Result<String, String> {
        let elements = parse(&lines.join(","))?;
        let last = elements.last().ok_or("the header is empty")?;
        let get = |key: &str| {
            last.iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.is_empty())
                .map(|(_, v)| v.as_str())
        };
        if let Some(expected) = &self.by
            && get("By") != Some(expected.as_str())
        {
            return Err("its last element was not added by the expected proxy (By)".to_owned());
        }
        get("URI")
            .map(|uri| Source::Uri.name(uri))
            .or_else(|| get("DNS").map(|dns| Source::Dns.name(dns)))
            .or_else(|| {
                get("Subject")
                    .and_then(common_name)
                    .map(|cn| Source::Cn.name(&cn))
            })
            .ok_or_else(|| "its last element names no URI, DNS or Subject CN".to_owned())
    }
}

/// The client certificate (`Cert=`, URL-encoded PEM) of the last element:
/// the one the nearest proxy appended, as for [`XfccTrust::identity`]. Used
/// by the authorizer edges (`authz`) for certificate-bound tokens (RFC 8705);
/// `None` when that element has no `Cert`.
pub fn client_certificate(lines: &[&str]) -> Result<Option<String>, String> {
    let elements = parse(&lines.join(","))?;
    let last = elements.last().ok_or("the header is empty")?;
    let Some((_, encoded)) = last
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("Cert") && !v.is_empty())
    else {
        return Ok(None);
    };
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map(|pem| Some(pem.into_owned()))
        .map_err(|_| "its Cert is not URL-encoded UTF-8".to_owned())
}

/// Parses the header into elements.
fn parse(header: &str) -> Result<Vec<Element>, String> {
    let mut elements = Vec::new();
    let mut element = Element::new();
    let mut chars = header.chars().peekable();
    loop {
        // key
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            if c == ',' || c == ';' {
                return Err("a pair has no `=`".to_owned());
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            if key.trim().is_empty() && element.is_empty() && elements.is_empty() {
                return Err("the header is empty".to_owned());
            }
            return Err("a pair has no `=`".to_owned());
        }
        // value
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => return Err("unterminated quoted value".to_owned()),
                    },
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted value".to_owned()),
                }
            }
            while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c == ';' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_owned();
        }
        element.push((key.trim().to_owned(), value));
        match chars.next() {
            Some(';') => {}
            Some(',') => elements.push(std::mem::take(&mut element)),
            None => {
                elements.push(element);
                return Ok(elements);
            }
            Some(_) => return Err("unexpected text after a quoted value".to_owned()),
        }
    }
}

/// The CN of a distinguished name such as `CN=web,OU=apps,O=example`.
fn common_name(subject: &str) -> Option<String> {
    subject
        .split(',')
        .map(str::trim)
        .find_map(|rdn| {
            let (k, v) = rdn.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("CN")
                .then(|| v.trim().to_owned())
        })
        .filter(|cn| !cn.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISTIO: &str = "By=spiffe://cluster.local/ns/auth/sa/authlete-grpc;\
        Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;\
        Subject=\"\";URI=spiffe://cluster.local/ns/web/sa/frontend";

    #[test]
    fn takes_the_uri_of_the_last_element() {
        let trust = XfccTrust::default();
        let frontend = "uri:spiffe://cluster.local/ns/web/sa/frontend";
        assert_eq!(trust.identity(&[ISTIO]).unwrap(), frontend);
        let two = format!("By=x;URI=spiffe://first,{ISTIO}");
        assert_eq!(trust.identity(&[&two]).unwrap(), frontend);
        assert_eq!(
            trust.identity(&["Hash=ab;DNS=web.example"]).unwrap(),
            "dns:web.example"
        );
        assert_eq!(
            trust
                .identity(&[r#"Hash=ab;Subject="CN=web \"tier\",OU=apps,O=Example""#])
                .unwrap(),
            "cn:web \"tier\""
        );
    }

    #[test]
    fn reads_every_line_and_element_with_quoted_separators() {
        let trust = XfccTrust::default();
        // The sidecar's element is in the last of several header lines.
        let lines = [
            "By=spiffe://a;URI=spiffe://first",
            r#"By=spiffe://b;URI="spiffe://second;x=1,y", By=spiffe://c;URI=spiffe://third"#,
            ISTIO,
        ];
        assert_eq!(
            trust.identity(&lines).unwrap(),
            "uri:spiffe://cluster.local/ns/web/sa/frontend"
        );
        let quoted = r#"By=x;URI=spiffe://first , By=x ; URI="spiffe://td/a,b;c=\"d\"" "#;
        assert_eq!(
            trust.identity(&[quoted]).unwrap(),
            r#"uri:spiffe://td/a,b;c="d""#
        );
        // A broken line anywhere breaks the header, even before a good one.
        assert!(trust.identity(&["URI=\"open", ISTIO]).is_err());
        assert!(trust.identity(&["", ISTIO]).is_err());
    }

    #[test]
    fn checks_by_when_asked() {
        let ours = XfccTrust {
            by: Some("spiffe://cluster.local/ns/auth/sa/authlete-grpc".to_owned()),
        };
        assert!(ours.identity(&[ISTIO]).is_ok());
        // `By` is checked on the last element of the last line.
        assert!(
            ours.identity(&[ISTIO, "By=spiffe://evil;URI=spiffe://x"])
                .is_err()
        );
        let other = XfccTrust {
            by: Some("spiffe://cluster.local/ns/auth/sa/other".to_owned()),
        };
        assert!(other.identity(&[ISTIO]).is_err());
    }

    #[test]
    fn reads_the_url_encoded_cert_of_the_last_element() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB+/==\n-----END CERTIFICATE-----\n";
        let encoded: String =
            percent_encoding::utf8_percent_encode(pem, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let header = format!("By=x;Cert=\"{encoded}\";URI=spiffe://a");
        assert_eq!(
            client_certificate(&[&header]).unwrap().as_deref(),
            Some(pem)
        );
        // Only the last element counts: an earlier one may come from the client.
        let forged = format!("{header},By=y;URI=spiffe://b");
        assert_eq!(client_certificate(&[&forged]).unwrap(), None);
        assert!(client_certificate(&["Cert=%FF"]).is_err());
        assert!(client_certificate(&["Cert=\"open"]).is_err());
    }

    #[test]
    fn malformed_headers_are_refused() {
        let trust = XfccTrust::default();
        for bad in ["", "URI", "URI=\"open", "Hash=ab", "URI=a;junk"] {
            assert!(trust.identity(&[bad]).is_err(), "{bad}");
        }
    }
}
