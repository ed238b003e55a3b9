//! Authlete's `action` vocabularies, one enum per API, and THE table that says
//! what HTTP response each action becomes (reference: authlete-java-jaxrs).
//!
//! Architecture invariant: this module is pure data. Every `match` here is
//! exhaustive with no wildcard, so adding an action forces a decision.

use serde::{Deserialize, Deserializer};

use crate::http::{HTML, INTROSPECTION_JWT, JAVASCRIPT, JSON, JWT, Rule};

/// Defines an action enum that keeps values it does not know
/// (`Unknown("NEW_ACTION")`) instead of failing to parse the whole reply.
macro_rules! actions {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $(#[doc = $wire] $variant,)+
            /// A value this version does not know (or no `action` at all).
            Unknown(String),
        }

        impl Default for $name {
            fn default() -> Self {
                Self::Unknown(String::new())
            }
        }

        impl $name {
            /// Every known value, for tests.
            pub const KNOWN: &'static [$name] = &[$($name::$variant,)+];

            /// The wire names of [`Self::KNOWN`].
            pub const NAMES: &'static [&'static str] = &[$($wire,)+];

            /// Parses Authlete's wire name.
            pub fn parse(name: &str) -> Self {
                match name {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// Authlete's wire name.
            pub fn name(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(name) => name,
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::parse(&String::deserialize(d)?))
            }
        }
    };
}

actions! {
    /// `/auth/authorization` actions.
    AuthorizationAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Location = "LOCATION",
        Form = "FORM",
        NoInteraction = "NO_INTERACTION",
        Interaction = "INTERACTION",
    }
}

actions! {
    /// `/auth/authorization/issue` and `/auth/authorization/fail` actions.
    AuthorizationResultAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Location = "LOCATION",
        Form = "FORM",
    }
}

actions! {
    /// `/pushed_auth_req` actions.
    PushedAuthorizationAction {
        Created = "CREATED",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        Forbidden = "FORBIDDEN",
        PayloadTooLarge = "PAYLOAD_TOO_LARGE",
        InternalServerError = "INTERNAL_SERVER_ERROR",
    }
}

actions! {
    /// `/auth/token` actions.
    TokenAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        InvalidClient = "INVALID_CLIENT",
        BadRequest = "BAD_REQUEST",
        Password = "PASSWORD",
        Ok = "OK",
        TokenExchange = "TOKEN_EXCHANGE",
        JwtBearer = "JWT_BEARER",
        NativeSso = "NATIVE_SSO",
        IdTokenReissuable = "ID_TOKEN_REISSUABLE",
    }
}

actions! {
    /// `/auth/token/issue` actions.
    TokenIssueAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        Ok = "OK",
    }
}

actions! {
    /// `/auth/token/fail` actions.
    TokenFailAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
    }
}

actions! {
    /// `/auth/introspection` and `/auth/userinfo` actions.
    ResourceAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        Forbidden = "FORBIDDEN",
        Ok = "OK",
    }
}

actions! {
    /// `/auth/introspection/standard` actions.
    StandardIntrospectionAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Ok = "OK",
        Jwt = "JWT",
    }
}

actions! {
    /// `/auth/revocation` actions.
    RevocationAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        InvalidClient = "INVALID_CLIENT",
        BadRequest = "BAD_REQUEST",
        Ok = "OK",
    }
}

actions! {
    /// `/auth/userinfo/issue` actions.
    UserInfoIssueAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        Forbidden = "FORBIDDEN",
        Json = "JSON",
        Jwt = "JWT",
    }
}

actions! {
    /// `/idtoken/reissue` and `/nativesso` actions.
    IdTokenAction {
        Ok = "OK",
        InternalServerError = "INTERNAL_SERVER_ERROR",
        CallerError = "CALLER_ERROR",
    }
}

actions! {
    /// `/auth/token/create` actions.
    TokenCreateAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Forbidden = "FORBIDDEN",
        Ok = "OK",
    }
}

const fn json(status: u16) -> Rule {
    Rule::Body {
        status,
        content_type: JSON,
    }
}

