//! Envoy's external authorization, `envoy.service.auth.v3.Authorization/Check`,
//! on the main listener (the protos come from the `envoy-types` crate).
//!
//! From the `CheckRequest`: the token from `authorization`, the DPoP proof
//! from `dpop`, the end user's certificate from `attributes.source.certificate`
//! (Envoy's `include_peer_certificate`, URL-encoded PEM) or, with
//! `--trust-xfcc`, the `Cert=` of `x-forwarded-client-cert`, and the route's
//! requirements from `context_extensions` `scopes` and `resources`. When
//! Authlete cannot be asked, the RPC fails with the service's usual gRPC
//! error, so that Envoy's `failure_mode_allow` decides.

use envoy_types::ext_authz::v3::pb::{
    Authorization, CheckRequest, CheckResponse, DeniedHttpResponse, HeaderAppendAction,
    HeaderValue, HeaderValueOption, HttpResponse, HttpStatus, OkHttpResponse,
};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Peer};
use envoy_types::pb::google::rpc;
use tonic::{Request, Response, Status};

use super::{AuthzOptions, Decision, FieldNames, Inbound, Required, SharedBackend, Surface};
use crate::api;
use crate::grpc::RpcLog;

/// The ext_authz service on one backend.
#[derive(Clone)]
pub struct Check {
    backend: SharedBackend,
    options: AuthzOptions,
}

impl Check {
    pub fn new(backend: SharedBackend, options: AuthzOptions) -> Self {
        Self { backend, options }
    }
}

const FIELDS: FieldNames = FieldNames {
    method: "attributes.request.http.method",
    scheme: "attributes.request.http.scheme",
    host: "attributes.request.http.host",
};

#[tonic::async_trait]
impl Authorization for Check {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        let log = RpcLog::start("Check");
        let r = request.into_inner();
        let result = self.decide(r).await;
        Ok(Response::new(response(log.decision(result)?)))
    }
}

impl Check {
    async fn decide(
        &self,
        r: CheckRequest,
    ) -> Result<(Decision, api::Outcome<api::introspection::Response>), api::Error> {
        let attributes = r.attributes.unwrap_or_default();
        let http = attributes.request.and_then(|q| q.http).unwrap_or_default();
        let headers = Headers(&http);
        let inbound = Inbound {
            method: &http.method,
            scheme: &http.scheme,
            host: &http.host,
            path: &http.path,
            authorization: headers.get("authorization"),
            dpop: headers.get("dpop"),
            certificate: certificate(attributes.source.as_ref(), &headers, &self.options)?,
        };
        let ext = &attributes.context_extensions;
        let required = Required::parse(
            ext.get("scopes").map(String::as_str),
            ext.get("resources").map(String::as_str),
        );
        let input = super::introspection_request(&inbound, &required, &FIELDS)?;
        super::check(self.backend.as_ref(), &input, &self.options, Surface::Envoy).await
    }
}

/// A `CheckRequest`'s headers: the `headers` map (keys lower-case), or the
/// `header_map` Envoy sends instead with `encode_raw_headers`.
struct Headers<'a>(&'a HttpRequest);

impl Headers<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        if let Some(v) = self.0.headers.get(name) {
            return Some(v);
        }
        let map = self.0.header_map.as_ref()?;
        map.headers
            .iter()
            .find(|h| h.key.eq_ignore_ascii_case(name))
            .and_then(|h| match h.value.as_str() {
                "" => std::str::from_utf8(&h.raw_value).ok(),
                v => Some(v),
            })
    }
}

/// The end user's certificate as PEM: Envoy's peer certificate, else (when
/// trusted) the `Cert=` of `x-forwarded-client-cert`.
fn certificate(
    source: Option<&Peer>,
    headers: &Headers<'_>,
    options: &AuthzOptions,
) -> Result<Option<String>, api::Error> {
    let peer = source.map(|p| p.certificate.as_str()).unwrap_or_default();
    if !peer.is_empty() {
        return percent_encoding::percent_decode_str(peer)
            .decode_utf8()
            .map(|pem| Some(pem.into_owned()))
            .map_err(|_| api::Error::InvalidArgument {
                field: "attributes.source.certificate",
                reason: "is not URL-encoded UTF-8 PEM".to_owned(),
            });
    }
    match headers.get("x-forwarded-client-cert") {
        Some(xfcc) if options.trust_xfcc => {
            crate::auth::xfcc::client_certificate(&[xfcc]).map_err(|reason| {
                api::Error::InvalidArgument {
                    field: "attributes.request.http.headers[x-forwarded-client-cert]",
                    reason,
                }
            })
        }
        _ => Ok(None),
    }
}

/// The decision as Envoy reads it: OK with `ok_response`, or
/// UNAUTHENTICATED (401) / PERMISSION_DENIED with `denied_response`.
fn response(decision: Decision) -> CheckResponse {
    match decision {
        Decision::Allow { set, remove } => CheckResponse {
            status: Some(rpc::Status::default()),
            http_response: Some(HttpResponse::OkResponse(OkHttpResponse {
                headers: set.into_iter().map(overwrite).collect(),
                headers_to_remove: remove,
                ..Default::default()
            })),
            ..Default::default()
        },
        Decision::Deny(http) => {
            let code = if http.status == 401 {
                tonic::Code::Unauthenticated
            } else {
                tonic::Code::PermissionDenied
            };
            CheckResponse {
                status: Some(rpc::Status {
                    code: code as i32,
                    message: String::new(),
                    details: Vec::new(),
                }),
                http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
                    status: Some(HttpStatus {
                        code: i32::from(http.status),
                    }),
                    headers: http.headers.into_iter().map(overwrite).collect(),
                    body: http.body,
                })),
                ..Default::default()
            }
        }
    }
}

/// A header that replaces any the end user sent under that name.
fn overwrite((key, value): (String, String)) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key,
            value,
            ..Default::default()
        }),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        ..Default::default()
    }
}
