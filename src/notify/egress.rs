//! Where notifications may go. A client's notification endpoint is chosen by
//! whoever registered the client, so without a policy this service would
//! POST, with its own network position, to loopback, the cloud metadata
//! address or a sidecar's admin port (SSRF). Destinations are checked after
//! DNS resolution, every resolved address, by the resolver reqwest connects
//! through: the addresses checked are the only ones it can connect to.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a destination is refused; the text names the address class and the
/// flag that allows it, never the notification's contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A scheme other than https (http only for allowed destinations).
    #[error(
        "the notification endpoint must be https (http only for destinations in --notification-allow)"
    )]
    Scheme,
    /// An address of a class that is not public.
    #[error(
        "refused by the notification egress policy: {host} is {ip}, a {class} address (allow it with --notification-allow)"
    )]
    Address {
        host: String,
        ip: IpAddr,
        class: &'static str,
    },
    /// The name resolved to no address.
    #[error("{0} resolves to no address")]
    NoAddress(String),
}

/// The class of an address notifications never reach by default, or `None`
/// for a public unicast address.
pub fn classify(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("multicast or reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique-local")
            } else if first & 0xffc0 == 0xfec0 {
                Some("site-local")
            } else if v6.is_multicast() {
                Some("multicast or reserved")
            } else {
                None
            }
        }
    }
}

/// The destinations notifications may reach beyond public addresses:
/// networks (CIDRs or single addresses) and host names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
}

impl EgressPolicy {
    /// Parses `--notification-allow` entries: `10.1.0.0/16`, `::1`,
    /// `localhost`, `notify.internal`. Errors name the entry.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.nets.push(net.trunc());
            } else if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else if is_host_name(entry) {
                policy
                    .hosts
                    .push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(format!(
                    "`{entry}` is neither a CIDR, an IP address nor a host name"
                ));
            }
        }
        Ok(policy)
    }

    /// Also allows `host` (the configured proxy: it must be reachable).
    pub fn allow_host(&mut self, host: &str) {
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => self.nets.push(IpNet::from(ip)),
            Err(_) => self.hosts.push(host.to_ascii_lowercase()),
        }
    }

    fn names(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    fn covers(&self, ip: IpAddr) -> bool {
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.nets
            .iter()
            .any(|n| n.contains(&ip) || mapped.is_some_and(|m| n.contains(&m)))
    }

    /// Whether `host` is named by the policy, or is an address it covers:
    /// such a destination may be reached over plain http.
    pub fn allows_host(&self, host: &str) -> bool {
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => self.covers(ip),
            Err(_) => self.names(host),
        }
    }

    /// Checks every address `host` resolved to.
    pub fn check(&self, host: &str, addrs: &[IpAddr]) -> Result<(), Refused> {
        if addrs.is_empty() {
            return Err(Refused::NoAddress(host.to_owned()));
        }
        if self.names(host) {
            return Ok(());
        }
        for &ip in addrs {
            if let Some(class) = classify(ip).filter(|_| !self.covers(ip)) {
                return Err(Refused::Address {
                    host: host.to_owned(),
                    ip,
                    class,
                });
            }
        }
        Ok(())
    }
}

fn is_host_name(entry: &str) -> bool {
    let name = entry.trim_end_matches('.');
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The resolver of the notification client: resolves with the system
/// resolver and hands reqwest only addresses the policy allows.
pub(super) struct VettingResolver(pub(super) Arc<EgressPolicy>);

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            policy.check(&host, &ips)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_classes_are_named() {
        for (addr, class) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("::1", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("fd00:ec2::254", "unique-local"),
            ("fc00::1", "unique-local"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("224.0.0.1", "multicast or reserved"),
            ("255.255.255.255", "multicast or reserved"),
        ] {
            assert_eq!(classify(ip(addr)), Some(class), "{addr}");
        }
        for public in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
        ] {
            assert_eq!(classify(ip(public)), None, "{public}");
        }
    }

    #[test]
    fn every_resolved_address_must_pass() {
        let none = EgressPolicy::default();
        let refused = none
            .check("evil.example", &[ip("93.184.216.34"), ip("10.0.0.1")])
            .unwrap_err();
        assert_eq!(
            refused,
            Refused::Address {
                host: "evil.example".to_owned(),
                ip: ip("10.0.0.1"),
                class: "private"
            }
        );
        assert!(refused.to_string().contains("--notification-allow"));
        assert!(none.check("ok.example", &[ip("93.184.216.34")]).is_ok());
        assert!(matches!(none.check("x", &[]), Err(Refused::NoAddress(_))));
    }

    #[test]
    fn allowed_networks_and_hosts_pass() {
        let policy =
            EgressPolicy::parse(["10.1.0.0/16", " ::1 ", "Localhost.", "[fd00::7]"]).unwrap();
        assert!(policy.check("a", &[ip("10.1.2.3")]).is_ok());
        assert!(policy.check("a", &[ip("10.2.0.1")]).is_err());
        assert!(policy.check("a", &[ip("::1")]).is_ok());
        assert!(policy.check("a", &[ip("fd00::7")]).is_ok());
        assert!(policy.check("LOCALHOST", &[ip("127.0.0.1")]).is_ok());
        assert!(policy.allows_host("localhost"));
        assert!(policy.allows_host("[::1]"));
        assert!(!policy.allows_host("127.0.0.1"));
        assert!(policy.check("a", &[ip("169.254.169.254")]).is_err());
    }

    #[test]
    fn a_bad_entry_is_named() {
        let e = EgressPolicy::parse(["10.0.0.0/33"]).unwrap_err();
        assert!(e.contains("`10.0.0.0/33`"), "{e}");
        assert!(EgressPolicy::parse(["http://x"]).is_err());
    }
}
