//! Conversions shared by every service: HTTP responses, properties, pairs,
//! JSON objects, action enums.

use prost_types::value::Kind;

use crate::api::{self, JsonObject};
use crate::http::{EndpointHeaders, HttpResponse};
use crate::pb;

/// A domain HTTP response as protobuf. Every response leaves through here,
/// so this is where a header value that would split it is refused.
pub fn http(response: HttpResponse) -> pb::HttpResponse {
    let response = response.refuse_unsafe_headers();
    pb::HttpResponse {
        status: i32::from(response.status),
        headers: response
            .headers
            .into_iter()
            .map(|(name, value)| pb::HttpHeader { name, value })
            .collect(),
        body: response.body,
    }
}

/// Endpoint headers a caller carries from the first step of a flow to the
/// second; empty values add no header.
pub fn carried(dpop_nonce: String, attestation_challenge: String) -> EndpointHeaders {
    EndpointHeaders {
        dpop_nonce: Some(dpop_nonce),
        attestation_challenge: Some(attestation_challenge),
    }
}

/// A [`api::Completion`] as protobuf.
pub fn completion(c: api::Completion) -> pb::Completion {
    pb::Completion {
        api: c.api.to_owned(),
        action_name: c.action,
        reason: c.reason,
        result_code: c.result_code,
        result_message: c.result_message,
        authlete_response: c.raw,
    }
}

/// The proto enum value for Authlete's action name; `ACTION_UNSPECIFIED` (0)
/// for a name the proto does not know.
pub fn action<E: Into<i32>>(name: &str, lookup: fn(&str) -> Option<E>) -> i32 {
    lookup(&format!("ACTION_{name}")).map_or(0, Into::into)
}

pub fn properties_in(list: Vec<pb::Property>) -> Vec<api::Property> {
    list.into_iter()
        .map(|p| api::Property {
            key: p.key,
            value: p.value,
            hidden: p.hidden,
        })
        .collect()
}

pub fn properties_out(list: Vec<api::Property>) -> Vec<pb::Property> {
    list.into_iter()
        .map(|p| pb::Property {
            key: p.key,
            value: p.value,
            hidden: p.hidden,
        })
        .collect()
}

pub fn pairs_in(list: Vec<pb::Pair>) -> Vec<api::Pair> {
    list.into_iter()
        .map(|p| api::Pair {
            key: p.key,
            value: p.value,
        })
        .collect()
}

pub fn cimd_options(o: pb::CimdOptions) -> api::authorization::CimdOptions {
    api::authorization::CimdOptions {
        always_retrieved: o.always_retrieved,
        http_permitted: o.http_permitted,
        query_permitted: o.query_permitted,
    }
}

/// A `google.protobuf.Struct` as a JSON object. Whole numbers become JSON
/// integers again (Struct carries every number as a double).
pub fn struct_in(s: prost_types::Struct) -> JsonObject {
    s.fields
        .into_iter()
        .map(|(k, v)| (k, value_in(v)))
        .collect()
}

fn value_in(v: prost_types::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v.kind {
        None | Some(Kind::NullValue(_)) => J::Null,
        Some(Kind::BoolValue(b)) => J::Bool(b),
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => J::from(n as i64),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(n).map_or(J::Null, J::Number),
        Some(Kind::StringValue(s)) => J::String(s),
        Some(Kind::ListValue(l)) => J::Array(l.values.into_iter().map(value_in).collect()),
        Some(Kind::StructValue(s)) => J::Object(struct_in(s)),
    }
}

/// A JSON object as a `google.protobuf.Struct`.
pub fn struct_out(o: JsonObject) -> prost_types::Struct {
    prost_types::Struct {
        fields: o.into_iter().map(|(k, v)| (k, value_out(v))).collect(),
    }
}

fn value_out(v: serde_json::Value) -> prost_types::Value {
    use serde_json::Value as J;
    let kind = match v {
        J::Null => Kind::NullValue(0),
        J::Bool(b) => Kind::BoolValue(b),
        J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        J::String(s) => Kind::StringValue(s),
        J::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.into_iter().map(value_out).collect(),
        }),
        J::Object(o) => Kind::StructValue(struct_out(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// Builds a domain struct by moving same-named fields out of a protobuf
/// message; fields needing a conversion follow after the braces.
macro_rules! fields {
    ($src:ident => $($ty:ident)::+ { $($f:ident),* $(,)? } $($extra:tt)*) => {
        $($ty)::+ { $($f: $src.$f,)* $($extra)* }
    };
}

/// Builds a `<Rpc>Response` from the [`api::Outcome`] in variable `$o`: the
/// common fields (`action`, `action_name`, `http`, `result_code`,
/// `result_message`, `authlete_response`, `response_content`), the listed
/// same-named fields of the reply body (bound to `$b`), then any converted
/// fields, which may use `$b` and the rest of `$o` (e.g. `$o.continuation`).
macro_rules! reply {
    ($o:ident => $b:ident, $($pb:ident)::+, $action:path { $($f:ident),* $(,)? } $($extra:tt)*) => {{
        let $b = $o.body;
        let name = $b.action.name().to_owned();
        $($pb)::+ {
            action: crate::grpc::convert::action(&name, <$action>::from_str_name),
            action_name: name,
            http: $o.http.map(crate::grpc::convert::http),
            result_code: $b.result_code,
            result_message: $b.result_message,
            authlete_response: $o.raw,
            response_content: $b.response_content,
            $($f: $b.$f,)*
            $($extra)*
        }
    }};
}

/// The verdict of a device or CIBA decision request (their `approved` and
/// `denied` messages have the same fields), checked.
macro_rules! verdict {
    ($d:expr, $decision:path, $result:path) => {{
        use crate::api::backchannel::CompleteResult;
        use crate::api::verdict::{Approval, Decision};
        use $decision as D;
        use $result as R;
        match $d {
            Some(D::Approved(a)) => Ok(Decision::Approved(Box::new(
                crate::grpc::convert::fields!(a => Approval { subject, auth_time, acr, claims, scopes, sub }
                    properties: crate::grpc::convert::properties_in(a.properties),
                ),
            ))),
            Some(D::Denied(d)) => Ok(Decision::Denied {
                result: match R::try_from(d.result) {
                    Ok(R::TransactionFailed) => CompleteResult::TransactionFailed,
                    Ok(R::Unspecified | R::AccessDenied) => CompleteResult::AccessDenied,
                    Err(_) => return Err(crate::grpc::backchannel::documented("denied.result")),
                },
                error_description: d.error_description,
                error_uri: d.error_uri,
            }),
            None => Err(crate::api::Error::InvalidArgument {
                field: "decision",
                reason: "is required: set approved or denied".to_owned(),
            }),
        }
    }};
}

pub(crate) use {fields, reply, verdict};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_round_trip_keeps_integers_and_nesting() {
        let json = serde_json::json!({
            "elements": [{"type": "payment", "amount": 42, "rate": 1.5, "ok": true, "none": null}],
        });
        let object = json.as_object().cloned().unwrap();
        assert_eq!(
            serde_json::Value::Object(struct_in(struct_out(object))),
            json
        );
    }

    #[test]
    fn unknown_action_names_map_to_unspecified() {
        let lookup = pb::token_response::Action::from_str_name;
        assert_eq!(action("OK", lookup), pb::token_response::Action::Ok as i32);
        assert_eq!(action("SOMETHING_NEW", lookup), 0);
    }
}
