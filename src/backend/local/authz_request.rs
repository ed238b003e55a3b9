//! Validation of an authorization request (the `parameters` of
//! `/auth/authorization` and of `/pushed_auth_req`), in Authlete's order:
//! first the client and redirect URI (errors there cannot be redirected),
//! then everything else (errors go back to the redirect URI).

use std::sync::Arc;

use super::LocalBackend;
use super::claims;
use super::client::{Client, absolute_without_fragment};
use super::params::{Params, split};
use super::redirect::{Mode, Target};
use super::request_object;

/// A PKCE code challenge.
#[derive(Debug, Clone)]
pub(super) struct Challenge {
    pub value: String,
    pub s256: bool,
}

/// A validated authorization request.
#[derive(Debug)]
pub(super) struct AuthzRequest {
    pub client: Arc<Client>,
    pub alias_used: bool,
    /// Whether `redirect_uri` was in the request (the token request must
    /// then repeat it).
    pub redirect_uri_given: bool,
    pub target: Target,
    pub code: bool,
    pub id_token: bool,
    pub scopes: Vec<String>,
    pub nonce: String,
    pub challenge: Option<Challenge>,
    /// Authlete `Prompt` names (`NONE`, `LOGIN`, ...).
    pub prompts: Vec<&'static str>,
    pub max_age: i64,
    pub claims: claims::Request,
    pub acrs: Vec<String>,
    pub display: &'static str,
    pub ui_locales: Vec<String>,
    pub claims_locales: Vec<String>,
    pub login_hint: String,
    pub resources: Vec<String>,
    /// What it weighs in the store: the size of the parameters it came from.
    pub weight: usize,
    /// The verified request object's payload (JSON); empty without one.
    pub request_object_payload: String,
}

impl AuthzRequest {
    /// The request, weighing `bytes` (its parameters' size) in the store.
    pub(super) fn weighing(mut self, bytes: usize) -> Self {
        self.weight = bytes;
        self
    }
}

/// Why a request is refused.
#[derive(Debug)]
pub(super) enum AuthzError {
    /// No trustworthy redirect URI: a JSON error for the user agent.
    Direct {
        error: &'static str,
        message: String,
    },
    /// An error sent to the client's redirect URI.
    Redirect {
        error: &'static str,
        message: String,
        target: Target,
    },
}

pub(super) fn direct(error: &'static str, message: &str) -> AuthzError {
    AuthzError::Direct {
        error,
        message: message.to_owned(),
    }
}

