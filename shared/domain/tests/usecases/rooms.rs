//! The domain's rooms depend one way, with no module cycle (issue 15): `model` uses only `error`
//! and `intent`; `ports` and `access` nothing above `model`; `usecases` sits on top, and among its
//! files no two import each other, directly or around a circle. Read from the sources' `crate::`
//! paths (comments and tests left out).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module of `src/` (a room, or `usecases/<file>`), and what its code names of the others.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
            let name = module_of(&parts);
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let uses = graph.entry(name.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let path: Vec<String> = line[i + 7..]
                        .split("::")
                        .take(2)
                        .map(|p| {
                            p.chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect()
                        })
                        .collect();
                    let target = module_of(&path);
                    if target != name && !target.is_empty() {
                        uses.insert(target);
                    }
                }
            }
        }
    }
    graph
}

/// `usecases/<file>` for a use-case file, else the room (`model/order` → `model`).
fn module_of(parts: &[String]) -> String {
    match parts {
        [first, second, ..] if first == "usecases" && second.starts_with(char::is_lowercase) => {
            format!("usecases/{}", second.trim_end_matches(".rs"))
        }
        [first, ..] if first == "lib" => String::new(),
        [first, ..] if first.starts_with(char::is_lowercase) => first.clone(),
        _ => String::new(),
    }
}

fn room(module: &str) -> &str {
    module.split('/').next().unwrap()
}

#[test]
fn rooms_use_only_those_below_them() {
    let allowed: [(&str, &[&str]); 5] = [
        ("error", &[]),
        ("intent", &["error"]),
        ("model", &["error", "intent"]),
        ("ports", &["error", "intent", "model"]),
        ("access", &["error", "intent", "model"]),
    ];
    let graph = graph();
    for (module, uses) in &graph {
        let Some((_, below)) = allowed.iter().find(|(r, _)| *r == room(module)) else {
            continue;
        };
        for used in uses.iter().map(|u| room(u)).filter(|u| *u != room(module)) {
            assert!(below.contains(&used), "{module} uses {used}");
        }
    }
    assert!(graph.contains_key("usecases/step"), "{graph:?}");
}

#[test]
fn no_module_cycle() {
    let graph = graph();
    // Depth-first from every module; a module met again on the current path is a cycle.
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(at) {
            return;
        }
        assert!(!path.iter().any(|p| p == at), "a cycle: {path:?} → {at}");
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flatten() {
            visit(graph, next, path, done);
        }
        path.pop();
        done.insert(at.to_string());
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(&graph, module, &mut Vec::new(), &mut done);
    }
    assert!(done.len() > 10, "{done:?}");
}
