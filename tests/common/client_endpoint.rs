//! A CIBA client's notification endpoint on 127.0.0.1, recording what it
//! receives.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use tokio::net::TcpListener;

/// What the client's notification endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub authorization: String,
    pub content_type: String,
    pub body: String,
}

/// A client notification endpoint on 127.0.0.1 answering `status`.
pub async fn client_endpoint(status: u16) -> (String, Arc<Mutex<Vec<Received>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/ciba/notify",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                seen.lock().unwrap().push(Received {
                    authorization: h("authorization"),
                    content_type: h("content-type"),
                    body,
                });
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ciba/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}
