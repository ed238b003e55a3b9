//! One row per (API, action) of the CIBA and device flow tables, written out
//! literally from reference/action-mapping.md 2.10 and 2.11.

use super::*;
use crate::http::{EndpointHeaders, HttpResponse, render};

const CONTENT: &str = r#"{"error":"x"}"#;
const CHALLENGE: &str = "challenge-456";

fn attest() -> EndpointHeaders {
    EndpointHeaders {
        dpop_nonce: None,
        attestation_challenge: Some(CHALLENGE.into()),
    }
}

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
const X: (&str, &str) = ("OAuth-Client-Attestation-Challenge", CHALLENGE);

fn unknown() -> Option<HttpResponse> {
    Some(HttpResponse::unknown_action())
}

#[test]
fn backchannel_authentication_rows() {
    use BackchannelAuthenticationAction as A;
    let r = |a: A| render(backchannel_authentication(&a), Some(CONTENT), &attest());
    assert_eq!(r(A::InternalServerError), expect(500, &[J, X], CONTENT));
    assert_eq!(r(A::BadRequest), expect(400, &[J, X], CONTENT));
    assert_eq!(
        r(A::Unauthorized),
        expect(
            401,
            &[
                (
                    "WWW-Authenticate",
                    r#"Basic realm="backchannel/authentication""#
                ),
                J,
                X
            ],
            CONTENT
        )
    );
    assert_eq!(r(A::UserIdentification), None);
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn backchannel_authentication_issue_rows() {
    use BackchannelAuthenticationIssueAction as A;
    let none = EndpointHeaders::default();
    let r = |a: A| render(backchannel_authentication_issue(&a), Some(CONTENT), &none);
    assert_eq!(r(A::Ok), expect(200, &[J], CONTENT));
    assert_eq!(r(A::InternalServerError), expect(500, &[J], CONTENT));
    assert_eq!(r(A::InvalidTicket), expect(500, &[J], CONTENT));
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn backchannel_authentication_fail_rows() {
    use BackchannelAuthenticationFailAction as A;
    let none = EndpointHeaders::default();
    let r = |a: A| render(backchannel_authentication_fail(&a), Some(CONTENT), &none);
    assert_eq!(r(A::BadRequest), expect(400, &[J], CONTENT));
    assert_eq!(r(A::Forbidden), expect(403, &[J], CONTENT));
    assert_eq!(r(A::InternalServerError), expect(500, &[J], CONTENT));
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn backchannel_authentication_complete_rows() {
    use BackchannelAuthenticationCompleteAction as A;
    let none = EndpointHeaders::default();
    let r = |a: A| {
        render(
            backchannel_authentication_complete(&a),
            Some(CONTENT),
            &none,
        )
    };
    assert_eq!(r(A::Notification), None);
    assert_eq!(r(A::NoAction), None);
    assert_eq!(r(A::ServerError), None);
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn device_authorization_rows() {
    use DeviceAuthorizationAction as A;
    let r = |a: A| render(device_authorization(&a), Some(CONTENT), &attest());
    assert_eq!(r(A::Ok), expect(200, &[J, X], CONTENT));
    assert_eq!(r(A::BadRequest), expect(400, &[J, X], CONTENT));
    assert_eq!(
        r(A::Unauthorized),
        expect(
            401,
            &[
                ("WWW-Authenticate", r#"Basic realm="device/authorization""#),
                J,
                X
            ],
            CONTENT
        )
    );
    assert_eq!(r(A::InternalServerError), expect(500, &[J, X], CONTENT));
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn device_verification_rows() {
    use DeviceVerificationAction as A;
    let none = EndpointHeaders::default();
    let r = |a: A| render(device_verification(&a), None, &none);
    assert_eq!(r(A::Valid), None);
    assert_eq!(r(A::Expired), None);
    assert_eq!(r(A::NotExist), None);
    assert_eq!(r(A::InternalServerError), None);
    assert_eq!(r(A::ServerError), None);
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
    // Both spellings of the server error parse.
    assert_eq!(A::parse("SERVER_ERROR"), A::ServerError);
    assert_eq!(A::parse("INTERNAL_SERVER_ERROR"), A::InternalServerError);
}

#[test]
fn device_complete_rows() {
    use DeviceCompleteAction as A;
    let none = EndpointHeaders::default();
    let r = |a: A| render(device_complete(&a), None, &none);
    for a in A::KNOWN {
        assert_eq!(r(a.clone()), None, "{}", a.name());
    }
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}
