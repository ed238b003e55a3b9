//! The `prompt=none` checks, each failing alone, in authlete-java-jaxrs' order.

use super::*;

const NOW: i64 = 1_700_000_000;

fn reply() -> Response {
    Response {
        ticket: "t".into(),
        ..Response::default()
    }
}

fn alice() -> Session {
    Session {
        subject: "alice".into(),
        auth_time: NOW - 60,
        acr: "urn:acr:pwd".into(),
        ..Session::default()
    }
}

#[test]
fn nobody_logged_in() {
    assert_eq!(
        no_interaction_check(&reply(), None, NOW),
        Err(FailReason::NotLoggedIn)
    );
    let empty = Session::default();
    assert_eq!(
        no_interaction_check(&reply(), Some(&empty), NOW),
        Err(FailReason::NotLoggedIn)
    );
}

#[test]
fn max_age_counts_from_auth_time_and_unknown_auth_time_exceeds_it() {
    let r = Response {
        max_age: 60,
        ..reply()
    };
    assert_eq!(
        no_interaction_check(&r, Some(&alice()), NOW),
        Err(FailReason::ExceedsMaxAge)
    );
    let fresh = Session {
        auth_time: NOW - 59,
        ..alice()
    };
    assert_eq!(no_interaction_check(&r, Some(&fresh), NOW), Ok(&fresh));
    let unknown = Session {
        auth_time: 0,
        ..alice()
    };
    assert_eq!(
        no_interaction_check(&r, Some(&unknown), NOW),
        Err(FailReason::ExceedsMaxAge)
    );
    // max_age 0 means no limit.
    assert_eq!(
        no_interaction_check(&reply(), Some(&unknown), NOW),
        Ok(&unknown)
    );
}

#[test]
fn a_requested_subject_must_be_the_logged_in_one() {
    let r = Response {
        subject: "bob".into(),
        ..reply()
    };
    assert_eq!(
        no_interaction_check(&r, Some(&alice()), NOW),
        Err(FailReason::DifferentSubject)
    );
    let r = Response {
        subject: "alice".into(),
        ..reply()
    };
    assert!(no_interaction_check(&r, Some(&alice()), NOW).is_ok());
}

#[test]
fn only_an_essential_acr_must_be_met() {
    let acrs = vec!["urn:acr:mfa".to_owned()];
    let voluntary = Response {
        acrs: acrs.clone(),
        ..reply()
    };
    assert!(no_interaction_check(&voluntary, Some(&alice()), NOW).is_ok());
    let essential = Response {
        acrs,
        acr_essential: true,
        ..reply()
    };
    assert_eq!(
        no_interaction_check(&essential, Some(&alice()), NOW),
        Err(FailReason::AcrNotSatisfied)
    );
    let mfa = Session {
        acr: "urn:acr:mfa".into(),
        ..alice()
    };
    assert!(no_interaction_check(&essential, Some(&mfa), NOW).is_ok());
}

#[test]
fn checks_run_in_order() {
    // Every check would fail: the first one (max_age) wins.
    let r = Response {
        max_age: 1,
        subject: "bob".into(),
        acrs: vec!["x".into()],
        acr_essential: true,
        ..reply()
    };
    assert_eq!(
        no_interaction_check(&r, Some(&alice()), NOW),
        Err(FailReason::ExceedsMaxAge)
    );
    let r = Response { max_age: 0, ..r };
    assert_eq!(
        no_interaction_check(&r, Some(&alice()), NOW),
        Err(FailReason::DifferentSubject)
    );
}
