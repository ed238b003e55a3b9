//! The one conversion from [`api::Error`] to `tonic::Status` (design.md,
//! failure model), with `google.rpc.ErrorInfo` details.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::api;
use crate::backend::BackendError;

/// `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "authlete-grpc";

/// Converts an error, logging it once. Neither the message nor the details
/// carry credentials or request contents: [`BackendError`] holds none.
pub fn to_status(rpc: &'static str, error: &api::Error, latency_us: u64) -> Status {
    match error {
        api::Error::InvalidArgument { field, reason } => {
            let caller = caller();
            tracing::info!(
                rpc,
                caller = caller.as_deref(),
                outcome = "invalid_argument",
                field,
                latency_us,
                trace_id = crate::telemetry::current_trace_id(),
                "rejected: invalid argument"
            );
            let mut details = ErrorDetails::with_bad_request_violation(*field, reason.clone());
            details.set_error_info(
                "INVALID_ARGUMENT",
                ERROR_DOMAIN,
                HashMap::from([("field".to_owned(), field.to_string())]),
            );
            Status::with_error_details(Code::InvalidArgument, format!("{field} {reason}"), details)
        }
        api::Error::Backend(e) => backend_status(rpc, e, latency_us),
    }
}

fn backend_status(rpc: &'static str, error: &BackendError, latency_us: u64) -> Status {
    let (code, reason) = classify(error);
    let caller = caller();
    let caller = caller.as_deref();
    let trace_id = crate::telemetry::current_trace_id();
    if reason == "AUTHLETE_CREDENTIALS_REJECTED" {
        tracing::error!(rpc, caller, outcome = reason, %error, latency_us, trace_id, "Authlete rejected this service's credentials: check the AUTHLETE_* settings");
    } else {
        tracing::warn!(rpc, caller, outcome = reason, %error, request_id = error.request_id(), latency_us, trace_id, "call to Authlete failed");
    }
    let mut metadata = HashMap::new();
    if let Some(id) = error.request_id() {
        metadata.insert("request_id".to_owned(), id.to_owned());
    }
    if let BackendError::Status {
        status,
        result_code,
        ..
    } = error
    {
        metadata.insert("http_status".to_owned(), status.to_string());
        if let Some(rc) = result_code {
            metadata.insert("result_code".to_owned(), rc.clone());
        }
    }
    metadata.insert("api".to_owned(), error.api().to_string());
    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
    // When to come back: Authlete's Retry-After (429, 503) or the breaker's window.
    if let (Code::Unavailable, Some(after)) = (code, error.retry_after()) {
        details.set_retry_info(Some(after));
    }
    Status::with_error_details(code, error.to_string(), details)
}

/// The identity of the authenticated caller, for the log line.
fn caller() -> Option<String> {
    crate::auth::current_caller().map(|c| c.name.to_string())
}

/// The gRPC code and `ErrorInfo.reason` of a failed Authlete call.
///
/// A broken connection is UNAVAILABLE: the path to Authlete failed, which
/// is transient, though Authlete may have acted on the request. A reply that
/// is not HTTP, too large, or not JSON is INTERNAL: retrying cannot help, the
/// deployment (base URL, proxy) or Authlete is wrong.
pub(crate) fn classify(error: &BackendError) -> (Code, &'static str) {
    let code = match error {
        BackendError::Connect { .. }
        | BackendError::CircuitOpen { .. }
        | BackendError::Timeout { .. }
        | BackendError::ConnectionLost { .. } => Code::Unavailable,
        BackendError::DeadlineExceeded { .. } => Code::DeadlineExceeded,
        BackendError::Status { status: 400, .. } => Code::InvalidArgument,
        BackendError::Status { status, .. } if *status == 429 || *status >= 500 => {
            Code::Unavailable
        }
        BackendError::Status { .. }
        | BackendError::Redirect { .. }
        | BackendError::Decode { .. }
        | BackendError::Other { .. } => Code::Internal,
        BackendError::Unsupported { .. } => Code::Unimplemented,
    };
    (code, error.reason())
}
