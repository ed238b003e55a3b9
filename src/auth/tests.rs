use super::*;
use crate::auth::keys::hash_hex;

fn auth(xfcc: Option<XfccTrust>) -> CallerAuth {
    CallerAuth {
        keys: CallerKeys::parse(&format!(
            "rs={}\nweb={}",
            hash_hex("rs-key"),
            hash_hex("web-key")
        ))
        .unwrap(),
        xfcc,
        policy: Policy::parse(
            r#"
            [callers."key:rs"]
            allow = ["authlete.v1.IntrospectionService"]
            [callers."key:web"]
            allow = ["*"]
            [callers."uri:spiffe://td/web"]
            allow = ["authlete.v1.TokenService/Token"]
            "#,
        )
        .unwrap(),
    }
}

const ISSUE: &str = "/authlete.v1.TokenService/TokenIssue";
const INTROSPECT: &str = "/authlete.v1.IntrospectionService/Introspection";

fn with_key<'a>(path: &'a str, authorization: &'a str) -> Presented<'a> {
    Presented {
        path,
        authorization: Some(authorization),
        ..Presented::default()
    }
}

#[test]
fn keys_identify_and_the_policy_decides() {
    let a = auth(None);
    let rs = a.check(&with_key(INTROSPECT, "Bearer rs-key")).unwrap();
    assert_eq!((rs.name.as_ref(), rs.via), ("key:rs", Via::Key));
    assert!(matches!(
        a.check(&with_key(ISSUE, "Bearer rs-key")),
        Err(Refusal::Denied(c)) if c.name.as_ref() == "key:rs"
    ));
    assert!(a.check(&with_key(ISSUE, "bearer  web-key ")).is_ok());
    for bad in ["Bearer wrong", "Basic d2ViOmtleQ==", "Bearer", "web-key"] {
        assert!(
            matches!(
                a.check(&with_key(ISSUE, bad)),
                Err(Refusal::Unauthenticated(_))
            ),
            "{bad}"
        );
    }
    let none = a.check(&Presented {
        path: ISSUE,
        ..Presented::default()
    });
    assert!(matches!(none, Err(Refusal::Unauthenticated(_))));
}

#[test]
fn xfcc_counts_only_when_trusted() {
    let header = "By=spiffe://td/authlete;URI=spiffe://td/web";
    let presented = Presented {
        path: "/authlete.v1.TokenService/Token",
        xfcc: &[header],
        ..Presented::default()
    };
    assert!(matches!(
        auth(None).check(&presented),
        Err(Refusal::Unauthenticated(_))
    ));
    let caller = auth(Some(XfccTrust::default())).check(&presented).unwrap();
    assert_eq!(
        (caller.name.as_ref(), caller.via),
        ("uri:spiffe://td/web", Via::Xfcc)
    );
}

#[test]
fn an_xfcc_identity_never_takes_a_key_name_grant() {
    // `web` is a key's name with `*`; an XFCC DNS SAN or CN `web` is another
    // caller, with no grant.
    let trust = auth(Some(XfccTrust::default()));
    for header in ["DNS=web", "Subject=\"CN=web\""] {
        let presented = Presented {
            path: ISSUE,
            xfcc: &[header],
            ..Presented::default()
        };
        assert!(
            matches!(trust.check(&presented), Err(Refusal::Denied(c)) if c.name.as_ref() != "key:web"),
            "{header}"
        );
    }
}

#[test]
fn refusals_carry_error_info_and_no_credentials() {
    let a = auth(None);
    let refusal = a
        .check(&with_key(ISSUE, "Bearer SECRET-presented"))
        .unwrap_err();
    let status = refusal.to_status(ISSUE);
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(!status.message().contains("SECRET"), "{}", status.message());
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "CALLER_UNAUTHENTICATED");
    assert_eq!(info.domain, ERROR_DOMAIN);

    let denied = a
        .check(&with_key(ISSUE, "Bearer rs-key"))
        .unwrap_err()
        .to_status(ISSUE);
    assert_eq!(denied.code(), Code::PermissionDenied);
    let info = denied.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "CALLER_NOT_PERMITTED");
    assert_eq!(info.metadata["caller"], "key:rs");
    assert_eq!(info.metadata["rpc"], ISSUE);
}

#[test]
fn health_and_reflection_are_open() {
    assert!(is_open("/grpc.health.v1.Health/Check"));
    assert!(is_open(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
    ));
    assert!(!is_open("/authlete.v1.TokenService/Token"));
    assert!(!is_open("/grpc.health.v1.HealthX/Check"));
}
