//! Trust on the target (issue 16), through the real ansible-playbook over real SSH to a
//! loopback sshd (ssh_host.rs): an attacker swapping directories in a group-writable parent of
//! `shmguard_cache_dir` gets no code run as root and no file overwritten; a login banner does
//! not break a task; a become user without a home works from a per-run temporary directory; a
//! wrong CPU and a missing hashing tool fail clearly before any upload, and the right build in
//! the cache is kept. The swap test drives the plugin's own two remote scripts 200 times each
//! in ONE ssh session (a playbook per run would take 15 minutes), then one real playbook.

use crate::ssh_host::{SshHost, counting, tool};

const POLICY: &str = "      shmguard.shm.shmguard:\n        mode: \"1777\"\n        size: 128m\n";

fn task(host: &SshHost, extra: &str) -> String {
    format!("{POLICY}        fstab: {}\n{extra}", host.fstab)
}

fn reason(result: &serde_json::Value) -> &str {
    result["build"]["reason"].as_str().unwrap_or("")
}

/// `ssh USER@host COMMAND` (the test's key), inside the host's namespaces: stdout and stderr.
fn ssh(host: &SshHost, user: &str, command: &str) -> String {
    let d = host.sb.path("");
    let out = host
        .sb
        .command("ssh")
        .args([
            "-i",
            &format!("{d}/id"),
            "-p",
            &host.port.to_string(),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            &format!("{user}@127.0.0.1"),
            command,
        ])
        .output()
        .unwrap();
    crate::ssh_host::output_text(&out)
}

/// The plugin's two remote scripts for `cache` (x86_64), written by the plugin itself.
fn plugin_scripts(host: &SshHost, cache: &str) -> (String, String) {
    let d = host.sb.path("").trim_end_matches('/').to_string();
    let py = format!(
        "import sys; sys.path.insert(0, {colls:?})\n\
         from ansible_collections.shmguard.shm.plugins.action import shmguard as p\n\
         a = p.ActionModule.__new__(p.ActionModule)\n\
         h, blob = p.build_gzip('x86_64')\n\
         open({d:?} + 'run.sh', 'w').write(a._run_cached_script('SHMGUARD-T', 'x86_64', {cache:?}))\n\
         open({d:?} + 'upload.sh', 'w').write(a._upload_script('SHMGUARD-T', 'x86_64', h, {cache:?}, False))\n\
         open({d:?} + 'request', 'w').write('{{\"path\": \"/dev/shm\", \"_ansible_check_mode\": true}}\\n')\n\
         open({d:?} + 'upload-in', 'wb').write(b'{{\"path\": \"/dev/shm\", \"_ansible_check_mode\": true}}\\n' + blob)\n\
         print(h)\n",
        colls = host.collections,
        d = format!("{d}/"),
    );
    let out = host
        .sb
        .command(tool("python").to_str().unwrap())
        .args(["-c", &py])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).unwrap().trim().to_string(), d)
}

// Swaps ./cache and ./evil with renameat2(RENAME_EXCHANGE) until ./stop exists; prints the count.
const SWAPPER: &str = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while not os.path.exists('stop'):
    if libc.syscall(316, -100, b'cache', -100, b'evil', 2) == 0:
        n += 1
print(n)
"#;

