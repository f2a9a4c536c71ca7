//! The collection through the real ansible-playbook over real SSH to a loopback sshd in private
//! namespaces (ssh_host.rs): the first run uploads the build, later runs are one remote
//! command and upload nothing; a changed build is uploaded again; a tampered cache entry is
//! detected and replaced; check, diff and become work; async and an unsupported CPU fail clearly.
//! sshd switches to its privilege-separation user (and, for become, to an unprivileged login
//! user): every test here needs real root, so their names say another_user (tests/run leaves
//! them out, with a notice, when it is not run as root).

use serde_json::Value;

use crate::ssh_host::{SshHost, USER, counting};

const POLICY: &str = "      shmguard.shm.shmguard:\n        mode: \"1777\"\n        size: 128m\n        options: [nodev, nosuid, noexec]\n";

fn task(host: &SshHost, extra: &str) -> String {
    format!("{POLICY}        fstab: {}\n{extra}", host.fstab)
}

fn build(result: &Value) -> (String, u64) {
    (
        result["build"]["reason"].as_str().unwrap_or("").to_string(),
        result["build"]["uploaded_bytes"]
            .as_u64()
            .unwrap_or(u64::MAX),
    )
}

const ROOT_CACHE: &str = "/var/cache/shmguard";

#[test]
fn ansible_ssh_uploads_once_then_runs_one_remote_command_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "");
    let pb = host.playbook("", &task(&host, "      register: r\n"));

    let ((out, text, result), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("changed=1"), "{text}");
    assert_eq!(build(&result).0, "missing", "{result}");
    assert!(build(&result).1 > 0, "{result}");
    assert_eq!(
        commands, 2,
        "first run: look up the cache, then upload and run\n{text}"
    );
    assert!(
        text.contains("noexec on a shared-memory mount"),
        "the run that adds noexec warns:\n{text}"
    );
    assert_eq!(host.sb.mode("/dev/shm"), "1777");
    let mi = host.sb.mountinfo("/dev/shm");
    assert!(
        mi.contains("nosuid,nodev,noexec") && mi.contains("size=131072k"),
        "{mi}"
    );
    let fstab = String::from_utf8(host.sb.read(&host.fstab)).unwrap();
    assert!(
        // relatime: the live mount's atime, which systemd's remount at boot would otherwise
        // replace with PID 1's strictatime
        fstab.contains("tmpfs /dev/shm tmpfs nodev,nosuid,noexec,relatime,size=128m 0 0"),
        "{fstab}"
    );

    // The cache: a root-only directory holding one build named by its SHA-256, nothing else.
    let listing = host.sh(&format!(
        "ls -ldn {ROOT_CACHE}; ls -A {ROOT_CACHE}; sha256sum {ROOT_CACHE}/*"
    ));
    assert!(listing.starts_with("drwx------ 2 0 0"), "{listing}");
    let names: Vec<&str> = listing.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(names.len(), 1, "{listing}");
    assert!(
        listing.contains(&format!("{0}  {ROOT_CACHE}/{0}", names[0])),
        "named by its SHA-256:\n{listing}"
    );
    assert_eq!(
        host.sh(&format!(
            "ls -A {} 2>/dev/null || true",
            host.sb.path("remote-tmp")
        )),
        "",
        "no remote temporary files"
    );

    for _ in 0..2 {
        let ((out, text, result), commands) =
            counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("changed=0") && text.contains("failed=0"),
            "{text}"
        );
        assert_eq!(build(&result), ("cached".to_string(), 0), "{result}");
        assert_eq!(
            result["build"]["arch"], "x86_64",
            "found by uname -m: {result}"
        );
        assert_eq!(commands, 1, "a compliant run is ONE remote command\n{text}");
        assert!(
            !text.contains("noexec on a shared-memory mount"),
            "a run that does not add noexec does not warn:\n{text}"
        );
    }
}

#[test]
fn ansible_ssh_uploads_a_changed_build_again_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "");
    let pb = host.playbook("", &task(&host, ""));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    let old = host.sh(&format!("ls {ROOT_CACHE}"));

    // A new release of the build: other bytes, other SHA-256 (an ELF runs with bytes appended).
    host.sh(&format!("printf 'new build' >> {}", host.build_path()));
    let ((out, text, result), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(out.status.success(), "{text}");
    assert_eq!(build(&result).0, "missing", "{result}");
    assert!(build(&result).1 > 0);
    assert_eq!(commands, 2, "{text}");
    let new = host.sh(&format!("ls {ROOT_CACHE}"));
    let want = host.sh(&format!("sha256sum < {}", host.build_path()));
    assert_eq!(
        new.trim(),
        want.split_whitespace().next().unwrap(),
        "only the new build is kept"
    );
    assert_ne!(old, new);
}

