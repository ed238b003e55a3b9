//! OpenID Federation (`/federation/*`) and authorization ticket
//! (`/auth/authorization/ticket/*`) actions and their rows of the table
//! (action-mapping.md 2.12, 1).

use super::{Deserialize, Deserializer, Rule, json};

/// `Content-Type` of entity statements (OpenID Federation 1.0).
pub const ENTITY_STATEMENT: &str = "application/entity-statement+jwt";

actions! {
    /// `/federation/configuration` actions.
    FederationConfigurationAction {
        Ok = "OK",
        NotFound = "NOT_FOUND",
        InternalServerError = "INTERNAL_SERVER_ERROR",
    }
}

actions! {
    /// `/federation/registration` actions.
    FederationRegistrationAction {
        Ok = "OK",
        BadRequest = "BAD_REQUEST",
        NotFound = "NOT_FOUND",
        InternalServerError = "INTERNAL_SERVER_ERROR",
    }
}

actions! {
    /// `/auth/authorization/ticket/info` and `/update` actions.
    AuthorizationTicketAction {
        Ok = "OK",
        NotFound = "NOT_FOUND",
        CallerError = "CALLER_ERROR",
        AuthleteError = "AUTHLETE_ERROR",
    }
}

/// The entity configuration endpoint (jaxrs `FederationConfigurationRequestHandler`).
pub fn federation_configuration(action: &FederationConfigurationAction) -> Rule {
    use FederationConfigurationAction as A;
    match action {
        A::Ok => Rule::Body {
            status: 200,
            content_type: ENTITY_STATEMENT,
        },
        A::NotFound => json(404),
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// The federation registration endpoint (jaxrs `FederationRegistrationRequestHandler`).
pub fn federation_registration(action: &FederationRegistrationAction) -> Rule {
    use FederationRegistrationAction as A;
    match action {
        A::Ok => Rule::Body {
            status: 200,
            content_type: ENTITY_STATEMENT,
        },
        A::BadRequest => json(400),
        A::NotFound => json(404),
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// Ticket info and update: the web tier's own bookkeeping, never a response
/// to a client.
pub fn authorization_ticket(action: &AuthorizationTicketAction) -> Rule {
    use AuthorizationTicketAction as A;
    match action {
        A::Ok | A::NotFound | A::CallerError | A::AuthleteError => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{EndpointHeaders, HttpResponse, render};

    const CONTENT: &str = "eyJ.entity.statement";

    fn expect(status: u16, content_type: &str) -> Option<HttpResponse> {
        Some(HttpResponse::new(status).with_body(content_type, CONTENT))
    }

    const J: &str = "application/json;charset=UTF-8";

    #[test]
    fn federation_configuration_rows() {
        use FederationConfigurationAction as A;
        let none = EndpointHeaders::default();
        let r = |a: A| render(federation_configuration(&a), Some(CONTENT), &none);
        assert_eq!(r(A::Ok), expect(200, "application/entity-statement+jwt"));
        assert_eq!(r(A::NotFound), expect(404, J));
        assert_eq!(r(A::InternalServerError), expect(500, J));
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }

    #[test]
    fn federation_registration_rows() {
        use FederationRegistrationAction as A;
        let none = EndpointHeaders::default();
        let r = |a: A| render(federation_registration(&a), Some(CONTENT), &none);
        assert_eq!(r(A::Ok), expect(200, "application/entity-statement+jwt"));
        assert_eq!(r(A::BadRequest), expect(400, J));
        assert_eq!(r(A::NotFound), expect(404, J));
        assert_eq!(r(A::InternalServerError), expect(500, J));
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }

    #[test]
    fn authorization_ticket_rows() {
        use AuthorizationTicketAction as A;
        let none = EndpointHeaders::default();
        let r = |a: A| render(authorization_ticket(&a), None, &none);
        for a in A::KNOWN {
            assert_eq!(r(a.clone()), None, "{}", a.name());
        }
        assert_eq!(
            r(A::Unknown("NEW".into())),
            Some(HttpResponse::unknown_action())
        );
    }
}
