//! DPoP (RFC 9449): checking a proof (§4.3) at the token endpoint, where it
//! binds the new tokens to its key, and at the resource endpoints
//! (introspection, userinfo), where it must match the bound token (`ath`,
//! the key's thumbprint); the server nonce (§8) when required by the
//! request, the client or the engine. Failures answer in Authlete's shapes:
//! `invalid_dpop_proof` / `use_dpop_nonce` as a JSON error at the token
//! endpoint, as a `DPoP` challenge at the resource endpoints, and
//! `dpopNonce` whenever a nonce is in force.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::LocalBackend;
use super::alg::Algorithm;
use super::client::Client;
use super::jws;
use super::keys::thumbprint;
use super::reply::{self, Fault, Obj};

/// The DPoP members of `/auth/token`, `/auth/introspection` and
/// `/auth/userinfo` requests.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ProofInput {
    dpop: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    dpop_nonce_required: bool,
}

// The proof is a bearer of nothing by itself, but it names the token (`ath`).
crate::secret::redacted_debug!(ProofInput {
    dpop,
    htm,
    htu,
    dpop_nonce_required
});

/// The longest `jti` remembered (it is hashed, but must be bounded to hash).
const MAX_JTI: usize = 256;

/// Why a proof is refused: `invalid_dpop_proof` or `use_dpop_nonce`.
pub(super) struct Problem {
    pub error: &'static str,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> Problem {
    Problem {
        error: "invalid_dpop_proof",
        message: message.into(),
    }
}

/// What a proof must match.
struct Expected<'a> {
    htm: &'a str,
    htu: &'a str,
    /// The access token it accompanies (resource endpoints): `ath`.
    access_token: Option<&'a str>,
    nonce_required: bool,
}

/// A proof's outcome: the thumbprint of its key, or why it is refused.
type Checked = Result<String, Problem>;

/// RFC 9449 §4.3, in order; the `jti` is remembered only once everything
/// else holds, so a refused proof can be fixed without a new `jti`.
fn check(engine: &LocalBackend, proof: &str, e: &Expected<'_>) -> Result<Checked, Fault> {
    let p = match jws::parse(proof) {
        Ok(p) => p,
        Err(m) => return Ok(Err(invalid(m))),
    };
    if p.header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Ok(Err(invalid("The DPoP proof's 'typ' is not 'dpop+jwt'.")));
    }
    let Some(alg) = p
        .header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Algorithm::from_name)
    else {
        return Ok(Err(invalid(format!(
            "The DPoP proof's 'alg' is not one of {}.",
            Algorithm::names()
        ))));
    };
    let Some(jwk) = p.header.get("jwk").and_then(Value::as_object) else {
        return Ok(Err(invalid("The DPoP proof has no 'jwk' header.")));
    };
    if jws::is_private(jwk) {
        return Ok(Err(invalid(
            "The DPoP proof's 'jwk' contains a private key.",
        )));
    }
    let public = match jws::public_members(alg, jwk) {
        Ok(k) => k,
        Err(m) => return Ok(Err(invalid(m))),
    };
    if let Err(m) = jws::verify(alg, &public, &p) {
        return Ok(Err(invalid(m)));
    }
    let claim = |name: &str| {
        p.claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let jti = claim("jti");
    if jti.is_empty() || jti.len() > MAX_JTI {
        return Ok(Err(invalid(
            "The DPoP proof's 'jti' is missing or too long.",
        )));
    }
    if claim("htm") != e.htm {
        return Ok(Err(invalid(
            "The DPoP proof's 'htm' does not match the request's method.",
        )));
    }
    if !same_uri(claim("htu"), e.htu) {
        return Ok(Err(invalid(
            "The DPoP proof's 'htu' does not match the request's URL.",
        )));
    }
    let now = engine.now();
    let window = engine.config.dpop.proof_max_age;
    let Some(iat) = p.claims.get("iat").and_then(numeric_date) else {
        return Ok(Err(invalid("The DPoP proof has no numeric 'iat'.")));
    };
    // Saturating: `iat` is the sender's, and may be any number.
    if (now / 1000).saturating_sub(iat).saturating_abs() > window {
        return Ok(Err(invalid(
            "The DPoP proof's 'iat' is outside the accepted window.",
        )));
    }
    if e.access_token
        .is_some_and(|t| claim("ath") != super::jwt::s256(t))
    {
        return Ok(Err(invalid(
            "The DPoP proof's 'ath' does not match the access token.",
        )));
    }
    if e.nonce_required && !engine.dpop.nonce_ok(claim("nonce"), now)? {
        return Ok(Err(Problem {
            error: "use_dpop_nonce",
            message: "The DPoP proof must carry the server's current nonce.".to_owned(),
        }));
    }
    let jkt = thumbprint(&public);
    let until = ((iat + window) * 1000).max(now + 1);
    if !engine.dpop.first_use(&jkt, jti, now, until)? {
        return Ok(Err(invalid(
            "The DPoP proof has been used already ('jti').",
        )));
    }
    Ok(Ok(jkt))
}

