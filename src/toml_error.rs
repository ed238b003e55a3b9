//! TOML errors that name the line and the key, never the value: the local
//! engine's configuration holds client secrets and the caller policy may
//! hold anything pasted by mistake, while the `toml` crate's `Display`
//! quotes the offending line and serde's messages quote the value
//! (`invalid type: string "s3cret", expected ...`).

/// Describes `error` from parsing `text`: `line N, key `k`: what is wrong`.
pub fn describe(text: &str, error: &toml::de::Error) -> String {
    let message = redact(error.message());
    let Some(start) = error.span().map(|s| s.start.min(text.len())) else {
        return message;
    };
    let line = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_text = text[line_start..].lines().next().unwrap_or_default();
    match key_of(line_text) {
        Some(key) => format!("line {line}, key `{key}`: {message}"),
        None => format!("line {line}: {message}"),
    }
}

/// The key a line sets, or the table it opens; `None` when the line does not
/// look like either (then it may be a value, which is not to be shown).
fn key_of(line: &str) -> Option<&str> {
    let line = line.trim();
    let key = if line.starts_with('[') {
        line.trim_start_matches('[').split(']').next()?
    } else {
        line.split_once('=')?.0
    }
    .trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.\" ".contains(c);
    (!key.is_empty() && key.chars().all(plain)).then_some(key)
}

/// serde's messages about values quote them: keep what was expected only,
/// and blank anything else in double or single quotes.
fn redact(message: &str) -> String {
    let message = message.trim();
    for prefix in ["invalid type", "invalid value", "invalid length"] {
        if message.starts_with(prefix) {
            return match message.find(", expected") {
                Some(i) => format!("{prefix}{}", &message[i..]),
                None => prefix.to_owned(),
            };
        }
    }
    let mut out = String::with_capacity(message.len());
    let mut quote = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push_str("...");
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Config {
        issuer: Option<String>,
        port: Option<u16>,
        #[serde(default)]
        clients: Vec<Client>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Client {
        client_id: Option<u64>,
        client_secret: Option<String>,
    }

    fn error(text: &str) -> String {
        let e = toml::from_str::<Config>(text).expect_err("invalid");
        describe(text, &e)
    }

    #[test]
    fn names_line_and_key_never_the_value() {
        let text = "issuer = \"https://x\"\n\n[[clients]]\nclient_id = \"s3cret-id-value\"\n";
        let e = error(text);
        assert!(
            e.starts_with("line 4, key `client_id`: invalid type, expected"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");

        let e = error("[[clients]]\nclient_secret = 12345678\n");
        assert!(e.contains("line 2, key `client_secret`"), "{e}");
        assert!(!e.contains("12345678"), "{e}");

        let e = error("[[clients]]\nclient_secrt = \"hunter2-secret\"\n");
        assert!(e.contains("client_secrt") && !e.contains("hunter2"), "{e}");

        // A syntax error on a line holding a secret shows neither.
        let e = error("[[clients]]\nclient_secret = \"hunter2-secret\n");
        assert!(e.starts_with("line 2"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = error("port = 1\nhunter2-secret\n");
        assert!(e.starts_with("line 2:") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn quoted_text_in_other_messages_is_blanked() {
        assert_eq!(redact("bad \"s3cret\" here"), "bad \"...\" here");
        assert_eq!(
            redact("missing field `client_id`"),
            "missing field `client_id`"
        );
        assert_eq!(
            redact("invalid value: string \"x\", expected a URL"),
            "invalid value, expected a URL"
        );
    }
}
