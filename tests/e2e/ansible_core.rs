//! The collection on the oldest ansible-core it declares (`requires_ansible` in
//! meta/runtime.yml: 2.16, from the venv target/venv/ansible-2.16 that tests/run makes): a
//! representative subset of the playbook tests over real SSH (upload, cached run, check and
//! diff, module_defaults through the action group), and the action plugin's unit tests (pytest,
//! no SSH). The full playbook matrix runs on the newest ansible-core (ansible_ssh.rs,
//! ansible_trust.rs); `SHMGUARD_ANSIBLE_VENV=target/venv/ansible-2.16 cargo test --test e2e
//! ansible` runs all of it on 2.16.

use std::path::PathBuf;

use crate::sandbox::Sandbox;
use crate::ssh_host::{SshHost, counting};

/// The venv with the oldest supported ansible-core (and pytest).
fn oldest(name: &str) -> PathBuf {
    let dir = std::env::var_os("SHMGUARD_ANSIBLE_OLDEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/venv/ansible-2.16")
        });
    let p = dir.join("bin").join(name);
    assert!(
        p.exists(),
        "{} not found: run ./tests/run (it installs ansible-core 2.16 and pytest into target/venv/ansible-2.16), or point SHMGUARD_ANSIBLE_OLDEST_VENV at such a venv",
        p.display()
    );
    p
}

fn required_core() -> String {
    let runtime = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ansible/collection/meta/runtime.yml"),
    )
    .unwrap();
    let line = runtime
        .lines()
        .find(|l| l.starts_with("requires_ansible:"))
        .unwrap();
    line.trim_start_matches("requires_ansible: \">=")
        .trim_end_matches('"')
        .to_string()
}

#[test]
fn ansible_core_oldest_supported_runs_the_collection_over_ssh_another_user() {
    let playbook = oldest("ansible-playbook");
    let version = std::process::Command::new(&playbook)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    let want = required_core();
    let minor = want.rsplit_once('.').unwrap().0;
    assert!(
        version.contains(&format!("[core {minor}.")),
        "requires_ansible says {want}, the oldest venv has: {version}"
    );

    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "");
    // The fstab path comes from module_defaults through the collection's action group.
    let play = format!(
        "  module_defaults:\n    group/shmguard.shm.all:\n      fstab: {}\n",
        host.fstab
    );
    let pb = host.playbook(
        &play,
        "      shmguard.shm.shmguard:\n        mode: \"1777\"\n        size: 128m\n",
    );
    let run = |extra: &[&str]| {
        counting(&host, || {
            host.ansible_playbook_of(&playbook, &inv, &pb, extra)
        })
    };

    let ((out, text, result), commands) = run(&["--check", "--diff"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("+mode: 1777"), "{text}");
    assert_eq!(result["build"]["reason"], "check", "{result}");
    assert_eq!(commands, 2, "{text}");
    assert_eq!(host.sb.mode("/dev/shm"), "755", "--check changed the mode");
    assert_eq!(host.sh("ls -A /var/cache"), "", "--check made no cache");

    let ((out, text, result), commands) = run(&[]);
    assert!(out.status.success() && text.contains("changed=1"), "{text}");
    assert_eq!(result["build"]["reason"], "missing", "{result}");
    assert_eq!(commands, 2, "{text}");
    assert_eq!(host.sb.mode("/dev/shm"), "1777");
    let fstab = String::from_utf8(host.sb.read(&host.fstab)).unwrap();
    assert!(
        fstab.contains("tmpfs /dev/shm tmpfs"),
        "module_defaults did not reach the module: {fstab}"
    );

    let ((out, text, _), commands) = run(&[]);
    assert!(out.status.success() && text.contains("changed=0"), "{text}");
    assert_eq!(commands, 1, "{text}");

    // The newest ansible-core applies the group's module_defaults too (without them the
    // module would compare against /etc/fstab and report a change).
    let newest = crate::ssh_host::tool("ansible-playbook");
    let ((out, text, result), commands) = counting(&host, || {
        host.ansible_playbook_of(&newest, &inv, &pb, &["--check"])
    });
    assert!(out.status.success() && text.contains("changed=0"), "{text}");
    assert_eq!(result["build"]["reason"], "cached", "{result}");
    assert_eq!(commands, 1, "{text}");
}

#[test]
fn ansible_core_plugin_unit_tests_pass() {
    let sb = Sandbox::new();
    let colls = sb.path("collections");
    let src = format!("{}/ansible/collection", env!("CARGO_MANIFEST_DIR"));
    sb.sh(&format!(
        "mkdir -p {colls}/ansible_collections/shmguard && cp -r {src} {colls}/ansible_collections/shmguard/shm"
    ));
    let out = sb
        .command("sh")
        .args([
            "-c",
            &format!(
                "cd {colls} && exec {} -m pytest -p no:cacheprovider -q ansible_collections/shmguard/shm/tests/unit",
                oldest("python").display()
            ),
        ])
        .env("PYTHONPATH", &colls)
        .output()
        .unwrap();
    let text = crate::ssh_host::output_text(&out);
    println!("{text}");
    assert!(out.status.success(), "{text}");
    let passed: u32 = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[1] == "passed" || w[1] == "passed,")
        .and_then(|w| w[0].parse().ok())
        .unwrap_or(0);
    assert!(passed >= 10, "too few unit tests ran:\n{text}");
    assert!(
        !text.contains("failed") && !text.contains("skipped"),
        "{text}"
    );
}
