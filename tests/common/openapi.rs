//! Validates JSON against schemas of the published Studio OpenAPI spec (OpenAPI 3.0).
//!
//! The schemas come from the committed subset of the spec that ei-tune uses
//! (`assets/studio-openapi-subset.json`, see `spec_subset`), so that the tests run on a
//! fresh clone; the published spec itself is read from
//! `../shared/openapi/edge-impulse-openapi.yml` (or the file named by `EI_OPENAPI_SPEC`) only
//! to check that the subset is derived from it exactly. OpenAPI 3.0 schemas are not JSON
//! Schema (`nullable`, no type arrays), hence this small validator of the keywords the spec
//! uses: $ref, allOf, oneOf, anyOf, type, nullable, required, properties, items, enum,
//! additionalProperties.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

pub struct Spec {
    doc: Value,
}

pub fn spec_path() -> PathBuf {
    std::env::var_os("EI_OPENAPI_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/openapi/edge-impulse-openapi.yml")
        })
}

/// The published spec, whole, when it is beside the repository.
pub fn published_spec() -> Option<Value> {
    let text = std::fs::read_to_string(spec_path()).ok()?;
    Some(serde_yaml::from_str(&text).expect("the published OpenAPI spec is not YAML"))
}

/// The committed subset of the spec, loaded once per test binary.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(super::spec_subset::SUBSET_FILE);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).expect("the spec subset is not JSON");
        Spec { doc }
    })
}

impl Spec {
    /// The 200 response schema of an operation, by method and path as the spec writes it.
    pub fn response_schema(&self, method: &str, path: &str) -> &Value {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "the spec has no {method} {path}");
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} has no JSON 200 response"
        );
        schema
    }

    pub fn request_schema(&self, method: &str, path: &str) -> &Value {
        let schema = &self.doc["paths"][path][method]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} has no JSON request body"
        );
        schema
    }

    pub fn schema(&self, name: &str) -> &Value {
        let s = &self.doc["components"]["schemas"][name];
        assert!(s.is_object(), "the spec has no schema {name}");
        s
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        while let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or_default();
            s = self.schema(name);
        }
        s
    }

    /// Every way `value` breaks `schema`, each with its JSON path; empty when it conforms.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors);
        errors
    }

    fn check(&self, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        self.check_combinators(schema, value, path, errors);
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "boolean" => value.is_boolean(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                _ => true,
            };
            if !ok {
                errors.push(format!("{path}: expected {t}, got {value}"));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            errors.push(format!("{path}: {value} is not one of {allowed:?}"));
        }
        if let Some(object) = value.as_object() {
            self.check_object(schema, object, path, errors);
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                self.check(items, item, &format!("{path}[{i}]"), errors);
            }
        }
    }

    /// allOf: every schema; oneOf: exactly one; anyOf: at least one.
    fn check_combinators(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.check(s, value, path, errors);
            }
        }
        for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
            if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
                let matching = options
                    .iter()
                    .filter(|s| self.validate(s, value).is_empty())
                    .count();
                let ok = if exactly_one {
                    matching == 1
                } else {
                    matching >= 1
                };
                if !ok {
                    errors.push(format!(
                        "{path}: matches {matching} of the {keyword} schemas"
                    ));
                }
            }
        }
    }

    /// Required fields, and each field against its property (or additionalProperties).
    fn check_object(
        &self,
        schema: &Value,
        object: &serde_json::Map<String, Value>,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    errors.push(format!("{path}: missing required field `{name}`"));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, field) in object {
            let field_path = format!("{path}.{name}");
            if let Some(s) = properties.and_then(|p| p.get(name)) {
                self.check(s, field, &field_path, errors);
            } else if let Some(extra) = schema.get("additionalProperties")
                && extra.is_object()
            {
                self.check(extra, field, &field_path, errors);
            }
        }
    }
}

impl Spec {
    /// The smallest value `schema` allows: required fields only, one item per array (so
    /// that nested objects are there), the first enum value or `oneOf` option. With
    /// `extra`, every object with listed fields also gets one the spec does not list.
    pub fn minimal(&self, schema: &Value, extra: bool) -> Value {
        self.minimal_at(schema, extra, 0)
    }

    fn minimal_at(&self, schema: &Value, extra: bool, depth: usize) -> Value {
        let schema = self.resolve(schema);
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = serde_json::Map::new();
            for part in all {
                if let Value::Object(fields) = self.minimal_at(part, extra, depth) {
                    merged.extend(fields);
                }
            }
            return Value::Object(merged);
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(first) = schema.get(keyword).and_then(|o| o.get(0)) {
                return self.minimal_at(first, extra, depth);
            }
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return first.clone();
        }
        let kind = schema.get("type").and_then(Value::as_str).unwrap_or(
            if schema.get("properties").is_some() {
                "object"
            } else {
                ""
            },
        );
        match kind {
            "object" => self.minimal_object(schema, extra, depth),
            "array" if depth < 12 => match schema.get("items") {
                Some(items) => Value::Array(vec![self.minimal_at(items, extra, depth + 1)]),
                None => Value::Array(Vec::new()),
            },
            "array" => Value::Array(Vec::new()),
            "string" => match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => "2026-01-01T00:00:00Z".into(),
                _ => "x".into(),
            },
            "integer" => 1.into(),
            "number" => 1.into(),
            "boolean" => true.into(),
            _ => Value::Null,
        }
    }

    /// An object with its required fields only (and one the spec does not list, with
    /// `extra`).
    fn minimal_object(&self, schema: &Value, extra: bool, depth: usize) -> Value {
        let mut out = serde_json::Map::new();
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let field = properties
                .and_then(|p| p.get(name))
                .cloned()
                .unwrap_or(Value::Null);
            out.insert(name.into(), self.minimal_at(&field, extra, depth + 1));
        }
        if extra && properties.is_some() {
            out.insert("fieldAddedLater".into(), serde_json::json!({"x": [1]}));
        }
        Value::Object(out)
    }

    /// The 200 response schema of the operation named `operation_id`.
    pub fn response_schema_of(&self, operation_id: &str) -> &Value {
        for methods in self.doc["paths"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            for op in methods.as_object().into_iter().flat_map(|m| m.values()) {
                if op["operationId"] == operation_id {
                    return &op["responses"]["200"]["content"]["application/json"]["schema"];
                }
            }
        }
        panic!("no operation {operation_id} in the spec subset")
    }
}
