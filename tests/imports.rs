//! No import circles between the files of `src/`: the graph of the paths
//! each file names (`use crate::…`, `super::…`, `self::…`, and such paths
//! in code) has no cycle across files. A module naming its own submodules
//! is containment, not an import, and does not count; test modules and
//! comments do not count either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `dialect/gogrid/edge.rs` → `[dialect, gogrid, edge]`; `mod.rs` and `lib.rs` name their directory.
fn module_of(file: &str) -> Module {
    let mut parts: Module = file.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code that counts: before the test module, without comment lines.
fn code(source: &str) -> String {
    let source = source.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    source.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Module>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> =
            tree[..open].trim_end_matches("::").split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let inner = &tree[open + 1..tree.rfind('}').filter(|end| *end > open).unwrap_or(tree.len())];
        let mut prefix = prefix.to_vec();
        prefix.extend(head);
        let (mut depth, mut start) = (0i32, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&prefix, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&prefix, &inner[start..], out);
    } else if !tree.is_empty() {
        let path = tree.split(" as ").next().unwrap_or_default();
        let mut full = prefix.to_vec();
        full.extend(path.split("::").map(str::to_owned));
        out.push(full);
    }
}

/// Every path a file's code names, as written.
fn paths(code: &str) -> Vec<Module> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        expand(&[], &rest[..end], &mut out);
        rest = &rest[end..];
    }
    for root in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(root) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String =
                code[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            out.push(path.split("::").map(str::to_owned).collect());
        }
    }
    out
}

/// The module a path names from `here`, when it starts at `crate`, `super` or `self`.
fn absolute(here: &Module, path: &[String]) -> Option<Module> {
    let mut base = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" | "super" => here.clone(),
        _ => return None,
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        base.pop();
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
    }
    base.extend(rest.iter().filter(|s| !s.is_empty() && *s != "*" && *s != "self").cloned());
    Some(base)
}

/// Files that are mutually reachable: the circles.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(file) = todo.pop() {
            for next in edges.get(&file).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> = edges.keys().map(|f| (f, reach(f))).collect();
    let mut out = BTreeSet::new();
    for (file, reached) in &reaches {
        if !reached.contains(*file) {
            continue;
        }
        let circle: Vec<String> =
            reached.iter().filter(|other| reaches.get(other).is_some_and(|r| r.contains(*file))).cloned().collect();
        out.insert(circle);
    }
    out
}

#[test]
fn no_import_circles_between_files_of_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let files: BTreeMap<String, String> = files
        .iter()
        .map(|f| (f.strip_prefix(&src).unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(f).unwrap()))
        .filter(|(name, _)| name != "main.rs")
        .collect();
    let modules: BTreeMap<Module, &String> = files.keys().map(|f| (module_of(f), f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, source) in &files {
        let here = module_of(file);
        for path in paths(&code(source)) {
            let Some(mut target) = absolute(&here, &path) else { continue };
            // the longest prefix that is a file of src/
            let to = loop {
                if let Some(to) = modules.get(&target) {
                    break Some(*to);
                }
                if target.pop().is_none() {
                    break None;
                }
            };
            let Some(to) = to else { continue };
            let within = target.len() > here.len() && target.starts_with(&here);
            if to != file && !within {
                edges.entry(file.clone()).or_default().insert(to.clone());
            }
        }
    }
    assert!(edges.get("identity/mod.rs").is_some_and(|e| e.contains("dialect/mod.rs")), "the graph is read");
    assert_eq!(circles(&edges), BTreeSet::new(), "import circles between files of src/");
}
