//! Connect streaming (`application/connect+json`, `application/connect+proto`),
//! for the server-streaming `TokenList` (and any unary RPC a streaming
//! client calls): the request's envelopes become gRPC frames, each reply
//! frame becomes an envelope as it arrives, and the gRPC status and
//! trailers become the end-of-stream message. Always HTTP 200: errors are
//! in the end message.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, header};
use http_body::Frame;
use http_body_util::BodyExt as _;
use prost_reflect::MessageDescriptor;
use serde_json::{Map, Value, json};
use tokio::time::{Instant, Sleep, sleep_until};
use tonic::body::Body;
use tonic::{Code, Status};

use super::body::{self, Source};
use super::codec::{self, Schema};
use super::error::ConnectError;
use super::request::{self, Codec, header_str};
use super::{BoxError, Shared};

/// Envelope flag of the message that ends a stream.
const END_STREAM: u8 = 0x02;

/// How to answer a streaming call.
pub(super) struct Reply {
    pub codec: Codec,
    pub output: Option<MessageDescriptor>,
    pub timeout: Option<Duration>,
}

/// Reads a streaming request; an error is answered with [`end_only`].
pub(super) fn read(
    shared: &Shared,
    codec: Codec,
    request: http::Request<Body>,
) -> Result<(http::Request<Body>, Reply), ConnectError> {
    let (parts, body) = request.into_parts();
    let method = shared.schema.method(parts.uri.path());
    let headers = &parts.headers;
    request::protocol_version(header_str(headers, "connect-protocol-version"))?;
    let gzip = request::content_encoding(header_str(headers, "connect-content-encoding"))?;
    let timeout = request::timeout(header_str(headers, "connect-timeout-ms"))?;
    let shape = body::Shape {
        json: request::input_json(codec, &method),
        gzip,
        enveloped: true,
        max: shared.max_message_bytes,
    };
    let grpc_body = body::grpc(Source::Http(body), shape);
    let grpc = request::grpc_request(parts, grpc_body, timeout)?;
    let output = method.map(|m| m.output());
    Ok((
        grpc,
        Reply {
            codec,
            output,
            timeout,
        },
    ))
}

/// The streaming reply to the gRPC `response`.
pub(super) fn reply<B>(
    response: http::Response<B>,
    call: Reply,
    shared: Arc<Shared>,
    deadline: Option<Instant>,
) -> http::Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = response.into_parts();
    let mut headers = super::reply::metadata(parts.headers.clone());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(call.codec.content_type(true)),
    );
    let state = match Status::from_header_map(&parts.headers) {
        // Trailers-only: nothing but the end message.
        Some(status) if status.code() != Code::Ok => Done::Status(status),
        _ => Done::No,
    };
    let body = Relay {
        inner: Box::pin(body.map_err(Into::into)),
        buf: BytesMut::new(),
        codec: call.codec,
        output: call.output,
        shared,
        deadline: deadline
            .zip(call.timeout)
            .map(|(at, t)| (Box::pin(sleep_until(at)), t)),
        done: state,
    };
    let mut out = http::Response::new(Body::new(body));
    *out.headers_mut() = headers;
    out
}

/// The reply when the call ran out of time before its headers.
pub(super) fn timed_out(codec: Codec, timeout: Duration) -> http::Response<Body> {
    end_only(codec, &deadline_exceeded(timeout))
}

fn deadline_exceeded(timeout: Duration) -> ConnectError {
    ConnectError::new(
        Code::DeadlineExceeded,
        format!(
            "no reply within connect-timeout-ms ({} ms)",
            timeout.as_millis()
        ),
    )
}