/// Validates `params`. `known` is the client when it was already
/// authenticated (pushed requests).
pub(super) fn parse(
    engine: &LocalBackend,
    params: &Params,
    known: Option<(Arc<Client>, bool)>,
) -> Result<AuthzRequest, AuthzError> {
    let (client, alias_used) = match known {
        Some(k) => k,
        None => find_client(engine, params)?,
    };
    // RFC 9101 §5: a request object's claims are the request.
    let object = request_object::resolve(engine, &client, params)?;
    let params = object.as_ref().map_or(params, |o| &o.params);
    let (uri, redirect_uri_given) = redirect_uri(&client, params)?;
    // OIDC Core 3.1.2.1: RFC 6749's single-URI default is for plain OAuth.
    if !redirect_uri_given && split(params.get("scope")).iter().any(|s| s == "openid") {
        return Err(direct(
            "invalid_request",
            "'redirect_uri' is required in an OpenID Connect request.",
        ));
    }
    let types = split(params.get("response_type"));
    let code = types.iter().any(|t| t == "code");
    let id_token = types.iter().any(|t| t == "id_token");
    let default_mode = if id_token {
        Mode::Fragment
    } else {
        Mode::Query
    };
    let mode_param = params.get("response_mode");
    let mode = mode_param.and_then(Mode::parse).unwrap_or(default_mode);
    let target = Target {
        uri,
        mode,
        state: params.get("state").map(str::to_owned),
    };
    let fail = |error: &'static str, message: &str| AuthzError::Redirect {
        error,
        message: message.to_owned(),
        target: target.clone(),
    };
    // OIDC Core 6: a `request_uri` that is not from PAR (those never get
    // here) would have to be fetched; the engine does not.
    for (name, error) in [
        ("request_uri", "request_uri_not_supported"),
        ("registration", "registration_not_supported"),
    ] {
        if params.has(name) {
            return Err(fail(
                error,
                "The local engine does not support this parameter here.",
            ));
        }
    }
    response_type(&client, &types, code, id_token).map_err(|(e, m)| fail(e, m))?;
    if mode_param.is_some_and(|m| Mode::parse(m).is_none()) {
        return Err(fail(
            "invalid_request",
            "The response mode is not supported (supported: query, fragment, form_post).",
        ));
    }
    if id_token && mode == Mode::Query {
        return Err(fail(
            "invalid_request",
            "The response mode 'query' cannot carry an ID token.",
        ));
    }
    let scopes = scopes(engine, params).map_err(|m| fail("invalid_scope", &m))?;
    if id_token && !scopes.iter().any(|s| s == "openid") {
        return Err(fail(
            "invalid_request",
            "A response type with id_token needs the 'openid' scope.",
        ));
    }
    let nonce = params.get("nonce").unwrap_or_default().to_owned();
    if id_token && nonce.is_empty() {
        return Err(fail(
            "invalid_request",
            "A response type with id_token needs 'nonce'.",
        ));
    }
    let challenge = pkce(engine, &client, params, code).map_err(|m| fail("invalid_request", m))?;
    let prompts = prompts(params).map_err(|m| fail("invalid_request", m))?;
    let max_age = match params.get("max_age") {
        None => 0,
        Some(v) => v.parse::<u32>().map(i64::from).map_err(|_| {
            fail(
                "invalid_request",
                "'max_age' is not a non-negative integer.",
            )
        })?,
    };
    let display = display(params.get("display")).map_err(|m| fail("invalid_request", m))?;
    let claims = match params.get("claims") {
        None => claims::Request::default(),
        Some(text) => claims::parse(text)
            .map_err(|why| fail("invalid_request", &format!("The 'claims' parameter {why}.")))?,
    };
    let mut acrs = split(params.get("acr_values"));
    claims::merge(&mut acrs, claims.acrs.clone());
    let resources = params.all("resource");
    if resources.iter().any(|r| !absolute_without_fragment(r)) {
        return Err(fail(
            "invalid_target",
            "A 'resource' is not an absolute URI without fragment.",
        ));
    }
    Ok(AuthzRequest {
        client,
        alias_used,
        redirect_uri_given,
        target,
        code,
        id_token,
        scopes,
        nonce,
        challenge,
        prompts,
        max_age,
        claims,
        acrs,
        display,
        weight: 0,
        request_object_payload: object
            .as_ref()
            .map(|o| o.payload.clone())
            .unwrap_or_default(),
        ui_locales: split(params.get("ui_locales")),
        claims_locales: split(params.get("claims_locales")),
        login_hint: params.get("login_hint").unwrap_or_default().to_owned(),
        resources,
    })
}

fn find_client(engine: &LocalBackend, params: &Params) -> Result<(Arc<Client>, bool), AuthzError> {
    let id = params.get("client_id").ok_or_else(|| {
        direct(
            "invalid_request",
            "The authorization request does not contain 'client_id'.",
        )
    })?;
    engine.clients.find(id).ok_or_else(|| {
        direct(
            "invalid_request",
            "The client specified by 'client_id' does not exist.",
        )
    })
}

/// Exact match with a registered URI; required when several are registered.
fn redirect_uri(client: &Client, params: &Params) -> Result<(String, bool), AuthzError> {
    match params.get("redirect_uri") {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => Ok((uri.to_owned(), true)),
        Some(_) => Err(direct(
            "invalid_request",
            "The redirect URI is not registered for the client.",
        )),
        None => match client.redirect_uris.as_slice() {
            [only] => Ok((only.clone(), false)),
            [] => Err(direct(
                "invalid_request",
                "The client has no registered redirect URI.",
            )),
            _ => Err(direct(
                "invalid_request",
                "'redirect_uri' is required: the client has several registered.",
            )),
        },
    }
}

