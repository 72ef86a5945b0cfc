//! Checks HTTP requests and responses against 8x8's Chat Gateway OpenAPI document, so
//! that tests can prove the client speaks, and the emulator answers, exactly what 8x8's
//! contract says — not just what we believe it says.
//!
//! The document is vendored (`chat-gateway-v1.openapi.yml`, byte-identical to 8x8's) and
//! compiled into the crate. OpenAPI 3.0 schemas are not quite JSON Schema and 8x8's
//! document has known errata, so before validating, the schemas are rewritten by
//! [`errata`]; each rewrite names the pitfall of the protocol notes (docs/decisions.md) it comes from.

mod errata;
mod paths;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

pub use paths::PathMatch;

/// 8x8's OpenAPI document, as published.
pub const OPENAPI_YAML: &str = include_str!("../chat-gateway-v1.openapi.yml");

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("the OpenAPI document does not parse: {0}")]
    Parse(#[from] serde_yaml::Error),
    #[error("the OpenAPI document has no `paths` object")]
    NoPaths,
}

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: String,
    pub template: String,
    pub operation_id: String,
}

/// The loaded contract. Cheap to share: use [`Contract::get`] for a process-wide instance.
pub struct Contract {
    doc: Value,
    operations: Vec<Operation>,
    compiled: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contract")
            .field("operations", &self.operations.len())
            .finish()
    }
}

impl Contract {
    /// Parses the vendored document and applies the errata.
    pub fn load() -> Result<Contract, ContractError> {
        let mut doc: Value = serde_yaml::from_str(OPENAPI_YAML)?;
        errata::apply(&mut doc);
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or(ContractError::NoPaths)?;
        let mut operations = Vec::new();
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                ) {
                    continue;
                }
                operations.push(Operation {
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                    operation_id: op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        }
        Ok(Contract {
            doc,
            operations,
            compiled: Mutex::new(HashMap::new()),
        })
    }

