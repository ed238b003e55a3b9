//! The token responses the service builds itself.

use super::*;

fn headers() -> EndpointHeaders {
    EndpointHeaders {
        dpop_nonce: Some("n".into()),
        attestation_challenge: None,
    }
}

#[test]
fn an_exchanged_token_response_follows_rfc_8693() {
    let created = CreateResponse {
        action: TokenCreateAction::Ok,
        access_token: "at".into(),
        refresh_token: "rt".into(),
        token_type: "Bearer".into(),
        expires_in: 3600,
        scopes: vec!["read".into(), "write".into()],
        ..CreateResponse::default()
    };
    let http = token_response(&created, true, &headers());
    assert_eq!(http.status, 200);
    assert_eq!(http.header("Content-Type"), Some(JSON));
    assert_eq!(http.header("Cache-Control"), Some("no-store"));
    assert_eq!(http.header("DPoP-Nonce"), Some("n"));
    let body: serde_json::Value = serde_json::from_str(&http.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "access_token": "at", "issued_token_type": ACCESS_TOKEN_TYPE, "token_type": "Bearer",
            "expires_in": 3600, "scope": "read write", "refresh_token": "rt",
        })
    );
}

#[test]
fn a_jwt_bearer_response_has_no_issued_token_type_and_prefers_the_jwt_access_token() {
    let created = CreateResponse {
        action: TokenCreateAction::Ok,
        access_token: "opaque".into(),
        jwt_access_token: "eyJ.jwt".into(),
        ..CreateResponse::default()
    };
    let body: serde_json::Value =
        serde_json::from_str(&token_response(&created, false, &headers()).body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"access_token": "eyJ.jwt", "token_type": "Bearer"})
    );
}

#[test]
fn a_refused_creation_is_invalid_request_and_a_failed_one_a_server_error() {
    for (action, status, error) in [
        (TokenCreateAction::Forbidden, 400, "invalid_request"),
        (TokenCreateAction::BadRequest, 400, "invalid_request"),
        (TokenCreateAction::InternalServerError, 500, "server_error"),
        (
            TokenCreateAction::Unknown("NEW".into()),
            500,
            "server_error",
        ),
    ] {
        let created = CreateResponse {
            action: action.clone(),
            ..CreateResponse::default()
        };
        let http = token_response(&created, true, &headers());
        assert_eq!(http.status, status, "{action:?}");
        let body: serde_json::Value = serde_json::from_str(&http.body).unwrap();
        assert_eq!(body["error"], error, "{action:?}");
        assert_eq!(http.header("DPoP-Nonce"), Some("n"));
    }
}

#[test]
fn only_the_grants_the_web_tier_finishes_have_an_unsupported_answer() {
    for action in [
        TokenAction::TokenExchange,
        TokenAction::JwtBearer,
        TokenAction::NativeSso,
    ] {
        let http = unsupported(&action).expect("an answer");
        assert_eq!(http.status, 400);
        assert_eq!(http.header("DPoP-Nonce"), None);
    }
    for action in [
        TokenAction::Ok,
        TokenAction::Password,
        TokenAction::IdTokenReissuable,
    ] {
        assert_eq!(unsupported(&action), None, "{action:?}");
    }
}

#[test]
fn refusals_carry_the_error_and_reject_characters_rfc_6749_forbids() {
    let finished = refused(
        "",
        "invalid_request",
        "The subject token is not trusted.",
        &headers(),
    )
    .unwrap();
    assert_eq!(finished.http.status, 400);
    assert_eq!(
        finished.http.body,
        r#"{"error":"invalid_request","error_description":"The subject token is not trusted."}"#
    );
    assert_eq!(finished.completion.reason, "invalid_request");
    assert!(refused("bad\"error", "invalid_request", "", &headers()).is_err());
    assert!(refused("invalid_grant", "x", "tab\tnot allowed", &headers()).is_err());
}
