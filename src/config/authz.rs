//! Flags of the authorizer edges (Envoy ext_authz `Check` and `/authz`).

use std::net::SocketAddr;

use clap::Args;

use crate::authz::{AuthzMetrics, AuthzOptions, DEFAULT_HEADER_PREFIX};

/// See the module documentation.
#[derive(Debug, Clone, Args)]
pub struct AuthzArgs {
    /// Serve HTTP forward auth (`/authz`, for nginx `auth_request`, Caddy
    /// `forward_auth`, Traefik `ForwardAuth`) on this address, with the main
    /// listener's TLS, caller authentication and connection limits. Envoy's
    /// ext_authz `Check` is always served on the main listener. Default: not
    /// served.
    #[arg(long, env = "AUTHLETE_GRPC_AUTHZ_HTTP_LISTEN")]
    pub authz_http_listen: Option<SocketAddr>,

    /// Prefix of the headers an allowed request carries upstream: `subject`,
    /// `client-id` and `scopes` are appended to it.
    #[arg(long, env = "AUTHLETE_GRPC_AUTHZ_HEADER_PREFIX", default_value = DEFAULT_HEADER_PREFIX,
          value_parser = header_prefix)]
    pub authz_header_prefix: String,

    /// Envoy: remove `authorization` from an allowed request before it goes
    /// upstream (forward-auth proxies do this in their own configuration).
    #[arg(long, env = "AUTHLETE_GRPC_AUTHZ_REMOVE_AUTHORIZATION")]
    pub authz_remove_authorization: bool,
}

impl AuthzArgs {
    /// The options these flags say; `trust_xfcc` is `--trust-xfcc`.
    pub fn options(&self, trust_xfcc: bool, metrics: AuthzMetrics) -> AuthzOptions {
        AuthzOptions {
            header_prefix: self.authz_header_prefix.clone(),
            remove_authorization: self.authz_remove_authorization,
            trust_xfcc,
            metrics,
        }
    }
}

/// A header-name prefix: lower-case letters, digits and `-` (a token every
/// proxy passes on), not empty.
fn header_prefix(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err("must be lower-case letters, digits and `-`, e.g. `x-authlete-`".to_owned())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes_are_lower_case_header_tokens() {
        assert!(super::header_prefix("x-auth-").is_ok());
        for bad in ["", "X-Auth-", "x auth", "x_auth:", "x-ä-"] {
            assert!(super::header_prefix(bad).is_err(), "{bad}");
        }
    }
}