/// A NumericDate, whole seconds (a fraction is dropped; out of range saturates).
fn numeric_date(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

/// RFC 9449 §4.3 (9): the URIs match, ignoring query and fragment, after
/// the syntax-based normalisation of RFC 3986 §6.2.2 the URL parser does.
fn same_uri(claimed: &str, actual: &str) -> bool {
    let base = |s: &str| {
        Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    matches!((base(claimed), base(actual)), (Some(a), Some(b)) if a == b)
}

/// Whether a nonce is in force for this request.
fn nonce_required(engine: &LocalBackend, input: &ProofInput, client: &Client) -> bool {
    input.dpop_nonce_required || engine.config.dpop.nonce_required || client.dpop_nonce_required
}

/// The token endpoint's DPoP outcome.
pub(super) struct AtToken {
    /// The thumbprint the new tokens are bound to (`cnf.jkt`).
    pub jkt: Option<String>,
    /// The nonce to return as `dpopNonce`, when one is in force.
    pub nonce: Option<String>,
}

const TOKEN_BAD: &str = "L050202";

/// Checks the proof of a token request by `client`; `Err` is the finished
/// BAD_REQUEST reply.
pub(super) fn at_token(
    engine: &LocalBackend,
    input: &ProofInput,
    client: &Client,
) -> Result<Result<AtToken, Value>, Fault> {
    let required = nonce_required(engine, input, client);
    let nonce = match required {
        true => Some(engine.dpop.nonce(engine.now())?),
        false => None,
    };
    let refuse = |p: Problem| {
        let mut v = reply::json_error("BAD_REQUEST", TOKEN_BAD, p.error, &p.message);
        if let Some(n) = &nonce {
            v["dpopNonce"] = n.clone().into();
        }
        v
    };
    let proof = input.dpop.as_deref().unwrap_or_default();
    if proof.is_empty() {
        if client.dpop_required {
            return Ok(Err(refuse(invalid(
                "The client must present a DPoP proof (dpop_bound_access_tokens).",
            ))));
        }
        return Ok(Ok(AtToken { jkt: None, nonce }));
    }
    let endpoint = engine.config.endpoint(&engine.config.endpoints.token);
    let expected = Expected {
        htm: non_empty(&input.htm).unwrap_or("POST"),
        htu: non_empty(&input.htu).unwrap_or(&endpoint),
        access_token: None,
        nonce_required: required,
    };
    Ok(match check(engine, proof, &expected)? {
        Ok(jkt) => Ok(AtToken {
            jkt: Some(jkt),
            nonce,
        }),
        Err(p) => Err(refuse(p)),
    })
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Where a resource request arrived: the default method and URL.
pub(super) struct Resource<'a> {
    pub default_htm: Option<&'static str>,
    pub default_htu: Option<&'a str>,
    /// Result code of the refusal.
    pub code: &'static str,
}

/// Checks the proof that accompanies `token` (bound to `jkt`, or not bound)
/// at a resource endpoint. `Ok(nonce)` lets the request through (with the
/// nonce to return); `Err` is the finished UNAUTHORIZED reply.
pub(super) fn at_resource(
    engine: &LocalBackend,
    input: &ProofInput,
    client: &Client,
    token: &str,
    jkt: Option<&str>,
    at: &Resource<'_>,
) -> Result<Result<Option<String>, Value>, Fault> {
    let required = nonce_required(engine, input, client);
    let nonce = match required && jkt.is_some() {
        true => Some(engine.dpop.nonce(engine.now())?),
        false => None,
    };
    let Some(jkt) = jkt else {
        // A Bearer token: a proof sent along changes nothing.
        return Ok(Ok(None));
    };
    let refuse = |p: Problem| {
        let challenge = reply::challenge(
            "DPoP",
            p.error,
            &reply::described(at.code, &p.message),
            None,
        );
        let mut v = Obj::new("UNAUTHORIZED", at.code, &p.message)
            .set("responseContent", challenge)
            .done();
        if let Some(n) = &nonce {
            v["dpopNonce"] = n.clone().into();
        }
        v
    };
    let proof = input.dpop.as_deref().unwrap_or_default();
    if proof.is_empty() {
        return Ok(Err(refuse(invalid(
            "The access token is DPoP-bound, but no DPoP proof was presented.",
        ))));
    }
    let (Some(htm), Some(htu)) = (
        non_empty(&input.htm).or(at.default_htm),
        non_empty(&input.htu).or(at.default_htu),
    ) else {
        return Err(Fault::Caller(
            "'htm' and 'htu' are required with 'dpop' (the resource request's method and URL)."
                .to_owned(),
        ));
    };
    let expected = Expected {
        htm,
        htu,
        access_token: Some(token),
        nonce_required: required,
    };
    Ok(match check(engine, proof, &expected)? {
        Ok(found) if found == jkt => Ok(nonce),
        Ok(_) => Err(refuse(invalid(
            "The DPoP proof is signed by another key than the one the access token is bound to.",
        ))),
        Err(p) => Err(refuse(p)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_ignores_query_and_fragment_and_normalises() {
        assert!(same_uri(
            "https://AS.example:443/token?a=1#f",
            "https://as.example/token"
        ));
        assert!(!same_uri(
            "https://as.example/token/",
            "https://as.example/token"
        ));
        assert!(!same_uri(
            "http://as.example/token",
            "https://as.example/token"
        ));
        assert!(!same_uri("", "https://as.example/token"));
        assert_eq!(numeric_date(&serde_json::json!(1.5e300)), Some(i64::MAX));
    }
}
