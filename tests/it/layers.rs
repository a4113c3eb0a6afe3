//! The shape of `src/`: one folder per layer, imports that only point down, no import circle
//! between files or between folders, one concept per file (none past 700 lines), and a `//!`
//! paragraph atop every module.
//!
//! The imports are read from the source itself: every `use` tree and every `crate::`,
//! `super::` or `self::` path outside comments and string literals, each resolved to the file
//! of the deepest module it names. `cargo test --release layers` runs these checks alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom first: a file may import from its own layer or one below, never above.
/// `scenario` (the input) sits on the model's vocabulary and under everything that reads it.
const LAYERS: [&str; 7] = [
    "model", "scenario", "sim", "check", "present", "harness", "cli",
];

/// The longest a file may be: past this it is usually two concepts.
const MAX_LINES: usize = 700;

/// A source file: its module path (`["sim", "world"]`; `[]` for `lib.rs`) and its text.
struct File {
    module: Vec<String>,
    text: String,
}

/// Every `.rs` file under `src/`, by its path relative to `src/`.
fn read_src() -> BTreeMap<String, File> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap().to_str().unwrap();
                let rel = rel.replace('\\', "/");
                let text = std::fs::read_to_string(&path).unwrap();
                files.insert(rel.clone(), File::new(&rel, text));
            }
        }
    }
    files
}

impl File {
    fn new(rel: &str, text: String) -> File {
        let mut module: Vec<String> = rel
            .trim_end_matches(".rs")
            .split('/')
            .map(str::to_owned)
            .collect();
        if matches!(
            module.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            module.pop();
        }
        File { module, text }
    }
}

/// `text` with comments, string and character literals blanked out (newlines kept), so that
/// a path in a doc link or a message is not taken for an import.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[u8]| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (0, 0);
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(len) = raw_string(rest) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == b'"' || rest.starts_with(b"b\"") {
            let mut j = if rest[0] == b'"' { 1 } else { 2 };
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let len = (j + 1).min(rest.len());
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '\'', '\u{..}'), or else a lifetime.
            let len = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (rest.get(1 + ch) == Some(&b'\'')).then_some(2 + ch)
            };
            match len {
                Some(len) => {
                    blank(&mut out, &rest[..len]);
                    i += len;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start of `s`.
fn raw_string(s: &[u8]) -> Option<usize> {
    let start = if s.starts_with(b"br") {
        2
    } else if s.starts_with(b"r") {
        1
    } else {
        return None;
    };
    let hashes = s[start..].iter().take_while(|&&c| c == b'#').count();
    if s.get(start + hashes) != Some(&b'"') {
        return None;
    }
    let close: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let body = start + hashes + 1;
    let end = s[body..].windows(close.len()).position(|w| w == close)?;
    Some(body + end + close.len())
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path a `use` tree or an inline `crate::`/`super::`/`self::` path names, as segments
/// (the first one `crate`, `super`, `self` or a plain name), each with the inline modules
/// (`mod tests { … }`) it sits in, innermost last.
fn paths(code: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let tokens = tokenize(code);
    let mut out = Vec::new();
    // Inline modules open around this point, with the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let within = || inline.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>();
        let preceded_by_path = i > 0 && tokens[i - 1] == "::";
        match tokens[i].as_str() {
            "{" => {
                depth += 1;
                i += 1;
            }
            "}" => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth -= 1;
                i += 1;
            }
            "mod" if tokens.get(i + 2).map(String::as_str) == Some("{") => {
                inline.push((tokens[i + 1].clone(), depth + 1));
                depth += 1;
                i += 3;
            }
            "use" => {
                let mut found = Vec::new();
                i += 1;
                use_tree(&tokens, &mut i, Vec::new(), &mut found);
                out.extend(found.into_iter().map(|p| (within(), p)));
            }
            "crate" | "super" | "self"
                if !preceded_by_path && tokens.get(i + 1).map(String::as_str) == Some("::") =>
            {
                let mut path = vec![tokens[i].clone()];
                i += 1;
                while tokens.get(i).map(String::as_str) == Some("::")
                    && tokens.get(i + 1).is_some_and(|t| t.chars().all(is_ident))
                {
                    path.push(tokens[i + 1].clone());
                    i += 2;
                }
                out.push((within(), path));
            }
            _ => i += 1,
        }
    }
    out
}

/// Identifiers, `::`, and single punctuation characters.
fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = code.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_ident(c) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !is_ident(d) {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            tokens.push(code[i..end].to_owned());
        } else if c == ':' && chars.peek().is_some_and(|&(_, d)| d == ':') {
            chars.next();
            tokens.push("::".to_owned());
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    tokens
}

/// One `use` tree from `tokens[*i]`: `a::b::{c, d::e as f, g::*}`; each leaf path goes to `out`.
fn use_tree(tokens: &[String], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match tokens.get(*i).map(String::as_str) {
            Some("{") => {
                *i += 1;
                while tokens.get(*i).is_some_and(|t| t != "}") {
                    use_tree(tokens, i, path.clone(), out);
                    if tokens.get(*i).map(String::as_str) == Some(",") {
                        *i += 1;
                    }
                }
                *i += 1;
                break;
            }
            Some("*") => {
                *i += 1;
                out.push(path.clone());
                break;
            }
            Some(t) if t.chars().all(is_ident) => {
                path.push(t.to_owned());
                *i += 1;
                if tokens.get(*i).map(String::as_str) == Some("::") {
                    *i += 1;
                    continue;
                }
                if tokens.get(*i).map(String::as_str) == Some("as") {
                    *i += 2;
                }
                out.push(path.clone());
                break;
            }
            _ => break,
        }
    }
    if tokens.get(*i).map(String::as_str) == Some(";") {
        *i += 1;
    }
}

