//! The HTTP client that delivers CIBA ping and push notifications to a
//! client's notification endpoint (CIBA section 10): the only module besides
//! `backend/authlete.rs` that makes outgoing HTTP calls, and the only one
//! that calls clients.

mod egress;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

pub use egress::{EgressPolicy, Refused, classify};

use crate::api::backchannel::{Delivery, Notify};
use crate::backend::BoxFuture;

/// How long a client's notification endpoint gets to answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Where notifications may go and how much of an answer is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyOptions {
    /// Destinations allowed beyond public addresses (and over plain http).
    pub egress: EgressPolicy,
    /// The proxy notifications go through; `None`: straight, never the
    /// system proxy. A proxy resolves host names itself, so it must enforce
    /// its own egress policy; IP literals are still checked here.
    pub proxy: Option<String>,
    /// Bytes of the endpoint's answer read at most (the status is what counts).
    pub max_reply_bytes: usize,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        Self {
            egress: EgressPolicy::default(),
            proxy: None,
            max_reply_bytes: 64 * 1024,
        }
    }
}

/// Delivers notifications with one pooled reqwest client.
pub struct HttpNotifier {
    client: Result<reqwest::Client, String>,
    egress: Arc<EgressPolicy>,
    max_reply_bytes: usize,
}

impl HttpNotifier {
    /// A notifier with the [`TIMEOUT`], connecting only where `options`
    /// allow. Redirects are not followed: the notification carries a bearer
    /// token (and, in push mode, tokens).
    pub fn new(options: &NotifyOptions) -> Self {
        let mut egress = options.egress.clone();
        let builder = reqwest::Client::builder()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("authlete-grpc/", env!("CARGO_PKG_VERSION")));
        let builder = match &options.proxy {
            Some(proxy) => match proxy_of(proxy) {
                Ok((p, host)) => {
                    egress.allow_host(&host);
                    Ok(builder.proxy(p))
                }
                Err(e) => Err(e),
            },
            None => Ok(builder.no_proxy()),
        };
        let egress = Arc::new(egress);
        let client = builder.and_then(|b| {
            b.dns_resolver(Arc::new(egress::VettingResolver(egress.clone())))
                .build()
                .map_err(|e| format!("cannot build the notification HTTP client: {e}"))
        });
        Self {
            client,
            egress,
            max_reply_bytes: options.max_reply_bytes,
        }
    }

    /// The checks that need no DNS: the scheme, and an IP literal host
    /// (reqwest connects to those without asking the resolver).
    async fn precheck(&self, endpoint: &str) -> Result<(), String> {
        let url = reqwest::Url::parse(endpoint)
            .map_err(|_| "the client notification endpoint is not a URL".to_owned())?;
        let host = url.host_str().unwrap_or_default();
        match url.scheme() {
            "https" => {}
            "http" if self.http_allowed(&url).await => {}
            _ => return Err(Refused::Scheme.to_string()),
        }
        if let Some(ip) = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(v4.into()),
            Some(url::Host::Ipv6(v6)) => Some(v6.into()),
            _ => None,
        } {
            self.egress.check(host, &[ip]).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Plain http only to a destination the policy names, or whose
    /// addresses it all covers.
    async fn http_allowed(&self, url: &reqwest::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        if self.egress.allows_host(host) {
            return true;
        }
        let Ok(addrs) = tokio::net::lookup_host((host, 0)).await else {
            return false;
        };
        let addrs: Vec<_> = addrs.map(|a| a.ip()).collect();
        !addrs.is_empty()
            && addrs
                .iter()
                .all(|ip| self.egress.allows_host(&ip.to_string()))
    }
}

fn proxy_of(url: &str) -> Result<(reqwest::Proxy, String), String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|_| "--notification-proxy is not a URL".to_owned())?;
    let host = parsed
        .host_str()
        .ok_or_else(|| "--notification-proxy names no host".to_owned())?
        .to_owned();
    let proxy = reqwest::Proxy::all(url).map_err(|e| format!("--notification-proxy: {e}"))?;
    Ok((proxy, host))
}

/// The egress refusal somewhere in a reqwest error's sources.
fn refusal(error: &reqwest::Error) -> Option<&Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r);
        }
        source = e.source();
    }
    None
}

/// Reads at most `max` bytes of the answer, so a hostile endpoint cannot
/// make this process buffer much; the rest is dropped with the connection.
async fn drain(mut response: reqwest::Response, max: usize) {
    let mut read = 0usize;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > max {
            return;
        }
    }
}

impl Default for HttpNotifier {
    fn default() -> Self {
        Self::new(&NotifyOptions::default())
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
            let refused = |error: String| Delivery { status: 0, error };
            let client = match &self.client {
                Ok(c) => c,
                Err(e) => return refused(e.clone()),
            };
            if let Err(why) = self.precheck(endpoint).await {
                tracing::warn!(reason = %why, "client notification refused");
                return refused(why);
            }
            let sent = client
                .post(endpoint)
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_owned())
                .send()
                .await;
            // The error text names the kind of failure, never the token or body.
            match sent {
                Ok(r) => {
                    let status = r.status().as_u16();
                    drain(r, self.max_reply_bytes).await;
                    let error = match status {
                        200..=299 => String::new(),
                        _ => format!("the client answered HTTP {status}"),
                    };
                    Delivery { status, error }
                }
                Err(e) if refusal(&e).is_some() => {
                    let why = refusal(&e).map(Refused::to_string).unwrap_or_default();
                    tracing::warn!(reason = %why, "client notification refused");
                    refused(why)
                }
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
