//! OpenID Connect for Identity Assurance: the `verified_claims` a request
//! asks for, built from the end-user's profile. authlete-java-jaxrs
//! (`VerifiedClaimsCollector`) hands each `verified_claims` request to an SPI;
//! here the profile is the dataset: its `verified_claims` member holds one
//! object or an array of `{"verification": {...}, "claims": {...}}`.
//!
//! A request element is answered by the first dataset whose `trust_framework`
//! satisfies the element's `value`/`values` constraint and that has one of the
//! requested claims (other verification
//! constraints are the web tier's to apply by choosing what it puts in the
//! profile), with only the requested claims the dataset has. An element no
//! dataset answers is left out, as OIDC4IDA section 6 requires; the answer
//! keeps the request's shape (object or array).

use serde_json::Value;

use super::JsonObject;

const KEY: &str = "verified_claims";

/// What goes to `/auth/authorization/issue` or `/auth/userinfo/issue`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Collected {
    /// The `verified_claims` value to add to `claims`, if any.
    pub claims: Option<Value>,
    /// `verifiedClaimsForTx`: one JSON object text per answered element.
    pub for_tx: Vec<String>,
}

/// Collects the verified claims `claims_request` (the `id_token` or
/// `userinfo` part of the `claims` parameter, as JSON text) asks for.
/// `for_tx` is Authlete's `requestedVerifiedClaimsForTx`, one list of names
/// per request element (arrays, or Java's `{"array": [...]}`).
pub(crate) fn collect(claims_request: &str, profile: &JsonObject, for_tx: &[Value]) -> Collected {
    let request = serde_json::from_str::<JsonObject>(claims_request)
        .ok()
        .and_then(|mut r| r.remove(KEY));
    let (requests, single) = match request {
        Some(Value::Array(items)) => (items, false),
        Some(item @ Value::Object(_)) => (vec![item], true),
        _ => return Collected::default(),
    };
    let datasets = as_list(profile.get(KEY));
    let mut answers = Vec::new();
    let mut tx = Vec::new();
    for (i, element) in requests.iter().enumerate() {
        let found = datasets
            .iter()
            .filter(|d| satisfies(d, element))
            .find_map(|d| answer(d, element).map(|a| (d, a)));
        let Some((dataset, answer)) = found else {
            continue;
        };
        if !for_tx.is_empty() {
            let names = for_tx.get(i).map(names).unwrap_or_default();
            let picked = pick(dataset.get("claims"), names.iter().map(String::as_str));
            tx.push(Value::Object(picked).to_string());
        }
        answers.push(answer);
    }
    let claims = match (single, answers.len()) {
        (_, 0) => None,
        (true, _) => answers.into_iter().next(),
        (false, _) => Some(Value::Array(answers)),
    };
    Collected { claims, for_tx: tx }
}

/// Adds the collected `verified_claims` to the selected claims.
pub(crate) fn merge(mut claims: JsonObject, collected: &Collected) -> JsonObject {
    if let Some(value) = &collected.claims {
        claims.insert(KEY.to_owned(), value.clone());
    }
    claims
}

fn as_list(value: Option<&Value>) -> Vec<&JsonObject> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

/// Whether the dataset's trust framework meets the element's constraint.
fn satisfies(dataset: &JsonObject, element: &Value) -> bool {
    let wanted = element.pointer("/verification/trust_framework");
    let Some(Value::Object(constraint)) = wanted else {
        return true;
    };
    let have = dataset
        .get("verification")
        .and_then(|v| v.get("trust_framework"))
        .and_then(Value::as_str);
    let allowed: Vec<&str> = match (constraint.get("value"), constraint.get("values")) {
        (Some(Value::String(one)), _) => vec![one],
        (_, Some(Value::Array(many))) => many.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    have.is_some_and(|h| allowed.contains(&h))
}

/// The element's answer: the dataset's verification and the requested
/// claims it has; `None` when it has none of them.
fn answer(dataset: &JsonObject, element: &Value) -> Option<Value> {
    let requested = element.get("claims").and_then(Value::as_object)?;
    let claims = pick(dataset.get("claims"), requested.keys().map(String::as_str));
    if claims.is_empty() {
        return None;
    }
    let verification = dataset.get("verification").cloned().unwrap_or(Value::Null);
    Some(serde_json::json!({"verification": verification, "claims": claims}))
}

fn pick<'a>(claims: Option<&Value>, names: impl Iterator<Item = &'a str>) -> JsonObject {
    let Some(Value::Object(claims)) = claims else {
        return JsonObject::new();
    };
    names
        .filter_map(|n| {
            claims
                .get(n)
                .filter(|v| !v.is_null())
                .map(|v| (n.to_owned(), v.clone()))
        })
        .collect()
}

fn names(entry: &Value) -> Vec<String> {
    let list = match entry {
        Value::Object(o) => o.get("array"),
        other => Some(other),
    };
    let Some(Value::Array(items)) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[path = "verified_claims_tests.rs"]
mod tests;
