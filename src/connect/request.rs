//! A Connect unary request (POST, or GET for the read-only RPCs) read into
//! the gRPC request the tower stack serves: same path, same caller headers
//! and connection extensions, `Connect-Timeout-Ms` as `grpc-timeout`, and a
//! body transcoded when tonic reads it.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header};
use prost_reflect::MethodDescriptor;
use tonic::Code;
use tonic::body::Body;

use super::body::{self, Source};
use super::codec::{self, Schema};
use super::error::ConnectError;

/// The message codec of a Connect call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Json,
    Proto,
}

impl Codec {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "json" => Some(Self::Json),
            "proto" => Some(Self::Proto),
            _ => None,
        }
    }

    pub(super) fn content_type(self, streaming: bool) -> &'static str {
        match (self, streaming) {
            (Self::Json, false) => "application/json",
            (Self::Proto, false) => "application/proto",
            (Self::Json, true) => "application/connect+json",
            (Self::Proto, true) => "application/connect+proto",
        }
    }
}

/// What the reply needs to know about the call.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub codec: Codec,
    /// The method, unless the path names none (the router then answers).
    pub method: Option<MethodDescriptor>,
    /// Whether the client accepts a gzip reply.
    pub gzip: bool,
    /// `Connect-Timeout-Ms`.
    pub timeout: Option<Duration>,
}

/// A Connect call ready for the gRPC stack.
pub(super) struct Call {
    pub grpc: http::Request<Body>,
    pub reply: Reply,
}

/// The media types a Connect unary POST may carry.
const ACCEPT_POST: &str = "application/json, application/proto, application/connect+json, application/connect+proto, application/grpc, application/grpc-web";

/// The codec a `Content-Type` names, and whether it is Connect streaming.
pub(super) fn codec_of(content_type: &str) -> Option<(Codec, bool)> {
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let sub = essence.strip_prefix("application/")?;
    match sub.strip_prefix("connect+") {
        Some(streaming) => Codec::parse(streaming).map(|c| (c, true)),
        None => Codec::parse(sub).map(|c| (c, false)),
    }
}

/// Reads a unary request (the streaming ones are `stream.rs`'s).
pub(super) fn unary(
    schema: &Schema,
    max: usize,
    request: http::Request<Body>,
) -> Result<Call, ConnectError> {
    let (parts, body) = request.into_parts();
    let method = schema.method(parts.uri.path());
    let (codec, gzip_in, source) = match parts.method {
        Method::POST => {
            let content_type = header_str(&parts.headers, header::CONTENT_TYPE).unwrap_or("");
            let Some((codec, false)) = codec_of(content_type) else {
                return Err(unsupported_media(content_type));
            };
            protocol_version(header_str(&parts.headers, "connect-protocol-version"))?;
            let gzip = content_encoding(header_str(&parts.headers, header::CONTENT_ENCODING))?;
            (codec, gzip, Source::Http(body))
        }
        Method::GET => {
            if let Some(m) = &method
                && !codec::no_side_effects(m)
            {
                return Err(no_get(m));
            }
            let query = GetQuery::parse(parts.uri.query().unwrap_or(""))?;
            (query.codec, query.gzip, Source::Query(query.message))
        }
        _ => {
            return Err(ConnectError::new(
                Code::Unimplemented,
                "Connect calls are POST (or GET for read-only RPCs)",
            )
            .with_http(StatusCode::METHOD_NOT_ALLOWED, ("allow", "POST, GET")));
        }
    };
    if let Some(m) = &method
        && m.is_server_streaming()
    {
        return Err(streams(m));
    }
    let reply = Reply {
        codec,
        method: method.clone(),
        gzip: accepts_gzip(&parts.headers, gzip_in),
        timeout: timeout(header_str(&parts.headers, "connect-timeout-ms"))?,
    };
    let shape = body::Shape {
        json: input_json(codec, &method),
        gzip: gzip_in,
        enveloped: false,
        max,
    };
    let grpc = grpc_request(parts, body::grpc(source, shape), reply.timeout)?;
    Ok(Call { grpc, reply })
}

/// The input message, when the codec is JSON.
pub(super) fn input_json(
    codec: Codec,
    method: &Option<MethodDescriptor>,
) -> Option<prost_reflect::MessageDescriptor> {
    match (codec, method) {
        (Codec::Json, Some(m)) => Some(m.input()),
        _ => None,
    }
}

