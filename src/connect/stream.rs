//! Connect streaming (`application/connect+json`, `application/connect+proto`):
//! refused, with the end-of-stream message the protocol uses for errors,
//! naming the surfaces that do stream (gRPC, gRPC-Web).

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderValue, header};
use tonic::Code;
use tonic::body::Body;

use super::error::ConnectError;
use super::request::Codec;

/// Envelope flag of the message that ends a stream.
const END_STREAM: u8 = 0x02;

/// The streaming reply to a Connect streaming request for `path`.
pub(super) fn refuse(codec: Codec, path: &str) -> http::Response<Body> {
    let error = ConnectError::new(
        Code::Unimplemented,
        format!(
            "Connect streaming is not served; call {} over gRPC or gRPC-Web \
             (unary RPCs also take Connect's application/json and application/proto)",
            path.trim_start_matches('/')
        ),
    );
    let end = serde_json::json!({ "error": error.to_json() }).to_string();
    let mut envelope = BytesMut::with_capacity(5 + end.len());
    envelope.put_u8(END_STREAM);
    envelope.put_u32(u32::try_from(end.len()).unwrap_or(u32::MAX));
    envelope.put_slice(end.as_bytes());
    let body: Bytes = envelope.freeze();
    let mut response = http::Response::new(Body::new(http_body_util::Full::new(body)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(codec.content_type(true)),
    );
    response
}
