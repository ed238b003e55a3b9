//! A client's registered JWK Set (`jwks`), for verifying what the client
//! signs. Interim stand-in with the interface of the client keys module
//! main is getting; replaced by it on merge.

use serde_json::{Map, Value};

use super::alg::Algorithm;
use super::jws;

/// The public keys of a client's JWK Set.
#[derive(Debug, Clone)]
pub(super) struct ClientKeys {
    keys: Vec<Map<String, Value>>,
}

impl ClientKeys {
    /// Parses JWK Set JSON text.
    pub(super) fn parse(jwks: &str) -> Result<Self, String> {
        let set: Value = serde_json::from_str(jwks).map_err(|_| "jwks is not JSON".to_owned())?;
        let keys = set["keys"]
            .as_array()
            .ok_or("jwks has no `keys` array")?
            .iter()
            .filter_map(|k| k.as_object().cloned())
            .filter(|k| !jws::is_private(k))
            .collect();
        Ok(Self { keys })
    }

    /// Verifies `jws` by the key its `kid` names, or by any key that fits
    /// its `alg`: the algorithm and the claims.
    pub(super) fn verify(
        &self,
        jws: &str,
    ) -> Result<(Algorithm, Map<String, Value>), &'static str> {
        let parsed = jws::parse(jws)?;
        let alg = parsed
            .header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(Algorithm::from_name)
            .ok_or("The JWS algorithm is not supported.")?;
        let kid = parsed.header.get("kid").and_then(Value::as_str);
        let candidates = self
            .keys
            .iter()
            .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid);
        let mut found = false;
        for key in candidates {
            let Ok(public) = jws::public_members(alg, key) else {
                continue;
            };
            found = true;
            if jws::verify(alg, &public, &parsed).is_ok() {
                return Ok((alg, parsed.claims));
            }
        }
        Err(if found {
            "The JWS signature does not verify."
        } else {
            "No registered key fits the JWS."
        })
    }
}