#[test]
fn ansible_ssh_detects_and_replaces_a_tampered_cache_entry_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "");
    let pb = host.playbook("", &task(&host, ""));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    let name = host.sh(&format!("ls {ROOT_CACHE}")).trim().to_string();
    let cached = format!("{ROOT_CACHE}/{name}");

    // Someone replaces the cached build with a script that would run as root.
    host.sh(&format!(
        "printf '#!/bin/sh\\necho pwned > /tmp/pwned-$$\\n' > {cached}"
    ));
    let ((out, text, result), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(out.status.success(), "{text}");
    assert_eq!(build(&result).0, "mismatch", "{result}");
    assert_eq!(commands, 2, "{text}");
    let sum = host.sh(&format!("sha256sum < {cached}"));
    assert_eq!(
        sum.split_whitespace().next().unwrap(),
        name,
        "replaced by the real build"
    );

    // A build others could write is not run either.
    host.sh(&format!("chmod 0722 {cached}"));
    let (out, text, result) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    assert_eq!(build(&result).0, "unsafe", "{result}");
    assert_eq!(host.sh(&format!("stat -c %a {cached}")).trim(), "700");

    // A cache directory someone else could write fails the task, naming it; nothing runs.
    host.sh(&format!("chmod 0777 {ROOT_CACHE}"));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("the cache directory /var/cache/shmguard is not safe: /var/cache/shmguard is writable by group or others (mode drwxrwxrwx)")
            && text.contains("shmguard_cache_dir"),
        "{text}"
    );
}

#[test]
fn ansible_ssh_check_and_diff_change_nothing_and_show_the_diff_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "");
    let pb = host.playbook("", &task(&host, ""));
    let snap = host.sb.snapshot(&["/dev/shm"], &[&host.fstab]);
    let (out, text, result) = host.ansible_playbook(&inv, &pb, &["--check", "--diff"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("changed=1"), "{text}");
    assert!(
        text.contains("-mode: 0755") && text.contains("+mode: 1777"),
        "{text}"
    );
    assert!(
        text.contains("+tmpfs /dev/shm tmpfs nodev,nosuid,noexec,relatime,size=128m 0 0"),
        "{text}"
    );
    assert_eq!(result["check_mode"], true, "{result}");
    assert_eq!(
        host.sb.snapshot(&["/dev/shm"], &[&host.fstab]),
        snap,
        "--check changed something"
    );
    // A fresh target: the build ran from a temporary copy, and nothing is left of it.
    assert_eq!(result["build"]["reason"], "check", "{result}");
    assert_eq!(
        host.sh(&format!(
            "ls -A /var/cache {} 2>/dev/null; ls -d /tmp/shmguard.* 2>/dev/null | xargs -r ls -ldn | awk '$3 == 0' || true",
            host.sb.path("remote-tmp")
        ))
        .lines()
        .filter(|l| !l.is_empty() && !l.ends_with(':'))
        .collect::<Vec<_>>(),
        Vec::<&str>::new(),
        "--check left a cache or temporary files"
    );

    // no_log: the result is hidden, even with -v.
    let pb = host.playbook("", &task(&host, "      no_log: true\n"));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &["--check", "-v"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("censored"), "{text}");
    assert!(
        !text.contains(&host.fstab),
        "no_log leaks the arguments:\n{text}"
    );
}

