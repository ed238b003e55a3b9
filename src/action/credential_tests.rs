//! One row per (API, action) of the credential issuance tables.

use super::*;
use crate::http::{EndpointHeaders, HttpResponse, render};

const CONTENT: &str = r#"{"error":"x"}"#;
const J: &str = "application/json;charset=UTF-8";

fn body(status: u16, content_type: &str) -> Option<HttpResponse> {
    Some(HttpResponse::new(status).with_body(content_type, CONTENT))
}

fn challenge(status: u16) -> Option<HttpResponse> {
    Some(HttpResponse::new(status).with_header("WWW-Authenticate", CONTENT))
}

fn unknown() -> Option<HttpResponse> {
    Some(HttpResponse::unknown_action())
}

fn none() -> EndpointHeaders {
    EndpointHeaders::default()
}

#[test]
fn credential_metadata_rows() {
    use CredentialMetadataAction as A;
    let r = |a: A| render(credential_metadata(&a), Some(CONTENT), &none());
    assert_eq!(r(A::Ok), body(200, J));
    assert_eq!(r(A::NotFound), body(404, J));
    assert_eq!(r(A::InternalServerError), body(500, J));
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn credential_offer_rows() {
    use CredentialOfferAction as A;
    let create = |a: A| render(credential_offer_create(&a), None, &none());
    for a in A::KNOWN {
        assert_eq!(create(a.clone()), None, "{}", a.name());
    }
    assert_eq!(create(A::Unknown("NEW".into())), unknown());
    let info = |a: A| render(credential_offer_info(&a), Some(CONTENT), &none());
    assert_eq!(info(A::Ok), body(200, J));
    assert_eq!(info(A::Forbidden), body(403, J));
    assert_eq!(info(A::NotFound), body(404, J));
    assert_eq!(info(A::CallerError), body(500, J));
    assert_eq!(info(A::AuthleteError), body(500, J));
    assert_eq!(info(A::Created), unknown(), "not one of its actions");
    assert_eq!(info(A::Unknown("NEW".into())), unknown());
}

#[test]
fn credential_parse_rows() {
    use CredentialParseAction as A;
    let r = |a: A| render(credential_parse(&a), Some(CONTENT), &none());
    assert_eq!(r(A::Ok), None);
    assert_eq!(r(A::BadRequest), body(400, J));
    assert_eq!(r(A::Unauthorized), challenge(401));
    assert_eq!(r(A::Forbidden), body(403, J));
    assert_eq!(r(A::InternalServerError), body(500, J));
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}

#[test]
fn credential_issue_rows() {
    use CredentialIssueAction as A;
    let r = |a: A| render(credential_issue(&a), Some(CONTENT), &none());
    assert_eq!(r(A::Ok), body(200, J));
    assert_eq!(r(A::OkJwt), body(200, "application/jwt"));
    assert_eq!(r(A::Accepted), body(202, J));
    assert_eq!(r(A::AcceptedJwt), body(202, "application/jwt"));
    assert_eq!(r(A::BadRequest), body(400, J));
    assert_eq!(r(A::Unauthorized), challenge(401));
    assert_eq!(r(A::Forbidden), body(403, J));
    assert_eq!(r(A::InternalServerError), body(500, J));
    assert_eq!(r(A::CallerError), body(500, J));
    assert_eq!(r(A::Unknown("NEW".into())), unknown());
}
