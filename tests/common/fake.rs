//! The fake Authlete: an axum server on 127.0.0.1 that answers each API path
//! from a script and records every request it receives.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A scripted reply of the fake.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub delay: Option<Duration>,
}

impl Scripted {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            headers: Vec::new(),
            delay: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before answering (simulates a hang).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: Option<String>,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body_text: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body_text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body_text))
    }

    /// The query parameters, decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.query.clone().unwrap_or_default();
        let url = reqwest::Url::parse(&format!("http://fake/?{query}")).unwrap();
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

#[derive(Default)]
struct FakeState {
    replies: HashMap<String, Scripted>,
    /// Replies used once each, in order, before `replies`.
    queued: HashMap<String, VecDeque<Scripted>>,
    requests: Vec<Recorded>,
}

/// A fake Authlete: answers each API path from a script, records everything.
pub struct FakeAuthlete {
    addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    task: JoinHandle<()>,
}

impl FakeAuthlete {
    /// Binds 127.0.0.1:0, then serves in the background.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// Binds `addr` (e.g. a port the service was already pointed at).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(FakeState::default()));
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { addr, state, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers requests whose path ends with `api_path` (e.g. `/auth/token`).
    pub fn reply(&self, api_path: &str, status: u16, body: impl Into<String>) -> &Self {
        self.script(api_path, Scripted::new(status, body))
    }

    pub fn script(&self, api_path: &str, reply: Scripted) -> &Self {
        self.state
            .lock()
            .unwrap()
            .replies
            .insert(api_path.to_owned(), reply);
        self
    }

    /// Answers the next requests to `api_path` with `replies`, one each, in
    /// order; then with the scripted reply.
    pub fn queue(&self, api_path: &str, replies: impl IntoIterator<Item = Scripted>) -> &Self {
        self.state
            .lock()
            .unwrap()
            .queued
            .entry(api_path.to_owned())
            .or_default()
            .extend(replies);
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The one request received; fails if there were none or several.
    pub fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request: {requests:#?}"
        );
        requests.into_iter().next().unwrap()
    }

    pub fn assert_no_request(&self) {
        let requests = self.requests();
        assert!(
            requests.is_empty(),
            "Authlete must not be called: {requests:#?}"
        );
    }
}

impl Drop for FakeAuthlete {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let reply = {
        let mut s = state.lock().unwrap();
        s.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: uri.query().map(str::to_owned),
            headers: headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body_text: String::from_utf8_lossy(&body).into_owned(),
        });
        let queued = s
            .queued
            .iter_mut()
            .filter(|(k, _)| path.ends_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .and_then(|(_, q)| q.pop_front());
        // The longest scripted suffix wins (`/auth/token/issue` over `/auth/token`).
        queued.or_else(|| {
            s.replies
                .iter()
                .filter(|(k, _)| path.ends_with(k.as_str()))
                .max_by_key(|(k, _)| k.len())
                .map(|(_, v)| v.clone())
        })
    };
    let Some(reply) = reply else {
        return (
            StatusCode::NOT_FOUND,
            r#"{"resultCode":"FAKE404","resultMessage":"no scripted reply"}"#,
        )
            .into_response();
    };
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name, value);
    }
    builder.body(reply.body.into()).unwrap()
}