    /// A process-wide contract, loaded once.
    pub fn get() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| Contract::load().expect("the vendored OpenAPI document loads"))
    }

    /// Every operation of the document (34 for Chat Gateway v1).
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// Finds the operation for a concrete request, e.g. `("GET", "/chat-gateway/v1/webhooks/12?size=5")`.
    pub fn find_operation(&self, method: &str, concrete_path: &str) -> Option<&Operation> {
        let method = method.to_ascii_uppercase();
        let path = strip_query(concrete_path);
        self.operations
            .iter()
            .filter(|op| op.method == method)
            .filter_map(|op| paths::match_template(&op.template, path).map(|m| (op, m)))
            .max_by_key(|(_, m)| m.literal_segments)
            .map(|(op, _)| op)
    }

    /// Checks a request body. `body` is `None` when the request has no body.
    /// Multipart bodies (attachment upload) are only checked for presence.
    pub fn validate_request(
        &self,
        method: &str,
        concrete_path: &str,
        body: Option<&Value>,
    ) -> Result<(), Vec<String>> {
        let op = self.operation_or_err(method, concrete_path)?;
        let op_json = self.op_json(op);
        let request_body = op_json
            .get("requestBody")
            .map(|rb| self.deref(rb).clone())
            .unwrap_or(Value::Null);
        let label = format!("{} {} request", op.method, op.template);
        if request_body.is_null() {
            return match body {
                None => Ok(()),
                Some(_) => Err(vec![format!("{label}: the operation takes no body")]),
            };
        }
        let required = request_body
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(body) = body else {
            return if required {
                Err(vec![format!("{label}: a body is required")])
            } else {
                Ok(())
            };
        };
        let content = request_body.get("content").cloned().unwrap_or(Value::Null);
        let Some(schema) = content
            .get("application/json")
            .and_then(|c| c.get("schema"))
        else {
            // Only multipart here: nothing JSON-shaped to check.
            return Ok(());
        };
        let key = format!("req {} {}", op.method, op.template);
        let mut errors = self.run_schema(&key, schema, body, &label);
        errors.extend(errata::request_rules(&op.operation_id, body, &label));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks a response: the status must be declared (or covered by `default`), the
    /// content type must be the declared one, and the body must match its schema.
    /// `body` is `None` for an empty body; `content_type` may carry parameters.
    pub fn validate_response(
        &self,
        method: &str,
        concrete_path: &str,
        status: u16,
        content_type: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(), Vec<String>> {
        let op = self.operation_or_err(method, concrete_path)?;
        let op_json = self.op_json(op);
        let label = format!("{} {} -> {}", op.method, op.template, status);
        let responses = op_json.get("responses").cloned().unwrap_or(Value::Null);
        let status_key = status.to_string();
        let (declared_key, response) = match responses.get(&status_key) {
            Some(r) => (status_key.clone(), r),
            None => match responses.get("default") {
                // `default` covers errors only; a success status must be declared.
                Some(r) if status >= 400 => ("default".to_string(), r),
                _ => {
                    return Err(vec![format!(
                        "{label}: status {status} is not declared for this operation"
                    )])
                }
            },
        };
        let response = self.deref(response).clone();
        let media = content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|ct| !ct.is_empty());
        let content = response.get("content").and_then(Value::as_object);
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            return match body {
                None => Ok(()),
                Some(b) => Err(vec![format!(
                    "{label}: the contract declares no body but one was returned: {}",
                    truncate(&b.to_string())
                )]),
            };
        };
        let Some(media) = media else {
            return Err(vec![format!(
                "{label}: no Content-Type; expected one of {:?}",
                content.keys().collect::<Vec<_>>()
            )]);
        };
        let Some(media_obj) = content.get(&media) else {
            return Err(vec![format!(
                "{label}: Content-Type {media} is not declared; expected one of {:?}",
                content.keys().collect::<Vec<_>>()
            )]);
        };
        let Some(schema) = media_obj.get("schema") else {
            return Ok(());
        };
        // Non-JSON media (the attachment download) are bytes: nothing to check in them.
        if !media.ends_with("json") {
            return Ok(());
        }
        let Some(body) = body else {
            return Err(vec![format!("{label}: a {media} body is required")]);
        };
        let key = format!(
            "res {} {} {} {}",
            op.method, op.template, declared_key, media
        );
        let errors = self.run_schema(&key, schema, body, &label);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Whether the operation declares the `x-api-key` security scheme (all but the JWK).
    pub fn requires_api_key(&self, method: &str, concrete_path: &str) -> Option<bool> {
        let op = self.find_operation(method, concrete_path)?;
        Some(
            self.op_json(op)
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty()),
        )
    }

    /// Checks request headers (names case-insensitive): `x-api-key` where the operation
    /// declares it, and header parameters the operation marks required.
    pub fn validate_request_headers(
        &self,
        method: &str,
        concrete_path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(), Vec<String>> {
        let op = self.operation_or_err(method, concrete_path)?;
        let label = format!("{} {} request", op.method, op.template);
        let has = |name: &str| {
            headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
        };
        let mut errors = Vec::new();
        if self.requires_api_key(method, concrete_path) == Some(true) && !has("x-api-key") {
            errors.push(format!("{label}: the x-api-key header is required"));
        }
        let params = self.op_json(op).get("parameters").and_then(Value::as_array);
        for p in params.into_iter().flatten() {
            let p = self.deref(p);
            let is_required_header = p.get("in").and_then(Value::as_str) == Some("header")
                && p.get("required").and_then(Value::as_bool) == Some(true);
            if let Some(name) = p
                .get("name")
                .and_then(Value::as_str)
                .filter(|_| is_required_header)
            {
                if !has(name) {
                    errors.push(format!("{label}: the {name} header is required"));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn operation_or_err(&self, method: &str, path: &str) -> Result<&Operation, Vec<String>> {
        self.find_operation(method, path).ok_or_else(|| {
            vec![format!(
                "{} {}: no operation of the contract matches",
                method.to_ascii_uppercase(),
                strip_query(path)
            )]
        })
    }

    fn op_json(&self, op: &Operation) -> &Value {
        &self.doc["paths"][&op.template][op.method.to_ascii_lowercase()]
    }

    /// Follows a local `$ref` (response or requestBody objects).
    fn deref<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        for _ in 0..8 {
            let Some(r) = value.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let pointer = r.trim_start_matches('#');
            match self.doc.pointer(pointer) {
                Some(v) => value = v,
                None => break,
            }
        }
        value
    }

    fn run_schema(&self, key: &str, schema: &Value, instance: &Value, label: &str) -> Vec<String> {
        let validator = {
            let mut cache = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = cache.get(key) {
                v.clone()
            } else {
                // The schema is embedded next to the components so `#/components/...`
                // references resolve against the document's own definitions.
                let root = json!({
                    "allOf": [schema],
                    "components": self.doc["components"].clone(),
                });
                match jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft7)
                    .should_validate_formats(true)
                    .build(&root)
                {
                    Ok(v) => {
                        let v = Arc::new(v);
                        cache.insert(key.to_string(), v.clone());
                        v
                    }
                    Err(e) => return vec![format!("{label}: the schema does not compile: {e}")],
                }
            }
        };
        validator
            .iter_errors(instance)
            .map(|e| {
                let at = e.instance_path.to_string();
                let at = if at.is_empty() { "(root)".into() } else { at };
                format!("{label}: at {at}: {e}")
            })
            .collect()
    }
}

fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

fn truncate(s: &str) -> String {
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests;
