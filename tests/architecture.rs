//! The layers docs/architecture.md promises, read from the sources with a Rust parser
//! (syn): every path that names a module of this crate (`use` trees in every form, paths in
//! code, `super::` and `self::` resolved against the file's module) and every outside crate
//! named. Test code (items under `#[cfg(test)]`, and the modules they declare) is left out:
//! tests may reach anywhere. Macro bodies are token trees, not parsed: a path inside
//! `tokio::select! { .. }` is not seen (the macro's own path is).
//!
//! A check that cannot fail proves nothing: `a_planted_violation_is_caught_in_every_form`
//! plants violations the way a newcomer would write them and expects each to be reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Outside crates whose use the layers restrict.
const OUTSIDE: &[&str] = &[
    "crossterm",
    "ratatui",
    "reqwest",
    "tokio",
    "axum",
    "hyper",
    "clap",
];

/// What one module names: the modules of this crate (with the paths that reach them) and
/// the outside crates.
#[derive(Debug, Default)]
struct Names {
    modules: BTreeMap<String, BTreeSet<String>>,
    crates: BTreeSet<String>,
}

/// A source file: the module it is (`["tuner", "save"]`) and its text.
struct Source {
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .map(|file| Source {
            module: module_of(&file, &src),
            text: std::fs::read_to_string(&file).expect("readable"),
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/tuner/save.rs` is `tuner::save`, `src/tuner/mod.rs` is `tuner`, `src/lib.rs` the
/// crate root, `src/main.rs` the binary (`main`).
fn module_of(file: &Path, src: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// Walks a file, resolving each path it names to an absolute one.
struct Collector<'a> {
    /// The module being walked (nested `mod` blocks push onto it).
    module: Vec<String>,
    tops: &'a BTreeSet<String>,
    names: Names,
    /// Modules declared `#[cfg(test)] mod x;`: their files are test code.
    test_modules: Vec<Vec<String>>,
}

impl Collector<'_> {
    fn record(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let absolute: Vec<String> = match first.as_str() {
            "crate" | "ei_tune" => segments[1..].to_vec(),
            "self" => self.module.iter().chain(&segments[1..]).cloned().collect(),
            "super" => {
                let climbs = segments.iter().take_while(|s| *s == "super").count();
                let keep = self.module.len().saturating_sub(climbs);
                self.module[..keep]
                    .iter()
                    .chain(&segments[climbs..])
                    .cloned()
                    .collect()
            }
            name if OUTSIDE.contains(&name) => {
                self.names.crates.insert(name.to_string());
                return;
            }
            _ => return,
        };
        if let Some(top) = absolute.first().filter(|t| self.tops.contains(*t)) {
            self.names
                .modules
                .entry(top.clone())
                .or_default()
                .insert(absolute.join("::"));
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                let path = prefix.clone();
                self.record(&path);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                let path = prefix.clone();
                self.record(&path);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => {
                prefix.push("*".into());
                let path = prefix.clone();
                self.record(&path);
                prefix.pop();
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if is_test_only(attrs) {
            if let syn::Item::Mod(m) = item {
                let mut module = self.module.clone();
                module.push(m.ident.to_string());
                self.test_modules.push(module);
            }
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.record(&segments);
        syn::visit::visit_path(self, path);
    }
}

/// Per top-level module, what it names; files of test modules are left out.
fn graph(sources: &[Source]) -> BTreeMap<String, Names> {
    let tops: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| s.module.first().cloned())
        .collect();
    let mut test_modules: Vec<Vec<String>> = Vec::new();
    let mut collected = Vec::new();
    for source in sources {
        let file = syn::parse_file(&source.text)
            .unwrap_or_else(|e| panic!("{}: {e}", source.module.join("::")));
        let mut collector = Collector {
            module: source.module.clone(),
            tops: &tops,
            names: Names::default(),
            test_modules: Vec::new(),
        };
        collector.visit_file(&file);
        test_modules.extend(collector.test_modules);
        collected.push((source.module.clone(), collector.names));
    }
    let mut graph: BTreeMap<String, Names> = BTreeMap::new();
    for (module, names) in collected {
        if test_modules.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        let top = module.first().cloned().unwrap_or_else(|| "lib".into());
        let entry = graph.entry(top.clone()).or_default();
        for (other, paths) in names.modules {
            if other != top {
                entry.modules.entry(other).or_default().extend(paths);
            }
        }
        entry.crates.extend(names.crates);
    }
    graph
}

fn imports(graph: &BTreeMap<String, Names>, from: &str, to: &str) -> bool {
    graph.get(from).is_some_and(|n| n.modules.contains_key(to))
}

fn uses(graph: &BTreeMap<String, Names>, from: &str, krate: &str) -> bool {
    graph.get(from).is_some_and(|n| n.crates.contains(krate))
}

/// What the layers forbid, in words; empty when they hold.
fn violations(graph: &BTreeMap<String, Names>) -> Vec<String> {
    let mut found = cycles(graph);
    if imports(graph, "studio", "tuner") || imports(graph, "tuner", "studio") {
        found.push("the simulator and the tuner core import each other".into());
    }
    found.extend(impure_core(graph));
    // The views read state: they perform nothing.
    for module in ["app", "cli", "write", "preview", "provenance", "cache"] {
        if imports(graph, "ui", module) {
            found.push(format!("ui imports {module}"));
        }
    }
    for krate in ["reqwest", "tokio", "axum"] {
        if uses(graph, "ui", krate) {
            found.push(format!("ui uses {krate}"));
        }
    }
    // The client knows nothing of ei-tune but text handling.
    if let Some(api) = graph.get("api") {
        for module in api.modules.keys().filter(|m| *m != "text") {
            found.push(format!("api imports {module}"));
        }
    }
    // Nothing below the command line reaches up into it.
    for (module, names) in graph {
        if module != "cli" && module != "main" && names.modules.contains_key("cli") {
            found.push(format!("{module} imports cli"));
        }
    }
    found.extend(wire_in_metrics(graph));
    found
}

/// No module imports one that imports it back, through any number of others.
fn cycles(graph: &BTreeMap<String, Names>) -> Vec<String> {
    let mut found = Vec::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in graph
                .get(&at)
                .map(|n| n.modules.keys())
                .into_iter()
                .flatten()
            {
                if next == start {
                    found.push(format!("a cycle: {} -> {start}", path.join(" -> ")));
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found
}

/// The pure core: no terminal, no network, no runtime, nothing that performs.
fn impure_core(graph: &BTreeMap<String, Names>) -> Vec<String> {
    let mut found = Vec::new();
    for core in ["tuner", "metrics", "thresholds", "jobs"] {
        for krate in ["crossterm", "ratatui", "reqwest", "tokio", "axum", "hyper"] {
            if uses(graph, core, krate) {
                found.push(format!("{core} uses {krate}"));
            }
        }
        for module in [
            "app",
            "cli",
            "ui",
            "studio",
            "preview",
            "provenance",
            "terminal",
            "cache",
            "write",
        ] {
            if imports(graph, core, module) {
                found.push(format!("{core} imports {module}"));
            }
        }
    }
    found
}

/// The metrics know thresholds, not the wire: of the API, only the values that describe
/// thresholds.
fn wire_in_metrics(graph: &BTreeMap<String, Names>) -> Vec<String> {
    const THRESHOLD_VALUES: &[&str] = &[
        "ThresholdValue",
        "BlockThreshold",
        "BlockThresholds",
        "ImpulseLearnBlock",
        "LearnBlockType",
    ];
    graph
        .get("metrics")
        .and_then(|n| n.modules.get("api"))
        .into_iter()
        .flatten()
        .filter(|path| {
            let item = path.rsplit("::").next().unwrap_or_default();
            *path != "api" && *path != "api::models" && !THRESHOLD_VALUES.contains(&item)
        })
        .map(|path| format!("metrics imports the wire's {path}"))
        .collect()
}

#[test]
fn the_layers_hold() {
    let sources = sources();
    let graph = graph(&sources);
    // The scan sees what is there.
    assert!(imports(&graph, "app", "tuner"));
    assert!(imports(&graph, "tuner", "metrics") && imports(&graph, "ui", "tuner"));
    assert!(graph["app"].crates.contains("crossterm"));
    let found = violations(&graph);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Each way of writing an import the layers forbid is reported; test code is not.
#[test]
fn a_planted_violation_is_caught_in_every_form() {
    let planted = [
        ("ui::status", "use crate::{tuner, app};", "ui imports app"),
        (
            "ui::status",
            "use crate::{self as root, tuner::{Tuner, Msg}, app::{self, run}};",
            "ui imports app",
        ),
        (
            "ui::panes::status",
            "use super::super::super::app::run;",
            "ui imports app",
        ),
        (
            "ui::status",
            "fn f() { let _ = crate::app::run; }",
            "ui imports app",
        ),
        (
            "ui::status",
            "mod inner { pub fn f() { super::super::super::app::run(); } }",
            "ui imports app",
        ),
        (
            "ui::status",
            "#[cfg(test)] mod tests {} fn g() { crate::cli::run(); }",
            "ui imports cli",
        ),
        ("ui::status", "use tokio::sync::mpsc;", "ui uses tokio"),
        (
            "metrics::planted",
            "use crate::api::models::ModelTestingAccuracy;",
            "metrics imports the wire's api::models::ModelTestingAccuracy",
        ),
        (
            "tuner::planted",
            "use crate::preview::read_test_set;",
            "tuner imports preview",
        ),
        (
            "api::planted",
            "use crate::metrics::TestSet;",
            "api imports metrics",
        ),
        ("metrics::planted", "use crate::tuner::Tuner;", "a cycle"),
    ];
    for (module, code, expected) in planted {
        let mut sources = sources();
        sources.push(Source {
            module: module.split("::").map(str::to_string).collect(),
            text: code.to_string(),
        });
        let found = violations(&graph(&sources));
        assert!(
            found.iter().any(|v| v.contains(expected)),
            "`{code}` in {module}: expected `{expected}`, found {found:?}"
        );
    }
}

/// Test code may reach anywhere.
#[test]
fn test_code_may_import_anything() {
    for code in [
        "#[cfg(test)] mod tests { use crate::app::run; }",
        "#[cfg(test)] fn helper() { crate::app::run(); }",
    ] {
        let mut sources = sources();
        sources.push(Source {
            module: vec!["ui".into(), "status".into()],
            text: code.to_string(),
        });
        let found = violations(&graph(&sources));
        assert!(found.is_empty(), "`{code}`: {found:?}");
    }
}

/// No source file over 600 lines, no test or benchmark file over 800: a file that long is
/// split by what it holds.
#[test]
fn no_file_is_too_long() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for (dir, limit) in [("src", 600), ("tests", 800), ("benches", 800)] {
        let mut files = Vec::new();
        walk(&root.join(dir), &mut files);
        assert!(!files.is_empty(), "no file in {dir}");
        for file in files {
            let lines = std::fs::read_to_string(&file)
                .expect("readable")
                .lines()
                .count();
            if lines > limit {
                long.push(format!(
                    "{}: {lines} lines, more than {limit}",
                    file.display()
                ));
            }
        }
    }
    assert!(long.is_empty(), "{}", long.join("\n"));
}