/// The gRPC request of a Connect request: same path, headers (see
/// [`grpc_headers`]) and extensions (the connection's TLS and TCP info).
pub(super) fn grpc_request(
    parts: http::request::Parts,
    body: Body,
    timeout: Option<Duration>,
) -> Result<http::Request<Body>, ConnectError> {
    let mut grpc = http::Request::new(body);
    *grpc.method_mut() = Method::POST;
    *grpc.uri_mut() = http::Uri::from_maybe_shared(Bytes::copy_from_slice(
        parts.uri.path().as_bytes(),
    ))
    .map_err(|_| ConnectError::new(Code::InvalidArgument, "the request path is not a URI"))?;
    *grpc.version_mut() = Version::HTTP_2;
    *grpc.extensions_mut() = parts.extensions;
    *grpc.headers_mut() = grpc_headers(parts.headers, timeout);
    Ok(grpc)
}

pub(super) fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn unsupported_media(content_type: &str) -> ConnectError {
    ConnectError::new(
        Code::InvalidArgument,
        format!(
            "content type {content_type:?} is not served: send application/json or \
             application/proto (Connect), or application/grpc"
        ),
    )
    .with_http(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ("accept-post", ACCEPT_POST),
    )
}

pub(super) fn protocol_version(value: Option<&str>) -> Result<(), ConnectError> {
    match value {
        None | Some("1") => Ok(()),
        Some(other) => Err(ConnectError::new(
            Code::InvalidArgument,
            format!("connect-protocol-version must be 1, not {other:?}"),
        )),
    }
}

/// Whether a body is gzip; identity and none are plain.
pub(super) fn content_encoding(value: Option<&str>) -> Result<bool, ConnectError> {
    match value.map(str::trim) {
        None | Some("") | Some("identity") => Ok(false),
        Some("gzip") => Ok(true),
        Some(other) => Err(ConnectError::new(
            Code::Unimplemented,
            format!("compression {other:?} is not supported: use gzip or identity"),
        )),
    }
}

/// Whether the client takes gzip: named in `Accept-Encoding`, or, without
/// one, used for the request (the protocol's default).
pub(super) fn accepts_gzip(headers: &HeaderMap, request_gzip: bool) -> bool {
    match header_str(headers, header::ACCEPT_ENCODING) {
        Some(list) => list
            .split(',')
            .filter_map(|e| e.split(';').next())
            .any(|e| e.trim().eq_ignore_ascii_case("gzip")),
        None => request_gzip,
    }
}

/// `Connect-Timeout-Ms`: a positive integer of at most 10 digits.
pub(super) fn timeout(value: Option<&str>) -> Result<Option<Duration>, ConnectError> {
    let Some(value) = value else { return Ok(None) };
    let ms = (1..=10)
        .contains(&value.len())
        .then(|| value.parse::<u64>().ok())
        .flatten()
        .filter(|ms| *ms > 0);
    match ms {
        Some(ms) => Ok(Some(Duration::from_millis(ms))),
        None => Err(ConnectError::new(
            Code::InvalidArgument,
            "connect-timeout-ms must be a positive integer of at most 10 digits",
        )),
    }
}

/// The caller's headers for the gRPC stack: everything but the Connect,
/// content and hop-by-hop headers, plus gRPC's own.
fn grpc_headers(mut headers: HeaderMap, timeout: Option<Duration>) -> HeaderMap {
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::ACCEPT_ENCODING,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::TE,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("grpc-timeout"),
        HeaderName::from_static("grpc-encoding"),
    ] {
        headers.remove(name);
    }
    let connect: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("connect-"))
        .cloned()
        .collect();
    for name in connect {
        headers.remove(name);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    if let Some(t) = timeout {
        // grpc-timeout takes at most 8 digits: seconds past ~27 hours.
        let ms = t.as_millis();
        let value = if ms < 100_000_000 {
            format!("{ms}m")
        } else {
            format!("{}S", t.as_secs())
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert("grpc-timeout", v);
        }
    }
    headers
}