#[test]
fn ansible_trust_a_swapping_attacker_runs_nothing_as_root_and_overwrites_nothing_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let (digest, d) = plugin_scripts(&host, &host.sb.path("shared/cache"));
    // A shared parent the attacker (uid 4243, group 4243) may write; root's cache inside it
    // already holds the real build, so a weak check would go on to run whatever is there.
    host.sh(&format!(
        "set -e; cd {d}; mkdir -m 2775 shared; chown 0:4243 shared; mkdir -m 700 shared/cache; \
         cp {build} shared/cache/{digest}; chmod 700 shared/cache/{digest}; \
         printf 'root only\\n' > victim; chmod 600 victim; \
         mkdir shared/evil; printf '#!/bin/sh\\ntouch {d}/pwned.$$\\n' > shared/evil/{digest}; \
         chmod 755 shared/evil/{digest}; \
         last=$(cat /proc/sys/kernel/ns_last_pid); for i in $(seq $last $((last + 3000))); do ln -s {d}/victim shared/evil/.upload.$i; done; \
         chown -hR 4243:4243 shared/evil",
        build = host.build_path()
    ));
    let swapper = host
        .sb
        .command("setpriv")
        .args([
            "--reuid=4243",
            "--regid=4243",
            "--clear-groups",
            "sh",
            "-c",
            &format!("cd {d}/shared && exec /usr/bin/python3 -c \"$0\"", d = d),
            SWAPPER,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // 200 runs of each remote command the plugin sends, in one ssh session, as root.
    let out = ssh(
        &host,
        "root",
        &format!(
            "cd {d}; for i in $(seq 200); do sh run.sh < request; sh upload.sh < upload-in; done"
        ),
    );
    host.sh(&format!("touch {d}/shared/stop"));
    let swaps = swapper.wait_with_output().unwrap();
    let swaps: u64 = String::from_utf8_lossy(&swaps.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(swaps > 1000, "the attacker swapped only {swaps} times");

    assert_eq!(
        out.matches("SHMGUARD-T FAIL").count(),
        400,
        "every run refuses the cache:\n{}",
        &out[..out.len().min(3000)]
    );
    assert!(!out.contains("SHMGUARD-T RUN"), "{out}");
    assert!(
        out.contains(&format!(
            "{d}/shared is writable by group or others (mode drwxrwsr-x)"
        )) && out.contains("shmguard_cache_dir"),
        "{}",
        &out[..out.len().min(3000)]
    );
    assert_eq!(
        host.sh(&format!("ls {d} | grep -c '^pwned' || true"))
            .trim(),
        "0",
        "the attacker's code ran as root"
    );
    assert_eq!(host.sb.read(&format!("{d}/victim")), b"root only\n");

    // The real playbook says the same, before any upload.
    let inv = host.inventory(false, &format!("shmguard_cache_dir={d}/shared/cache"));
    let pb = host.playbook("", &task(&host, ""));
    let ((out, text, _), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "the cache directory {d}/shared/cache is not safe: {d}/shared is writable by group or others"
        )) && text.contains("set shmguard_cache_dir"),
        "{text}"
    );
    assert_eq!(commands, 1, "fails before any upload\n{text}");
}

#[test]
fn ansible_trust_an_interrupted_upload_leaves_no_temporary_file_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let cache = host.sb.path("cache");
    let (digest, d) = plugin_scripts(&host, &cache);
    // The connection drops halfway through the build.
    let out = ssh(
        &host,
        "root",
        &format!("cd {d}; head -c 100000 upload-in | sh upload.sh"),
    );
    assert!(out.contains("SHMGUARD-T FAIL"), "{out}");
    assert_eq!(host.sh(&format!("ls -A {cache}")), "", "{out}");
    // Hung up on, or terminated, halfway through the build.
    for signal in ["HUP", "TERM", "INT"] {
        let out = ssh(
            &host,
            "root",
            &format!(
                "cd {d}; (head -c 100000 upload-in; sleep 3) | sh upload.sh 2>/dev/null & p=$!; sleep 1; \
                 ls -A {cache}; kill -{signal} $p; wait $p; echo exit $?; ls -A {cache}"
            ),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines.first().is_some_and(|l| l.starts_with(".upload.")),
            "the upload was not under way when signalled: {out}"
        );
        assert!(
            lines.last().is_some_and(|l| l.starts_with("exit ")),
            "a temporary file was left after SIG{signal}: {out}"
        );
    }
    // A run killed with SIGKILL (no trap runs): the next upload removes what it left.
    host.sh(&format!("printf x > {cache}/.upload.999999999"));
    let out = ssh(&host, "root", &format!("cd {d}; sh upload.sh < upload-in"));
    assert!(out.contains("SHMGUARD-T RUN"), "{out}");
    assert_eq!(host.sh(&format!("ls -A {cache}")).trim(), digest);
}

