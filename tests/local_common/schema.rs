//! Schema fidelity: a backend wrapper that checks every JSON reply against
//! the 200 response schema of its API, extracted from Authlete's OpenAPI
//! spec into tests/contract/openapi_response_schemas.json (by
//! tests/contract/extract_response_schemas.py), and checks that every
//! top-level member is one the schema declares.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use authlete_grpc::backend::{Backend, BackendError, BoxFuture, Call, Reply};
use serde_json::Value;

static SCHEMAS: LazyLock<HashMap<String, Value>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../contract/openapi_response_schemas.json"))
        .expect("the schema file is JSON")
});

/// The problems of `body` as a reply of `api` (an empty list when it fits).
pub fn problems(api: &str, body: &Value) -> Vec<String> {
    let Some(schema) = SCHEMAS.get(api) else {
        return vec![format!("no schema for {api}")];
    };
    let validator = jsonschema::draft4::new(schema).expect("valid schema");
    let mut out: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{api}: {} at {}", e, e.instance_path()))
        .collect();
    let open = schema.get("additionalProperties") == Some(&Value::Bool(true));
    if let (Some(props), Some(members), false) = (schema.get("properties"), body.as_object(), open)
    {
        for name in members.keys() {
            if props.get(name).is_none() {
                out.push(format!("{api}: member `{name}` is not in the schema"));
            }
        }
    }
    out
}

/// Wraps a backend and records schema problems of every reply.
pub struct Checked {
    inner: Arc<dyn Backend>,
    failures: Mutex<Vec<String>>,
    checked: Mutex<HashMap<&'static str, usize>>,
}

impl Checked {
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        Self {
            inner,
            failures: Mutex::new(Vec::new()),
            checked: Mutex::new(HashMap::new()),
        }
    }

    /// How many replies of each API were checked.
    pub fn counts(&self) -> HashMap<&'static str, usize> {
        self.checked.lock().unwrap().clone()
    }

    pub fn assert_all_valid(&self) {
        let failures = self.failures.lock().unwrap();
        assert!(
            failures.is_empty(),
            "replies that do not fit Authlete's schemas:\n{}",
            failures.join("\n")
        );
    }

    fn check(&self, call: &Call, reply: &Reply) {
        let api = call.api.path();
        *self.checked.lock().unwrap().entry(api).or_default() += 1;
        if reply.status == 204 {
            // No content (`/auth/token/delete`): nothing but the emptiness to check.
            if !reply.body.is_empty() {
                self.failures
                    .lock()
                    .unwrap()
                    .push(format!("{api}: a body with 204"));
            }
            return;
        }
        let found = match serde_json::from_str::<Value>(&reply.body) {
            Ok(body) => problems(api, &body),
            Err(e) => vec![format!("{api}: not JSON ({e})")],
        };
        self.failures.lock().unwrap().extend(found);
    }
}

impl Backend for Checked {
    fn call<'a>(&'a self, call: Call) -> BoxFuture<'a, Result<Reply, BackendError>> {
        Box::pin(async move {
            let kept = call.clone();
            let result = self.inner.call(call).await;
            if let Ok(reply) = &result {
                self.check(&kept, reply);
            }
            result
        })
    }
}
