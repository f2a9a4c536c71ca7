//! `shmguard probe`: real shm_open/sem_open/mq_open as an unprivileged user against fresh
//! mounts; EACCES at 0755, pass at 1777; exec denied under noexec; --bytes beyond the tmpfs
//! fails with ENOSPC instead of SIGBUS; nothing is left behind.

use serde_json::Value;

use crate::sandbox::Sandbox;

fn probe(sb: &Sandbox, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["probe", "--format", "json"];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), v)
}

fn check<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {v}"))
}

/// Needs real root: switching to another uid is impossible in a user namespace that maps only
/// the caller (tests/run says so and leaves this test out for ordinary users).
#[test]
fn probe_as_another_user_fails_like_semlock_at_0755_and_passes_at_1777() {
    crate::sandbox::require_real_root();
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=755,size=16m");
    let (code, v) = probe(&sb, &["--user", "nobody"]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["user"], "nobody");
    let sem = check(&v, "semaphore");
    assert_eq!(sem["status"], "fail");
    assert_eq!(sem["errno"], "sem_open: EACCES");
    assert!(
        sem["remedy"]
            .as_str()
            .unwrap()
            .contains("chmod 1777 /dev/shm (shmguard apply --path /dev/shm --mode 1777)"),
        "{sem}"
    );
    assert_eq!(check(&v, "shared_memory")["errno"], "shm_open: EACCES");
    let exec = check(&v, "exec_mapping");
    assert_eq!(
        exec["detail"], "not tested: could not create an object to map (shm_open: EACCES)",
        "issue 10: a failure to create is not noexec"
    );
    assert_eq!(
        check(&v, "message_queue")["status"],
        "pass",
        "the mqueue is 1777 by default"
    );

    sb.sh("chmod 1777 /dev/shm");
    let (code, v) = probe(&sb, &["--user", "nobody"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(check(&v, "semaphore")["status"], "pass");
    assert_eq!(sb.sh("ls -A /dev/shm"), "");
}

#[test]
fn probe_reports_exec_denied_under_noexec() {
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=1777,noexec,size=16m");
    let (code, v) = probe(&sb, &[]);
    assert_eq!(code, 0, "exec denial is a fact, not a failure: {v}");
    let exec = check(&v, "exec_mapping");
    assert_eq!(exec["status"], "info");
    assert_eq!(exec["errno"], "mmap PROT_EXEC: EPERM");
    assert!(exec["detail"].as_str().unwrap().contains("denied"));
    let r = sb.apply(&["--path", "/dev/shm", "-o", "exec", "--state", "ephemeral"]);
    assert_eq!(r["actions"][0], "remount /dev/shm: drop noexec", "{r}");
    let (_, v) = probe(&sb, &[]);
    assert!(
        check(&v, "exec_mapping")["detail"]
            .as_str()
            .unwrap()
            .contains("allowed")
    );
}

#[test]
fn probe_bytes_beyond_the_tmpfs_fail_cleanly_without_sigbus() {
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=16m");
    let (code, v) = probe(&sb, &["--bytes", "8m"]);
    assert_eq!(code, 0, "{v}");
    let (code, v) = probe(&sb, &["--bytes", "64m"]);
    assert_eq!(code, 2, "{v}");
    let r = check(&v, "reserve");
    assert_eq!(r["errno"], "posix_fallocate: ENOSPC");
    assert_eq!(
        r["remedy"],
        check(&v, "free_space")["remedy"],
        "the probe's room verdict names the same fix"
    );
    assert!(
        r["remedy"].as_str().unwrap().starts_with(
            "free space in /dev/shm or grow /dev/shm by 49M, to at least 65M (shmguard apply --path /dev/shm --min-size 65M)"
        ),
        "{r}"
    );
    assert_eq!(sb.sh("ls -A /dev/shm"), "", "the probe left objects behind");
    assert!(
        sb.sh("df -k /dev/shm | tail -1").split_whitespace().nth(2) == Some("0"),
        "space not freed"
    );
}

#[test]
fn audit_probe_folds_the_probe_into_the_report() {
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=16m");
    let out = sb.run(&[
        "audit",
        "--profile",
        "multiprocessing",
        "--probe",
        "--bytes",
        "64m",
        "--format",
        "junit",
    ]);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"probe as root and nobody\""),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testcase classname=\"shmguard.probe\" name=\"reserve (as root)\">\n      <failure"
        ),
        "{xml}"
    );
}

#[test]
fn probe_as_an_unknown_user_is_an_error() {
    let sb = Sandbox::new();
    let (code, v) = probe(&sb, &["--user", "no-such-user-xyz"]);
    assert_eq!(code, 1);
    assert!(
        v["error"].as_str().unwrap().contains("is not a user"),
        "{v}"
    );
}

/// The failure users actually hit, end to end: Python's multiprocessing as an ordinary user on
/// a /dev/shm that lost 1777 raises PermissionError from SemLock; after `shmguard apply` it
/// works. Needs real root (switching to nobody) and a system python3 (/usr/bin/python3).
#[test]
fn probe_as_another_user_python_semlock_is_fixed_by_apply() {
    crate::sandbox::require_real_root();
    let python = "/usr/bin/python3";
    assert!(
        std::path::Path::new(python).exists(),
        "{python} is missing: apt-get install python3"
    );
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=755,size=16m");
    let lock = format!(
        "setpriv --reuid=nobody --regid=nogroup --clear-groups {python} -c 'import multiprocessing; multiprocessing.Lock(); print(\"ok\")' 2>&1; true"
    );
    let before = sb.sh(&lock);
    assert!(
        before.contains("PermissionError: [Errno 13] Permission denied"),
        "{before}"
    );
    let r = sb.apply(&[
        "--path",
        "/dev/shm",
        "--mode",
        "1777",
        "--state",
        "ephemeral",
    ]);
    assert_eq!(r["actions"][0], "chmod /dev/shm 0755 -> 1777", "{r}");
    assert_eq!(sb.sh(&lock), "ok\n");
}

/// Issue 18: a queue shape no sysctl can allow is bad input, named, exit 1.
#[test]
fn probe_refuses_a_queue_shape_beyond_the_kernel_s_hard_limits() {
    let sb = Sandbox::new();
    for (flag, value, want) in [
        (
            "--mq-maxmsg",
            "0",
            "--mq-maxmsg: 0 is not accepted; expected 1 to 65536",
        ),
        (
            "--mq-msgsize",
            "16777217",
            "--mq-msgsize: 16777217 is not accepted; expected 1 to 16777216",
        ),
    ] {
        for cmd in [&["probe"][..], &["audit", "--profile", "mqueue"]] {
            let mut args = cmd.to_vec();
            args.extend([flag, value]);
            let out = sb.run(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(want), "{args:?}: {err}");
        }
    }
}
