//! Answers varied the ways the spec allows, to hold the client against more than the one
//! reading of the API that the simulator embodies.
//!
//! Each variation rewrites every JSON answer by its schema (the committed subset of the
//! published spec, `assets/studio-openapi-subset.json`), so the varied answers still
//! conform:
//! - `unknown-fields`: a field the spec does not list in every object with listed fields;
//! - `no-optional`: every optional field left out, except those whose absence means
//!   something else (a job's `finished`, stale results' reason, an impulse, a job id);
//! - `unknown-enums`: every value of a listed enumeration replaced by one the spec does not
//!   list (`keras` becomes `keras-2031`), as a newer service may send;
//! - `integers`: whole numbers written as integers (`1`, not `1.0`);
//! - `unicode-labels`: the demo's class labels replaced by long Unicode ones, in an order
//!   that does not sort;
//! - `thresholds-touch-project`: a threshold change moves the project's last modification
//!   date (the spec says it moves "when data is modified, or when an impulse is trained";
//!   the service may count a threshold change too).
//!
//! `all` turns every one on.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value, json};

/// The schemas the variations follow.
const SPEC_SUBSET: &str = include_str!("../../assets/studio-openapi-subset.json");

/// The demo's labels and what `unicode-labels` calls them: labels in a new order, wide,
/// combining, right-to-left, emoji, and one longer than a screen.
pub const UNICODE_LABELS: &[(&str, &str)] = &[
    ("0", "zéro — nought"),
    ("1", "Один"),
    ("2", "二 two"),
    ("3", "🙂 three 👍🏽"),
    ("4", "٤ أربعة four"),
    (
        "5",
        "a five whose name goes on and on and on past the edge of any terminal ✋",
    ),
];

/// Optional fields whose absence says something: left in by `no-optional`.
const MEANINGFUL_ABSENCE: &[&str] = &[
    "finished",
    "noResultsBecauseThresholdsChanged",
    "impulse",
    "regenerateModelTestingResultsJobId",
    "error",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variations {
    pub unknown_fields: bool,
    pub no_optional: bool,
    pub unknown_enums: bool,
    pub integers: bool,
    pub unicode_labels: bool,
    pub thresholds_touch_project: bool,
}

impl Variations {
    pub fn all() -> Self {
        Self {
            unknown_fields: true,
            no_optional: true,
            unknown_enums: true,
            integers: true,
            unicode_labels: true,
            thresholds_touch_project: true,
        }
    }

    /// `all`, or a comma-separated list of the names above.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut v = Self::default();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "all" => v = Self::all(),
                "unknown-fields" => v.unknown_fields = true,
                "no-optional" => v.no_optional = true,
                "unknown-enums" => v.unknown_enums = true,
                "integers" => v.integers = true,
                "unicode-labels" => v.unicode_labels = true,
                "thresholds-touch-project" => v.thresholds_touch_project = true,
                other => {
                    return Err(format!(
                        "`{other}` is not a variation (all, unknown-fields, no-optional, \
                         unknown-enums, integers, unicode-labels, thresholds-touch-project)"
                    ));
                }
            }
        }
        Ok(v)
    }

    /// An enum value the spec does not list, made from one it does.
    pub fn unknown_enum_value(known: &str) -> String {
        format!("{known}-2031")
    }
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(SPEC_SUBSET).unwrap_or(Value::Null))
}

/// The 200 response schema of the operation serving `method` `path` (`/v1/api/...`).
fn response_schema(method: &Method, path: &str) -> Option<&'static Value> {
    let path = path.strip_prefix("/v1")?;
    let segments: Vec<&str> = path.split('/').collect();
    let paths = spec().get("paths")?.as_object()?;
    let (_, operations) = paths.iter().find(|(template, _)| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(t, s)| t.starts_with('{') || t == s)
    })?;
    operations
        .get(method.as_str().to_ascii_lowercase())?
        .pointer("/responses/200/content/application~1json/schema")
}

/// The middleware: varies every successful JSON answer.
pub async fn vary(State(v): State<Arc<Variations>>, request: Request, next: Next) -> Response {
    let schema = response_schema(request.method(), request.uri().path());
    let response = next.run(request).await;
    let Some(schema) = schema else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if parts.status.is_success() && value["success"] == json!(true) {
        Walker { v: &v }.walk(&mut value, schema);
    }
    let body = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

struct Walker<'a> {
    v: &'a Variations,
}

