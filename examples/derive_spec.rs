//! Writes `assets/studio-openapi-subset.json`: the operations of the published Studio
//! OpenAPI spec that ei-tune uses, with the schemas they reach and no prose.
//!
//! `cargo run --example derive_spec [SPEC.yml]` (default `../shared/openapi/edge-impulse-openapi.yml`).

#[path = "../tests/common/spec_subset.rs"]
mod spec_subset;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let source = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/openapi/edge-impulse-openapi.yml"));
    let text =
        std::fs::read_to_string(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    let spec: serde_json::Value = serde_yaml::from_str(&text)?;
    let subset = spec_subset::derive(&spec)?;
    let out = root.join(spec_subset::SUBSET_FILE);
    std::fs::write(&out, spec_subset::render(&subset))?;
    println!("wrote {} from {}", out.display(), source.display());
    Ok(())
}