/// The file (by its key in `files`) of the deepest module `path` names from inside `module`,
/// or `None` for a path outside the crate.
fn resolve(
    by_module: &BTreeMap<Vec<String>, String>,
    module: &[String],
    path: &[String],
) -> Option<String> {
    let (mut full, rest): (Vec<String>, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (module.to_vec(), &path[1..]),
        "super" => {
            let mut base = module.to_vec();
            let mut rest = path;
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        // A plain first segment is a module declared in this one, or another crate.
        first => {
            let mut child = module.to_vec();
            child.push(first.to_owned());
            if !by_module.contains_key(&child) {
                return None;
            }
            (module.to_vec(), path)
        }
    };
    full.extend(rest.iter().cloned());
    // The deepest module file on the way: the rest names items in it (or inline modules).
    (0..=full.len())
        .rev()
        .find_map(|n| by_module.get(&full[..n]))
        .cloned()
}

/// Every import edge between two different files: importer → imported.
fn edges(files: &BTreeMap<String, File>) -> BTreeSet<(String, String)> {
    let by_module: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|(name, _)| name.as_str() != "main.rs")
        .map(|(name, f)| (f.module.clone(), name.clone()))
        .collect();
    let mut out = BTreeSet::new();
    for (name, file) in files {
        for (inline, path) in paths(&code_only(&file.text)) {
            let module: Vec<String> = file.module.iter().cloned().chain(inline).collect();
            if let Some(target) = resolve(&by_module, &module, &path) {
                if &target != name {
                    out.insert((name.clone(), target));
                }
            }
        }
    }
    out
}

/// The node a file belongs to among the children of folder `dir` (`""` for `src/`): the file
/// itself, or the sub-folder holding it; `None` if it is not under `dir`.
fn child_of(dir: &str, file: &str) -> Option<String> {
    let rest = if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)?.strip_prefix('/')?
    };
    Some(match rest.split_once('/') {
        Some((folder, _)) => format!("{folder}/"),
        None => rest.to_owned(),
    })
}

/// The import circles among the children (files and sub-folders) of every folder, each as the
/// folder and the children that import each other round.
fn circles(files: &BTreeMap<String, File>, edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut dirs: BTreeSet<String> = BTreeSet::from([String::new()]);
    for name in files.keys() {
        let mut dir = String::new();
        for part in name
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            dir = if dir.is_empty() {
                part.to_owned()
            } else {
                format!("{dir}/{part}")
            };
            dirs.insert(dir.clone());
        }
    }
    let mut found = Vec::new();
    for dir in &dirs {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            if let (Some(a), Some(b)) = (child_of(dir, from), child_of(dir, to)) {
                if a != b {
                    graph.entry(a).or_default().insert(b);
                }
            }
        }
        for component in strongly_connected(&graph) {
            if component.len() > 1 {
                let shown = if dir.is_empty() { "src" } else { dir };
                found.push(format!("{shown}/: {}", component.join(" ⇄ ")));
            }
        }
    }
    found
}

