//! Counts the reliability tests report (faults injected, kill -9 runs, concurrent runs, bad
//! parameter sets): printed to stderr and kept in target/tmp/counts/ so .ci/run can print
//! them after the run, when cargo test has swallowed the output of passing tests.

use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("counts")
}

/// Records one line under `name` (one file per test; a later run replaces it).
pub fn record(name: &str, line: &str) {
    eprintln!("{line}");
    let _ = std::fs::create_dir_all(dir());
    let _ = std::fs::write(dir().join(format!("{name}.txt")), format!("{line}\n"));
}
