//! The fake Authlete's server: a minimal HTTP/1.1 keep-alive server on
//! loopback with canned replies, which counts the calls it serves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{SERVICE_AUTHORIZATION, SERVICE_ID};

/// A realistic `/auth/introspection` reply for a valid token.
pub const INTROSPECTION_REPLY: &str = concat!(
    r#"{"type":"introspectionResponse","resultCode":"A056001","#,
    r#""resultMessage":"[A056001] The access token is valid.","action":"OK","#,
    r#""responseContent":"Bearer error=\"invalid_request\"","#,
    r#""clientId":1140735077,"clientIdAlias":"bench-client","clientIdAliasUsed":false,"#,
    r#""expiresAt":1893456000000,"subject":"john.doe@example.com","#,
    r#""scopes":["openid","profile","email","read"],"#,
    r#""existent":true,"usable":true,"sufficient":true,"refreshable":true,"#,
    r#""properties":[{"key":"tenant","value":"acme","hidden":false}],"#,
    r#""certificateThumbprint":null,"resources":["https://rs.example.com/"],"#,
    r#""accessTokenResources":["https://rs.example.com/"],"authorizationDetails":null,"#,
    r#""grantId":null,"consentedClaims":["name","email"],"grantType":"AUTHORIZATION_CODE","#,
    r#""acr":"urn:mace:incommon:iap:silver","authTime":1700000000,"#,
    r#""clientEntityIdUsed":false,"forCredentialIssuance":false,"cnonceExpiresAt":0,"#,
    r#""dpopNonce":null,"responseSigningRequired":false}"#
);

/// The replies the fake can send; each one sent is counted.
#[derive(Clone, Copy)]
enum Reply {
    Introspection,
    Configuration,
    Unauthorized,
    NotFound,
    BadRequest,
}

/// The calls the fake has served, by kind of reply.
#[derive(Default)]
pub struct Counters {
    introspection: AtomicU64,
    other_ok: AtomicU64,
    rejected: AtomicU64,
}

impl Counters {
    fn count(&self, reply: Reply) {
        let counter = match reply {
            Reply::Introspection => &self.introspection,
            Reply::Configuration => &self.other_ok,
            Reply::Unauthorized | Reply::NotFound | Reply::BadRequest => &self.rejected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn summary(&self) -> String {
        format!(
            "fake Authlete served {} introspection calls, {} other, rejected {}",
            self.introspection.load(Ordering::Relaxed),
            self.other_ok.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed)
        )
    }
}

/// Each reply's bytes on the wire, made once.
struct Canned {
    introspection: Vec<u8>,
    configuration: Vec<u8>,
    unauthorized: Vec<u8>,
    not_found: Vec<u8>,
    bad_request: Vec<u8>,
}

fn http_response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json;charset=UTF-8\r\n\
         Content-Length: {}\r\nRequest-Id: bench-0001\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl Canned {
    fn new() -> Self {
        Self {
            introspection: http_response("200 OK", INTROSPECTION_REPLY),
            configuration: http_response("200 OK", r#"{"issuer":"https://as.example.com"}"#),
            unauthorized: http_response(
                "401 Unauthorized",
                r#"{"resultCode":"A401101","resultMessage":"bad credentials"}"#,
            ),
            not_found: http_response("404 Not Found", r#"{"resultMessage":"no such API"}"#),
            bad_request: http_response("400 Bad Request", r#"{"resultMessage":"bad request"}"#),
        }
    }

    fn bytes(&self, reply: Reply) -> &[u8] {
        match reply {
            Reply::Introspection => &self.introspection,
            Reply::Configuration => &self.configuration,
            Reply::Unauthorized => &self.unauthorized,
            Reply::NotFound => &self.not_found,
            Reply::BadRequest => &self.bad_request,
        }
    }
}

/// Listens on a free loopback port and serves every connection on a task.
pub async fn listen() -> std::io::Result<(SocketAddr, Arc<Counters>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let counters = Arc::new(Counters::default());
    let canned = Arc::new(Canned::new());
    let c = counters.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            };
            tokio::spawn(connection(stream, canned.clone(), c.clone()));
        }
    });
    Ok((addr, counters))
}

/// Serves one connection: replies to each whole request read, in order,
/// until the peer closes or asks to close, or a request is unusable.
async fn connection(mut stream: TcpStream, canned: Arc<Canned>, counters: Arc<Counters>) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut out: Vec<u8> = Vec::with_capacity(4 * 1024);
    loop {
        let mut keep = true;
        while keep {
            let reply = match parse_request(&buf) {
                Parsed::Partial => break,
                Parsed::Done(n, reply, k) => {
                    buf.drain(..n);
                    keep = k;
                    reply
                }
                Parsed::Bad => {
                    keep = false;
                    Reply::BadRequest
                }
            };
            counters.count(reply);
            out.extend_from_slice(canned.bytes(reply));
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if !keep {
            let _ = stream.shutdown().await;
            return;
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

enum Parsed {
    /// Not a whole request yet.
    Partial,
    /// A whole request of this many bytes; its reply; keep the connection.
    Done(usize, Reply, bool),
    /// Unusable request: reply 400 and close.
    Bad,
}

/// What the fake reads from a request head.
struct Head<'a> {
    method: &'a str,
    path: &'a str,
    content_length: usize,
    authorized: bool,
    close: bool,
}

fn parse_request(buf: &[u8]) -> Parsed {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > 64 * 1024 {
            Parsed::Bad
        } else {
            Parsed::Partial
        };
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok();
    let Some(head) = head.and_then(parse_head) else {
        return Parsed::Bad;
    };
    let total = head_end + 4 + head.content_length;
    if buf.len() < total {
        return Parsed::Partial;
    }
    Parsed::Done(total, route(&head), !head.close)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request line and the headers the fake cares about; `None` when unusable.
fn parse_head(head: &str) -> Option<Head<'_>> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let mut parsed = Head {
        method: first.next().unwrap_or(""),
        path: first.next().unwrap_or(""),
        content_length: 0,
        authorized: false,
        close: false,
    };
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            parsed.content_length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return None;
        } else if name.eq_ignore_ascii_case("authorization") {
            parsed.authorized = value == SERVICE_AUTHORIZATION;
        } else if name.eq_ignore_ascii_case("connection") {
            parsed.close = value.eq_ignore_ascii_case("close");
        }
    }
    Some(parsed)
}

fn route(head: &Head) -> Reply {
    if !head.authorized {
        return Reply::Unauthorized;
    }
    let prefix = format!("/api/{SERVICE_ID}");
    match (head.method, head.path.strip_prefix(prefix.as_str())) {
        ("POST", Some("/auth/introspection")) => Reply::Introspection,
        ("GET", Some(p)) if p.starts_with("/service/configuration") => Reply::Configuration,
        _ => Reply::NotFound,
    }
}
