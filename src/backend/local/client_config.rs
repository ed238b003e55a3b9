//! A `[[clients]]` entry of the engine's configuration file: what a
//! configured client is registered with (docs/local-engine.md).

use serde::Deserialize;

/// A registered client.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// The `client_id` used in OAuth requests. A number is Authlete's
    /// numeric client ID; anything else is an alias and a number is assigned.
    pub client_id: String,
    /// Confidential clients' secret. Unset: generated and printed.
    pub client_secret: Option<String>,
    /// `confidential` (default) or `public`.
    pub client_type: Option<String>,
    pub client_name: String,
    pub description: String,
    pub logo_uri: String,
    pub tos_uri: String,
    pub policy_uri: String,
    pub client_uri: String,
    pub redirect_uris: Vec<String>,
    /// Default: authorization_code and refresh_token.
    pub grant_types: Vec<String>,
    /// Default: `code`.
    pub response_types: Vec<String>,
    /// `client_secret_basic` (default for confidential), `client_secret_post`,
    /// `client_secret_jwt`, `private_key_jwt` (needs `jwks` or `jwks_uri`),
    /// `tls_client_auth`, `self_signed_tls_client_auth`, or `none` (public).
    pub token_auth_method: Option<String>,
    /// `id_token_signed_response_alg`: RS256, PS256, ES256 or EdDSA; unset:
    /// the default key's.
    pub id_token_signed_response_alg: Option<String>,
    /// `userinfo_signed_response_alg`: as above; unset: plain JSON UserInfo.
    pub userinfo_signed_response_alg: Option<String>,
    /// RFC 9449 §5.2: token requests without a DPoP proof are refused.
    pub dpop_bound_access_tokens: bool,
    /// DPoP proofs of this client must carry the server nonce.
    pub dpop_nonce_required: bool,
    /// RFC 8705 §2.1.2: what the certificate of a `tls_client_auth` client
    /// names (exactly one).
    pub tls_client_auth_subject_dn: Option<String>,
    pub tls_client_auth_san_dns: Option<String>,
    pub tls_client_auth_san_uri: Option<String>,
    pub tls_client_auth_san_ip: Option<String>,
    pub tls_client_auth_san_email: Option<String>,
    /// RFC 8705 §3: access tokens bound to the client certificate.
    pub tls_client_certificate_bound_access_tokens: bool,
    /// The client's JWK Set, JSON text: its public keys (`private_key_jwt`,
    /// request objects) and `x5c` certificates (self_signed_tls_client_auth).
    pub jwks: Option<String>,
    /// Instead of `jwks`: a JWK Set file, as a path or `file:` URL, read at
    /// startup (the engine fetches nothing from the network).
    pub jwks_uri: Option<String>,
    /// RFC 9068: this client's access tokens are JWTs signed with this algorithm.
    pub access_token_sign_alg: Option<String>,
    /// RFC 9101 §10.5: authorization and PAR requests must carry a signed
    /// request object (`request`).
    pub require_signed_request_object: bool,
    /// Request objects of this client must be signed with this algorithm.
    pub request_object_signing_alg: Option<String>,
    /// CIBA: `poll` (default) or `ping`; `push` is refused.
    pub backchannel_token_delivery_mode: Option<String>,
    /// CIBA ping: where the notification goes.
    pub backchannel_client_notification_endpoint: Option<String>,
    /// CIBA: backchannel requests must carry a `user_code`.
    pub backchannel_user_code_parameter: bool,
}

crate::secret::redacted_debug!(ClientConfig {
    client_id,
    client_secret,
    client_type,
    client_name,
    description,
    logo_uri,
    tos_uri,
    policy_uri,
    client_uri,
    redirect_uris,
    grant_types,
    response_types,
    token_auth_method,
    id_token_signed_response_alg,
    userinfo_signed_response_alg,
    dpop_bound_access_tokens,
    dpop_nonce_required,
    tls_client_auth_subject_dn,
    tls_client_auth_san_dns,
    tls_client_auth_san_uri,
    tls_client_auth_san_ip,
    tls_client_auth_san_email,
    tls_client_certificate_bound_access_tokens,
    jwks,
    jwks_uri,
    access_token_sign_alg,
    require_signed_request_object,
    request_object_signing_alg,
    backchannel_token_delivery_mode,
    backchannel_client_notification_endpoint,
    backchannel_user_code_parameter
});