fn response_type(
    client: &Client,
    types: &[String],
    code: bool,
    id_token: bool,
) -> Result<(), (&'static str, &'static str)> {
    if types.is_empty() {
        return Err((
            "invalid_request",
            "The authorization request does not contain 'response_type'.",
        ));
    }
    if types.len() != usize::from(code) + usize::from(id_token) {
        return Err((
            "unsupported_response_type",
            "The response type is not supported (supported: code, id_token, code id_token).",
        ));
    }
    let canonical = match (code, id_token) {
        (true, true) => "code id_token",
        (true, false) => "code",
        _ => "id_token",
    };
    if !client.response_types.iter().any(|t| t == canonical)
        || (code && !client.allows("authorization_code"))
    {
        return Err((
            "unauthorized_client",
            "The client is not allowed to use this response type.",
        ));
    }
    Ok(())
}

pub(super) fn scopes(engine: &LocalBackend, params: &Params) -> Result<Vec<String>, String> {
    if !params.has("scope") {
        let defaults = engine.scopes.iter().filter(|s| s.default);
        return Ok(defaults.map(|s| s.name.clone()).collect());
    }
    let requested = split(params.get("scope"));
    let unknown = requested
        .iter()
        .find(|r| !engine.scopes.iter().any(|s| &s.name == *r));
    match unknown {
        // Quoted only when it is harmless in a URL parameter and a log line.
        Some(bad)
            if bad.len() <= 64
                && bad
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._:-/".contains(c)) =>
        {
            Err(format!("The scope '{bad}' is not supported."))
        }
        Some(_) => Err("A requested scope is not supported.".to_owned()),
        None => Ok(requested),
    }
}

fn pkce(
    engine: &LocalBackend,
    client: &Client,
    params: &Params,
    code: bool,
) -> Result<Option<Challenge>, &'static str> {
    let method = params.get("code_challenge_method");
    let Some(value) = params.get("code_challenge") else {
        if method.is_some() {
            return Err("'code_challenge_method' is given without 'code_challenge'.");
        }
        if code && (client.is_public() || engine.config.pkce_required) {
            return Err("PKCE is required: 'code_challenge' is missing.");
        }
        return Ok(None);
    };
    let s256 = match method.unwrap_or("plain") {
        "S256" => true,
        "plain" if engine.config.pkce_s256_required => {
            return Err("'code_challenge_method' must be S256.");
        }
        "plain" => false,
        _ => return Err("'code_challenge_method' is neither S256 nor plain."),
    };
    if !pkce_syntax(value) {
        return Err("'code_challenge' must be 43 to 128 characters of [A-Za-z0-9-._~].");
    }
    Ok(Some(Challenge {
        value: value.to_owned(),
        s256,
    }))
}

/// RFC 7636 §4.1 syntax, shared by challenges and verifiers.
pub(super) fn pkce_syntax(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn prompts(params: &Params) -> Result<Vec<&'static str>, &'static str> {
    let mut out = Vec::new();
    for p in split(params.get("prompt")) {
        out.push(match p.as_str() {
            "none" => "NONE",
            "login" => "LOGIN",
            "consent" => "CONSENT",
            "select_account" => "SELECT_ACCOUNT",
            "create" => "CREATE",
            _ => return Err("'prompt' has an unknown value."),
        });
    }
    if out.contains(&"NONE") && out.len() > 1 {
        return Err("'prompt=none' cannot be combined with other values.");
    }
    Ok(out)
}

fn display(value: Option<&str>) -> Result<&'static str, &'static str> {
    Ok(match value.unwrap_or("page") {
        "page" => "PAGE",
        "popup" => "POPUP",
        "touch" => "TOUCH",
        "wap" => "WAP",
        _ => return Err("'display' has an unknown value."),
    })
}
