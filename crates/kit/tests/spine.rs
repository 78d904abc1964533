//! Every service has the same spine (`api/`, `app/`, `domain/`, `store/`, `migration/`), and
//! only `store/` reaches the database or Redis: no file under `api/`, `app/` or `domain/` names
//! sea_orm, sqlx or redis, not even in a `use` inside a function.

use std::path::{Path, PathBuf};

/// The folders every service has.
const SPINE: [&str; 5] = ["api", "app", "domain", "store", "migration"];

/// The folders that must not touch storage.
const PURE: [&str; 3] = ["api", "app", "domain"];

/// What touching storage looks like in source.
const STORAGE: [&str; 4] = ["sea_orm", "sqlx", "redis::", "use redis"];

fn services() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no services under {}", root.display());
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn name(path: &Path) -> String {
    let text = path.display().to_string();
    text.split_once("services/").map(|(_, rest)| format!("services/{rest}")).unwrap_or(text)
}

#[test]
fn spine_every_service_has_the_same_folders() {
    let mut missing = Vec::new();
    for service in services() {
        for folder in SPINE {
            let dir = service.join("src").join(folder);
            if !dir.is_dir() {
                missing.push(name(&dir));
            }
        }
    }
    assert!(missing.is_empty(), "missing spine folders:\n  {}", missing.join("\n  "));
}

#[test]
fn spine_api_app_and_domain_never_touch_storage() {
    let mut offenders = Vec::new();
    for service in services() {
        let mut files = Vec::new();
        for folder in PURE {
            rust_files(&service.join("src").join(folder), &mut files);
        }
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let found: Vec<&str> = STORAGE.into_iter().filter(|needle| text.contains(needle)).collect();
            if !found.is_empty() {
                offenders.push(format!("{} ({})", name(&file), found.join(", ")));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "only store/ may reach the database or Redis; these files under api/, app/ or domain/ do:\n  {}",
        offenders.join("\n  ")
    );
}
