//! The shipped builds that tests/run makes with bench/build-static (rust-lld from rustup, no C
//! cross compiler) are static executables for their CPU, as file(1) judges them: the
//! collection and the formula copy them to hosts that may have no libc at all.

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
        assert!(
            text.contains("statically linked") || text.contains("static-pie linked"),
            "{arch} build is not static: {text}"
        );
        assert!(!text.contains("interpreter"), "{arch}: {text}");
    }
}
