//! The shipped builds that tests/run makes with bench/build-static (rust-lld from rustup, no C
//! cross compiler) are static position-independent executables for their CPU, as file(1)
//! judges them: the collection and the formula copy them to hosts that may have no libc at
//! all, and run them as root, so the program is loaded at a random address (ASLR).

fn describe(arch: &str) -> String {
    let bin = format!(
        "{}/target/{arch}-unknown-linux-musl/release/shmguard",
        env!("CARGO_MANIFEST_DIR")
    );
    assert!(
        std::path::Path::new(&bin).exists(),
        "{bin} not found: build it with bench/build-static (./tests/run does)"
    );
    let out = std::process::Command::new("file")
        .args(["-b", &bin])
        .output()
        .unwrap_or_else(|e| panic!("cannot run file ({e}): apt-get install file"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn static_builds_are_static_for_their_cpu() {
    for (arch, machine) in [("x86_64", "x86-64"), ("aarch64", "ARM aarch64")] {
        let text = describe(arch);
        assert!(text.contains(machine), "{arch}: {text}");
        // static-pie: the kernel loads the program itself at a random address (ASLR), as it
        // does a dynamically linked one; a plain static executable sits at a fixed address.
        assert!(
            text.contains("static-pie linked"),
            "{arch} build is not a static position-independent executable: {text}"
        );
        assert!(!text.contains("interpreter"), "{arch}: {text}");
    }
}

/// SHA-256 of a file, by sha256sum (coreutils).
fn sha256(path: &str) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sha256sum ({e}): apt-get install coreutils"));
    assert!(out.status.success(), "sha256sum {path}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

struct RemoveOnDrop(String);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two builds of one source tree in different directories are byte-identical (bench/build-static
/// rewrites the checkout, cargo home and toolchain paths with --remap-path-prefix): anyone can
/// rebuild the collection's build from the commit and compare its SHA-256. The copy is built
/// with its own target directory, sharing only the cargo registry; x86_64 only, to keep it cheap.
#[test]
fn static_build_is_byte_identical_from_another_directory() {
    let root = env!("CARGO_MANIFEST_DIR");
    let ours = format!("{root}/target/x86_64-unknown-linux-musl/release/shmguard");
    assert!(
        std::path::Path::new(&ours).exists(),
        "{ours} not found: build it with bench/build-static (./tests/run does)"
    );
    let base = format!(
        "{}/shmguard-repro-{}",
        std::env::temp_dir().display(),
        std::process::id()
    );
    let _cleanup = RemoveOnDrop(base.clone());
    let copy = format!("{base}/another/checkout");
    std::fs::create_dir_all(&copy).unwrap();
    // The working tree as git sees it (tracked and new files, not what .gitignore leaves out).
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -e; cd {root}; git ls-files -z -c -o --exclude-standard | \
             while IFS= read -r -d '' f; do [ -e \"$f\" ] && printf '%s\\0' \"$f\"; done | \
             tar --null -T - -cf - | tar -C {copy} -xf -"
        ))
        .status()
        .unwrap();
    assert!(status.success(), "copying the source tree to {copy}");
    let out = std::process::Command::new(format!("{copy}/bench/build-static"))
        .args(["--arch", "x86_64"])
        .current_dir(&copy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench/build-static in {copy}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = format!("{copy}/target/x86_64-unknown-linux-musl/release/shmguard");
    assert_eq!(
        sha256(&ours),
        sha256(&theirs),
        "{ours} and {theirs} differ: a path or time reaches the build (or {ours} is stale: \
         run bench/build-static)"
    );
}