/// Tarjan's strongly connected components, each sorted.
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let low = s.low[w.as_str()].min(s.low[v]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w.as_str()) {
                let low = s.index[w.as_str()].min(s.low[v]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// The layer of a file: its top folder's place in [`LAYERS`]; `None` for `lib.rs` and
/// `main.rs`, which sit above every layer.
fn layer(file: &str) -> Option<usize> {
    let top = file.split_once('/')?.0;
    Some(
        LAYERS
            .iter()
            .position(|&l| l == top)
            .unwrap_or_else(|| panic!("src/{top}/ is not a layer: add it to LAYERS")),
    )
}

/// Every import that points up the layers, or into the crate root.
fn upward(edges: &BTreeSet<(String, String)>) -> Vec<String> {
    edges
        .iter()
        .filter(|(from, to)| match (layer(from), layer(to)) {
            (Some(a), Some(b)) => b > a,
            (Some(_), None) => true,
            (None, _) => false,
        })
        .map(|(from, to)| format!("src/{from} imports src/{to}"))
        .collect()
}

#[test]
fn no_import_circle_between_files_or_folders() {
    let files = read_src();
    let edges = edges(&files);
    assert!(
        edges.len() > 200,
        "only {} imports found: the parser is broken",
        edges.len()
    );
    let found = circles(&files, &edges);
    assert!(
        found.is_empty(),
        "import circles:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn imports_only_point_down_the_layers() {
    let files = read_src();
    let mut tops: Vec<&str> = files
        .keys()
        .filter_map(|f| f.split_once('/').map(|(top, _)| top))
        .collect();
    tops.dedup();
    assert_eq!(
        tops.iter().collect::<BTreeSet<_>>(),
        LAYERS.iter().collect::<BTreeSet<_>>(),
        "src/ holds exactly one folder per layer"
    );
    let wrong = upward(&edges(&files));
    assert!(
        wrong.is_empty(),
        "imports that point up the layers ({}):\n  {}",
        LAYERS.join(" < "),
        wrong.join("\n  ")
    );
}

#[test]
fn the_model_imports_only_the_model() {
    let files = read_src();
    let outside: Vec<String> = edges(&files)
        .into_iter()
        .filter(|(from, to)| from.starts_with("model/") && !to.starts_with("model/"))
        .map(|(from, to)| format!("src/{from} imports src/{to}"))
        .collect();
    assert!(outside.is_empty(), "{}", outside.join("\n"));
}

#[test]
fn every_file_is_one_concept_with_a_module_paragraph() {
    let files = read_src();
    let mut problems = Vec::new();
    for (name, file) in &files {
        let lines = file.text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!("src/{name}: {lines} lines (at most {MAX_LINES})"));
        }
        if !file.text.starts_with("//!") {
            problems.push(format!("src/{name}: does not open with a `//!` paragraph"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checks themselves, on made-up sources: they must see what they are meant to see.
fn synthetic(sources: &[(&str, &str)]) -> BTreeMap<String, File> {
    sources
        .iter()
        .map(|(name, text)| (name.to_string(), File::new(name, format!("//! x\n{text}"))))
        .collect()
}

#[test]
fn the_checks_see_circles_upward_imports_and_skip_comments_and_strings() {
    let files = synthetic(&[
        ("lib.rs", "pub mod model; pub mod sim;"),
        ("model/mod.rs", "pub mod a; pub mod b; pub use a::A;"),
        (
            "model/a.rs",
            "use crate::model::{b::{self, B}, c as _};\n// use crate::sim::w;\nfn f() { let s = \"crate::sim::w\"; let c = '\"'; }",
        ),
        (
            "model/b.rs",
            "fn g<'a>(x: &'a u8) { super::a::f(); }\nmod tests { use super::*; use self::x::Y; }",
        ),
        ("sim/mod.rs", "pub mod w;"),
        ("sim/w.rs", "use crate::model::a::A; fn h() { crate::sim::w::h() }"),
    ]);
    let edges = edges(&files);
    let pairs: Vec<(&str, &str)> = edges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("model/a.rs", "model/b.rs"),
            ("model/a.rs", "model/mod.rs"),
            ("model/b.rs", "model/a.rs"),
            ("model/mod.rs", "model/a.rs"),
            ("sim/w.rs", "model/a.rs"),
        ]
    );
    assert_eq!(circles(&files, &edges), ["model/: a.rs ⇄ b.rs ⇄ mod.rs"]);
    assert!(upward(&edges).is_empty());
    let up = synthetic(&[
        ("lib.rs", ""),
        ("model/mod.rs", ""),
        ("model/a.rs", "use crate::sim::w;"),
        ("sim/mod.rs", ""),
        ("sim/w.rs", ""),
    ]);
    assert_eq!(
        upward(&self::edges(&up)),
        ["src/model/a.rs imports src/sim/w.rs"]
    );
    // Folders import each other round even when no two files do.
    let folders = synthetic(&[
        ("lib.rs", ""),
        ("sim/mod.rs", ""),
        ("check/mod.rs", ""),
        ("sim/a.rs", "use crate::check::b;"),
        ("check/b.rs", ""),
        ("check/c.rs", "use crate::sim::d;"),
        ("sim/d.rs", ""),
    ]);
    assert_eq!(
        circles(&folders, &self::edges(&folders)),
        ["src/: check/ ⇄ sim/"]
    );
}
