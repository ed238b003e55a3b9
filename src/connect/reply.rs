//! The gRPC reply turned into a Connect unary reply: the message (JSON or
//! binary, gzip when the client takes it) with HTTP 200, or the status as
//! Connect's error. Metadata goes along: headers as they are, trailers
//! prefixed `trailer-`.

use std::io::Write as _;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, header};
use http_body_util::BodyExt as _;
use tonic::body::Body;
use tonic::{Code, Status};

use super::codec::{self, Schema};
use super::error::ConnectError;
use super::request::{Codec, Reply};

/// Replies this long or longer are compressed when the client takes gzip.
const GZIP_MIN_BYTES: usize = 1024;

/// The Connect reply to `response`, the gRPC stack's answer.
pub(super) async fn unary<B>(
    response: http::Response<B>,
    reply: &Reply,
    schema: &Schema,
) -> http::Response<Body>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<super::BoxError>,
{
    match message(response).await {
        Ok((message, headers)) => success(message, headers, reply),
        Err((status, metadata)) => ConnectError::from_status(&status, schema)
            .or_message(|| match (&reply.method, status.code()) {
                (None, Code::Unimplemented) => "no such RPC".to_owned(),
                _ => String::new(),
            })
            .with_metadata(metadata)
            .into_response(),
    }
}

type Failed = (Status, HeaderMap);

/// The reply's one message and its metadata, or its status.
async fn message<B>(response: http::Response<B>) -> Result<(Bytes, HeaderMap), Failed>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<super::BoxError>,
{
    let (parts, body) = response.into_parts();
    let mut headers = metadata(parts.headers.clone());
    if let Some(status) = Status::from_header_map(&parts.headers) {
        // Trailers-only: the status is in the headers.
        if status.code() != Code::Ok {
            return Err((status, headers));
        }
    }
    let collected = body
        .collect()
        .await
        .map_err(|e| (Status::from_error(e.into()), headers.clone()))?;
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let status = Status::from_header_map(&trailers)
        .unwrap_or_else(|| Status::internal("the reply ended without a status"));
    for (name, value) in metadata(trailers).iter() {
        if let Ok(prefixed) = HeaderName::try_from(format!("trailer-{name}")) {
            headers.append(prefixed, value.clone());
        }
    }
    if status.code() != Code::Ok {
        return Err((status, headers));
    }
    let data = collected.to_bytes();
    let framed_len = |d: &[u8]| u32::from_be_bytes([d[1], d[2], d[3], d[4]]) as usize;
    if data.len() >= 5 && data[0] == 0 && framed_len(&data) == data.len() - 5 {
        Ok((data.slice(5..), headers))
    } else {
        Err((
            Status::internal("the reply is not one uncompressed message"),
            headers,
        ))
    }
}

/// Custom metadata only: gRPC's and HTTP's own headers stay behind.
pub(super) fn metadata(mut headers: HeaderMap) -> HeaderMap {
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::DATE,
        header::TRAILER,
    ] {
        headers.remove(name);
    }
    let grpc: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("grpc-"))
        .cloned()
        .collect();
    for name in grpc {
        headers.remove(name);
    }
    headers
}

fn success(message: Bytes, mut headers: HeaderMap, reply: &Reply) -> http::Response<Body> {
    let encoded = match (reply.codec, &reply.method) {
        (Codec::Json, Some(m)) => match codec::proto_to_json(&m.output(), &message) {
            Ok(json) => Bytes::from(json),
            Err(status) => {
                return ConnectError::new(status.code(), status.message()).into_response();
            }
        },
        _ => message,
    };
    let body = if reply.gzip && encoded.len() >= GZIP_MIN_BYTES {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        gzip(&encoded)
    } else {
        encoded
    };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.codec.content_type(false)),
    );
    let mut response = http::Response::new(Body::new(http_body_util::Full::new(body)));
    *response.headers_mut() = headers;
    response
}

pub(super) fn gzip(data: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 2),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    Bytes::from(encoder.finish().unwrap_or_default())
}
