//! The layering rules, checked on the source text so that a change that
//! breaks one fails here, not months later in a code review.

use std::path::{Path, PathBuf};

fn source(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Code lines only: a comment may name a module without importing it.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
}

/// The top-level modules a file reaches through `crate::`, including those
/// inside a grouped `use crate::{a::..., b};`.
fn crate_modules(text: &str) -> Vec<String> {
    let code: String = code_lines(text).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let path = match rest.strip_prefix('{') {
            Some(group) => &group[..group.find('}').unwrap_or(group.len())],
            None => rest,
        };
        for item in path.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
            if rest.starts_with('{') {
                continue;
            }
            break;
        }
    }
    found
}

#[test]
fn settings_and_secrets_import_no_use_case_client_or_route() {
    for file in ["src/config.rs", "src/secret.rs"] {
        let reached = crate_modules(&source(file));
        for forbidden in ["checkout", "stripe", "http"] {
            assert!(
                !reached.iter().any(|module| module == forbidden),
                "{file} imports crate::{forbidden}: the config <-> stripe/checkout circle is back \
                 (settings own plain values; the using module builds its own types)"
            );
        }
    }
}

#[test]
fn the_module_scan_sees_grouped_and_inline_paths() {
    let text = "use crate::{db, checkout::sweep};\n// crate::routes in a comment\nlet x = crate::stripe::client::X;";
    assert_eq!(crate_modules(text), ["db", "checkout", "stripe"]);
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

/// Lines below `src/http/` that name Rocket or the API's error type: the
/// use cases, the domain and the store return their own errors, which
/// `src/http/error/` alone turns into statuses.
fn http_below_the_routes() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for layer in ["src/checkout", "src/accounts", "src/domain", "src/store"] {
        let before = files.len();
        rust_files(&root.join(layer), &mut files);
        assert!(files.len() > before, "no source found under {layer}");
    }
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if ["rocket::", "ApiError", "ApiResult"]
                .iter()
                .any(|http| line.contains(http))
            {
                let path = file.strip_prefix(root).unwrap_or(&file).display();
                offenders.push(format!("{path}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    offenders
}

#[test]
fn use_cases_domain_and_store_know_no_http() {
    let offenders = http_below_the_routes();
    assert!(
        offenders.is_empty(),
        "`rocket::`, `ApiError` or `ApiResult` below src/http/ (return the layer's own \
         error; map it in src/http/error/):\n{}",
        offenders.join("\n")
    );
}

/// The route files (handlers), without the shared helpers `mod.rs`,
/// `paging.rs` and `lookup.rs`.
fn route_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/routes");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    files.retain(|file| {
        let name = file.file_name().unwrap().to_str().unwrap();
        !["mod.rs", "paging.rs", "lookup.rs"].contains(&name)
    });
    assert!(
        files.len() > 5,
        "no route files found under src/http/routes"
    );
    files
}

#[test]
fn route_files_import_no_other_route_file() {
    for file in route_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let code: String = code_lines(&text).collect::<Vec<_>>().join("\n");
        for prefix in ["super::", "crate::http::routes::", "routes::"] {
            for (at, _) in code.match_indices(prefix) {
                let name: String = code[at + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // `super::endpoints()` (the docs route) is the module's own list.
                let shared = ["paging", "lookup", "endpoints", ""];
                assert!(
                    shared.contains(&name.as_str()),
                    "{}: imports `{prefix}{name}`: what two route files share goes to \
                     routes/lookup.rs (or views/, input.rs), not one route file",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn response_shapes_live_in_views_not_in_route_files() {
    for file in route_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in code_lines(&text) {
            assert!(
                !(line.contains("derive(") && line.contains("Serialize")),
                "{}: a response type is declared in a route file; views go to src/http/views/: {line}",
                file.display()
            );
        }
    }
}
