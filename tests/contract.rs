//! The proto contract against Authlete's published API: every request member
//! the OpenAPI v3 spec documents for a mirrored API is a field of its request
//! message (snake_case), every documented `action` is a value of the response's
//! `Action` enum, every documented enum of a request member (fail reasons) is a
//! value of the matching nested enum, and every typed response field is a
//! member of Authlete's response. `tests/contract/openapi_contract.json` is
//! extracted from the spec by `tests/contract/extract_openapi.py`.

use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorSet};
use serde_json::Value;

/// Typed response fields that are not in OpenAPI 3.0.16 but are in Authlete's
/// Java DTOs (java-common >= 4.39).
const NOT_IN_SPEC: &[&str] = &["attestation_challenge"];

/// Fields every `<Rpc>Response` carries that are ours, not Authlete's members.
const COMMON: &[&str] = &[
    "action",
    "action_name",
    "http",
    "result_code",
    "result_message",
    "authlete_response",
    "continuation",
    "completion",
    "client_notification",
    // `TokenResponse`: jaxrs's answer for a grant the web tier does not finish.
    "unsupported_http",
];

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn messages() -> Vec<DescriptorProto> {
    let set =
        FileDescriptorSet::decode(authlete_grpc::pb::FILE_DESCRIPTOR_SET).expect("descriptor set");
    set.file
        .into_iter()
        .filter(|f| f.package() == "authlete.v1")
        .flat_map(|f| f.message_type)
        .collect()
}

fn message<'a>(all: &'a [DescriptorProto], name: &str) -> &'a DescriptorProto {
    all.iter()
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no message {name}"))
}

fn enum_values(message: &DescriptorProto, enum_name: &str) -> Vec<String> {
    message
        .enum_type
        .iter()
        .find(|e| e.name() == enum_name)
        .unwrap_or_else(|| panic!("{} has no enum {enum_name}", message.name()))
        .value
        .iter()
        .map(|v| v.name().to_owned())
        .collect()
}

fn contract() -> serde_json::Map<String, Value> {
    let text = include_str!("contract/openapi_contract.json");
    serde_json::from_str::<Value>(text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_documented_request_member_is_a_request_field() {
    let all = messages();
    for (api, entry) in contract() {
        let request = message(&all, entry["request_message"].as_str().unwrap());
        let fields: Vec<&str> = request.field.iter().map(|f| f.name()).collect();
        for member in strings(&entry["request_members"]) {
            assert!(
                fields.contains(&snake(&member).as_str()),
                "{api}: {} lacks `{}`",
                request.name(),
                snake(&member)
            );
        }
    }
}

#[test]
fn every_documented_action_is_an_enum_value() {
    let all = messages();
    for (api, entry) in contract() {
        let actions = strings(&entry["actions"]);
        if actions.is_empty() {
            continue;
        }
        let values = enum_values(
            message(&all, entry["response_message"].as_str().unwrap()),
            "Action",
        );
        assert_eq!(values[0], "ACTION_UNSPECIFIED", "{api}");
        for action in actions {
            assert!(
                values.contains(&format!("ACTION_{action}")),
                "{api}: no ACTION_{action}"
            );
        }
    }
}

#[test]
fn every_documented_request_enum_is_a_nested_enum() {
    let all = messages();
    for (api, entry) in contract() {
        let request = message(&all, entry["request_message"].as_str().unwrap());
        for (member, values) in entry["request_enums"].as_object().unwrap() {
            let nested = enum_values(request, &camel(&format!("_{member}")));
            for value in strings(values) {
                let prefixed = format!("{}_{value}", snake(member).to_uppercase());
                assert!(nested.contains(&prefixed), "{api}: no {prefixed}");
            }
        }
    }
}

#[test]
fn every_typed_response_field_is_an_authlete_member() {
    let all = messages();
    for (api, entry) in contract() {
        let members = strings(&entry["response_members"]);
        if members.is_empty() {
            continue;
        }
        let response = message(&all, entry["response_message"].as_str().unwrap());
        for field in response.field.iter().map(|f| f.name()) {
            if COMMON.contains(&field) || NOT_IN_SPEC.contains(&field) {
                continue;
            }
            assert!(
                members.contains(&camel(field)),
                "{api}: {}.{field} is not an Authlete member",
                response.name()
            );
        }
    }
}

#[test]
fn the_name_helpers_agree() {
    assert_eq!(
        snake("oauthClientAttestationPop"),
        "oauth_client_attestation_pop"
    );
    assert_eq!(
        camel("oauth_client_attestation_pop"),
        "oauthClientAttestationPop"
    );
    assert_eq!(camel("_reason"), "Reason");
}
