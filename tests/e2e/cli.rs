//! The human CLI's first hour: each mistake a newcomer makes gets its exit code (0 done or
//! compliant, 2 drift from audit and probe only, 1 every error, usage errors included) and a
//! message on stderr naming what was wrong; a mistake changes nothing.

use std::process::Output;

use crate::sandbox::{BIN, Sandbox};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts exit 1, nothing on stdout, and every one of `wanted` in stderr; returns stderr.
fn error(out: &Output, wanted: &[&str]) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stdout, "", "an error belongs on stderr; stderr: {stderr}");
    for w in wanted {
        assert!(stderr.contains(w), "{w:?} not in stderr: {stderr}");
    }
    stderr
}

/// A sandbox with a fresh tmpfs for the target and a scratch fstab; never the host's.
fn target(sb: &Sandbox) -> (String, String) {
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let fstab = sb.file("fstab", b"# scratch\n");
    (shm, fstab)
}

#[test]
fn a_mistyped_command_is_a_usage_error_with_a_suggestion() {
    let sb = Sandbox::new();
    let err = error(
        &sb.run(&["statu"]),
        &["unrecognized subcommand 'statu'", "'status'"],
    );
    assert!(!err.contains("module arguments file"), "{err}");
}

#[test]
fn a_mistyped_flag_gets_did_you_mean() {
    let sb = Sandbox::new();
    let (shm, fstab) = target(&sb);
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    error(
        &sb.run(&[
            "apply",
            "--path",
            &shm,
            "--mdoe",
            "1777",
            "--fstab-path",
            &fstab,
        ]),
        &[
            "unexpected argument '--mdoe'",
            "a similar argument exists: '--mode'",
        ],
    );
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
}

/// CI must tell a typo from a non-compliant host: the typo is 1, the drift 2.
#[test]
fn an_audit_usage_error_exits_1_and_drift_exits_2() {
    let sb = Sandbox::new();
    error(
        &sb.run(&["audit", "--profile", "cs"]),
        &["invalid value 'cs' for '--profile", "cis"],
    );
    error(
        &sb.run(&["audit", "--format", "yaml"]),
        &["invalid value 'yaml'"],
    );
    error(
        &sb.run(&["probe", "--bytes"]),
        &["a value is required for '--bytes"],
    );
    // --user without --probe used to be ignored without a word.
    error(&sb.run(&["audit", "--user", "nobody"]), &["--probe"]);
    // Drift: a 0755 /dev/shm without nodev, as the default profile sees it.
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=755,size=8m");
    let fstab = sb.file("fstab", b"");
    let out = sb.run(&["audit", "--fstab", &fstab, "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn help_lists_the_exit_codes() {
    let sb = Sandbox::new();
    let out = sb.run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("0  done"), "{help}");
    assert!(help.contains("2  drift found"), "{help}");
    assert!(help.contains("1  every error"), "{help}");
}

#[test]
fn an_unknown_word_that_names_a_file_is_still_the_ansible_protocol() {
    let sb = Sandbox::new();
    sb.file("statu", b"not json");
    // Run from the sandbox's directory, where the word `statu` names that file.
    let out = sb
        .command("sh")
        .args([
            "-c",
            &format!("cd {} && exec {BIN} statu", sb.dir.display()),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(v["failed"], true, "{v}");
    assert_eq!(out.status.code(), Some(1));
    // A missing absolute path is still Ansible's (it always passes one): a JSON failure.
    let missing = sb.path("no-such-args-file");
    let out = sb.run(&[&missing]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["msg"]
            .as_str()
            .unwrap()
            .contains(&format!("cannot read the module arguments file {missing}")),
        "{v}"
    );
}

#[test]
fn apply_with_nothing_to_enforce_is_a_usage_error_and_changes_nothing() {
    let sb = Sandbox::new();
    let (shm, fstab) = target(&sb);
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    for extra in [&[][..], &["--check"], &["--json"], &["-o", ""]] {
        let mut args = vec!["apply", "--path", &shm, "--fstab-path", &fstab];
        args.extend_from_slice(extra);
        error(
            &sb.run(&args),
            &[
                &format!("nothing to enforce on {shm}"),
                "--mode",
                "--size",
                "--state",
            ],
        );
        assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap, "{extra:?}");
    }
    // An explicit --state is something to enforce: the entry is added.
    let r = sb.apply(&["--path", &shm, "--fstab-path", &fstab, "--state", "present"]);
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(r["changed"], true, "{r}");
}

#[test]
fn an_apply_error_is_printed_on_stderr() {
    let sb = Sandbox::new();
    let (shm, fstab) = target(&sb);
    error(
        &sb.run(&[
            "apply",
            "--path",
            &shm,
            "--size",
            "lots",
            "--fstab-path",
            &fstab,
        ]),
        &["error: size: \"lots\" is not accepted"],
    );
}

#[test]
fn probe_as_an_unknown_user_names_the_user() {
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=8m");
    let err = error(
        &sb.run(&["probe", "--user", "nosuchuser", "--format", "text"]),
        &["\"nosuchuser\" is not a user"],
    );
    assert!(!err.contains("uid 0"), "{err}");
    error(
        &sb.run(&[
            "audit",
            "--probe",
            "--user",
            "nosuchuser",
            "--format",
            "text",
        ]),
        &["\"nosuchuser\" is not a user"],
    );
}

#[test]
fn audit_of_a_missing_fstab_or_root_names_the_path() {
    let sb = Sandbox::new();
    let missing = sb.path("nonexistent");
    for format in ["text", "json"] {
        error(
            &sb.run(&["audit", "--fstab-path", &missing, "--format", format]),
            &[&format!("--fstab-path {missing}"), "No such file"],
        );
        error(
            &sb.run(&["audit", "--root", &missing, "--format", format]),
            &[&format!("--root {missing}"), "No such file"],
        );
    }
    let file = sb.file("not-a-dir", b"");
    error(
        &sb.run(&["audit", "--root", &file]),
        &[&format!("--root {file}"), "not a directory"],
    );
}

/// A mistyped --fstab-path must not create a new fstab and report success: it fails naming the
/// parameter and the path, creates nothing, and check mode says the same. (A missing fstab in
/// an existing directory is created by mounted and present: see fstab_edit.)
fn mistyped_fstab_path_fails_and_creates_nothing(typo_rel: &str, state: &str) {
    let sb = Sandbox::new();
    let (shm, fstab) = target(&sb);
    let typo = sb.path(typo_rel);
    let listing = || sb.sh(&format!("ls -AR {}", sb.dir.display()));
    let snap = (sb.snapshot(&[&shm], &[&fstab]), listing());
    let base = [
        "apply",
        "--path",
        &shm,
        "--state",
        state,
        "-o",
        "nodev",
        "--fstab-path",
        &typo,
    ];
    let mut messages = Vec::new();
    for check in [true, false] {
        let mut args = base.to_vec();
        if check {
            args.push("--check");
        }
        messages.push(error(&sb.run(&args), &["fstab_path", &typo]));
        assert_eq!((sb.snapshot(&[&shm], &[&fstab]), listing()), snap);
    }
    assert_eq!(messages[0], messages[1], "check mode gives another answer");
}

#[test]
fn apply_with_an_fstab_path_in_a_missing_directory_fails_and_creates_nothing() {
    for state in ["mounted", "present"] {
        mistyped_fstab_path_fails_and_creates_nothing("nonexistent/fstab", state);
    }
}

#[test]
fn absent_with_a_missing_fstab_path_fails_and_creates_nothing() {
    mistyped_fstab_path_fails_and_creates_nothing("fstab-typo", "absent");
}
