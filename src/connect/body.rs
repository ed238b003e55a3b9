//! The request body a Connect call becomes: one gRPC frame, made only when
//! tonic reads it, that is after the limits and the caller gate let the RPC
//! through. So an unidentified peer gets UNAUTHENTICATED before its body is
//! read, as over gRPC, and a body that fails to transcode is a status that
//! stops the RPC before any Authlete call.

use std::future::Future;
use std::io::Read as _;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{BufMut, Bytes, BytesMut};
use http_body::Frame;
use http_body_util::BodyExt as _;
use prost_reflect::MessageDescriptor;
use tonic::Status;
use tonic::body::Body;

use super::codec;

/// Where the message comes from.
pub(super) enum Source {
    /// A POST's body.
    Http(Body),
    /// A GET's `message` query parameter, already decoded.
    Query(Bytes),
}

/// How the message is written.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    /// JSON of this message, or binary protobuf when `None`.
    pub json: Option<MessageDescriptor>,
    /// Whether it is gzip-compressed (streaming: whether messages flagged
    /// compressed are gzip).
    pub gzip: bool,
    /// Connect streaming: the body is enveloped messages.
    pub enveloped: bool,
    /// `--max-message-bytes`, for the body as sent and as decompressed.
    pub max: usize,
}

/// The gRPC body of a Connect request.
pub(super) fn grpc(source: Source, shape: Shape) -> Body {
    Body::new(Deferred(Some(Box::pin(frame(source, shape)))))
}

async fn frame(source: Source, shape: Shape) -> Result<Bytes, Status> {
    let raw = match source {
        Source::Http(body) => read_bounded(body, shape.max).await?,
        Source::Query(bytes) if bytes.len() > shape.max => {
            return Err(crate::limits::too_large(shape.max));
        }
        Source::Query(bytes) => bytes,
    };
    let mut framed = BytesMut::with_capacity(5 + raw.len());
    if shape.enveloped {
        for (flags, message) in envelopes(&raw)? {
            let message = match (flags, shape.gzip) {
                (0, _) => raw.slice_ref(message),
                (1, true) => gunzip_bounded(message, shape.max)?,
                _ => {
                    return Err(Status::invalid_argument(
                        "a request envelope has flags other than compressed (with connect-content-encoding gzip)",
                    ));
                }
            };
            push_frame(&mut framed, transcode(&shape, message)?, shape.max)?;
        }
    } else {
        // Connect: never decompress an empty body.
        let raw = if shape.gzip && !raw.is_empty() {
            gunzip_bounded(&raw, shape.max)?
        } else {
            raw
        };
        push_frame(&mut framed, transcode(&shape, raw)?, shape.max)?;
    }
    Ok(framed.freeze())
}

fn transcode(shape: &Shape, message: Bytes) -> Result<Bytes, Status> {
    match &shape.json {
        Some(desc) => Ok(Bytes::from(codec::json_to_proto(desc, &message)?)),
        None => Ok(message),
    }
}

/// Appends `message` as a gRPC frame (uncompressed).
fn push_frame(framed: &mut BytesMut, message: Bytes, max: usize) -> Result<(), Status> {
    let len = u32::try_from(message.len()).map_err(|_| crate::limits::too_large(max))?;
    framed.put_u8(0);
    framed.put_u32(len);
    framed.put_slice(&message);
    Ok(())
}

/// The (flags, message) of each Connect envelope in `body`.
pub(super) fn envelopes(body: &[u8]) -> Result<Vec<(u8, &[u8])>, Status> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let truncated = || Status::invalid_argument("the request ends inside an envelope");
        let header = rest.get(..5).ok_or_else(truncated)?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let message = rest.get(5..5 + len).ok_or_else(truncated)?;
        out.push((header[0], message));
        rest = &rest[5 + len..];
    }
    Ok(out)
}

/// The body, refused as soon as it passes `max` bytes (never buffered past).
async fn read_bounded(mut body: Body, max: usize) -> Result<Bytes, Status> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Status::cancelled(format!("reading the request: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > max {
                return Err(crate::limits::too_large(max));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Decompresses at most `max` bytes; more is RESOURCE_EXHAUSTED (a small
/// gzip bomb never grows past the bound).
fn gunzip_bounded(gz: &[u8], max: usize) -> Result<Bytes, Status> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Status::invalid_argument("the request body is not valid gzip"))?;
    if out.len() > max {
        return Err(crate::limits::too_large(max));
    }
    Ok(Bytes::from(out))
}

type Pending = Pin<Box<dyn Future<Output = Result<Bytes, Status>> + Send>>;

/// A body of one frame, made by a future on the first read.
struct Deferred(Option<Pending>);

impl http_body::Body for Deferred {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let Some(pending) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        let result = ready!(pending.as_mut().poll(cx));
        self.0 = None;
        Poll::Ready(Some(result.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_bound() {
        let bomb = gzip(&vec![b'a'; 1 << 20]);
        assert!(bomb.len() < 16 * 1024);
        let e = gunzip_bounded(&bomb, 64 * 1024).unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
        assert_eq!(gunzip_bounded(&gzip(b"{}"), 16).unwrap().as_ref(), b"{}");
        let e = gunzip_bounded(b"not gzip", 16).unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
    }

    #[tokio::test]
    async fn binary_messages_are_framed_as_grpc() {
        let shape = Shape {
            json: None,
            gzip: false,
            enveloped: false,
            max: 16,
        };
        let framed = frame(
            Source::Query(Bytes::from_static(b"\x0a\x01c")),
            shape.clone(),
        )
        .await
        .unwrap();
        assert_eq!(framed.as_ref(), b"\x00\x00\x00\x00\x03\x0a\x01c");
        let big = Source::Query(Bytes::from(vec![0; 17]));
        let e = frame(big, shape.clone()).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
        // Connect streaming: each envelope becomes a frame.
        let enveloped = Shape {
            enveloped: true,
            ..shape
        };
        let two = Bytes::from_static(b"\x00\x00\x00\x00\x01a\x00\x00\x00\x00\x00");
        let framed = frame(Source::Query(two.clone()), enveloped.clone()).await;
        assert_eq!(framed.unwrap(), two);
        let cut = Source::Query(Bytes::from_static(b"\x00\x00\x00\x00\x05a"));
        let e = frame(cut, enveloped).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
    }
}
