//! Binary sizes in the documents come from one measured source: the block that
//! `bench/build-static --record` writes into docs/performance.md. README.md and docs/ansible.md
//! quote it in KB, and the static builds tests/run makes are within 5% of it (a bigger drift
//! means the record is stale: re-run `bench/build-static --record`).

use std::path::PathBuf;

fn read(rel: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The recorded sizes in bytes: (x86_64, aarch64).
fn recorded() -> (u64, u64) {
    let doc = read("docs/performance.md");
    let block = doc
        .split("<!-- sizes:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- sizes:end -->").next())
        .expect("docs/performance.md has no <!-- sizes:start --> ... <!-- sizes:end --> block");
    let bytes: Vec<u64> = block
        .split("**")
        .filter_map(|s| s.strip_suffix(" bytes"))
        .map(|s| s.replace(',', "").parse().unwrap())
        .collect();
    assert_eq!(
        bytes.len(),
        2,
        "the sizes block names two sizes (run bench/build-static --record): {block}"
    );
    (bytes[0], bytes[1])
}

fn kb(bytes: u64) -> u64 {
    (bytes + 500) / 1000
}

#[test]
fn docs_sizes_readme_and_ansible_docs_quote_the_recorded_sizes() {
    let (x86, arm) = recorded();
    let quotes = [
        ("README.md", format!("({} KB", kb(x86))),
        ("docs/ansible.md", format!("{} KB (x86_64)", kb(x86))),
        ("docs/ansible.md", format!("{} KB (aarch64)", kb(arm))),
    ];
    for (rel, want) in quotes {
        assert!(
            read(rel).contains(&want),
            "{rel} must quote {want:?}: the size recorded in docs/performance.md by bench/build-static --record"
        );
    }
}

#[test]
fn docs_sizes_recorded_sizes_match_the_static_builds() {
    let (x86, arm) = recorded();
    for (arch, want) in [("x86_64", x86), ("aarch64", arm)] {
        let bin = format!(
            "{}/target/{arch}-unknown-linux-musl/release/shmguard",
            env!("CARGO_MANIFEST_DIR")
        );
        let have = std::fs::metadata(&bin)
            .unwrap_or_else(|e| {
                panic!("{bin}: {e}: build it with bench/build-static (./tests/run does)")
            })
            .len();
        let drift = have.abs_diff(want) as f64 / want as f64;
        assert!(
            drift <= 0.05,
            "{bin} is {have} bytes, docs/performance.md records {want}: run bench/build-static --record and update the KB figures in README.md and docs/ansible.md"
        );
    }
}
