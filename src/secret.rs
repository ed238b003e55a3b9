//! A string that must never be printed: credentials, client secrets, tokens;
//! and the redacting `Debug` of structs that hold such values in plain
//! fields ([`redacted_debug!`], by field name).

use std::fmt;

/// A secret value. `Debug` and `Display` print `[redacted]`; the value is only
/// reachable through [`Secret::expose`], which makes every use greppable.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Parts of field names whose values are, or can carry, secrets: tokens,
/// client secrets, passwords, codes and tickets, DPoP proofs, keys, the form
/// parameters and Authlete's `responseContent`, continuations, HTTP bodies
/// (a token response) and headers (a `Location` with a code).
const SENSITIVE: &[&str] = &[
    "token",
    "secret",
    "password",
    "parameters",
    "ticket",
    "dpop",
    "code",
    "assertion",
    "auth_req",
    "content",
    "continuation",
    "key",
    "attestation",
    "claims",
    "headers",
    "message",
    "session",
    "certificate",
    // Client metadata: an RFC 7592 update carries the client secret.
    "json",
    "body",
    "raw",
];

/// One field of a `Debug`, `[redacted]` when its name is sensitive.
pub(crate) fn debug_field(
    s: &mut std::fmt::DebugStruct<'_, '_>,
    name: &str,
    value: &dyn std::fmt::Debug,
) {
    if SENSITIVE.iter().any(|part| name.contains(part)) {
        s.field(name, &format_args!("[redacted]"));
    } else {
        s.field(name, value);
    }
}

/// Implements `Debug` for a struct, printing `[redacted]` for its sensitive
/// fields (by name, see [`debug_field`]). Every field must be listed: the
/// struct is destructured without `..`, so a new field is a compile error
/// until it is listed here too.
macro_rules! redacted_debug {
    ($name:ident $(<$($g:ident),*>)? { $($field:ident),* $(,)? }) => {
        impl$(<$($g: std::fmt::Debug),*>)? std::fmt::Debug for $name$(<$($g),*>)? {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let $name { $($field),* } = self;
                let mut s = f.debug_struct(stringify!($name));
                $(crate::secret::debug_field(&mut s, stringify!($field), $field);)*
                s.finish()
            }
        }
    };
}
pub(crate) use redacted_debug;

#[cfg(test)]
mod tests {
    use super::*;

    struct Login {
        user: String,
        client_secret: String,
    }
    redacted_debug!(Login {
        user,
        client_secret
    });

    #[test]
    fn redacted_debug_hides_sensitive_fields_only() {
        let login = Login {
            user: "alice".into(),
            client_secret: "hunter2".into(),
        };
        assert_eq!(
            format!("{login:?}"),
            r#"Login { user: "alice", client_secret: [redacted] }"#
        );
    }

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }
}