#[test]
fn ansible_trust_a_banner_host_works_twice_the_second_run_cached_another_user() {
    let host = SshHost::new("size=64m,mode=755", true);
    let home = host.sb.path("home");
    // The login user's shell is bash, whose ~/.bashrc greets every ssh command.
    host.sh(&format!(
        "set -e; p={d}/passwd; t=$(sed 's|^\\(shmguard-e2e:.*\\):/bin/sh$|\\1:/bin/bash|' $p); printf '%s\\n' \"$t\" > $p; \
         printf 'echo \"Welcome to {{prod}} host\"\\n' > {home}/.bashrc; chown 4242:4242 {home}/.bashrc",
        d = host.sb.path("")
    ));
    assert!(
        ssh(&host, crate::ssh_host::USER, "true").contains("Welcome to {prod} host"),
        "the banner is not shown"
    );
    let inv = host.inventory(true, "");
    // As the login user the banner is on the same stdout: check mode (applying needs root)
    // runs from a temporary copy, then the read-only audit caches the build and runs it.
    let pb = host.playbook("", &task(&host, ""));
    let (out, text, result) = host.ansible_playbook(&inv, &pb, &["--check"]);
    assert!(out.status.success(), "{text}");
    assert_eq!(reason(&result), "check", "{result}");
    let audit = host.playbook(
        "",
        &format!(
            "      shmguard.shm.audit:\n        profile: [cis]\n        init: other\n        fstab: {}\n",
            host.fstab
        ),
    );
    let (out, text, result) = host.ansible_playbook(&inv, &audit, &[]);
    assert!(out.status.success(), "{text}");
    assert_eq!(reason(&result), "missing", "{result}");
    let ((out, text, result), commands) =
        counting(&host, || host.ansible_playbook(&inv, &audit, &[]));
    assert!(out.status.success(), "{text}");
    assert_eq!(reason(&result), "cached", "{result}");
    assert_eq!(commands, 1, "{text}");
    // With become.
    let pb = host.playbook("  become: true\n", &task(&host, ""));
    let (out, text, result) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    assert_eq!(reason(&result), "missing", "{result}");
    assert_eq!(host.sb.mode("/dev/shm"), "1777");
    let ((out, text, result), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(out.status.success() && text.contains("changed=0"), "{text}");
    assert_eq!(reason(&result), "cached", "{result}");
    assert_eq!(commands, 1, "{text}");
}

#[test]
fn ansible_trust_a_become_user_without_a_home_works_or_fails_before_upload_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let leftovers = "ls /tmp | grep -c '^shmguard\\.' || true";
    let before = host.sh(leftovers);
    let inv = host.inventory(false, "");
    let pb = host.playbook("  become: true\n  become_user: nobody\n", &task(&host, ""));
    for _ in 0..2 {
        let ((out, text, result), commands) =
            counting(&host, || host.ansible_playbook(&inv, &pb, &["--check"]));
        assert!(out.status.success(), "{text}");
        assert_eq!(result["changed"], true, "{result}");
        assert_eq!(reason(&result), "uncached", "{result}");
        assert_eq!(commands, 2, "{text}");
        assert!(
            text.contains("uid 65534 has no usable home directory")
                && text.contains("set shmguard_cache_dir"),
            "{text}"
        );
    }
    assert_eq!(host.sh(leftovers), before, "a temporary directory was left");
    assert_eq!(host.sb.mode("/dev/shm"), "755");

    // A cache directory that user cannot create fails before any upload, naming the variable.
    let inv = host.inventory(false, "shmguard_cache_dir=/var/cache/nobody");
    let ((out, text, _), commands) =
        counting(&host, || host.ansible_playbook(&inv, &pb, &["--check"]));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("cannot create the cache directory /var/cache/nobody: /var/cache is not writable by uid 65534; set shmguard_cache_dir"),
        "{text}"
    );
    assert_eq!(commands, 1, "{text}");
}

