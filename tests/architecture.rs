//! The arrows between modules that docs/architecture.md promises, read from the sources:
//! which module names which (`crate::x`, or `super::` climbing out of a module), and which
//! outside crates each one uses. Test code (`tests.rs`, `#[cfg(test)]` blocks) is left
//! out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a source file belongs to.
fn module_of(path: &Path, src: &Path) -> String {
    let relative = path.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Per module: the modules of this crate it names, and the outside crates it names.
fn graph() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f, &src)).collect();
    let outside = [
        "crossterm",
        "ratatui",
        "reqwest",
        "tokio",
        "axum",
        "hyper",
        "clap",
    ];
    let mut graph: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let module = module_of(&file, &src);
        let entry = graph.entry(module.clone()).or_default();
        for other in &modules {
            if *other != module && code.contains(&format!("crate::{other}")) {
                entry.0.insert(other.clone());
            }
        }
        for name in outside {
            if code.contains(&format!("{name}::")) {
                entry.1.insert(name.to_string());
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    // Any cycle, not only pairs: a depth-first search from each module.
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in graph.get(&at).map(|e| &e.0).into_iter().flatten() {
                assert!(next != start, "a cycle: {} -> {start}", path.join(" -> "));
                if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
}

#[test]
fn the_arrows_that_must_not_exist_do_not() {
    let graph = graph();
    let imports = |from: &str, to: &str| graph.get(from).is_some_and(|e| e.0.contains(to));
    let uses = |from: &str, krate: &str| graph.get(from).is_some_and(|e| e.1.contains(krate));
    // The scan sees what is there.
    assert!(imports("app", "tuner") && imports("tuner", "metrics") && uses("app", "crossterm"));
    assert!(
        !imports("studio", "tuner"),
        "the simulator builds nothing of the tuner"
    );
    assert!(!imports("tuner", "studio"));
    // The pure core: no terminal, no network, no runtime.
    for core in ["tuner", "metrics", "thresholds", "jobs"] {
        for krate in ["crossterm", "ratatui", "reqwest", "tokio", "axum"] {
            assert!(!uses(core, krate), "{core} uses {krate}");
        }
        for module in ["app", "cli", "ui", "studio", "preview", "terminal", "cache"] {
            assert!(!imports(core, module), "{core} imports {module}");
        }
    }
    // The views read state: they perform nothing.
    assert!(!imports("ui", "app") && !uses("ui", "reqwest") && !uses("ui", "tokio"));
    // The client knows nothing of ei-tune but text handling.
    let api = &graph["api"].0;
    assert!(api.iter().all(|m| m == "text"), "api imports {api:?}");
    // Nothing below the command line reaches up into it.
    for (module, (names, _)) in &graph {
        if module != "cli" && module != "main" {
            assert!(!names.contains("cli"), "{module} imports cli");
        }
    }
}
