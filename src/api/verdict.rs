//! The end-user's verdict on a decoupled request (the device flow, CIBA), in
//! the web tier's terms, and the members of `/device/complete` or
//! `/backchannel/authentication/complete` it fills: the requested claims are
//! picked from the user's whole profile, as jaxrs' `getUserClaim` does over
//! the `claimNames` of the first reply (no claims locales in these flows).

use super::backchannel::CompleteResult;
use super::{Error, Property, claims};

/// The end-user's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The user logged in and approved.
    Approved(Box<Approval>),
    /// The user denied (`AccessDenied`) or the transaction failed.
    Denied {
        result: CompleteResult,
        error_description: String,
        error_uri: String,
    },
}

/// An approval: who, how they authenticated, and their profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    pub subject: String,
    pub auth_time: i64,
    pub acr: String,
    /// The user's whole profile as a JSON object; the requested claims are picked from it.
    pub claims: String,
    pub scopes: Vec<String>,
    pub properties: Vec<Property>,
    pub sub: String,
}

/// The members of a complete request that a verdict decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub result: CompleteResult,
    pub subject: String,
    pub sub: String,
    pub auth_time: i64,
    pub acr: String,
    /// The picked claims as JSON text; empty when none were requested or found.
    pub claims: String,
    pub scopes: Vec<String>,
    pub properties: Vec<Property>,
    pub error_description: String,
    pub error_uri: String,
}

/// Checks a decision and turns it into complete-request members.
pub(crate) fn verdict(decision: Decision, claim_names: &[String]) -> Result<Verdict, Error> {
    match decision {
        Decision::Approved(a) => {
            super::require("approved.subject", &a.subject)?;
            let profile = claims::profile("approved.claims", &a.claims)?;
            let picked = claims::select(claim_names, &[], &profile);
            Ok(Verdict {
                result: CompleteResult::Authorized,
                subject: a.subject,
                sub: a.sub,
                auth_time: a.auth_time,
                acr: a.acr,
                claims: claims::to_text(&picked),
                scopes: a.scopes,
                properties: a.properties,
                ..Verdict::default()
            })
        }
        Decision::Denied {
            result,
            error_description,
            error_uri,
        } => {
            if result == CompleteResult::Authorized {
                return Err(Error::InvalidArgument {
                    field: "denied.result",
                    reason: "must be ACCESS_DENIED or TRANSACTION_FAILED".to_owned(),
                });
            }
            Ok(Verdict {
                result,
                error_description,
                error_uri,
                ..Verdict::default()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(claims: &str) -> Decision {
        Decision::Approved(Box::new(Approval {
            subject: "alice".into(),
            claims: claims.into(),
            ..Approval::default()
        }))
    }

    #[test]
    fn an_approval_carries_only_the_requested_claims() {
        let names = ["email".to_owned(), "name#ja".to_owned()];
        let profile = r#"{"email":"a@example.com","name":"Alice","name#ja":"アリス","phone":"1"}"#;
        let v = verdict(approval(profile), &names).unwrap();
        assert_eq!(v.result, CompleteResult::Authorized);
        assert_eq!(v.subject, "alice");
        let picked: serde_json::Value = serde_json::from_str(&v.claims).unwrap();
        assert_eq!(
            picked,
            serde_json::json!({"email": "a@example.com", "name#ja": "アリス"})
        );
        assert_eq!(verdict(approval(profile), &[]).unwrap().claims, "");
    }

    #[test]
    fn bad_verdicts_name_their_field() {
        let field = |r: Result<Verdict, Error>| match r {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(verdict(approval("[1]"), &[])), "approved.claims");
        let nobody = Decision::Approved(Box::default());
        assert_eq!(field(verdict(nobody, &[])), "approved.subject");
        let authorized = Decision::Denied {
            result: CompleteResult::Authorized,
            error_description: String::new(),
            error_uri: String::new(),
        };
        assert_eq!(field(verdict(authorized, &[])), "denied.result");
    }
}
