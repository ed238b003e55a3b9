//! One test row per (API, action): the exact status, headers in order, and
//! body, written out literally from reference/action-mapping.md §2.

use super::*;
use crate::http::{EndpointHeaders, HttpResponse, render};

const CONTENT: &str = r#"{"error":"x"}"#;
const NONCE: &str = "nonce-123";
const CHALLENGE: &str = "challenge-456";

fn both() -> EndpointHeaders {
    EndpointHeaders {
        dpop_nonce: Some(NONCE.into()),
        attestation_challenge: Some(CHALLENGE.into()),
    }
}

/// The expected response: cache headers first, then `extra` headers in order.
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
const DPOP: (&str, &str) = ("DPoP-Nonce", NONCE);
const ATTEST: (&str, &str) = ("OAuth-Client-Attestation-Challenge", CHALLENGE);

fn unknown() -> Option<HttpResponse> {
    expect(
        500,
        &[J],
        r#"{"error":"server_error","error_description":"The authorization server could not process the request."}"#,
    )
}

#[test]
fn authorization() {
    use AuthorizationAction as A;
    let none = EndpointHeaders::default();
    let r = |a: A| render(super::authorization(&a), Some(CONTENT), &none);
    assert_eq!(r(A::InternalServerError), expect(500, &[J], CONTENT));
    assert_eq!(r(A::BadRequest), expect(400, &[J], CONTENT));
    assert_eq!(
        render(
            super::authorization(&A::Location),
            Some("https://c.example/cb?code=abc&state=s"),
            &none
        ),
        expect(
            302,
            &[("Location", "https://c.example/cb?code=abc&state=s")],
            ""
        )
    );
    assert_eq!(
        r(A::Form),
        expect(200, &[("Content-Type", "text/html;charset=UTF-8")], CONTENT)
    );
    assert_eq!(r(A::Interaction), None);
    assert_eq!(r(A::NoInteraction), None);
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn authorization_issue_and_fail() {
    use AuthorizationResultAction as A;
    let none = EndpointHeaders::default();
    let r = |a: A| render(authorization_result(&a), Some(CONTENT), &none);
    assert_eq!(r(A::InternalServerError), expect(500, &[J], CONTENT));
    assert_eq!(r(A::BadRequest), expect(400, &[J], CONTENT));
    assert_eq!(r(A::Location), expect(302, &[("Location", CONTENT)], ""));
    assert_eq!(
        r(A::Form),
        expect(200, &[("Content-Type", "text/html;charset=UTF-8")], CONTENT)
    );
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn pushed_authorization_carries_both_endpoint_headers_and_no_challenge() {
    use PushedAuthorizationAction as A;
    let r = |a: A| render(pushed_authorization(&a), Some(CONTENT), &both());
    assert_eq!(r(A::Created), expect(201, &[J, DPOP, ATTEST], CONTENT));
    assert_eq!(r(A::BadRequest), expect(400, &[J, DPOP, ATTEST], CONTENT));
    assert_eq!(r(A::Unauthorized), expect(401, &[J, DPOP, ATTEST], CONTENT));
    assert_eq!(r(A::Forbidden), expect(403, &[J, DPOP, ATTEST], CONTENT));
    assert_eq!(
        r(A::PayloadTooLarge),
        expect(413, &[J, DPOP, ATTEST], CONTENT)
    );
    assert_eq!(
        r(A::InternalServerError),
        expect(500, &[J, DPOP, ATTEST], CONTENT)
    );
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn token() {
    use TokenAction as A;
    let r = |a: A| render(super::token(&a), Some(CONTENT), &both());
    let basic = ("WWW-Authenticate", r#"Basic realm="token""#);
    assert_eq!(
        r(A::InvalidClient),
        expect(401, &[basic, J, DPOP, ATTEST], CONTENT)
    );
    assert_eq!(
        r(A::InternalServerError),
        expect(500, &[J, DPOP, ATTEST], CONTENT)
    );
    assert_eq!(r(A::BadRequest), expect(400, &[J, DPOP, ATTEST], CONTENT));
    assert_eq!(r(A::Ok), expect(200, &[J, DPOP, ATTEST], CONTENT));
    assert_eq!(
        r(A::IdTokenReissuable),
        expect(200, &[J, DPOP, ATTEST], CONTENT)
    );
    for continuing in [A::Password, A::TokenExchange, A::JwtBearer, A::NativeSso] {
        assert_eq!(r(continuing), None);
    }
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn token_issue_and_fail() {
    let r = |rule| render(rule, Some(CONTENT), &EndpointHeaders::default());
    assert_eq!(
        r(token_issue(&TokenIssueAction::InternalServerError)),
        expect(500, &[J], CONTENT)
    );
    assert_eq!(
        r(token_issue(&TokenIssueAction::Ok)),
        expect(200, &[J], CONTENT)
    );
    assert_eq!(
        r(token_issue(&TokenIssueAction::Unknown("NEW".into()))),
        unknown()
    );
    assert_eq!(
        r(token_fail(&TokenFailAction::InternalServerError)),
        expect(500, &[J], CONTENT)
    );
    assert_eq!(
        r(token_fail(&TokenFailAction::BadRequest)),
        expect(400, &[J], CONTENT)
    );
    assert_eq!(
        r(token_fail(&TokenFailAction::Unknown("NEW".into()))),
        unknown()
    );
}

#[test]
fn introspection_and_userinfo_errors_are_bearer_challenges_without_body() {
    use ResourceAction as A;
    let challenge =
        r#"Bearer error="invalid_token",error_description="The access token has expired.""#;
    let dpop_only = EndpointHeaders {
        dpop_nonce: Some(NONCE.into()),
        attestation_challenge: None,
    };
    let r = |a: A| render(resource(&a), Some(challenge), &dpop_only);
    let www = ("WWW-Authenticate", challenge);
    assert_eq!(r(A::InternalServerError), expect(500, &[www, DPOP], ""));
    assert_eq!(r(A::BadRequest), expect(400, &[www, DPOP], ""));
    assert_eq!(r(A::Unauthorized), expect(401, &[www, DPOP], ""));
    assert_eq!(r(A::Forbidden), expect(403, &[www, DPOP], ""));
    assert_eq!(r(A::Ok), None);
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn standard_introspection() {
    use StandardIntrospectionAction as A;
    let r = |a: A| {
        render(
            super::standard_introspection(&a),
            Some(CONTENT),
            &EndpointHeaders::default(),
        )
    };
    assert_eq!(r(A::InternalServerError), expect(500, &[J], CONTENT));
    assert_eq!(r(A::BadRequest), expect(400, &[J], CONTENT));
    assert_eq!(r(A::Ok), expect(200, &[J], CONTENT));
    assert_eq!(
        r(A::Jwt),
        expect(
            200,
            &[("Content-Type", "application/token-introspection+jwt")],
            CONTENT
        )
    );
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn revocation() {
    use RevocationAction as A;
    let attest_only = EndpointHeaders {
        dpop_nonce: None,
        attestation_challenge: Some(CHALLENGE.into()),
    };
    let r = |a: A, content| render(super::revocation(&a), content, &attest_only);
    let basic = ("WWW-Authenticate", r#"Basic realm="revocation""#);
    assert_eq!(
        r(A::InvalidClient, Some(CONTENT)),
        expect(401, &[basic, J, ATTEST], CONTENT)
    );
    assert_eq!(
        r(A::InternalServerError, Some(CONTENT)),
        expect(500, &[J, ATTEST], CONTENT)
    );
    assert_eq!(
        r(A::BadRequest, Some(CONTENT)),
        expect(400, &[J, ATTEST], CONTENT)
    );
    // OK normally has no responseContent: an empty JavaScript body.
    assert_eq!(
        r(A::Ok, None),
        expect(
            200,
            &[
                ("Content-Type", "application/javascript;charset=UTF-8"),
                ATTEST
            ],
            ""
        )
    );
    assert_eq!(r(A::Unknown("NEW".into()), None), unknown());
}

#[test]
fn userinfo_issue() {
    use UserInfoIssueAction as A;
    let challenge = r#"Bearer error="invalid_token""#;
    let dpop_only = EndpointHeaders {
        dpop_nonce: Some(NONCE.into()),
        attestation_challenge: None,
    };
    let r = |a: A, content| render(user_info_issue(&a), Some(content), &dpop_only);
    let www = ("WWW-Authenticate", challenge);
    assert_eq!(
        r(A::InternalServerError, challenge),
        expect(500, &[www, DPOP], "")
    );
    assert_eq!(r(A::BadRequest, challenge), expect(400, &[www, DPOP], ""));
    assert_eq!(r(A::Unauthorized, challenge), expect(401, &[www, DPOP], ""));
    assert_eq!(r(A::Forbidden, challenge), expect(403, &[www, DPOP], ""));
    assert_eq!(
        r(A::Json, r#"{"sub":"alice"}"#),
        expect(200, &[J, DPOP], r#"{"sub":"alice"}"#)
    );
    assert_eq!(
        r(A::Jwt, "eyJ.x.y"),
        expect(200, &[("Content-Type", "application/jwt"), DPOP], "eyJ.x.y")
    );
    assert_eq!(r(A::Unknown("NEW".into()), ""), unknown());
}

#[test]
fn id_token_reissue_and_native_sso() {
    let r = |a: IdTokenAction| render(id_token(&a), Some(CONTENT), &both());
    assert_eq!(
        r(IdTokenAction::Ok),
        expect(200, &[J, DPOP, ATTEST], CONTENT)
    );
    assert_eq!(
        r(IdTokenAction::InternalServerError),
        expect(500, &[J, DPOP, ATTEST], CONTENT)
    );
    assert_eq!(
        r(IdTokenAction::CallerError),
        expect(500, &[J, DPOP, ATTEST], CONTENT)
    );
    assert_eq!(r(IdTokenAction::Unknown("NEW".into())), unknown());
}

#[test]
fn empty_endpoint_header_values_are_not_sent() {
    let empty = EndpointHeaders {
        dpop_nonce: Some(String::new()),
        attestation_challenge: Some(String::new()),
    };
    assert_eq!(
        render(super::token(&TokenAction::Ok), Some(CONTENT), &empty),
        expect(200, &[J], CONTENT)
    );
}

#[test]
fn wire_names_round_trip_and_unknown_names_are_kept() {
    for a in TokenAction::KNOWN {
        assert_eq!(&TokenAction::parse(a.name()), a);
    }
    for a in AuthorizationAction::KNOWN {
        assert_eq!(&AuthorizationAction::parse(a.name()), a);
    }
    let parsed: TokenAction = serde_json::from_str(r#""BRAND_NEW""#).unwrap();
    assert_eq!(parsed, TokenAction::Unknown("BRAND_NEW".into()));
    assert_eq!(parsed.name(), "BRAND_NEW");
}
