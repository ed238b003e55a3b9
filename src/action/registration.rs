//! Dynamic client registration (`/client/registration*`), grant management
//! (`/gm`), Native SSO logout (`/nativesso/logout`), back-channel logout
//! tokens (`/backchannel/logout/token`) and attestation challenges
//! (`/attestation/challenge`): actions and their rows of the table
//! (action-mapping.md 2.8, 2.9, 2.12, 1).

use super::{Deserialize, Deserializer, JSON, Rule, json};

actions! {
    /// `/client/registration`, `/get`, `/update` and `/delete` actions.
    ClientRegistrationAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        Created = "CREATED",
        Updated = "UPDATED",
        Deleted = "DELETED",
        Ok = "OK",
    }
}

actions! {
    /// `/gm` actions.
    GrantManagementAction {
        Ok = "OK",
        NoContent = "NO_CONTENT",
        Unauthorized = "UNAUTHORIZED",
        Forbidden = "FORBIDDEN",
        NotFound = "NOT_FOUND",
        CallerError = "CALLER_ERROR",
        AuthleteError = "AUTHLETE_ERROR",
    }
}

actions! {
    /// `/nativesso/logout` actions.
    NativeSsoLogoutAction {
        Ok = "OK",
        ServerError = "SERVER_ERROR",
        CallerError = "CALLER_ERROR",
    }
}

actions! {
    /// `/backchannel/logout/token` actions.
    BackchannelLogoutTokenAction {
        Ok = "OK",
        ServerError = "SERVER_ERROR",
        CallerError = "CALLER_ERROR",
    }
}

actions! {
    /// `/attestation/challenge` actions.
    AttestationChallengeAction {
        Ok = "OK",
        InternalServerError = "INTERNAL_SERVER_ERROR",
    }
}

actions! {
    /// `/auth/token/update` actions.
    TokenUpdateAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Forbidden = "FORBIDDEN",
        NotFound = "NOT_FOUND",
        Ok = "OK",
    }
}

