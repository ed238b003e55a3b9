//! The bounded method vocabulary of the gRPC labels: every method of the
//! embedded descriptor sets (the Authlete services, health, reflection v1 and
//! v1alpha), read once per process. A `:path` outside it is [`UNKNOWN`],
//! never the raw path.

use std::collections::HashMap;
use std::sync::LazyLock;

use prost::Message as _;
use prost_types::FileDescriptorSet;

/// One RPC method as the labels name it.
#[derive(Debug, PartialEq, Eq)]
pub struct Method {
    /// `unary`, `client_stream`, `server_stream` or `bidi_stream`.
    pub grpc_type: &'static str,
    /// The fully qualified service, e.g. `authlete.v1.TokenService`.
    pub service: &'static str,
    /// The method, e.g. `Token`.
    pub method: &'static str,
    /// `service/method`, the `rpc` label of the outcome metrics.
    pub rpc: &'static str,
}

/// Every path that is not a known method.
pub static UNKNOWN: Method = Method {
    grpc_type: "unknown",
    service: "unknown",
    method: "unknown",
    rpc: "unknown",
};

static TABLE: LazyLock<HashMap<&'static str, Method>> = LazyLock::new(build);

/// The method of a `:path` (`/package.Service/Method`); [`UNKNOWN`] if none.
pub fn lookup(path: &str) -> &'static Method {
    TABLE.get(path).unwrap_or(&UNKNOWN)
}

/// Every known method.
pub fn all() -> impl Iterator<Item = &'static Method> {
    TABLE.values()
}

fn build() -> HashMap<&'static str, Method> {
    let sets = [
        crate::pb::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ];
    let mut table = HashMap::new();
    for bytes in sets {
        let set = FileDescriptorSet::decode(bytes).expect("the embedded descriptor sets are valid");
        for file in set.file {
            let package = file.package();
            for service in &file.service {
                let service_name: &'static str = leak(format!("{package}.{}", service.name()));
                for m in &service.method {
                    let grpc_type = match (m.client_streaming(), m.server_streaming()) {
                        (false, false) => "unary",
                        (true, false) => "client_stream",
                        (false, true) => "server_stream",
                        (true, true) => "bidi_stream",
                    };
                    let method: &'static str = leak(m.name().to_owned());
                    let rpc = leak(format!("{service_name}/{method}"));
                    let path = leak(format!("/{rpc}"));
                    table.insert(
                        path,
                        Method {
                            grpc_type,
                            service: service_name,
                            method,
                            rpc,
                        },
                    );
                }
            }
        }
    }
    // The authorizer edges' services have no descriptor set in this build.
    for (service, method) in crate::authz::RPCS {
        let rpc = leak(format!("{service}/{method}"));
        let path = leak(format!("/{rpc}"));
        let method = Method {
            grpc_type: "unary",
            service,
            method,
            rpc,
        };
        table.insert(path, method);
    }
    table
}

/// The table is built once per process from fixed descriptor sets, so these
/// few hundred bytes are leaked exactly once.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
