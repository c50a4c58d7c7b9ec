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

/// The names a row keeps as a domain type, never as text: a status, a
/// currency, a mismatch reason, a history or mismatch source.
fn is_typed_column(field: &str) -> bool {
    ["status", "currency", "source"].contains(&field) || field.ends_with("_status")
}

/// Row fields (`pub name: Type`) that keep one of those names as text.
/// A field decoded as text can only be re-parsed (or compared as text)
/// further up; typed, a `.parse::<OrderStatus>()` on it does not compile.
fn text_typed_columns(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in code_lines(text) {
        let Some((field, ty)) = line
            .trim()
            .strip_prefix("pub ")
            .and_then(|f| f.split_once(':'))
        else {
            continue;
        };
        let ty = ty.trim().trim_end_matches(',');
        let field = field.trim();
        let textual = [
            "String",
            "Option<String>",
            "&str",
            "&'a str",
            "Option<&'a str>",
        ];
        if is_typed_column(field) && textual.contains(&ty) {
            found.push(format!("{field}: {ty}"));
        }
    }
    found
}

#[test]
fn the_row_scan_sees_text_statuses() {
    let text = "pub struct R {\n    pub status: String,\n    pub to_status: OrderStatus,\n    \
                pub refund_status: Option<String>,\n    pub currency: Currency,\n    // pub source: String,\n}";
    assert_eq!(
        text_typed_columns(text),
        ["status: String", "refund_status: Option<String>"]
    );
}

#[test]
fn rows_decode_statuses_and_currencies_into_domain_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/store"), &mut files);
    assert!(files.len() > 5, "no source found under src/store");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let found = text_typed_columns(&text);
        assert!(
            found.is_empty(),
            "{}: {found:?}: a status, currency or source kept as text past the store; \
             decode it into its domain type (see store/types.rs)",
            file.display()
        );
    }
}

/// Comparisons of a status, currency or reason with a string literal, on the code with its whitespace removed (so a chain split over
/// lines is seen whole).
fn text_comparisons(text: &str) -> Vec<String> {
    let code: String = code_lines(text)
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let fields = [
        "status",
        "to_status",
        "from_status",
        "refund_status",
        "currency",
        "reason",
    ];
    let mut found = Vec::new();
    for field in fields {
        for compared in [
            "==\"",
            "!=\"",
            ".as_deref()==Some(\"",
            ".as_deref()!=Some(\"",
        ] {
            let pattern = format!(".{field}{compared}");
            if code.contains(&pattern) {
                found.push(pattern);
            }
        }
    }
    found
}

#[test]
fn the_comparison_scan_sees_split_chains() {
    let text = "if attempt\n    .status\n    .as_deref() == Some(\"canceled\") {}\n\
                if mismatch.reason != \"x\" {}\nif order.status == OrderStatus::Paid {}";
    assert_eq!(
        text_comparisons(text),
        [".status.as_deref()==Some(\"", ".reason!=\""]
    );
}

#[test]
fn use_cases_and_views_compare_statuses_as_values_not_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/checkout"), &mut files);
    rust_files(&root.join("src/http/views"), &mut files);
    assert!(files.len() > 5, "no source found under src/checkout");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let found = text_comparisons(&text);
        assert!(
            found.is_empty(),
            "{}: compares {found:?} with text; rows carry domain types (OrderStatus, \
             MismatchReason, ...): compare those",
            file.display()
        );
    }
}
