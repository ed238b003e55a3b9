//! CIBA (`/backchannel/authentication*`) and device flow (`/device/*`)
//! actions and their rows of the table (action-mapping.md 2.10, 2.11).

use super::{Deserialize, Deserializer, JSON, Rule, json};

actions! {
    /// `/backchannel/authentication` actions.
    BackchannelAuthenticationAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        UserIdentification = "USER_IDENTIFICATION",
    }
}

actions! {
    /// `/backchannel/authentication/issue` actions.
    BackchannelAuthenticationIssueAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        InvalidTicket = "INVALID_TICKET",
        Ok = "OK",
    }
}

actions! {
    /// `/backchannel/authentication/fail` actions.
    BackchannelAuthenticationFailAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Forbidden = "FORBIDDEN",
    }
}

actions! {
    /// `/backchannel/authentication/complete` actions.
    BackchannelAuthenticationCompleteAction {
        ServerError = "SERVER_ERROR",
        NoAction = "NO_ACTION",
        Notification = "NOTIFICATION",
    }
}

actions! {
    /// `/device/authorization` actions.
    DeviceAuthorizationAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        BadRequest = "BAD_REQUEST",
        Unauthorized = "UNAUTHORIZED",
        Ok = "OK",
    }
}

actions! {
    /// `/device/verification` actions. Authlete's Java library says
    /// SERVER_ERROR where the OpenAPI spec says INTERNAL_SERVER_ERROR: both are kept.
    DeviceVerificationAction {
        InternalServerError = "INTERNAL_SERVER_ERROR",
        ServerError = "SERVER_ERROR",
        NotExist = "NOT_EXIST",
        Expired = "EXPIRED",
        Valid = "VALID",
    }
}

actions! {
    /// `/device/complete` actions.
    DeviceCompleteAction {
        ServerError = "SERVER_ERROR",
        UserCodeNotExist = "USER_CODE_NOT_EXIST",
        UserCodeExpired = "USER_CODE_EXPIRED",
        InvalidRequest = "INVALID_REQUEST",
        Success = "SUCCESS",
    }
}

/// `/backchannel/authentication` (jaxrs `BackchannelAuthenticationRequestHandler`).
/// USER_IDENTIFICATION: the web tier identifies the user, then issue or fail.
pub fn backchannel_authentication(action: &BackchannelAuthenticationAction) -> Rule {
    use BackchannelAuthenticationAction as A;
    match action {
        A::InternalServerError => json(500),
        A::BadRequest => json(400),
        A::Unauthorized => Rule::BodyWithChallenge {
            status: 401,
            content_type: JSON,
            challenge: r#"Basic realm="backchannel/authentication""#,
        },
        A::UserIdentification => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/backchannel/authentication/issue`.
pub fn backchannel_authentication_issue(action: &BackchannelAuthenticationIssueAction) -> Rule {
    use BackchannelAuthenticationIssueAction as A;
    match action {
        A::Ok => json(200),
        A::InternalServerError | A::InvalidTicket => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/backchannel/authentication/fail`.
pub fn backchannel_authentication_fail(action: &BackchannelAuthenticationFailAction) -> Rule {
    use BackchannelAuthenticationFailAction as A;
    match action {
        A::BadRequest => json(400),
        A::Forbidden => json(403),
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/backchannel/authentication/complete`: never an HTTP response to the
/// client. NOTIFICATION is delivered to the client's notification endpoint,
/// NO_ACTION (poll mode) needs nothing, SERVER_ERROR is the service's problem.
pub fn backchannel_authentication_complete(
    action: &BackchannelAuthenticationCompleteAction,
) -> Rule {
    use BackchannelAuthenticationCompleteAction as A;
    match action {
        A::Notification | A::NoAction | A::ServerError => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/device/authorization` (jaxrs `DeviceAuthorizationRequestHandler`).
pub fn device_authorization(action: &DeviceAuthorizationAction) -> Rule {
    use DeviceAuthorizationAction as A;
    match action {
        A::Ok => json(200),
        A::BadRequest => json(400),
        A::Unauthorized => Rule::BodyWithChallenge {
            status: 401,
            content_type: JSON,
            challenge: r#"Basic realm="device/authorization""#,
        },
        A::InternalServerError => json(500),
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/device/verification`: Authlete sends no `responseContent`; every action
/// becomes a page of the web tier's own (jaxrs hands each to an SPI method),
/// so there is no ready response.
pub fn device_verification(action: &DeviceVerificationAction) -> Rule {
    use DeviceVerificationAction as A;
    match action {
        A::Valid | A::Expired | A::NotExist | A::InternalServerError | A::ServerError => {
            Rule::Continue
        }
        A::Unknown(_) => Rule::Unknown,
    }
}

/// `/device/complete`: as [`device_verification`], the result page is the
/// web tier's own.
pub fn device_complete(action: &DeviceCompleteAction) -> Rule {
    use DeviceCompleteAction as A;
    match action {
        A::Success
        | A::InvalidRequest
        | A::UserCodeExpired
        | A::UserCodeNotExist
        | A::ServerError => Rule::Continue,
        A::Unknown(_) => Rule::Unknown,
    }
}

#[cfg(test)]
#[path = "backchannel_tests.rs"]
mod tests;
