//! OpenID Connect claims: the standard names, the claims each scope stands
//! for (OIDC Core §5.4), and the `claims` request parameter (§5.5).

use serde_json::Value;

/// The standard claims (OIDC Core §5.1), `claims_supported` by default.
pub(super) const STANDARD: &[&str] = &[
    "sub",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// Claims about the token rather than the user: never listed as requested
/// user claims.
const PROTOCOL: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
];

/// The claims a scope stands for (OIDC Core §5.4).
fn for_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        _ => &[],
    }
}

/// The user claims the scopes stand for, among the supported ones.
pub(super) fn from_scopes(scopes: &[String], supported: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in scopes {
        for claim in for_scope(scope) {
            if supported.iter().any(|s| s == claim) && !out.iter().any(|o| o == claim) {
                out.push((*claim).to_owned());
            }
        }
    }
    out
}

/// Adds the names not yet in `into`.
pub(super) fn merge(into: &mut Vec<String>, names: Vec<String>) {
    for n in names {
        if !into.contains(&n) {
            into.push(n);
        }
    }
}

/// One part (`id_token` or `userinfo`) of a `claims` request.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Part {
    /// The part as JSON text (Authlete's `idTokenClaims` / `userInfoClaims`).
    pub json: String,
    /// Requested user claim names, protocol claims left out.
    pub names: Vec<String>,
}

/// A parsed `claims` request parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Request {
    pub id_token: Part,
    pub userinfo: Part,
    /// `id_token.sub.value`: only this user may complete the flow.
    pub subject: String,
    /// `id_token.acr.values` (or `.value`).
    pub acrs: Vec<String>,
    /// `id_token.acr.essential`.
    pub acr_essential: bool,
}

/// Parses the `claims` parameter; `Err` says what is wrong with it.
pub(super) fn parse(text: &str) -> Result<Request, &'static str> {
    let value: Value = serde_json::from_str(text).map_err(|_| "is not valid JSON")?;
    let object = value.as_object().ok_or("is not a JSON object")?;
    let part = |name: &str| -> Result<Part, &'static str> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(Part::default()),
            Some(Value::Object(members)) => Ok(Part {
                json: Value::Object(members.clone()).to_string(),
                names: members
                    .keys()
                    .filter(|k| !PROTOCOL.contains(&k.as_str()))
                    .cloned()
                    .collect(),
            }),
            Some(_) => Err("has a member that is not a JSON object"),
        }
    };
    let id_token = part("id_token")?;
    let userinfo = part("userinfo")?;
    let id = object.get("id_token");
    let subject = id
        .and_then(|p| p.get("sub"))
        .and_then(|s| s.get("value"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let acr = id.and_then(|p| p.get("acr"));
    let mut acrs: Vec<String> = acr
        .and_then(|a| a.get("values"))
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(single) = acr.and_then(|a| a.get("value")).and_then(Value::as_str) {
        acrs.push(single.to_owned());
    }
    let acr_essential = acr
        .and_then(|a| a.get("essential"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(Request {
        id_token,
        userinfo,
        subject,
        acrs,
        acr_essential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts_subject_and_acr() {
        let r = parse(
            r#"{"id_token":{"email":null,"sub":{"value":"alice"},"acr":{"essential":true,"values":["gold"]}},"userinfo":{"name":{"essential":true}}}"#,
        )
        .unwrap();
        assert_eq!(r.id_token.names, ["email"]);
        assert_eq!(r.userinfo.names, ["name"]);
        assert_eq!(r.subject, "alice");
        assert_eq!(r.acrs, ["gold"]);
        assert!(r.acr_essential);
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"id_token":1}"#).is_err());
    }

    #[test]
    fn scopes_stand_for_supported_claims() {
        let supported: Vec<String> = STANDARD.iter().map(|s| s.to_string()).collect();
        let scopes = vec!["openid".to_owned(), "email".to_owned()];
        assert_eq!(
            from_scopes(&scopes, &supported),
            ["email", "email_verified"]
        );
    }
}
