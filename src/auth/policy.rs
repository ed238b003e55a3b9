//! The permission policy: which services or RPCs each caller identity may
//! call. Nobody may call anything that is not granted.
//!
//! ```toml
//! [callers."key:resource-server"]
//! allow = ["authlete.v1.IntrospectionService"]
//!
//! [callers."uri:spiffe://cluster.local/ns/web/sa/frontend"]
//! allow = ["authlete.v1.AuthorizationService", "authlete.v1.TokenService/Token"]
//! ```
//!
//! A caller is named with its source (see `identity.rs`): `key:` a caller
//! key's name, `uri:` / `dns:` / `cn:` a certificate's (or XFCC's) URI SAN,
//! DNS SAN or CN. A name without one is a startup error that says so:
//! guessing the source is what let a certificate take a key's grants.
//!
//! A grant is a service (`authlete.v1.TokenService`: all its RPCs), one RPC
//! (`authlete.v1.TokenService/Token`) or `*` (every service). Names are
//! checked against the services this build serves, so a typo is a startup
//! error, not a silent denial.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use prost::Message;
use serde::Deserialize;

use super::Source;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    callers: BTreeMap<String, Grant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    allow: Vec<String>,
}

/// Who may call what.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    grants: HashMap<Arc<str>, Arc<BTreeSet<String>>>,
}

const EVERYTHING: &str = "*";

impl Policy {
    /// Parses the TOML policy, checking every grant against the services
    /// and RPCs this build serves.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| crate::toml_error::describe(text, &e))?;
        let known = known_methods();
        let mut grants = HashMap::new();
        for (caller, grant) in file.callers {
            check_source(&caller)?;
            let mut allowed = BTreeSet::new();
            for entry in grant.allow {
                if entry != EVERYTHING && !known.contains(&entry) {
                    return Err(format!(
                        "caller `{caller}`: `{entry}` is neither `*`, a service (e.g. authlete.v1.TokenService) \
                         nor an RPC (e.g. authlete.v1.TokenService/Token) of this service"
                    ));
                }
                allowed.insert(entry);
            }
            grants.insert(caller.into(), Arc::new(allowed));
        }
        Ok(Self { grants })
    }

    /// Whether `caller` may call `path` (`/package.Service/Method`).
    pub fn allows(&self, caller: &str, path: &str) -> bool {
        let Some(allowed) = self.grants.get(caller) else {
            return false;
        };
        let Some((service, _method)) = path.trim_start_matches('/').split_once('/') else {
            return false;
        };
        let rpc = path.trim_start_matches('/');
        allowed.contains(EVERYTHING) || allowed.contains(service) || allowed.contains(rpc)
    }

    /// The callers named in the policy.
    pub fn callers(&self) -> impl Iterator<Item = &str> {
        self.grants.keys().map(|c| c.as_ref())
    }
}

/// A caller name must say where its identity comes from.
fn check_source(caller: &str) -> Result<(), String> {
    let known = Source::ALL
        .iter()
        .find_map(|s| caller.strip_prefix(s.prefix()));
    match known {
        Some(rest) if !rest.trim().is_empty() => Ok(()),
        Some(_) => Err(format!("caller `{caller}` has an empty name")),
        None => Err(format!(
            "caller `{caller}` does not say where its identity comes from: since callers keep their source, \
             write `key:{caller}` for a caller key, or `uri:`, `dns:` or `cn:` for a client certificate's \
             (or x-forwarded-client-cert's) URI SAN, DNS SAN or CN"
        )),
    }
}

/// Every `package.Service` and `package.Service/Method` of `proto/`.
fn known_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(crate::pb::FILE_DESCRIPTOR_SET)
        .expect("the embedded descriptor set is valid");
    let mut known = BTreeSet::new();
    for file in set.file {
        let package = file.package().to_owned();
        for service in file.service {
            let name = format!("{package}.{}", service.name());
            for method in &service.method {
                known.insert(format!("{name}/{}", method.name()));
            }
            known.insert(name);
        }
    }
    for (service, method) in crate::authz::RPCS {
        known.insert(format!("{service}/{method}"));
        known.insert((*service).to_owned());
    }
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
        [callers."key:rs"]
        allow = ["authlete.v1.IntrospectionService"]

        [callers."key:web"]
        allow = ["authlete.v1.TokenService/Token", "authlete.v1.AuthorizationService"]

        [callers."cn:admin"]
        allow = ["*"]
    "#;

    #[test]
    fn grants_services_rpcs_and_everything() {
        let p = Policy::parse(POLICY).unwrap();
        assert!(p.allows("key:rs", "/authlete.v1.IntrospectionService/Introspection"));
        assert!(p.allows(
            "key:rs",
            "/authlete.v1.IntrospectionService/StandardIntrospection"
        ));
        assert!(!p.allows("key:rs", "/authlete.v1.TokenService/TokenIssue"));
        assert!(p.allows("key:web", "/authlete.v1.TokenService/Token"));
        assert!(!p.allows("key:web", "/authlete.v1.TokenService/TokenIssue"));
        assert!(p.allows(
            "key:web",
            "/authlete.v1.AuthorizationService/AuthorizationIssue"
        ));
        assert!(p.allows("cn:admin", "/authlete.v1.TokenService/TokenIssue"));
        assert!(!p.allows("key:nobody", "/authlete.v1.TokenService/Token"));
        assert!(!p.allows("key:rs", "/authlete.v1.IntrospectionServiceX/Introspection"));
        assert!(!p.allows("key:rs", "garbage"));
    }

    #[test]
    fn the_authorizer_edges_are_named_like_rpcs() {
        let p = Policy::parse(
            r#"[callers."key:envoy"]
               allow = ["envoy.service.auth.v3.Authorization/Check", "authlete.grpc.ForwardAuth"]"#,
        )
        .unwrap();
        assert!(p.allows("key:envoy", "/envoy.service.auth.v3.Authorization/Check"));
        assert!(p.allows("key:envoy", "/authlete.grpc.ForwardAuth/Authz"));
        assert!(!p.allows(
            "key:envoy",
            "/authlete.v1.IntrospectionService/Introspection"
        ));
        assert!(
            Policy::parse(
                r#"[callers."key:e"]
               allow = ["authlete.grpc.ForwardAuth/Check"]"#
            )
            .is_err()
        );
    }

    #[test]
    fn typos_are_errors() {
        for bad in [
            r#"[callers."key:rs"]
               allow = ["authlete.v1.IntrospectionSvc"]"#,
            r#"[callers."key:rs"]
               allow = ["authlete.v1.TokenService/Tokn"]"#,
            r#"[caller.rs]
               allow = ["*"]"#,
            r#"[callers."key:rs"]
               alow = ["*"]"#,
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Policy::parse("").unwrap().callers().count(), 0);
    }

    #[test]
    fn a_caller_without_its_source_is_an_error_explaining_the_change() {
        for name in ["web", "\"spiffe://td/web\"", "\"key:\""] {
            let err = Policy::parse(&format!("[callers.{name}]\nallow = [\"*\"]")).unwrap_err();
            assert!(err.contains("key:") || err.contains("empty"), "{err}");
        }
        let err = Policy::parse("[callers.web]\nallow = [\"*\"]").unwrap_err();
        assert!(err.contains("`key:web`") && err.contains("uri:"), "{err}");
    }
}
