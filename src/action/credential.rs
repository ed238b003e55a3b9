//! OpenID for Verifiable Credential Issuance (`/vci/*`) actions and their rows
//! of the table (action-mapping.md 2.12).

use super::{Deserialize, Deserializer, JWT, Rule, json};

actions! {
    /// `/vci/metadata`, `/vci/jwtissuer`, `/vci/jwks` and `/vci/nonce` actions.
    CredentialMetadataAction {
        Ok = "OK",
        NotFound = "NOT_FOUND",
        InternalServerError = "INTERNAL_SERVER_ERROR",
    }
}

actions! {
    /// `/vci/offer/create` and `/vci/offer/info` actions.
    CredentialOfferAction {
        Created = "CREATED",
        Ok = "OK",
        Forbidden = "FORBIDDEN",
        NotFound = "NOT_FOUND",
        CallerError = "CALLER_ERROR",
        AuthleteError = "AUTHLETE_ERROR",
    }
}

actions! {
    /// `/vci/single/parse`, `/vci/batch/parse` and `/vci/deferred/parse` actions.
    CredentialParseAction {
        Ok = "OK",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        Forbidden = "FORBIDDEN",
        InternalServerError = "INTERNAL_SERVER_ERROR",
    }
}

actions! {
    /// `/vci/single/issue`, `/vci/batch/issue` and `/vci/deferred/issue`
    /// actions: the OpenAPI values plus those of Authlete's Java library
    /// (OK_JWT, ACCEPTED_JWT, BAD_REQUEST).
    CredentialIssueAction {
        Ok = "OK",
        OkJwt = "OK_JWT",
        Accepted = "ACCEPTED",
        AcceptedJwt = "ACCEPTED_JWT",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        Forbidden = "FORBIDDEN",
        InternalServerError = "INTERNAL_SERVER_ERROR",
        CallerError = "CALLER_ERROR",
    }
}

/// The metadata, JWKS and nonce endpoints (jaxrs `CredentialIssuerMetadata...`).
pub fn credential_metadata(action: &CredentialMetadataAction) -> Rule {
    use CredentialMetadataAction as A;
    match action {
        A::Ok => json(200),
        A::NotFound => json(404),
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/vci/offer/create`: no response content; the web tier hands the offer out.
pub fn credential_offer_create(action: &CredentialOfferAction) -> Rule {
    use CredentialOfferAction as A;
    match action {
        A::Created | A::Ok | A::Forbidden | A::NotFound | A::CallerError | A::AuthleteError => {
            Rule::Continue
        }
        A::Unknown(_) => Rule::Unknown,
    }
}

/// The credential offer endpoint (jaxrs `CredentialOfferUriRequestHandler`):
/// the body is `info.credentialOffer` on OK and `resultMessage` otherwise.
pub fn credential_offer_info(action: &CredentialOfferAction) -> Rule {
    use CredentialOfferAction as A;
    match action {
        A::Ok => json(200),
        // Not one of `/vci/offer/info`'s actions: jaxrs calls it unknown.
        A::Created => Rule::Unknown,
        A::Forbidden => json(403),
        A::NotFound => json(404),
        A::CallerError | A::AuthleteError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// The parse APIs (java-oauth-server's credential endpoints): OK means the
/// web tier builds the credential and calls the issue API.
pub fn credential_parse(action: &CredentialParseAction) -> Rule {
    use CredentialParseAction as A;
    match action {
        A::Ok => Rule::Continue,
        A::BadRequest => json(400),
        A::Unauthorized => Rule::Challenge { status: 401 },
        A::Forbidden => json(403),
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// The issue APIs (java-oauth-server's credential endpoints).
pub fn credential_issue(action: &CredentialIssueAction) -> Rule {
    use CredentialIssueAction as A;
    let jwt = |status| Rule::Body {
        status,
        content_type: JWT,
    };
    match action {
        A::Ok => json(200),
        A::OkJwt => jwt(200),
        A::Accepted => json(202),
        A::AcceptedJwt => jwt(202),
        A::BadRequest => json(400),
        A::Unauthorized => Rule::Challenge { status: 401 },
        A::Forbidden => json(403),
        A::InternalServerError | A::CallerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

#[cfg(test)]
#[path = "credential_tests.rs"]
mod tests;
