//! Picking the claims a request asked for out of the end-user's profile, the
//! way authlete-java-jaxrs' decision handlers do, so a web tier can hand over
//! the whole profile.
//!
//! A profile is a JSON object; localized values use `name#tag` keys, e.g.
//! `{"name":"Alice","name#ja":"アリス"}`.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{Error, JsonObject};

/// Parses a profile given as a JSON object text (empty means no claims).
pub(crate) fn profile(field: &'static str, text: &str) -> Result<JsonObject, Error> {
    super::json_object(field, text)?;
    if text.is_empty() {
        return Ok(JsonObject::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::InvalidArgument {
            field,
            reason: "must be a JSON object".to_owned(),
        }),
    }
}

/// Selects the requested claims. A tagged request (`name#ja`) takes the value
/// under that key. An untagged one tries `name#<locale>` for each claims
/// locale in order (duplicates ignored, case-insensitively), then `name`.
/// The result is keyed by the requested name; null values are left out.
///
/// Linear in the sizes of the three inputs: the profile's tagged keys are
/// indexed once, and every list comes from the client's request.
pub(crate) fn select(requested: &[String], locales: &[String], profile: &JsonObject) -> JsonObject {
    let index = index(profile);
    let locales = distinct(locales);
    let mut out = JsonObject::new();
    for name in requested {
        let found = match name.split_once('#') {
            Some((base, tag)) => profile
                .get(name)
                .or_else(|| lookup(&index, base, &tag.to_ascii_lowercase())),
            None => locales
                .iter()
                .find_map(|locale| lookup(&index, name, locale))
                .or_else(|| profile.get(name)),
        };
        if let Some(value) = found.filter(|v| !v.is_null()) {
            out.insert(name.clone(), value.clone());
        }
    }
    out
}

/// The selected claims as the JSON text Authlete takes; empty when none.
pub(crate) fn to_text(claims: &JsonObject) -> String {
    if claims.is_empty() {
        return String::new();
    }
    serde_json::to_string(claims).unwrap_or_default()
}

/// Tagged values by claim name, then by lower-case language tag (tags
/// compare case-insensitively); the first key in profile order wins.
type Index<'a> = HashMap<&'a str, HashMap<String, &'a Value>>;

fn index(profile: &JsonObject) -> Index<'_> {
    let mut index: Index<'_> = HashMap::new();
    for (key, value) in profile {
        if let Some((name, tag)) = key.split_once('#') {
            index
                .entry(name)
                .or_default()
                .entry(tag.to_ascii_lowercase())
                .or_insert(value);
        }
    }
    index
}

fn lookup<'a>(index: &Index<'a>, name: &str, lower_tag: &str) -> Option<&'a Value> {
    index.get(name)?.get(lower_tag).copied()
}

/// The locales in order, lower-cased, without duplicates.
fn distinct(locales: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    locales
        .iter()
        .map(|l| l.to_ascii_lowercase())
        .filter(|l| seen.insert(l.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn alice() -> JsonObject {
        json!({
            "name": "Alice Smith", "name#ja": "アリス", "name#fr": "Alice la Française",
            "email": "alice@example.com", "phone_number": null, "address": {"country": "JP"},
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn keeps_only_requested_claims_and_skips_nulls_and_unknowns() {
        let out = select(
            &names(&["email", "phone_number", "birthdate", "address"]),
            &[],
            &alice(),
        );
        assert_eq!(
            Value::Object(out),
            json!({"email": "alice@example.com", "address": {"country": "JP"}})
        );
    }

    #[test]
    fn tagged_requests_use_the_tagged_value_case_insensitively() {
        let out = select(&names(&["name#JA", "name#de"]), &[], &alice());
        assert_eq!(Value::Object(out), json!({"name#JA": "アリス"}));
    }

    #[test]
    fn untagged_requests_fall_back_through_claims_locales_then_the_plain_value() {
        let locales = names(&["de", "FR", "fr", "ja"]);
        let out = select(&names(&["name", "email"]), &locales, &alice());
        assert_eq!(
            Value::Object(out),
            json!({"name": "Alice la Française", "email": "alice@example.com"})
        );
        let out = select(&names(&["name"]), &names(&["de"]), &alice());
        assert_eq!(Value::Object(out), json!({"name": "Alice Smith"}));
    }

    #[test]
    fn profiles_must_be_json_objects() {
        assert!(profile("claims", "").unwrap().is_empty());
        assert!(profile("claims", "[1]").is_err());
        assert!(profile("claims", "{").is_err());
        assert_eq!(to_text(&JsonObject::new()), "");
    }
}
