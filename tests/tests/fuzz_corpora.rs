//! Replays every committed fuzz corpus entry and every input a fuzzer once crashed on
//! (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`) through the target bodies, on
//! stable, as the test command's slice of fuzzing. The soak runs the same bodies under
//! `cargo +nightly fuzz` (RELIABILITY.md).

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            files.extend(entries.map(|e| e.expect("corpus entry").path()));
        }
    }
    files.sort();
    files
}

fn replay(target: &str, body: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= 4,
        "the {target} corpus is missing or too small: {} entries",
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).expect("read a corpus entry");
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            panic!("{target} breaks a promise on {}", file.display());
        }
    }
}

#[test]
fn push_body_corpus_replays_clean() {
    replay("push_body", targets::push_body);
}

#[test]
fn merge_rules_corpus_replays_clean() {
    replay("merge_rules", targets::merge_rules);
}

#[test]
fn pull_page_corpus_replays_clean() {
    replay("pull_page", targets::pull_page);
}
