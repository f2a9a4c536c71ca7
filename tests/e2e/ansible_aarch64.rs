//! The aarch64 build of the collection runs under qemu-user (Debian package qemu-user): as the
//! action plugin runs it on an aarch64 target (`shmguard -`, arguments on stdin), it converges
//! a fresh tmpfs in the sandbox, then reports no change.

use std::io::Write;
use std::process::Stdio;

use crate::sandbox::Sandbox;

pub const QEMU: &str = "qemu-aarch64";

pub fn aarch64_build() -> String {
    let p = format!(
        "{}/target/aarch64-unknown-linux-musl/release/shmguard",
        env!("CARGO_MANIFEST_DIR")
    );
    assert!(
        std::path::Path::new(&p).exists(),
        "{p} not found: build it with bench/build-static (rustup alone: rust-lld links it; ./tests/run does this)"
    );
    p
}

fn run(sb: &Sandbox, bin: &str, args: &serde_json::Value) -> serde_json::Value {
    let mut child = sb
        .command(QEMU)
        .args([bin, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {QEMU} ({e}): apt-get install qemu-user"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(args.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn ansible_aarch64_build_runs_under_qemu_user() {
    assert!(
        std::process::Command::new(QEMU)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "{QEMU} not found: apt-get install qemu-user (tests/deps does this)"
    );
    let bin = aarch64_build();
    let file = std::process::Command::new("file").arg(&bin).output();
    if let Ok(o) = file {
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("aarch64") || text.contains("ARM"), "{text}");
    }
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# scratch\n");
    let args = serde_json::json!({
        "path": shm, "mode": "1777", "size": "128m", "options": ["nodev", "nosuid"],
        "fstab": fstab, "_ansible_check_mode": false, "_ansible_module_name": "shmguard.shm.shmguard",
    });
    let out = run(&sb, &bin, &args);
    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(out["failed"], false, "{out}");
    assert_eq!(sb.mode(&shm), "1777");
    assert!(sb.mountinfo(&shm).contains("size=131072k"));
    let out = run(&sb, &bin, &args);
    assert_eq!(out["changed"], false, "{out}");
}
