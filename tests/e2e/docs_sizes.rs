//! Binary sizes in the documents come from one measured source: the block that
//! `bench/build-static --record` writes into docs/performance.md. README.md and docs/ansible.md
//! quote it in KB, and the static builds tests/run makes are within 5% of it (a bigger drift
//! means the record is stale: re-run `bench/build-static --record`). The builds also stay within
//! the size budget of issue 25: 950,000 bytes, and 420,000 bytes gzipped as the collection's
//! action plugin uploads them (Python's `gzip.compress(build, 9)`).

use std::path::PathBuf;

/// Budget of the shipped static builds, in bytes: plain, and gzipped for the upload.
const MAX_BYTES: u64 = 950_000;
const MAX_GZIPPED: u64 = 420_000;

fn read(rel: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// One architecture's recorded sizes in bytes.
#[derive(Debug, Clone, Copy)]
struct Recorded {
    bytes: u64,
    gzipped: u64,
}

/// The recorded sizes: (x86_64, aarch64).
fn recorded() -> (Recorded, Recorded) {
    let doc = read("docs/performance.md");
    let block = doc
        .split("<!-- sizes:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- sizes:end -->").next())
        .expect("docs/performance.md has no <!-- sizes:start --> ... <!-- sizes:end --> block");
    // the bold figures "**N bytes**" and "**N gzipped**", in order x86_64, aarch64
    let figures = |unit: &str| -> Vec<u64> {
        block
            .split("**")
            .filter_map(|s| s.strip_suffix(unit))
            .map(|s| s.replace(',', "").parse().unwrap())
            .collect()
    };
    let (bytes, gzipped) = (figures(" bytes"), figures(" gzipped"));
    assert!(
        bytes.len() == 2 && gzipped.len() == 2,
        "the sizes block names two sizes and two gzipped sizes (run bench/build-static --record): {block}"
    );
    (
        Recorded {
            bytes: bytes[0],
            gzipped: gzipped[0],
        },
        Recorded {
            bytes: bytes[1],
            gzipped: gzipped[1],
        },
    )
}

/// Bytes of `path` gzipped as the collection's action plugin does before the upload
/// (plugins/action/shmguard.py: `gzip.compress(raw, 9)`).
fn upload_bytes(path: &str) -> u64 {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import gzip, sys; print(len(gzip.compress(open(sys.argv[1], 'rb').read(), 9)))",
            path,
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): install Python 3 (./tests/run's pyenv has it)")
        });
    assert!(
        out.status.success(),
        "python3 gzip of {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn kb(bytes: u64) -> u64 {
    (bytes + 500) / 1000
}

#[test]
fn docs_sizes_readme_and_ansible_docs_quote_the_recorded_sizes() {
    let (x86, arm) = recorded();
    let quotes = [
        ("README.md", format!("({} KB", kb(x86.bytes))),
        ("docs/ansible.md", format!("{} KB (x86_64)", kb(x86.bytes))),
        ("docs/ansible.md", format!("{} KB (aarch64)", kb(arm.bytes))),
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
        let have_gzipped = upload_bytes(&bin);
        for (what, have, want) in [
            ("bytes", have, want.bytes),
            ("bytes gzipped", have_gzipped, want.gzipped),
        ] {
            let drift = have.abs_diff(want) as f64 / want as f64;
            assert!(
                drift <= 0.05,
                "{bin} is {have} {what}, docs/performance.md records {want}: run bench/build-static --record and update the KB figures in README.md and docs/ansible.md"
            );
        }
        for (what, have, max) in [
            ("bytes", have, MAX_BYTES),
            ("bytes gzipped for the upload", have_gzipped, MAX_GZIPPED),
            ("bytes recorded", want.bytes, MAX_BYTES),
            ("bytes gzipped recorded", want.gzipped, MAX_GZIPPED),
        ] {
            assert!(
                have <= max,
                "{bin}: {have} {what}, over the budget of {max} (issue 25; docs/performance.md, \"Binary size\", has the cost of each part)"
            );
        }
    }
}