/// `/auth/authorization` (jaxrs `AuthorizationRequestHandler`).
pub fn authorization(action: &AuthorizationAction) -> Rule {
    use AuthorizationAction as A;
    match action {
        A::InternalServerError => json(500),
        A::BadRequest => json(400),
        A::Location => Rule::Location,
        A::Form => Rule::Body {
            status: 200,
            content_type: HTML,
        },
        A::NoInteraction | A::Interaction => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/authorization/issue` and `/fail`: the same four-way mapping.
pub fn authorization_result(action: &AuthorizationResultAction) -> Rule {
    use AuthorizationResultAction as A;
    match action {
        A::InternalServerError => json(500),
        A::BadRequest => json(400),
        A::Location => Rule::Location,
        A::Form => Rule::Body {
            status: 200,
            content_type: HTML,
        },
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/pushed_auth_req` (jaxrs `PushedAuthReqHandler`). UNAUTHORIZED carries no
/// `WWW-Authenticate`, as in jaxrs.
pub fn pushed_authorization(action: &PushedAuthorizationAction) -> Rule {
    use PushedAuthorizationAction as A;
    match action {
        A::Created => json(201),
        A::BadRequest => json(400),
        A::Unauthorized => json(401),
        A::Forbidden => json(403),
        A::PayloadTooLarge => json(413),
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/token` (jaxrs `TokenRequestHandler`). ID_TOKEN_REISSUABLE is answered
/// like OK, as jaxrs does; the other continuing actions need the web tier.
pub fn token(action: &TokenAction) -> Rule {
    use TokenAction as A;
    match action {
        A::InvalidClient => Rule::BodyWithChallenge {
            status: 401,
            content_type: JSON,
            challenge: r#"Basic realm="token""#,
        },
        A::InternalServerError => json(500),
        A::BadRequest => json(400),
        A::Ok | A::IdTokenReissuable => json(200),
        A::Password | A::TokenExchange | A::JwtBearer | A::NativeSso => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/token/issue`.
pub fn token_issue(action: &TokenIssueAction) -> Rule {
    match action {
        TokenIssueAction::InternalServerError => json(500),
        TokenIssueAction::Ok => json(200),
        TokenIssueAction::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/token/fail`.
pub fn token_fail(action: &TokenFailAction) -> Rule {
    match action {
        TokenFailAction::InternalServerError => json(500),
        TokenFailAction::BadRequest => json(400),
        TokenFailAction::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/introspection` and `/auth/userinfo` (jaxrs `AccessTokenValidator`,
/// `UserInfoRequestHandler`): errors are bearer challenges with no body; OK
/// means the caller continues (serves the resource, or issues userinfo).
pub fn resource(action: &ResourceAction) -> Rule {
    use ResourceAction as A;
    match action {
        A::InternalServerError => Rule::Challenge { status: 500 },
        A::BadRequest => Rule::Challenge { status: 400 },
        A::Unauthorized => Rule::Challenge { status: 401 },
        A::Forbidden => Rule::Challenge { status: 403 },
        A::Ok => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/introspection/standard` (jaxrs `IntrospectionRequestHandler`).
pub fn standard_introspection(action: &StandardIntrospectionAction) -> Rule {
    use StandardIntrospectionAction as A;
    match action {
        A::InternalServerError => json(500),
        A::BadRequest => json(400),
        A::Ok => json(200),
        A::Jwt => Rule::Body {
            status: 200,
            content_type: INTROSPECTION_JWT,
        },
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/revocation` (jaxrs `RevocationRequestHandler`).
pub fn revocation(action: &RevocationAction) -> Rule {
    use RevocationAction as A;
    match action {
        A::InvalidClient => Rule::BodyWithChallenge {
            status: 401,
            content_type: JSON,
            challenge: r#"Basic realm="revocation""#,
        },
        A::InternalServerError => json(500),
        A::BadRequest => json(400),
        A::Ok => Rule::Body {
            status: 200,
            content_type: JAVASCRIPT,
        },
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/idtoken/reissue` and `/nativesso` (java-oauth-server's Native SSO
/// processor: CALLER_ERROR, our own mistake, is a 500 like an Authlete error).
pub fn id_token(action: &IdTokenAction) -> Rule {
    match action {
        IdTokenAction::Ok => json(200),
        IdTokenAction::InternalServerError | IdTokenAction::CallerError => json(500),
        IdTokenAction::Unknown(_) => Rule::Unknown,
    }
}

/// `/auth/userinfo/issue` (jaxrs `UserInfoRequestHandler`, second step).
pub fn user_info_issue(action: &UserInfoIssueAction) -> Rule {
    use UserInfoIssueAction as A;
    match action {
        A::InternalServerError => Rule::Challenge { status: 500 },
        A::BadRequest => Rule::Challenge { status: 400 },
        A::Unauthorized => Rule::Challenge { status: 401 },
        A::Forbidden => Rule::Challenge { status: 403 },
        A::Json => json(200),
        A::Jwt => Rule::Body {
            status: 200,
            content_type: JWT,
        },
        A::Unknown(_) => Rule::Unknown,
    }
}

// Families declared after the `actions!` macro and `json` so they can use them.
/// `name` as a static string when it is an action of an Authlete API this
/// service knows: the bounded vocabulary of the action metrics' labels.
pub fn known_name(name: &str) -> Option<&'static str> {
    [
        AuthorizationAction::NAMES,
        AuthorizationResultAction::NAMES,
        PushedAuthorizationAction::NAMES,
        TokenAction::NAMES,
        TokenIssueAction::NAMES,
        TokenFailAction::NAMES,
        ResourceAction::NAMES,
        StandardIntrospectionAction::NAMES,
        RevocationAction::NAMES,
        UserInfoIssueAction::NAMES,
        IdTokenAction::NAMES,
        TokenCreateAction::NAMES,
        BackchannelAuthenticationAction::NAMES,
        BackchannelAuthenticationIssueAction::NAMES,
        BackchannelAuthenticationFailAction::NAMES,
        BackchannelAuthenticationCompleteAction::NAMES,
        DeviceAuthorizationAction::NAMES,
        DeviceVerificationAction::NAMES,
        DeviceCompleteAction::NAMES,
        CredentialMetadataAction::NAMES,
        CredentialOfferAction::NAMES,
        CredentialParseAction::NAMES,
        CredentialIssueAction::NAMES,
        FederationConfigurationAction::NAMES,
        FederationRegistrationAction::NAMES,
        AuthorizationTicketAction::NAMES,
        ClientRegistrationAction::NAMES,
        GrantManagementAction::NAMES,
        NativeSsoLogoutAction::NAMES,
        BackchannelLogoutTokenAction::NAMES,
        AttestationChallengeAction::NAMES,
        TokenUpdateAction::NAMES,
    ]
    .iter()
    .find_map(|names| names.iter().find(|n| **n == name).copied())
}

mod backchannel;
mod credential;
mod federation;
mod registration;
pub use backchannel::*;
pub use credential::*;
pub use federation::*;
pub use registration::*;

#[cfg(test)]
mod tests;
