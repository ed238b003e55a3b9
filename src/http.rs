//! The HTTP response a web tier writes back to the OAuth client, and how a
//! table [`Rule`] plus Authlete's `responseContent` become one. Pure: no IO.

/// `Content-Type` of JSON responses, exactly as authlete-java-jaxrs writes it.
pub const JSON: &str = "application/json;charset=UTF-8";
/// `Content-Type` of `response_mode=form_post` pages.
pub const HTML: &str = "text/html;charset=UTF-8";
/// `Content-Type` of revocation responses (a JSONP legacy kept by every Authlete library).
pub const JAVASCRIPT: &str = "application/javascript;charset=UTF-8";
/// `Content-Type` of signed or encrypted userinfo responses.
pub const JWT: &str = "application/jwt";
/// `Content-Type` of JWT introspection responses (RFC 9701).
pub const INTROSPECTION_JWT: &str = "application/token-introspection+jwt";

/// An HTTP response: status, headers in order, body.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

crate::secret::redacted_debug!(HttpResponse {
    status,
    headers,
    body
});

impl HttpResponse {
    /// A response with the two cache headers every response carries.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: vec![
                ("Cache-Control".to_owned(), "no-store".to_owned()),
                ("Pragma".to_owned(), "no-cache".to_owned()),
            ],
            body: String::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body and its `Content-Type`.
    pub fn with_body(self, content_type: &str, body: impl Into<String>) -> Self {
        let mut this = self.with_header("Content-Type", content_type);
        this.body = body.into();
        this
    }

    /// The value of the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// This response, or the generic 500 when a header value holds CR, LF or
    /// NUL (RFC 9110 §5.5 forbids them): written back verbatim such a value
    /// would split the response, whatever put it there (Authlete's
    /// `responseContent`, a registered redirect URI, a carried nonce).
    pub fn refuse_unsafe_headers(self) -> Self {
        let unsafe_value = |v: &str| v.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0));
        if self.headers.iter().any(|(_, v)| unsafe_value(v)) {
            Self::unknown_action()
        } else {
            self
        }
    }

    /// The response for an action this version does not know. authlete-java-jaxrs
    /// answers `text/plain` naming the Authlete API; this body reaches the OAuth
    /// client, so it says no more than RFC 6749 `server_error`.
    pub fn unknown_action() -> Self {
        Self::new(500).with_body(
            JSON,
            r#"{"error":"server_error","error_description":"The authorization server could not process the request."}"#,
        )
    }
}

/// How one action turns into HTTP: a row of the table in `action.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `responseContent` as the body, with this status and `Content-Type`.
    Body {
        status: u16,
        content_type: &'static str,
    },
    /// As `Body`, plus a fixed `WWW-Authenticate` challenge (client authentication failures).
    BodyWithChallenge {
        status: u16,
        content_type: &'static str,
        challenge: &'static str,
    },
    /// 302 with `Location: responseContent`, no body and no endpoint headers.
    Location,
    /// `WWW-Authenticate: responseContent` with this status and no body
    /// (protected-resource errors: introspection, userinfo).
    Challenge { status: u16 },
    /// 204, no body.
    NoContent,
    /// No ready response: the caller must continue the flow.
    Continue,
    /// An action unknown to this version: a generic 500.
    Unknown,
}

/// Endpoint headers captured from Authlete's first response and put on every
/// response of that endpoint (authlete-java-jaxrs behaviour).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointHeaders {
    /// `dpopNonce` → `DPoP-Nonce`.
    pub dpop_nonce: Option<String>,
    /// `attestationChallenge` → `OAuth-Client-Attestation-Challenge`.
    pub attestation_challenge: Option<String>,
}

impl EndpointHeaders {
    /// Adds the headers that have a value to `response`.
    pub fn apply(&self, mut response: HttpResponse) -> HttpResponse {
        if let Some(nonce) = self.dpop_nonce.as_deref().filter(|v| !v.is_empty()) {
            response = response.with_header("DPoP-Nonce", nonce);
        }
        if let Some(challenge) = self
            .attestation_challenge
            .as_deref()
            .filter(|v| !v.is_empty())
        {
            response = response.with_header("OAuth-Client-Attestation-Challenge", challenge);
        }
        response
    }
}

/// Builds the response a rule describes, or `None` for [`Rule::Continue`].
/// `content` is Authlete's `responseContent` (absent means empty).
pub fn render(rule: Rule, content: Option<&str>, extra: &EndpointHeaders) -> Option<HttpResponse> {
    let content = content.unwrap_or_default();
    let response = match rule {
        Rule::Continue => return None,
        Rule::Unknown => return Some(HttpResponse::unknown_action()),
        Rule::Location => return Some(HttpResponse::new(302).with_header("Location", content)),
        Rule::Body {
            status,
            content_type,
        } => HttpResponse::new(status).with_body(content_type, content),
        Rule::BodyWithChallenge {
            status,
            content_type,
            challenge,
        } => HttpResponse::new(status)
            .with_header("WWW-Authenticate", challenge)
            .with_body(content_type, content),
        Rule::Challenge { status } => {
            HttpResponse::new(status).with_header("WWW-Authenticate", content)
        }
        Rule::NoContent => HttpResponse::new(204),
    };
    Some(extra.apply(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_with_cr_lf_or_nul_are_refused() {
        for evil in ["a\r\nSet-Cookie: x", "a\nb", "a\rb", "a\0b"] {
            let r = HttpResponse::new(302).with_header("Location", evil);
            assert_eq!(r.refuse_unsafe_headers(), HttpResponse::unknown_action());
        }
        let fine = HttpResponse::new(302).with_header("Location", "https://c.example/cb?x=\t");
        assert_eq!(fine.clone().refuse_unsafe_headers(), fine);
    }
}
