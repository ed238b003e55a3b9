//! The HTTP client that delivers CIBA ping and push notifications to a
//! client's notification endpoint (CIBA section 10): the only module besides
//! `backend/authlete.rs` that makes outgoing HTTP calls, and the only one
//! that calls clients.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use crate::api::backchannel::{Delivery, Notify};
use crate::backend::BoxFuture;

/// How long a client's notification endpoint gets to answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Delivers notifications with one pooled reqwest client.
pub struct HttpNotifier {
    client: Result<reqwest::Client, String>,
}

impl HttpNotifier {
    /// A notifier with the [`TIMEOUT`]. Redirects are not followed: the
    /// notification carries a bearer token (and, in push mode, tokens).
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("authlete-grpc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the notification HTTP client: {e}"));
        Self { client }
    }
}

impl Default for HttpNotifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Notify for HttpNotifier {
    fn deliver<'a>(
        &'a self,
        endpoint: &'a str,
        token: &'a str,
        body: &'a str,
    ) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let client = match &self.client {
                Ok(c) => c,
                Err(e) => {
                    return Delivery {
                        status: 0,
                        error: e.clone(),
                    };
                }
            };
            let sent = client
                .post(endpoint)
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_owned())
                .send()
                .await;
            // The error text names the kind of failure, never the token or body.
            match sent {
                Ok(r) if r.status().is_success() => Delivery {
                    status: r.status().as_u16(),
                    error: String::new(),
                },
                Ok(r) => Delivery {
                    status: r.status().as_u16(),
                    error: format!("the client answered HTTP {}", r.status().as_u16()),
                },
                Err(e) if e.is_timeout() => Delivery {
                    status: 0,
                    error: format!("no answer within {} ms", TIMEOUT.as_millis()),
                },
                Err(e) if e.is_connect() => Delivery {
                    status: 0,
                    error: "cannot connect to the client notification endpoint".to_owned(),
                },
                Err(_) => Delivery {
                    status: 0,
                    error: "the notification could not be sent".to_owned(),
                },
            }
        })
    }
}
