//! The JWS algorithms the engine signs with (RFC 7518 §3, RFC 8037) and the
//! hash OpenID Connect pairs with each for `at_hash` / `c_hash`.

use aws_lc_rs::digest::{SHA256, SHA512, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// JWS algorithms the engine signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256 (small keys, fast generation).
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the default); 2048-bit keys when generated.
    RS256,
    /// RSASSA-PSS with SHA-256 and a 32-byte salt (FAPI 2.0 allows it, not RS256).
    PS256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl Algorithm {
    /// Every algorithm, in the order discovery lists them (RS256 first:
    /// OpenID Connect Discovery requires it).
    pub const ALL: [Algorithm; 4] = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ];

    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm of a JWS `alg` name the engine signs with.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The names, comma-separated: what error messages list as supported.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// OpenID Connect `at_hash` / `c_hash`: the left half of the hash of the
    /// ASCII value, base64url. The hash is the one of the `alg`: SHA-256 for
    /// the `*256` algorithms, SHA-512 for EdDSA with Ed25519 (OpenID Connect
    /// Core errata set 2, §3.1.3.6).
    pub fn half_hash(self, value: &str) -> String {
        let algorithm = match self {
            Self::EdDSA => &SHA512,
            _ => &SHA256,
        };
        let hash = digest(algorithm, value.as_bytes());
        let hash = hash.as_ref();
        URL_SAFE_NO_PAD.encode(&hash[..hash.len() / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_half_hash_follows_the_algorithm() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("HS256"), None);
        assert_eq!(Algorithm::RS256.half_hash("x").len(), 22);
        assert_eq!(Algorithm::EdDSA.half_hash("x").len(), 43);
        // OpenID Connect Core §A.3's example: at_hash of the access token.
        assert_eq!(
            Algorithm::RS256.half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
