//! Connect's error: the JSON body (`code`, `message`, `details`) and the
//! HTTP status of each code (connectrpc.com/docs/protocol#error-codes).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use prost::Message as _;
use serde_json::{Value, json};
use tonic::body::Body;
use tonic::{Code, Status};

use super::codec::Schema;

/// A Connect error about to be written (boxed: results carry it).
#[derive(Debug)]
pub(super) struct ConnectError(Box<Parts>);

#[derive(Debug)]
struct Parts {
    code: Code,
    message: String,
    details: Vec<Value>,
    /// An HTTP status other than the code's (415 for an unknown codec, 405
    /// for a method that takes no GET), as the protocol asks.
    http: Option<StatusCode>,
    headers: HeaderMap,
}

impl ConnectError {
    pub(super) fn new(code: Code, message: impl Into<String>) -> Self {
        Self(Box::new(Parts {
            code,
            message: message.into(),
            details: Vec::new(),
            http: None,
            headers: HeaderMap::new(),
        }))
    }

    /// The error a gRPC status becomes, its details with their `debug` JSON.
    pub(super) fn from_status(status: &Status, schema: &Schema) -> Self {
        let mut error = Self::new(status.code(), status.message());
        let details = tonic_types::pb::Status::decode(status.details()).unwrap_or_default();
        for any in details.details {
            let name = any.type_url.rsplit('/').next().unwrap_or_default();
            let mut detail = json!({"type": name, "value": STANDARD_NO_PAD.encode(&any.value)});
            if let Some(debug) = schema.debug_json(name, &any.value) {
                detail["debug"] = debug;
            }
            error.0.details.push(detail);
        }
        error
    }

    /// Answers with `status` instead of the code's own HTTP status.
    pub(super) fn with_http(mut self, status: StatusCode, header: (&'static str, &str)) -> Self {
        self.0.http = Some(status);
        if let Ok(v) = HeaderValue::from_str(header.1) {
            self.0.headers.insert(header.0, v);
        }
        self
    }

    /// Adds the reply's metadata (headers, then trailers) to the error.
    pub(super) fn with_metadata(mut self, metadata: HeaderMap) -> Self {
        self.0.headers.extend(metadata);
        self
    }

    /// Says what an empty message leaves unsaid.
    pub(super) fn or_message(mut self, message: impl FnOnce() -> String) -> Self {
        if self.0.message.is_empty() {
            self.0.message = message();
        }
        self
    }

    /// The JSON body of the error (also the `error` of a streaming end).
    pub(super) fn to_json(&self) -> Value {
        let parts = &self.0;
        let mut body = json!({"code": code_name(parts.code)});
        if !parts.message.is_empty() {
            body["message"] = Value::String(parts.message.clone());
        }
        if !parts.details.is_empty() {
            body["details"] = Value::Array(parts.details.clone());
        }
        body
    }

    /// The unary error response: the code's HTTP status and the JSON body.
    pub(super) fn into_response(self) -> http::Response<Body> {
        let body = Bytes::from(self.to_json().to_string());
        let mut response = http::Response::new(Body::new(http_body_util::Full::new(body)));
        let parts = *self.0;
        *response.status_mut() = parts.http.unwrap_or_else(|| http_status(parts.code));
        let headers = response.headers_mut();
        *headers = parts.headers;
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// Connect's name of a code.
pub(super) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// The HTTP status Connect gives a code.
pub(super) fn http_status(code: Code) -> StatusCode {
    let status = match code {
        Code::Ok => 200,
        Code::Cancelled => 499,
        Code::Unknown | Code::Internal | Code::DataLoss => 500,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
        Code::DeadlineExceeded => 504,
        Code::NotFound => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::PermissionDenied => 403,
        Code::ResourceExhausted => 429,
        Code::Unimplemented => 501,
        Code::Unavailable => 503,
        Code::Unauthenticated => 401,
    };
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, StatusExt};

    #[test]
    fn details_carry_type_value_and_debug() {
        let details =
            ErrorDetails::with_error_info("WHY", "example.com", std::collections::HashMap::new());
        let status = Status::with_error_details(Code::Unavailable, "down", details);
        let error = ConnectError::from_status(&status, &Schema::load());
        let body = error.to_json();
        assert_eq!(body["code"], "unavailable");
        assert_eq!(body["message"], "down");
        let detail = &body["details"][0];
        assert_eq!(detail["type"], "google.rpc.ErrorInfo");
        assert_eq!(detail["debug"]["reason"], "WHY");
        let value = STANDARD_NO_PAD
            .decode(detail["value"].as_str().unwrap())
            .unwrap();
        let info = tonic_types::pb::ErrorInfo::decode(value.as_slice()).unwrap();
        assert_eq!(info.domain, "example.com");
        assert_eq!(http_status(error.0.code), StatusCode::SERVICE_UNAVAILABLE);
    }
}
