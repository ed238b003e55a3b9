//! The proto3 canonical JSON mapping, by reflection over the descriptor set
//! the build already makes (prost-reflect): no generated or hand-written
//! per-message JSON, and the names, enums and 64-bit integers follow the
//! mapping that every Connect client speaks.

use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, MethodDescriptor,
    SerializeOptions,
};
use tonic::Status;

/// The messages and methods a Connect request may name: `authlete.v1`,
/// grpc.health.v1 (so an HTTP probe can call `Health/Check`), and the
/// `google.rpc` error details (for the `debug` member of error details).
#[derive(Debug, Clone)]
pub(super) struct Schema {
    pool: DescriptorPool,
}

impl Schema {
    /// Decodes the embedded descriptor sets.
    pub(super) fn load() -> Self {
        let mut pool = DescriptorPool::new();
        for set in [
            crate::pb::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_types::pb::FILE_DESCRIPTOR_SET,
        ] {
            let set = prost_types::FileDescriptorSet::decode(set)
                .expect("the embedded descriptor sets are valid");
            // The sets share the well-known files; each is added once.
            let fresh = set
                .file
                .into_iter()
                .filter(|f| pool.get_file_by_name(f.name()).is_none())
                .collect::<Vec<_>>();
            pool.add_file_descriptor_protos(fresh)
                .expect("the embedded descriptor sets are consistent");
        }
        Self { pool }
    }

    /// The method a `/package.Service/Method` path names.
    pub(super) fn method(&self, path: &str) -> Option<MethodDescriptor> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        self.pool
            .get_service_by_name(service)?
            .methods()
            .find(|m| m.name() == method)
    }

    /// `google.rpc.ErrorInfo` and the other details as JSON, when known.
    pub(super) fn debug_json(&self, type_name: &str, value: &[u8]) -> Option<serde_json::Value> {
        let desc = self.pool.get_message_by_name(type_name)?;
        let message = DynamicMessage::decode(desc, value).ok()?;
        serde_json::to_value(&message).ok()
    }
}

/// Whether a method is marked `idempotency_level = NO_SIDE_EFFECTS`, so
/// Connect GET may call it.
pub(super) fn no_side_effects(method: &MethodDescriptor) -> bool {
    use prost_types::method_options::IdempotencyLevel;
    method
        .method_descriptor_proto()
        .options
        .as_ref()
        .is_some_and(|o| o.idempotency_level() == IdempotencyLevel::NoSideEffects)
}

/// A JSON request as the binary protobuf of `desc`. Unknown fields are
/// refused; the error names the position, and the offending member only
/// when it is a field name (serde's other messages can quote a value, which
/// may be a secret).
pub(super) fn json_to_proto(desc: &MessageDescriptor, json: &[u8]) -> Result<Vec<u8>, Status> {
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let mut de = serde_json::Deserializer::from_slice(json);
    let message = DynamicMessage::deserialize_with_options(desc.clone(), &mut de, &options)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| invalid_json(desc, &e))?;
    Ok(message.encode_to_vec())
}

fn invalid_json(desc: &MessageDescriptor, e: &serde_json::Error) -> Status {
    let text = e.to_string();
    // prost-reflect says "unrecognized field name 'x'": a name, not a value.
    let unknown = text
        .strip_prefix("unrecognized field name '")
        .and_then(|rest| rest.split_once('\''));
    let what = if let Some((name, _)) = unknown {
        format!("unknown field `{name}`")
    } else {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax => "malformed JSON".to_owned(),
            Category::Eof => "the JSON ends early".to_owned(),
            Category::Data => "a member has the wrong type or value".to_owned(),
            Category::Io => "unreadable".to_owned(),
        }
    };
    Status::invalid_argument(format!(
        "the request body is not a valid {} in JSON: {what} (line {}, column {})",
        desc.full_name(),
        e.line(),
        e.column()
    ))
}

/// A binary reply of `desc` as canonical JSON (lowerCamelCase names, enum
/// names, 64-bit integers as strings, default values left out).
pub(super) fn proto_to_json(desc: &MessageDescriptor, binary: &[u8]) -> Result<Vec<u8>, Status> {
    let message = DynamicMessage::decode(desc.clone(), binary)
        .map_err(|_| Status::internal("the reply does not decode as its message type"))?;
    let mut out = serde_json::Serializer::new(Vec::with_capacity(binary.len() * 2));
    message
        .serialize_with_options(&mut out, &SerializeOptions::new())
        .map_err(|_| Status::internal("the reply does not encode as JSON"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_request(schema: &Schema) -> MessageDescriptor {
        schema
            .method("/authlete.v1.TokenService/Token")
            .expect("Token exists")
            .input()
    }

    #[test]
    fn camel_case_and_proto_names_are_both_accepted() {
        let schema = Schema::load();
        let desc = token_request(&schema);
        let a = json_to_proto(&desc, br#"{"clientId":"c","parameters":"p"}"#).unwrap();
        let b = json_to_proto(&desc, br#"{"client_id":"c","parameters":"p"}"#).unwrap();
        assert_eq!(a, b);
        let decoded = crate::pb::TokenRequest::decode(a.as_slice()).unwrap();
        assert_eq!(decoded.client_id, "c");
    }

    #[test]
    fn unknown_fields_are_named_and_values_never_quoted() {
        let schema = Schema::load();
        let desc = token_request(&schema);
        let e = json_to_proto(&desc, br#"{"nope":"x"}"#).unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(
            e.message().contains("unknown field `nope`"),
            "{}",
            e.message()
        );
        let e = json_to_proto(&desc, br#"{"clientId":["SECRET-value"]}"#).unwrap_err();
        assert!(!e.message().contains("SECRET"), "{}", e.message());
        assert!(
            e.message().contains("authlete.v1.TokenRequest"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn read_only_rpcs_allow_get() {
        let schema = Schema::load();
        let get = |p| no_side_effects(&schema.method(p).unwrap());
        assert!(get("/authlete.v1.DiscoveryService/ServiceConfiguration"));
        assert!(get("/authlete.v1.DiscoveryService/ServiceJwks"));
        assert!(!get("/authlete.v1.TokenService/Token"));
    }
}