/// A streaming reply of one end message carrying `error`.
pub(super) fn end_only(codec: Codec, error: &ConnectError) -> http::Response<Body> {
    let end = envelope(
        END_STREAM,
        json!({"error": error.to_json()}).to_string().as_bytes(),
    );
    let mut response = http::Response::new(Body::new(http_body_util::Full::new(end)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(codec.content_type(true)),
    );
    response
}

fn envelope(flags: u8, message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(flags);
    out.put_u32(u32::try_from(message.len()).unwrap_or(u32::MAX));
    out.put_slice(message);
    out.freeze()
}

enum Done {
    /// Still relaying.
    No,
    /// The end message is due, with this status (OK or not).
    Status(Status),
    /// The end message was sent.
    Sent,
}

type Inner = Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send>>;

/// The gRPC reply body, relayed as Connect envelopes.
struct Relay {
    inner: Inner,
    buf: BytesMut,
    codec: Codec,
    output: Option<MessageDescriptor>,
    shared: Arc<Shared>,
    /// When the client's `Connect-Timeout-Ms` runs out, and its value.
    deadline: Option<(Pin<Box<Sleep>>, Duration)>,
    done: Done,
}

impl http_body::Body for Relay {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        loop {
            match std::mem::replace(&mut this.done, Done::Sent) {
                Done::Sent => return Poll::Ready(None),
                Done::Status(status) => {
                    let end = end_message(&status, &HeaderMap::new(), &this.shared.schema);
                    return Poll::Ready(Some(Ok(Frame::data(end))));
                }
                Done::No => this.done = Done::No,
            }
            if let Some((sleep, timeout)) = this.deadline.as_mut()
                && sleep.as_mut().poll(cx).is_ready()
            {
                let error = deadline_exceeded(*timeout);
                this.done = Done::Sent;
                let end = json!({"error": error.to_json()}).to_string();
                return Poll::Ready(Some(Ok(Frame::data(envelope(END_STREAM, end.as_bytes())))));
            }
            let frame = match this.inner.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.done = Done::Status(Status::internal("the reply ended without a status"));
                    continue;
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = Done::Status(Status::from_error(e));
                    continue;
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            match frame.into_data() {
                Ok(data) => {
                    this.buf.extend_from_slice(&data);
                    match this.envelopes() {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(out)))),
                        Err(status) => this.done = Done::Status(status),
                    }
                }
                Err(frame) => {
                    let trailers = frame.into_trailers().unwrap_or_default();
                    let status = Status::from_header_map(&trailers)
                        .unwrap_or_else(|| Status::internal("the reply ended without a status"));
                    this.done = Done::Sent;
                    let end = end_message(&status, &trailers, &this.shared.schema);
                    return Poll::Ready(Some(Ok(Frame::data(end))));
                }
            }
        }
    }
}

impl Relay {
    /// The envelopes of the whole gRPC frames buffered so far.
    fn envelopes(&mut self) -> Result<Bytes, Status> {
        let mut out = BytesMut::new();
        while self.buf.len() >= 5 {
            let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
            let len = len as usize;
            if self.buf.len() < 5 + len {
                break;
            }
            if self.buf[0] != 0 {
                return Err(Status::internal("a reply message is compressed"));
            }
            self.buf.advance(5);
            let message = self.buf.split_to(len).freeze();
            let encoded = match (self.codec, &self.output) {
                (Codec::Json, Some(desc)) => Bytes::from(codec::proto_to_json(desc, &message)?),
                _ => message,
            };
            out.put_slice(&envelope(0, &encoded));
        }
        Ok(out.freeze())
    }
}

/// The end-of-stream message: the error unless OK, and the trailers.
fn end_message(status: &Status, trailers: &HeaderMap, schema: &Schema) -> Bytes {
    let mut end = Map::new();
    if status.code() != Code::Ok {
        end.insert(
            "error".to_owned(),
            ConnectError::from_status(status, schema).to_json(),
        );
    }
    let mut metadata = Map::new();
    for (name, value) in super::reply::metadata(trailers.clone()).iter() {
        let Ok(value) = value.to_str() else { continue };
        let entry = metadata
            .entry(name.as_str().to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(value.to_owned()));
        }
    }
    if !metadata.is_empty() {
        end.insert("metadata".to_owned(), Value::Object(metadata));
    }
    envelope(END_STREAM, Value::Object(end).to_string().as_bytes())
}