#[test]
fn ansible_trust_a_wrong_cpu_fails_clearly_and_keeps_the_right_build_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "");
    let pb = host.playbook("", &task(&host, ""));
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    let cached = host.sh("ls /var/cache/shmguard");

    // An "aarch64 build" (the x86_64 one with the aarch64 ELF machine) and shmguard_arch=aarch64.
    let build = host.build_path();
    let fake = build.replace("x86_64", "aarch64");
    host.sh(&format!(
        "cp {build} {fake} && printf '\\267\\000' | dd of={fake} bs=1 seek=18 conv=notrunc 2>/dev/null"
    ));
    let wrong = host.inventory(false, "shmguard_arch=aarch64");
    let ((out, text, _), commands) = counting(&host, || host.ansible_playbook(&wrong, &pb, &[]));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("the build chosen for this host is for aarch64")
            && text.contains("its CPU is x86_64 (uname -m)"),
        "{text}"
    );
    assert_eq!(commands, 1, "no upload\n{text}");
    assert_eq!(
        host.sh("ls /var/cache/shmguard"),
        cached,
        "the right build is kept"
    );

    // A collection whose x86_64 file is the aarch64 build fails on the controller.
    let inv = host.inventory(false, ""); // the same file: rewritten without shmguard_arch
    host.sh(&format!("cp {build} {build}.good && cp {fake} {build}"));
    let ((out, text, _), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("shmguard-linux-x86_64 is an aarch64 build, not a build for x86_64"),
        "{text}"
    );
    assert_eq!(commands, 0, "{text}");
    assert_eq!(host.sh("ls /var/cache/shmguard"), cached);

    // The next right run uses the cached right build.
    host.sh(&format!("mv {build}.good {build}"));
    let ((out, text, result), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(out.status.success(), "{text}");
    assert_eq!(reason(&result), "cached", "{result}");
    assert_eq!(commands, 1, "{text}");
}

#[test]
fn ansible_trust_no_hashing_tool_fails_clearly_without_uploading_another_user() {
    let host = SshHost::new("size=64m,mode=755", false);
    let inv = host.inventory(false, "");
    let pb = host.playbook("", &task(&host, ""));
    // sha256sum and openssl that do not work, in this host's mount namespace only.
    let d = host.sb.path("").trim_end_matches('/').to_string();
    host.sh(&format!(
        "set -e; printf '#!/bin/sh\\nexit 127\\n' > {d}/broken; chmod 755 {d}/broken; \
         for t in sha256sum openssl; do p=$(command -v $t) && mount --bind {d}/broken $p; done"
    ));
    for _ in 0..2 {
        let ((out, text, _), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
        assert!(!out.status.success(), "{text}");
        assert!(
            text.contains(
                "no working sha256sum (package coreutils, or busybox) nor openssl (package openssl)"
            ),
            "{text}"
        );
        assert_eq!(commands, 1, "never uploads\n{text}");
    }
    assert_eq!(host.sh("ls -A /var/cache"), "", "nothing written");
    // With the tools back, it works; losing them again fails clearly, still without upload.
    host.sh("for t in sha256sum openssl; do umount $(command -v $t); done");
    let (out, text, _) = host.ansible_playbook(&inv, &pb, &[]);
    assert!(out.status.success(), "{text}");
    host.sh(&format!(
        "for t in sha256sum openssl; do mount --bind {d}/broken $(command -v $t); done"
    ));
    let ((out, text, _), commands) = counting(&host, || host.ansible_playbook(&inv, &pb, &[]));
    assert!(
        !out.status.success() && text.contains("no working sha256sum"),
        "{text}"
    );
    assert_eq!(commands, 1, "{text}");
}
