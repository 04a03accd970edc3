//! Derives the part of the published Studio OpenAPI spec that ei-tune uses: the operations
//! below, the schemas they reach, without prose. The result is committed as
//! `assets/studio-openapi-subset.json`, so that the conformance tests run on a fresh
//! clone; a test re-derives it from the published spec, where present, to catch drift.
//! `cargo run --example derive_spec` writes it anew.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// The operations ei-tune calls (or the simulator serves): method and path as the spec
/// writes them.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/projects"),
    ("get", "/api/{projectId}/impulses"),
    ("get", "/api/{projectId}/impulse"),
    ("get", "/api/{projectId}/training/keras/{learnId}"),
    ("get", "/api/{projectId}/training/anomaly/{learnId}"),
    (
        "post",
        "/api/{projectId}/impulse/{impulseId}/set-thresholds",
    ),
    (
        "post",
        "/api/{projectId}/impulse/{impulseId}/regenerate-model-testing-summary",
    ),
    ("get", "/api/{projectId}/last-modification"),
    ("get", "/api/{projectId}/training/keras/{learnId}/metadata"),
    (
        "get",
        "/api/{projectId}/training/anomaly/{learnId}/metadata",
    ),
    ("post", "/api/{projectId}/jobs/classify"),
    ("get", "/api/{projectId}/jobs"),
    ("get", "/api/{projectId}/jobs/{jobId}/status"),
    ("get", "/api/{projectId}/classify/all/result"),
    ("get", "/api/{projectId}/classify/all/result/page"),
];

/// Where the committed subset lives, from the crate root.
pub const SUBSET_FILE: &str = "assets/studio-openapi-subset.json";

/// Keys of a schema object that carry prose only.
const PROSE: &[&str] = &[
    "description",
    "example",
    "examples",
    "externalDocs",
    "summary",
];

/// The subset of `spec` (the whole published spec as JSON) that ei-tune uses.
pub fn derive(spec: &Value) -> Result<Value, String> {
    let mut paths = Map::new();
    let mut wanted = BTreeSet::new();
    for (method, path) in OPERATIONS {
        let op = spec
            .pointer(&format!("/paths/{}/{method}", escape(path)))
            .ok_or_else(|| format!("the spec has no {method} {path}"))?;
        let out = operation(spec, op, method, path, &mut wanted)?;
        paths
            .entry(path.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or("paths")?
            .insert(method.to_string(), Value::Object(out));
    }
    let schemas = schemas_reached(spec, wanted)?;
    Ok(json!({
        "openapi": spec["openapi"],
        "info": {
            "title": "The Studio API operations ei-tune uses, derived from the published spec",
            "version": spec["info"]["version"],
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// One operation as the subset keeps it: its id, parameters, request body and JSON 200
/// response, the schemas they refer to added to `wanted`.
fn operation(
    spec: &Value,
    op: &Value,
    method: &str,
    path: &str,
    wanted: &mut BTreeSet<String>,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    out.insert("operationId".into(), op["operationId"].clone());
    let parameters: Vec<Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| parameter(spec, p))
        .collect::<Result<_, _>>()?;
    out.insert("parameters".into(), Value::Array(parameters));
    if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
        let body = strip(body);
        collect_refs(&body, wanted);
        out.insert(
            "requestBody".into(),
            json!({"content": {"application/json": {"schema": body}}}),
        );
    }
    let response = op
        .pointer("/responses/200/content/application~1json/schema")
        .ok_or_else(|| format!("{method} {path} has no JSON 200 response"))?;
    let response = strip(response);
    collect_refs(&response, wanted);
    out.insert(
        "responses".into(),
        json!({"200": {"content": {"application/json": {"schema": response}}}}),
    );
    Ok(out)
}

/// The closure of every schema `wanted` reaches.
fn schemas_reached(spec: &Value, wanted: BTreeSet<String>) -> Result<Map<String, Value>, String> {
    let mut schemas = Map::new();
    let mut queue: Vec<String> = wanted.into_iter().collect();
    while let Some(name) = queue.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        let schema = spec
            .pointer(&format!("/components/schemas/{}", escape(&name)))
            .ok_or_else(|| format!("the spec refers to a schema {name} it lacks"))?;
        let schema = strip(schema);
        let mut more = BTreeSet::new();
        collect_refs(&schema, &mut more);
        queue.extend(more.into_iter().filter(|n| !schemas.contains_key(n)));
        schemas.insert(name, schema);
    }
    Ok(schemas)
}

/// The subset as committed: pretty JSON, keys sorted, one trailing newline.
pub fn render(subset: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(subset)).unwrap_or_default();
    text.push('\n');
    text
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A parameter, its `$ref` resolved, without prose.
fn parameter(spec: &Value, p: &Value) -> Result<Value, String> {
    let resolved = match p.get("$ref").and_then(Value::as_str) {
        Some(r) => spec
            .pointer(r.trim_start_matches('#'))
            .ok_or_else(|| format!("the spec lacks the parameter {r}"))?,
        None => p,
    };
    let mut out = Map::new();
    for key in ["name", "in", "required"] {
        if let Some(v) = resolved.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(schema) = resolved.get("schema") {
        out.insert("schema".into(), strip(schema));
    }
    Ok(Value::Object(out))
}

/// A schema without its prose. Property names are data, not keywords: a property called
/// `description` stays.
fn strip(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if PROSE.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            "properties" => Value::Object(
                value
                    .as_object()
                    .map(|props| props.iter().map(|(k, v)| (k.clone(), strip(v))).collect())
                    .unwrap_or_default(),
            ),
            "items" | "additionalProperties" | "not" => strip(value),
            "allOf" | "oneOf" | "anyOf" => {
                Value::Array(value.as_array().into_iter().flatten().map(strip).collect())
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn collect_refs(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str)
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                names.insert(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, names)),
        _ => {}
    }
}

/// A JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