#[test]
fn ansible_ssh_become_from_another_user() {
    let host = SshHost::new("size=64m,mode=755", true);
    let inv = host.inventory(true, "");
    let home = host.sb.path("home");

    // Without become: check mode works, from a temporary copy: no cache is made.
    let pb = host.playbook("", &task(&host, ""));
    let (out, text, result) = host.ansible_playbook(&inv, &pb, &["--check"]);
    assert!(out.status.success(), "{text}");
    assert_eq!(result["changed"], true, "{result}");
    assert_eq!(result["build"]["reason"], "check", "{result}");
    assert_eq!(
        host.sh(&format!("ls -A {home}")),
        "",
        "--check left something in the login user's home"
    );
    // Applying needs root, and says so; the build is now cached in the login user's home.
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("needs root"), "{text}");
    let listing = host.sh(&format!("ls -ldn {home}/.cache/shmguard"));
    assert!(listing.starts_with("drwx------ 2 4242 4242"), "{listing}");

    // With become: root's cache, applied.
    let pb = host.playbook("  become: true\n", &task(&host, ""));
    let ((out, text, result), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(out.status.success(), "{text}");
    assert_eq!(result["changed"], true, "{result}");
    assert_eq!(commands, 2, "{text}");
    assert_eq!(host.sb.mode("/dev/shm"), "1777");
    assert!(
        host.sh(&format!("ls -ldn {ROOT_CACHE}"))
            .starts_with("drwx------ 2 0 0")
    );
    let ((out, text, result), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(out.status.success(), "{text}");
    assert_eq!(result["changed"], false, "{result}");
    assert_eq!(commands, 1, "{text}");
}

#[test]
fn ansible_ssh_fails_clearly_on_an_unsupported_cpu_and_on_async_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "shmguard_arch=ppc64le");
    let pb = host.playbook("", &task(&host, ""));
    let ((out, text, _), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("no build for the CPU ppc64le"), "{text}");
    assert_eq!(commands, 0, "nothing runs on the target");

    let inv = host.inventory(false, "shmguard_arch=amd64");
    let pb = host.playbook("", &task(&host, "      async: 30\n      poll: 5\n"));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("does not support async"), "{text}");
    assert_eq!(host.sb.mode("/dev/shm"), "755");
}

#[test]
fn ansible_ssh_module_defaults_of_the_group_reach_both_modules_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    host.sh(&format!("printf '' > {}", host.fstab));
    let inv = host.inventory(false, "");
    // fstab (the alias of fstab_path) only in the group's module_defaults, for both modules.
    let play = format!(
        "  module_defaults:\n    group/shmguard.shm.all:\n      fstab: {}\n",
        host.fstab
    );
    let pb = host.sb.file(
        "defaults.yml",
        format!(
            "- hosts: all\n  gather_facts: false\n{play}  tasks:\n\
             \x20   - name: enforce\n{POLICY}\
             \x20   - name: audit\n      shmguard.shm.audit:\n        profile: [cis]\n        init: other\n      register: audited\n\
             \x20   - name: the audit read the fstab of the defaults\n      ansible.builtin.assert:\n\
             \x20       that: audited.compliant\n        fail_msg: \"{{{{ audited | to_json }}}}\"\n"
        )
        .as_bytes(),
    );
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    let fstab = String::from_utf8(host.sb.read(&host.fstab)).unwrap();
    assert!(
        fstab.contains("tmpfs /dev/shm tmpfs nodev,nosuid,noexec"),
        "module_defaults did not reach shmguard.shm.shmguard: {fstab}"
    );
    // Without the defaults the audit reads /etc/fstab, where this entry is not.
    host.sh(&format!("printf '' > {}", host.fstab));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &["--check"]);
    assert!(
        !out.status.success(),
        "the check-mode run leaves the fstab empty: the audit fails\n{text}"
    );
    assert!(
        text.contains("the audit read the fstab of the defaults"),
        "{text}"
    );
}

#[test]
fn ansible_ssh_sudo_requiretty_fails_naming_the_sudoers_default_and_the_fix_another_user() {
    let host = SshHost::new("size=64m,mode=755", true);
    let sudoers = host.sb.path("sudoers");
    // sudoers as older RHEL ships it: a terminal required (written in place: it is bind-mounted).
    host.sh(&format!(
        "printf 'Defaults requiretty\\nroot ALL=(ALL:ALL) ALL\\n{USER} ALL=(ALL:ALL) NOPASSWD: ALL\\n' > {sudoers}"
    ));
    let inv = host.inventory(true, "");
    let pb = host.playbook("  become: true\n", &task(&host, ""));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("must have a tty"), "{text}");
    assert!(text.contains("Defaults requiretty"), "{text}");
    assert!(
        text.contains(&format!("Defaults:{USER} !requiretty")),
        "the fix, for the login user:\n{text}"
    );
    assert_eq!(host.sb.mode("/dev/shm"), "755");

    // The fix the message names works.
    host.sh(&format!(
        "printf 'Defaults:{USER} !requiretty\\n' >> {sudoers}"
    ));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    assert_eq!(host.sb.mode("/dev/shm"), "1777");
}
