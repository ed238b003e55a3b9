//! A plain HTTP client speaking Connect to the service (what a PHP or Ruby
//! web tier's `curl` does), over HTTP/1.1 or HTTP/2, and the transcoding
//! of its JSON replies into the generated types for comparisons.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;

use authlete_grpc::pb;
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::Value;

/// HTTP/1.1 or HTTP/2 (prior knowledge, as gRPC's cleartext).
#[derive(Debug, Clone, Copy)]
pub enum Version {
    Http1,
    Http2,
}

/// A Connect client of one service.
pub struct Connect {
    client: reqwest::Client,
    base: String,
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub version: reqwest::Version,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, gunzipped when `Content-Encoding: gzip` says so.
    pub fn decoded(&self) -> Vec<u8> {
        if self.header("content-encoding") != Some("gzip") {
            return self.body.clone();
        }
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(self.body.as_slice())
            .read_to_end(&mut out)
            .expect("gzip");
        out
    }
}

impl Connect {
    pub fn new(addr: SocketAddr, version: Version) -> Self {
        let builder = reqwest::Client::builder().no_proxy();
        let builder = match version {
            Version::Http1 => builder.http1_only(),
            Version::Http2 => builder.http2_prior_knowledge(),
        };
        Self {
            client: builder.build().expect("a client"),
            base: format!("http://{addr}"),
        }
    }

    /// A client of `base` (`https://localhost:port`) built by the caller,
    /// for TLS.
    pub fn with_client(client: reqwest::Client, base: String) -> Self {
        Self { client, base }
    }

    /// POSTs `body` to `path` (`/authlete.v1.Service/Method`).
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        answer(request.send().await.expect("an HTTP answer")).await
    }

    /// POSTs JSON with `Connect-Protocol-Version: 1`.
    pub async fn json(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut all = vec![("connect-protocol-version", "1")];
        all.extend_from_slice(headers);
        let body = serde_json::to_vec(body).unwrap();
        self.post(path, "application/json", body, &all).await
    }

    /// POSTs a binary protobuf message.
    pub async fn proto(&self, path: &str, message: &impl prost::Message) -> Answer {
        let headers = [("connect-protocol-version", "1")];
        let body = message.encode_to_vec();
        self.post(path, "application/proto", body, &headers).await
    }

    /// GETs `path?query`.
    pub async fn get(&self, path_and_query: &str) -> Answer {
        let url = format!("{}{path_and_query}", self.base);
        answer(self.client.get(url).send().await.expect("an HTTP answer")).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status().as_u16(),
        version: response.version(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("a body").to_vec(),
    }
}

/// Canonical JSON (as a Connect client reads it) into the generated type.
pub fn from_json<M: prost::Message + Default>(full_name: &str, json: &[u8]) -> M {
    let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).expect("descriptors");
    let desc = pool.get_message_by_name(full_name).expect("a message");
    let mut de = serde_json::Deserializer::from_slice(json);
    let message = DynamicMessage::deserialize(desc, &mut de).expect("canonical JSON");
    message.transcode_to().expect("the same message")
}

/// A gzip copy of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A Connect (or gRPC) envelope: flags, then the length-prefixed message.
pub fn envelope(flags: u8, message: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The (flags, message) of each envelope of a streaming body.
pub fn envelopes(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        out.push((body[0], body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    out
}