fn no_get(method: &MethodDescriptor) -> ConnectError {
    ConnectError::new(
        Code::Unimplemented,
        format!(
            "{} has side effects: call it with POST (GET is for the read-only RPCs)",
            method.full_name()
        ),
    )
    .with_http(StatusCode::METHOD_NOT_ALLOWED, ("allow", "POST"))
}

/// The refusal of a unary Connect call to a streaming RPC.
fn streams(method: &MethodDescriptor) -> ConnectError {
    ConnectError::new(
        Code::Unimplemented,
        format!(
            "{} streams its replies: call it with Connect streaming \
             (application/connect+json or application/connect+proto), gRPC or gRPC-Web",
            method.full_name()
        ),
    )
}

/// The query of a Connect GET: `encoding`, `message`, `base64`,
/// `compression`, `connect` (any order; others ignored).
struct GetQuery {
    codec: Codec,
    gzip: bool,
    message: Bytes,
}

impl GetQuery {
    fn parse(query: &str) -> Result<Self, ConnectError> {
        let (mut encoding, mut message, mut base64, mut compression, mut connect) =
            (None, None, false, None, None);
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "encoding" => encoding = Some(v.into_owned()),
                "message" => message = Some(v.into_owned()),
                "base64" => base64 = v == "1",
                "compression" => compression = Some(v.into_owned()),
                "connect" => connect = Some(v.into_owned()),
                _ => {}
            }
        }
        if connect.as_deref().is_some_and(|v| v != "v1") {
            return Err(ConnectError::new(
                Code::InvalidArgument,
                "the connect query parameter must be v1",
            ));
        }
        let name = encoding.unwrap_or_default();
        let codec = Codec::parse(&name).ok_or_else(|| unsupported_media(&name))?;
        let gzip = content_encoding(compression.as_deref())?;
        let message = message.unwrap_or_default();
        let message = if base64 {
            let trimmed = message.trim_end_matches('=');
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(trimmed)
                .map_err(|_| {
                    ConnectError::new(
                        Code::InvalidArgument,
                        "the message query parameter is not URL-safe base64",
                    )
                })?
        } else {
            message.into_bytes()
        };
        Ok(Self {
            codec,
            gzip,
            message: Bytes::from(message),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_name_codecs() {
        assert_eq!(codec_of("application/json"), Some((Codec::Json, false)));
        assert_eq!(
            codec_of("Application/JSON; charset=utf-8"),
            Some((Codec::Json, false))
        );
        assert_eq!(codec_of("application/proto"), Some((Codec::Proto, false)));
        assert_eq!(
            codec_of("application/connect+json"),
            Some((Codec::Json, true))
        );
        assert_eq!(codec_of("text/plain"), None);
        assert_eq!(codec_of("application/xml"), None);
    }

    #[test]
    fn timeouts_are_positive_and_short() {
        assert_eq!(
            timeout(Some("250")).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(timeout(None).unwrap(), None);
        for bad in ["0", "-1", "12345678901", "1.5", ""] {
            assert!(timeout(Some(bad)).is_err(), "{bad}");
        }
        let long = grpc_headers(HeaderMap::new(), Some(Duration::from_millis(9_999_999_999)));
        assert_eq!(long["grpc-timeout"], "9999999S");
    }

    #[test]
    fn gzip_is_accepted_when_named_or_used() {
        let mut headers = HeaderMap::new();
        assert!(!accepts_gzip(&headers, false));
        assert!(accepts_gzip(&headers, true));
        headers.insert(
            "accept-encoding",
            HeaderValue::from_static("br, gzip;q=0.5"),
        );
        assert!(accepts_gzip(&headers, false));
        assert!(content_encoding(Some("br")).is_err());
    }

    #[test]
    fn get_queries_decode_base64_and_percent_encoding() {
        let q = GetQuery::parse("encoding=json&message=%7B%7D&connect=v1").unwrap();
        assert_eq!((q.codec, q.message.as_ref()), (Codec::Json, &b"{}"[..]));
        let q = GetQuery::parse("message=e30&base64=1&encoding=proto&x=y").unwrap();
        assert_eq!((q.codec, q.message.as_ref()), (Codec::Proto, &b"{}"[..]));
        assert!(GetQuery::parse("encoding=xml&message=").is_err());
        assert!(GetQuery::parse("encoding=json&connect=v2").is_err());
    }
}
