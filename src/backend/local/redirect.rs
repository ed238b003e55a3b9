//! Front-channel responses to the client's redirect URI: parameters in the
//! query, in the fragment, or in an auto-submitting HTML form
//! (`response_mode=form_post`), always with `state` and `iss` (RFC 9207).

/// How the response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Query,
    Fragment,
    FormPost,
}

impl Mode {
    /// The `response_mode` values the engine supports.
    pub(super) fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }
}

/// Where and how to answer.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub uri: String,
    pub mode: Mode,
    pub state: Option<String>,
}

/// An action (`LOCATION` or `FORM`) and its `responseContent`.
#[derive(Clone)]
pub(super) struct FrontChannel {
    pub action: &'static str,
    pub content: String,
}

crate::secret::redacted_debug!(FrontChannel { action, content });

/// Builds the response carrying `params`, then `state` and `iss`.
pub(super) fn build(
    target: &Target,
    mut params: Vec<(&str, String)>,
    issuer: &str,
) -> FrontChannel {
    if let Some(state) = &target.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", issuer.to_owned()));
    // The registered URI is used as written (no URL normalisation): clients
    // compare it exactly.
    let encoded = || {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            s.append_pair(k, v);
        }
        s.finish()
    };
    match target.mode {
        Mode::Query => {
            let sep = if target.uri.contains('?') { '&' } else { '?' };
            FrontChannel {
                action: "LOCATION",
                content: format!("{}{sep}{}", target.uri, encoded()),
            }
        }
        Mode::Fragment => FrontChannel {
            action: "LOCATION",
            content: format!("{}#{}", target.uri, encoded()),
        },
        Mode::FormPost => FrontChannel {
            action: "FORM",
            content: form(&target.uri, &params),
        },
    }
}

/// The auto-submitting page of OAuth 2.0 Form Post Response Mode.
fn form(action: &str, params: &[(&str, String)]) -> String {
    let mut inputs = String::new();
    for (k, v) in params {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>\n",
            escape(k),
            escape(v)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n\
         <title>Submit This Form</title>\n</head>\n\
         <body onload=\"javascript:document.forms[0].submit()\">\n\
         <form method=\"post\" action=\"{}\">\n{inputs}</form>\n</body>\n</html>\n",
        escape(action)
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str, mode: Mode) -> Target {
        Target {
            uri: uri.to_owned(),
            mode,
            state: Some("s 1".to_owned()),
        }
    }

    #[test]
    fn query_and_fragment_carry_state_and_iss() {
        let t = target("https://c.example/cb?x=1", Mode::Query);
        let r = build(&t, vec![("code", "abc".into())], "https://as");
        assert_eq!(r.action, "LOCATION");
        assert_eq!(
            r.content,
            "https://c.example/cb?x=1&code=abc&state=s+1&iss=https%3A%2F%2Fas"
        );
        let r = build(
            &target("https://c.example/cb", Mode::Fragment),
            vec![],
            "https://as",
        );
        assert_eq!(
            r.content,
            "https://c.example/cb#state=s+1&iss=https%3A%2F%2Fas"
        );
    }

    #[test]
    fn form_post_escapes_values() {
        let t = target("https://c.example/cb", Mode::FormPost);
        let r = build(&t, vec![("code", "<\"x\">".into())], "https://as");
        assert_eq!(r.action, "FORM");
        assert!(
            r.content
                .contains(r#"name="code" value="&lt;&quot;x&quot;&gt;""#)
        );
        assert!(
            r.content
                .contains(r#"<form method="post" action="https://c.example/cb">"#)
        );
    }
}