/// `/auth/token/create` as a mirror RPC: token management, never a response
/// to a client (the token exchange and JWT bearer flows build their own).
pub fn token_create(action: &super::TokenCreateAction) -> Rule {
    use super::TokenCreateAction as A;
    match action {
        A::Ok | A::BadRequest | A::Forbidden | A::InternalServerError => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/token/update`: token management, never a response to a client.
pub fn token_update(action: &TokenUpdateAction) -> Rule {
    use TokenUpdateAction as A;
    match action {
        A::Ok | A::BadRequest | A::Forbidden | A::NotFound | A::InternalServerError => {
            Rule::Continue
        }
        A::Unknown(_) => Rule::Unknown,
    }
}

/// The client registration endpoints (jaxrs `ClientRegistrationRequestHandler`).
/// UNAUTHORIZED adds the Bearer challenge RFC 6750 §3 requires for a
/// missing or wrong initial / registration access token (jaxrs sends none).
pub fn client_registration(action: &ClientRegistrationAction) -> Rule {
    use ClientRegistrationAction as A;
    match action {
        A::Created => json(201),
        A::Ok | A::Updated => json(200),
        A::Deleted => Rule::NoContent,
        A::BadRequest => json(400),
        A::Unauthorized => Rule::BodyWithChallenge {
            status: 401,
            content_type: JSON,
            challenge: r#"Bearer error="invalid_token""#,
        },
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// The grant management endpoint (jaxrs `GMRequestHandler`): errors carry
/// `responseContent` as a JSON body, as jaxrs does (not as a challenge).
pub fn grant_management(action: &GrantManagementAction) -> Rule {
    use GrantManagementAction as A;
    match action {
        A::Ok => json(200),
        A::NoContent => Rule::NoContent,
        A::Unauthorized => json(401),
        A::Forbidden => json(403),
        A::NotFound => json(404),
        A::CallerError | A::AuthleteError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/nativesso/logout`: not a response to a client request; the caller
/// reads `count`.
pub fn native_sso_logout(action: &NativeSsoLogoutAction) -> Rule {
    use NativeSsoLogoutAction as A;
    match action {
        A::Ok | A::ServerError | A::CallerError => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/backchannel/logout/token`: not a response to a client request; on OK
/// the caller delivers `logoutToken` to `backchannelLogoutUri`.
pub fn backchannel_logout_token(action: &BackchannelLogoutTokenAction) -> Rule {
    use BackchannelLogoutTokenAction as A;
    match action {
        A::Ok | A::ServerError | A::CallerError => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/attestation/challenge` (jaxrs `AttestationChallengeRequestHandler`).
pub fn attestation_challenge(action: &AttestationChallengeAction) -> Rule {
    use AttestationChallengeAction as A;
    match action {
        A::Ok => json(200),
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{EndpointHeaders, HttpResponse, render};

    const CONTENT: &str = r#"{"error":"x"}"#;

    fn expect(status: u16, extra: &[(&str, &str)], body: &str) -> Option<HttpResponse> {
        let mut headers = vec![
            ("Cache-Control".to_owned(), "no-store".to_owned()),
            ("Pragma".to_owned(), "no-cache".to_owned()),
        ];
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        Some(HttpResponse {
            status,
            headers,
            body: body.to_owned(),
        })
    }

    const J: (&str, &str) = ("Content-Type", "application/json;charset=UTF-8");
    const NONCE: (&str, &str) = ("DPoP-Nonce", "n-1");

    #[test]
    fn client_registration_rows() {
        use ClientRegistrationAction as A;
        let none = EndpointHeaders::default();
        let r = |a: A| render(client_registration(&a), Some(CONTENT), &none);
        assert_eq!(r(A::Created), expect(201, &[J], CONTENT));
        assert_eq!(r(A::Ok), expect(200, &[J], CONTENT));
        assert_eq!(r(A::Updated), expect(200, &[J], CONTENT));
        assert_eq!(r(A::Deleted), expect(204, &[], ""));
        assert_eq!(r(A::BadRequest), expect(400, &[J], CONTENT));
        // RFC 6750 §3: a 401 for a bearer token carries the Bearer challenge.
        let bearer = ("WWW-Authenticate", r#"Bearer error="invalid_token""#);
        assert_eq!(r(A::Unauthorized), expect(401, &[bearer, J], CONTENT));
        assert_eq!(r(A::InternalServerError), expect(500, &[J], CONTENT));
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }

    #[test]
    fn grant_management_rows_carry_the_dpop_nonce() {
        use GrantManagementAction as A;
        let nonce = EndpointHeaders {
            dpop_nonce: Some("n-1".into()),
            attestation_challenge: None,
        };
        let r = |a: A| render(grant_management(&a), Some(CONTENT), &nonce);
        assert_eq!(r(A::Ok), expect(200, &[J, NONCE], CONTENT));
        assert_eq!(r(A::NoContent), expect(204, &[NONCE], ""));
        assert_eq!(r(A::Unauthorized), expect(401, &[J, NONCE], CONTENT));
        assert_eq!(r(A::Forbidden), expect(403, &[J, NONCE], CONTENT));
        assert_eq!(r(A::NotFound), expect(404, &[J, NONCE], CONTENT));
        assert_eq!(r(A::CallerError), expect(500, &[J, NONCE], CONTENT));
        assert_eq!(r(A::AuthleteError), expect(500, &[J, NONCE], CONTENT));
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }

    #[test]
    fn token_create_and_update_rows() {
        let none = EndpointHeaders::default();
        for a in crate::action::TokenCreateAction::KNOWN {
            assert_eq!(render(token_create(a), None, &none), None, "{}", a.name());
        }
        for a in TokenUpdateAction::KNOWN {
            assert_eq!(render(token_update(a), None, &none), None, "{}", a.name());
        }
        let unknown = Some(HttpResponse::unknown_action());
        let new = crate::action::TokenCreateAction::Unknown("NEW".into());
        assert_eq!(render(token_create(&new), None, &none), unknown);
        let new = TokenUpdateAction::Unknown("NEW".into());
        assert_eq!(render(token_update(&new), None, &none), unknown);
    }

    #[test]
    fn native_sso_logout_rows() {
        use NativeSsoLogoutAction as A;
        let none = EndpointHeaders::default();
        let r = |a: A| render(native_sso_logout(&a), None, &none);
        assert_eq!(r(A::Ok), None);
        assert_eq!(r(A::ServerError), None);
        assert_eq!(r(A::CallerError), None);
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }

    #[test]
    fn backchannel_logout_token_rows() {
        use BackchannelLogoutTokenAction as A;
        let none = EndpointHeaders::default();
        let r = |a: A| render(backchannel_logout_token(&a), None, &none);
        assert_eq!(r(A::Ok), None);
        assert_eq!(r(A::ServerError), None);
        assert_eq!(r(A::CallerError), None);
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }

    #[test]
    fn attestation_challenge_rows() {
        use AttestationChallengeAction as A;
        let none = EndpointHeaders::default();
        let r = |a: A| render(attestation_challenge(&a), Some(CONTENT), &none);
        assert_eq!(r(A::Ok), expect(200, &[J], CONTENT));
        assert_eq!(r(A::InternalServerError), expect(500, &[J], CONTENT));
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }
}
