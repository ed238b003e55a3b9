use super::*;
use crate::action::ResourceAction;

#[test]
fn htu_is_normalized_as_rfc_9449_compares_it() {
    for (scheme, host, path, want) in [
        (
            "https",
            "RS.Example.com",
            "/a/B?q=1#f",
            "https://rs.example.com/a/B",
        ),
        (
            "HTTPS",
            "rs.example.com:443",
            "/x",
            "https://rs.example.com/x",
        ),
        ("http", "rs.example.com:80", "", "http://rs.example.com/"),
        (
            "https",
            "rs.example.com:8443",
            "/x#frag",
            "https://rs.example.com:8443/x",
        ),
        (
            "http",
            "rs.example.com:443",
            "/x",
            "http://rs.example.com:443/x",
        ),
        ("https", "[::1]:443", "/x", "https://[::1]/x"),
        ("https", "[::1]", "?only=query", "https://[::1]/"),
    ] {
        assert_eq!(htu(scheme, host, path), want, "{scheme} {host} {path}");
    }
}

#[test]
fn the_token_comes_from_bearer_or_dpop_in_any_case() {
    assert_eq!(access_token(Some("Bearer abc")), "abc");
    assert_eq!(access_token(Some("bEaReR  abc ")), "abc");
    assert_eq!(access_token(Some("DPoP xyz")), "xyz");
    assert_eq!(access_token(Some("dpop xyz")), "xyz");
    assert_eq!(access_token(Some("Basic dXNlcjpwYXNz")), "");
    assert_eq!(access_token(Some("Bearer")), "");
    assert_eq!(access_token(None), "");
}

#[test]
fn requirements_are_space_separated() {
    let r = Required::parse(Some(" read  write "), Some("https://rs.example/a"));
    assert_eq!(r.scopes, ["read", "write"]);
    assert_eq!(r.resources, ["https://rs.example/a"]);
    assert_eq!(Required::parse(None, Some("")), Required::default());
}

const NAMES: FieldNames = FieldNames {
    method: "m",
    scheme: "s",
    host: "h",
};

#[test]
fn htm_and_htu_go_with_a_proof_only() {
    let inbound = Inbound {
        method: "post",
        scheme: "HTTPS",
        host: "RS.example:443",
        path: "/res?x=1",
        authorization: Some("DPoP tok"),
        dpop: Some("proof"),
        certificate: Some("PEM".to_owned()),
    };
    let r = introspection_request(&inbound, &Required::default(), &NAMES).unwrap();
    assert_eq!((r.token.as_str(), r.dpop.as_str()), ("tok", "proof"));
    assert_eq!(
        (r.htm.as_str(), r.htu.as_str()),
        ("POST", "https://rs.example/res")
    );
    assert_eq!(r.client_certificate, "PEM");
    let bearer = Inbound {
        dpop: None,
        ..inbound
    };
    let r = introspection_request(&bearer, &Required::default(), &NAMES).unwrap();
    assert_eq!(
        (r.dpop.as_str(), r.htm.as_str(), r.htu.as_str()),
        ("", "", "")
    );
    let no_host = Inbound {
        dpop: Some("proof"),
        host: "",
        ..bearer
    };
    match introspection_request(&no_host, &Required::default(), &NAMES) {
        Err(api::Error::InvalidArgument { field, .. }) => assert_eq!(field, "h"),
        other => panic!("{other:?}"),
    }
}

fn outcome(body: introspection::Response, called: bool) -> api::Outcome<introspection::Response> {
    api::Outcome {
        http: Some(crate::http::HttpResponse::new(403).with_header("WWW-Authenticate", "Bearer x")),
        body,
        raw: String::new(),
        request_id: None,
        authlete_status: called.then_some(200),
        continuation: String::new(),
        completion: None,
    }
}

#[test]
fn ok_allows_with_the_facts_and_removes_the_missing_ones() {
    let body = introspection::Response {
        action: ResourceAction::Ok,
        client_id: 42,
        scopes: vec!["read".to_owned(), "write".to_owned()],
        ..Default::default()
    };
    let (decision, reason) = decide(&outcome(body, true), "x-my-", true);
    assert_eq!(reason, "ok");
    assert_eq!(
        decision,
        Decision::Allow {
            set: vec![
                ("x-my-client-id".to_owned(), "42".to_owned()),
                ("x-my-scopes".to_owned(), "read write".to_owned()),
            ],
            remove: vec!["x-my-subject".to_owned(), "authorization".to_owned()],
        }
    );
}

#[test]
fn other_actions_deny_with_authletes_answer_and_no_token_with_the_401_challenge() {
    let forbidden = introspection::Response {
        action: ResourceAction::Forbidden,
        ..Default::default()
    };
    let (decision, reason) = decide(&outcome(forbidden, true), DEFAULT_HEADER_PREFIX, false);
    assert_eq!(reason, "forbidden");
    let Decision::Deny(http) = decision else {
        panic!()
    };
    assert_eq!(http.status, 403);
    let missing = introspection::Response {
        action: ResourceAction::BadRequest,
        ..Default::default()
    };
    let (decision, reason) = decide(&outcome(missing, false), DEFAULT_HEADER_PREFIX, false);
    assert_eq!(reason, "missing_token");
    let Decision::Deny(http) = decision else {
        panic!()
    };
    assert_eq!(http.status, 401);
    let challenge = (
        "WWW-Authenticate".to_owned(),
        introspection::MISSING_TOKEN_CHALLENGE.to_owned(),
    );
    assert!(http.headers.contains(&challenge), "{:?}", http.headers);
}
