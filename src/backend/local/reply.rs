//! Authlete-shaped replies: result codes and messages, OAuth error bodies,
//! bearer challenges, and objects without empty members (Authlete leaves
//! absent members out rather than sending `null`).

use serde_json::{Map, Value};

/// Why an API produced no ordinary reply.
#[derive(Debug)]
pub(super) enum Fault {
    /// The request to the API itself is malformed: Authlete answers HTTP 400
    /// with a result body (a "caller error"), not an action.
    Caller(String),
    /// The engine failed (e.g. no randomness): action INTERNAL_SERVER_ERROR.
    Server(String),
    /// A bound of the store is reached even after sweeping expired ones.
    Full(super::store::Full),
    /// One entry would weigh more than `max_request_bytes`.
    TooLarge(usize),
    /// The API is not implemented by the engine.
    Unsupported,
}

impl Fault {
    /// The text of `resultMessage` for the fault.
    pub(super) fn message(&self) -> String {
        match self {
            Self::Caller(m) | Self::Server(m) => m.clone(),
            Self::Full(super::store::Full::Objects(cap)) => format!(
                "The local engine holds its maximum of {cap} live tickets, codes and token \
                 records (max_live_objects); retry after some expire or raise the limit."
            ),
            Self::Full(super::store::Full::Bytes(cap)) => format!(
                "The local engine holds its maximum of {cap} bytes of tickets, codes and token \
                 records (max_store_bytes); retry after some expire or raise the limit."
            ),
            Self::TooLarge(cap) => format!(
                "The request would make the local engine store more than {cap} bytes for it \
                 (max_request_bytes)."
            ),
            Self::Unsupported => "The local engine does not implement this API.".to_owned(),
        }
    }
}

/// Result code of a caller error (the request body to the API is wrong).
pub(super) const CALLER_ERROR: &str = "L001201";
/// Result code of an engine failure.
pub(super) const SERVER_ERROR: &str = "L001101";
/// Result code when the live-object cap is reached.
pub(super) const FULL: &str = "L001102";

/// A reply object under construction.
#[derive(Debug, Clone)]
pub(super) struct Obj(Map<String, Value>);

impl Obj {
    /// `resultCode`, `resultMessage` (`[code] message`, as Authlete writes it)
    /// and `action`.
    pub(super) fn new(action: &str, code: &str, message: &str) -> Self {
        let mut map = Map::new();
        map.insert("resultCode".into(), code.into());
        map.insert("resultMessage".into(), described(code, message).into());
        if !action.is_empty() {
            map.insert("action".into(), action.into());
        }
        Self(map)
    }

    /// An object without action or result (e.g. a nested one).
    pub(super) fn empty() -> Self {
        Self(Map::new())
    }

    /// Sets a member unless it is null, an empty string or an empty array.
    pub(super) fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        let empty = match &value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            self.0.insert(name.to_owned(), value);
        }
        self
    }

    /// The finished JSON object.
    pub(super) fn done(self) -> Value {
        Value::Object(self.0)
    }
}

/// An OAuth error body: `{"error":...,"error_description":...}`.
pub(super) fn oauth_error(error: &str, description: &str) -> String {
    let mut map = Map::new();
    map.insert("error".into(), error.into());
    map.insert("error_description".into(), description.into());
    Value::Object(map).to_string()
}

/// An RFC 6750 challenge as Authlete writes it into `responseContent`:
/// `Bearer error="...",error_description="..."[,scope="..."]`.
pub(super) fn bearer(error: &str, description: &str, scope: Option<&str>) -> String {
    challenge("Bearer", error, description, scope)
}

/// A challenge of `scheme` (`Bearer`, or `DPoP` for RFC 9449 §7.1).
pub(super) fn challenge(
    scheme: &str,
    error: &str,
    description: &str,
    scope: Option<&str>,
) -> String {
    let mut text = format!(
        "{scheme} error=\"{}\",error_description=\"{}\"",
        quoted(error),
        quoted(description)
    );
    if let Some(scope) = scope {
        text.push_str(&format!(",scope=\"{}\"", quoted(scope)));
    }
    text
}

/// A value safe inside a quoted-string of an HTTP header.
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// `[code] message`, as Authlete writes `resultMessage` and OAuth
/// `error_description`s.
pub(super) fn described(code: &str, message: &str) -> String {
    format!("[{code}] {message}")
}

/// An action reply with a JSON OAuth error in `responseContent`.
pub(super) fn json_error(action: &str, code: &str, error: &str, message: &str) -> Value {
    Obj::new(action, code, message)
        .set(
            "responseContent",
            oauth_error(error, &described(code, message)),
        )
        .done()
}

/// An action reply with a bearer challenge in `responseContent`.
pub(super) fn bearer_error(
    action: &str,
    code: &str,
    error: &str,
    message: &str,
    scope: Option<&str>,
) -> Value {
    Obj::new(action, code, message)
        .set(
            "responseContent",
            bearer(error, &described(code, message), scope),
        )
        .done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_members_are_left_out() {
        let v = Obj::new("OK", "L1", "fine")
            .set("a", "")
            .set("b", Vec::<String>::new())
            .set("c", false)
            .set("d", Value::Null)
            .done();
        assert_eq!(
            v,
            serde_json::json!({"resultCode":"L1","resultMessage":"[L1] fine","action":"OK","c":false})
        );
    }

    #[test]
    fn challenges_are_quoted_safely() {
        assert_eq!(
            bearer("invalid_token", "say \"hi\"\n", Some("a b")),
            r#"Bearer error="invalid_token",error_description="say 'hi' ",scope="a b""#
        );
    }
}
