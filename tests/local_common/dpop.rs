//! The client side of DPoP (RFC 9449) for the engine tests: a key pair
//! (P-256 or Ed25519, aws-lc-rs), proofs with every claim under the test's
//! control, the RFC 7638 thumbprint computed here independently of the
//! engine, and the token, introspection and userinfo RPCs with a proof.

use authlete_grpc::pb;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Env;

pub const TOKEN_URL: &str = "https://as.example/token";
pub const RS_URL: &str = "https://rs.example/api/photos";

enum Pair {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A client's DPoP key.
pub struct DpopKey {
    pair: Pair,
    pub jwk: Value,
}

/// What goes into one proof; [`Proof::new`] gives a valid one for `now`.
#[derive(Clone)]
pub struct Proof {
    pub typ: String,
    pub alg: Option<String>,
    pub htm: String,
    pub htu: String,
    pub iat: i64,
    pub jti: String,
    pub ath: Option<String>,
    pub nonce: Option<String>,
    /// Extra header members (e.g. a private `d` in the JWK).
    pub jwk_extra: Option<(String, Value)>,
}

impl Proof {
    pub fn new(htm: &str, htu: &str, now: i64) -> Self {
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).unwrap();
        Self {
            typ: "dpop+jwt".into(),
            alg: None,
            htm: htm.into(),
            htu: htu.into(),
            iat: now,
            jti: URL_SAFE_NO_PAD.encode(jti),
            ath: None,
            nonce: None,
            jwk_extra: None,
        }
    }

    /// With `ath` for `access_token`.
    pub fn for_token(mut self, access_token: &str) -> Self {
        self.ath = Some(ath(access_token));
        self
    }

    pub fn with_nonce(mut self, nonce: &str) -> Self {
        self.nonce = Some(nonce.to_owned());
        self
    }
}

/// `ath`: base64url(SHA-256(access token)).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, access_token.as_bytes()).as_ref())
}

impl DpopKey {
    pub fn es256() -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
        Self {
            pair: Pair::Ec(pair),
            jwk,
        }
    }

    pub fn ed25519() -> Self {
        let pair = Ed25519KeyPair::generate().unwrap();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())});
        Self {
            pair: Pair::Ed(pair),
            jwk,
        }
    }

    /// The key's JWS `alg`.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Ec(_) => "ES256",
            Pair::Ed(_) => "EdDSA",
        }
    }

    /// RFC 7638: the required members, sorted, no whitespace.
    pub fn thumbprint(&self) -> String {
        let j = &self.jwk;
        let canonical = match self.pair {
            Pair::Ec(_) => format!(
                r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
                j["x"], j["y"]
            ),
            Pair::Ed(_) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":{}}}"#, j["x"]),
        };
        URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()).as_ref())
    }

    /// The signed proof.
    pub fn sign(&self, p: &Proof) -> String {
        let mut jwk = self.jwk.clone();
        if let Some((k, v)) = &p.jwk_extra {
            jwk[k] = v.clone();
        }
        let header =
            json!({"typ": p.typ, "alg": p.alg.as_deref().unwrap_or(self.alg()), "jwk": jwk});
        let mut claims = json!({"htm": p.htm, "htu": p.htu, "iat": p.iat, "jti": p.jti});
        if let Some(a) = &p.ath {
            claims["ath"] = a.clone().into();
        }
        if let Some(n) = &p.nonce {
            claims["nonce"] = n.clone().into();
        }
        self.sign_jws(&header, &claims)
    }

    /// Any compact JWS (client assertions, request objects) by this key.
    pub fn sign_jws(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &self.pair {
            Pair::Ec(k) => k
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec(),
            Pair::Ed(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// `Token` with a proof (POST to the token endpoint) and Basic credentials.
pub async fn token(
    env: &Env,
    parameters: &str,
    basic: Option<(&str, &str)>,
    proof: &str,
) -> pb::TokenResponse {
    let (id, secret) = basic.unwrap_or(("", ""));
    env.token()
        .token(pb::TokenRequest {
            parameters: parameters.to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            dpop: proof.to_owned(),
            htm: "POST".to_owned(),
            htu: TOKEN_URL.to_owned(),
            ..Default::default()
        })
        .await
        .expect("Token RPC")
        .into_inner()
}

/// `Introspection` of `token` with a proof for `htm` `RS_URL`.
pub async fn introspect(
    env: &Env,
    token: &str,
    proof: &str,
    htm: &str,
) -> pb::IntrospectionResponse {
    env.introspection()
        .introspection(pb::IntrospectionRequest {
            token: token.to_owned(),
            dpop: proof.to_owned(),
            htm: htm.to_owned(),
            htu: RS_URL.to_owned(),
            ..Default::default()
        })
        .await
        .expect("Introspection RPC")
        .into_inner()
}

/// `UserInfo` with a proof (htm and htu left to the engine's defaults).
pub async fn userinfo(env: &Env, token: &str, proof: &str) -> pb::UserInfoResponse {
    env.userinfo()
        .user_info(pb::UserInfoRequest {
            token: token.to_owned(),
            dpop: proof.to_owned(),
            ..Default::default()
        })
        .await
        .expect("UserInfo RPC")
        .into_inner()
}
