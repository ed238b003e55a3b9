//! The continuation a first step hands the caller and the second step takes
//! back: everything the second step needs, so no replica keeps state between
//! the two RPCs.
//!
//! It is base64url(JSON) with a kind tag, not signed: it only ever feeds the
//! same Authlete calls a caller can make with the plain RPCs (`/issue`,
//! `/fail`, ...), so tampering with it grants nothing those do not.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Error;

const FIELD: &str = "continuation";

#[derive(Serialize, serde::Deserialize)]
struct Envelope<T> {
    /// Which flow this continues, so a token continuation is never taken for
    /// an authorization one.
    kind: String,
    #[serde(flatten)]
    state: T,
}

/// Encodes the state of a `kind` flow.
pub(crate) fn encode<T: Serialize>(kind: &str, state: T) -> String {
    let envelope = Envelope {
        kind: kind.to_owned(),
        state,
    };
    // Serializing plain structs of strings and numbers cannot fail.
    let json = serde_json::to_vec(&envelope).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Decodes the state of a `kind` flow; anything else is INVALID_ARGUMENT.
pub(crate) fn decode<T: DeserializeOwned>(kind: &str, text: &str) -> Result<T, Error> {
    let invalid = |reason: &str| Error::InvalidArgument {
        field: FIELD,
        reason: reason.to_owned(),
    };
    if text.is_empty() {
        return Err(invalid("is required"));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| invalid("is not one this service handed out (not base64url)"))?;
    let envelope: Envelope<T> = serde_json::from_slice(&bytes)
        .map_err(|_| invalid("is not one this service handed out (malformed)"))?;
    if envelope.kind != kind {
        return Err(invalid(&format!(
            "continues a {} flow, not a {kind} flow",
            envelope.kind
        )));
    }
    Ok(envelope.state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct State {
        ticket: String,
        claims: Vec<String>,
    }

    #[test]
    fn round_trips_and_checks_the_kind() {
        let state = State {
            ticket: "t".into(),
            claims: vec!["name#ja".into()],
        };
        let text = encode("authorization", &state);
        assert_eq!(decode::<State>("authorization", &text).unwrap(), state);
        let err = decode::<State>("token", &text).unwrap_err();
        assert!(err.to_string().contains("not a token flow"), "{err}");
    }

    #[test]
    fn garbage_is_an_invalid_argument_naming_the_field() {
        for text in ["", "!!!", "e30", "bm90IGpzb24"] {
            match decode::<State>("authorization", text) {
                Err(Error::InvalidArgument {
                    field: "continuation",
                    ..
                }) => {}
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