impl Walker<'_> {
    fn walk(&self, value: &mut Value, schema: &Value) {
        let schema = resolve(schema);
        match value {
            Value::Object(map) => self.object(map, schema),
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    items.iter_mut().for_each(|i| self.walk(i, item));
                }
            }
            Value::String(text) => self.string(text, schema),
            Value::Number(n) => {
                if self.v.integers
                    && let Some(f) = n.as_f64()
                    && f.fract() == 0.0
                    && f.abs() < 9.0e15
                {
                    *value = json!(f as i64);
                }
            }
            _ => {}
        }
    }

    fn object(&self, map: &mut Map<String, Value>, schema: &Value) {
        let (properties, required, extra) = object_shape(schema);
        if properties.is_empty() {
            // A map keyed by data (labels): its keys are not fields.
            if let Some(extra) = extra {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.walk(&mut item, extra);
                    map.insert(self.label(&key), item);
                }
            }
            return;
        }
        if self.v.no_optional {
            map.retain(|name, _| {
                required.contains(name.as_str())
                    || MEANINGFUL_ABSENCE.contains(&name.as_str())
                    || !properties.iter().any(|(p, _)| p == name)
            });
        }
        for (name, field) in map.iter_mut() {
            if let Some((_, s)) = properties.iter().find(|(p, _)| p == name) {
                self.walk(field, s);
            }
        }
        if self.v.unknown_fields {
            map.insert(
                "eiTuneFieldAddedLater".into(),
                json!({"nested": [1, 2.5, "three", null], "flag": true}),
            );
        }
    }

    fn string(&self, text: &mut String, schema: &Value) {
        if self.v.unknown_enums && schema.get("enum").is_some_and(Value::is_array) {
            *text = Variations::unknown_enum_value(text);
        } else {
            *text = self.label(text);
        }
    }

    fn label(&self, text: &str) -> String {
        if self.v.unicode_labels
            && let Some((_, renamed)) = UNICODE_LABELS.iter().find(|(from, _)| *from == text)
        {
            return (*renamed).to_string();
        }
        text.to_string()
    }
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    while let Some(name) = s
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        match spec().pointer(&format!("/components/schemas/{name}")) {
            Some(next) => s = next,
            None => break,
        }
    }
    s
}

/// An object schema's fields (`allOf` merged), required names and map-value schema.
fn object_shape(schema: &Value) -> (Vec<(String, &Value)>, BTreeSet<String>, Option<&Value>) {
    let mut properties = Vec::new();
    let mut required = BTreeSet::new();
    let mut extra = schema.get("additionalProperties").filter(|a| a.is_object());
    let mut parts = vec![schema];
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        parts.extend(all.iter().map(resolve));
    }
    for part in parts {
        if let Some(props) = part.get("properties").and_then(Value::as_object) {
            properties.extend(props.iter().map(|(k, v)| (k.clone(), v)));
        }
        if let Some(names) = part.get("required").and_then(Value::as_array) {
            required.extend(names.iter().filter_map(Value::as_str).map(str::to_string));
        }
        if extra.is_none() {
            extra = part.get("additionalProperties").filter(|a| a.is_object());
        }
    }
    (properties, required, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varied(v: Variations, method: Method, path: &str, mut body: Value) -> Value {
        let schema = response_schema(&method, path).unwrap();
        Walker { v: &v }.walk(&mut body, schema);
        body
    }

    #[test]
    fn each_variation_does_what_it_says() {
        let body = json!({"success": true, "hadModelTestingResults": true,
            "regenerateModelTestingStatus": "regenerated"});
        let path = "/v1/api/1/impulse/2/set-thresholds";
        let v = varied(Variations::all(), Method::POST, path, body.clone());
        assert_eq!(v["regenerateModelTestingStatus"], "regenerated-2031");
        assert!(v["eiTuneFieldAddedLater"].is_object());
        let job = json!({"success": true, "job": {"id": 1, "category": "c", "categoryKey": "k",
            "key": "k", "created": "t", "finished": "t", "finishedSuccessful": true,
            "computeTime": 2.0, "jobNotificationUids": []}});
        let path = "/v1/api/1/jobs/1/status";
        let v = varied(
            Variations::parse("no-optional,integers").unwrap(),
            Method::GET,
            path,
            job,
        );
        assert_eq!(v["job"]["finished"], "t", "its absence would mean running");
        assert!(v["job"].get("finishedSuccessful").is_none());
        assert!(v["job"].get("computeTime").is_none());
        let scores = json!({"success": true, "result": [{"sampleId": 1, "sample": {},
            "classifications": [{"result": [{"0": 0.5, "5": 1.0}], "minimumConfidenceRating": 0.6}]}],
            "predictions": [], "totalCount": 1});
        let path = "/v1/api/1/classify/all/result/page";
        let v = varied(Variations::all(), Method::GET, path, scores);
        let window = &v["result"][0]["classifications"][0]["result"][0];
        assert_eq!(window[UNICODE_LABELS[0].1], json!(0.5));
        assert_eq!(window[UNICODE_LABELS[5].1], json!(1), "{window}");
        assert!(
            window.get("eiTuneFieldAddedLater").is_none(),
            "a map is not a record"
        );
    }

    #[test]
    fn names_parse_and_unknown_ones_are_refused() {
        assert_eq!(Variations::parse("all").unwrap(), Variations::all());
        assert!(Variations::parse("integers").unwrap().integers);
        assert!(
            Variations::parse("nope")
                .unwrap_err()
                .contains("not a variation")
        );
    }
}
