//! OAuth request parameters: the `parameters` member Authlete takes is the
//! form-urlencoded request, and a parameter may appear only once (RFC 6749
//! §3.1), except `resource` (RFC 8707). Parsing is linear, and no list
//! (space-separated values, repeated `resource`) may exceed the engine's
//! `max_list_values`, so later steps never loop over unbounded input.

use std::collections::{HashMap, HashSet};

/// Parameters by name, every value kept.
#[derive(Debug, Default, Clone)]
pub(super) struct Params(HashMap<String, Vec<String>>);

/// Parameters that may legitimately repeat.
const REPEATABLE: &[&str] = &["resource"];

/// Parameters whose value is a list of space-separated values.
const LISTS: &[&str] = &[
    "scope",
    "prompt",
    "acr_values",
    "ui_locales",
    "claims_locales",
    "response_type",
    "resource",
];

impl Params {
    /// Parses `application/x-www-form-urlencoded` text. Fails, naming the
    /// parameter, when a non-repeatable one appears twice, or when a
    /// parameter holds more than `max_values` values (repeated, or
    /// space-separated: `scope`, `prompt`, `claims_locales`, ...).
    pub(super) fn parse(form: &str, max_values: usize) -> Result<Self, String> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(form.as_bytes()) {
            let values = map.entry(name.into_owned()).or_default();
            values.push(value.into_owned());
        }
        for (name, values) in &map {
            if values.len() > 1 && !REPEATABLE.contains(&name.as_str()) {
                return Err(format!(
                    "The '{}' parameter is included more than once.",
                    clean(name)
                ));
            }
            let words = |v: &String| v.split(' ').filter(|w| !w.is_empty()).count();
            let list = LISTS.contains(&name.as_str());
            if values.len() > max_values
                || (list && values.iter().map(words).sum::<usize>() > max_values)
            {
                return Err(format!(
                    "The '{}' parameter has more than {max_values} values.",
                    clean(name)
                ));
            }
        }
        Ok(Self(map))
    }

    /// A parameter's value; an empty value reads as absent (RFC 6749 §3.1).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty value of a repeatable parameter.
    pub(super) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .get(name)
            .map(|v| v.iter().filter(|s| !s.is_empty()).cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the parameter is present with a non-empty value.
    pub(super) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Space-separated values (`scope`, `prompt`, `ui_locales`, ...), without
/// duplicates, in order of appearance.
pub(super) fn split(value: Option<&str>) -> Vec<String> {
    let mut seen = HashSet::new();
    value
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty() && seen.insert(*s))
        .map(str::to_owned)
        .collect()
}

/// A parameter name as it may be quoted in an error message: printable
/// ASCII only, and short (names come from the client; values never appear).
fn clean(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' && *c != '\'')
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_duplicates() {
        let p = Params::parse("a=1&b=x%20y&resource=r1&resource=r2&e=", 8).unwrap();
        assert_eq!(p.get("b"), Some("x y"));
        assert_eq!(p.get("e"), None);
        assert_eq!(p.all("resource"), ["r1", "r2"]);
        let err = Params::parse("scope=a&scope=b", 8).unwrap_err();
        assert!(err.contains("'scope'"), "{err}");
    }

    #[test]
    fn bounds_every_list() {
        assert!(Params::parse("scope=a+b++c", 3).is_ok());
        let err = Params::parse("scope=a+b+c+d", 3).unwrap_err();
        assert!(err.contains("'scope'") && err.contains("3 values"), "{err}");
        let err = Params::parse("resource=a&resource=b&resource=c&resource=d", 3).unwrap_err();
        assert!(err.contains("'resource'"), "{err}");
        let err = Params::parse("resource=a+b&resource=c+d", 3).unwrap_err();
        assert!(err.contains("'resource'"), "{err}");
        assert!(
            Params::parse("state=a+b+c+d&claims=%7B+%7D", 3).is_ok(),
            "not lists"
        );
    }

    #[test]
    fn splits_without_duplicates() {
        assert_eq!(split(Some("openid  profile openid")), ["openid", "profile"]);
        assert!(split(None).is_empty());
    }
}
