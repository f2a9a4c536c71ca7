//! The README's "Try it without touching this machine" recipe, run exactly as written there
//! (the text between the try markers): its status / apply --check / apply / audit round trip
//! must work, and it must start with the private namespace and the fresh mounts that make it
//! safe. It runs inside a sandbox whose /dev/shm is already a fresh tmpfs, so even a recipe
//! that lost a line could not reach the host's mounts.

use crate::sandbox::{BIN, Sandbox};

/// The shell text of the recipe: the fenced block between the markers.
fn recipe() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("<!-- try:start -->\n")
        .nth(1)
        .and_then(|rest| rest.split("<!-- try:end -->").next())
        .expect("README.md has no <!-- try:start --> ... <!-- try:end --> block");
    let body = block
        .strip_prefix("```sh\n")
        .and_then(|b| b.trim_end().strip_suffix("```"))
        .expect("the try block is one ```sh fenced block");
    body.to_string()
}

#[test]
fn readme_try_recipe_starts_private_and_mounts_afresh_before_shmguard() {
    let text = recipe();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("sudo unshare --mount --propagation private --ipc sh -ex <<'EOF'"),
        "the recipe must open a private mount and IPC namespace: {}",
        lines[0]
    );
    assert_eq!(lines.last(), Some(&"EOF"));
    let first_shmguard = lines
        .iter()
        .position(|l| l.starts_with("shmguard"))
        .unwrap();
    for mount in [
        "mount -n -t tmpfs -o size=16m scratch /mnt",
        "mount -n -t tmpfs -o size=64m,mode=755 tmpfs /dev/shm",
    ] {
        let at = lines.iter().position(|l| l.starts_with(mount));
        assert!(
            at.is_some_and(|at| at < first_shmguard),
            "the recipe must run `{mount}` before any shmguard command"
        );
    }
    for line in &lines[first_shmguard..] {
        if line.starts_with("shmguard apply") {
            assert!(
                line.contains("--fstab-path /mnt/"),
                "every apply names a scratch fstab: {line}"
            );
        }
    }
}

/// Runs `recipe` in a sandbox whose /dev/shm is a fresh tmpfs, with `shmguard` (the binary under
/// test) on PATH and, when `sudo` is, a shim for it (the caller is already namespace root).
fn round_trip(recipe: &str, sudo: bool) {
    let sb = Sandbox::new();
    // Defence in depth: the recipe mounts its own fresh /dev/shm, over this one.
    sb.tmpfs_over("/dev/shm", "size=64m,mode=1777");
    let before = sb.mountinfo("/dev/shm");
    // PATH holds the directory of the binary under test, as the README's
    // `export PATH=$PWD/target/release:$PATH` does (outside /mnt, which the recipe covers).
    let shims = sb.path("bin");
    if sudo {
        sb.sh(&format!(
            "mkdir -p {shims} && printf '#!/bin/sh\\nexec \"$@\"\\n' > {shims}/sudo && chmod 755 {shims}/sudo"
        ));
    }
    let bin_dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!(
        "{shims}:{bin_dir}:{}",
        std::env::var("PATH").unwrap_or_default()
    );
    let out = sb
        .command("sh")
        .args(["-c", recipe])
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the README recipe failed:\n{stdout}\n{stderr}"
    );
    // apply --check said what it would do; the real apply did it; the audit passed (sh -e).
    assert!(stdout.contains("would"), "no check-mode output:\n{stdout}");
    assert!(stdout.contains("compliant"), "no audit verdict:\n{stdout}");
    let fstab_line = stdout
        .lines()
        .find(|l| l.starts_with("tmpfs /dev/shm tmpfs "))
        .unwrap_or_else(|| panic!("no /dev/shm line in the scratch fstab:\n{stdout}"));
    for want in ["nodev", "nosuid", "noexec", "size=128m"] {
        assert!(fstab_line.contains(want), "{fstab_line}");
    }
    assert!(
        stdout.contains("/mnt/mqueue mqueue"),
        "no mqueue line:\n{stdout}"
    );
    assert!(
        stdout.contains("fs.mqueue.queues_max = 512"),
        "no persisted limit:\n{stdout}"
    );
    // The recipe's mounts lived in its own namespace: the sandbox's /dev/shm is as it was.
    assert_eq!(sb.mountinfo("/dev/shm"), before);
    assert_eq!(sb.mode("/dev/shm"), "1777");
}

#[test]
fn readme_try_recipe_runs_its_round_trip_as_written() {
    round_trip(&recipe(), true);
}

/// The README's root-shell path: the same text without its first word `sudo` (a root shell on
/// Debian 12 has no sudo).
#[test]
fn readme_try_recipe_runs_in_a_root_shell_without_sudo() {
    let text = recipe();
    let without = text
        .strip_prefix("sudo ")
        .expect("the recipe starts with sudo");
    round_trip(without, false);
}
