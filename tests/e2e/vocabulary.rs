//! One vocabulary on every command (issue 17): the parameter table's names (`--fstab-path`,
//! `--options`, every `state` word) and `--format` everywhere, the older spellings (`--fstab`,
//! `--option`, `--json`) still accepted, each default in `--help`, and the Salt back end
//! hidden from the command list.

use std::process::Output;

use serde_json::Value;
use shmguard::spec::params::{DEFAULT_FSTAB, DEFAULT_SYSCTL};

use crate::sandbox::Sandbox;

fn stdout(out: &Output) -> String {
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 2),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> Value {
    let text = stdout(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The audit report without what may differ between two runs (a time, a host name).
fn checks(v: &Value) -> Value {
    v["targets"].clone()
}

#[test]
fn every_command_takes_the_shared_names_and_the_old_spellings() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let fstab = sb.file("fstab", b"# scratch\n");
    let check = |flags: &[&str]| {
        let mut args = vec!["apply", "--check", "--path", &shm];
        args.extend_from_slice(flags);
        sb.run(&args)
    };
    // apply: --options, -o and --option; --fstab-path and --fstab; --format json and --json.
    let want = json(&check(&[
        "--options",
        "nodev",
        "--fstab-path",
        &fstab,
        "--format",
        "json",
    ]));
    assert_eq!(want["changed"], true, "{want}");
    for flags in [
        &["-o", "nodev", "--fstab-path", &fstab, "--json"][..],
        &["--option", "nodev", "--fstab", &fstab, "--format", "json"],
    ] {
        assert_eq!(json(&check(flags)), want, "{flags:?}");
    }
    // status: --format json is --json; --fstab-path is --fstab.
    let status = |flags: &[&str]| {
        let mut args = vec!["status", &shm];
        args.extend_from_slice(flags);
        sb.run(&args)
    };
    let want = json(&status(&["--fstab-path", &fstab, "--format", "json"]));
    assert!(want[&shm]["mounted"] == true, "{want}");
    assert_eq!(json(&status(&["--fstab", &fstab, "--json"])), want);
    assert!(!stdout(&status(&["--fstab-path", &fstab, "--format", "text"])).starts_with('{'));
    // audit: the same names.
    let policy = sb.file(
        "policy.json",
        format!(r#"{{"path": "{shm}", "state": "present", "options": ["nodev"]}}"#).as_bytes(),
    );
    let audit = |flags: &[&str]| {
        let mut args = vec!["audit", "--policy", &policy];
        args.extend_from_slice(flags);
        sb.run(&args)
    };
    let want = json(&audit(&["--fstab-path", &fstab, "--format", "json"]));
    assert!(!checks(&want).as_array().unwrap().is_empty(), "{want}");
    assert_eq!(
        checks(&json(&audit(&["--fstab", &fstab, "--json"]))),
        checks(&want)
    );
    // probe: --json is --format json (on a fresh tmpfs over /dev/shm, never the host's).
    sb.tmpfs_over("/dev/shm", "mode=1777,size=8m");
    let probe = json(&sb.run(&["probe", "--json"]));
    assert!(probe.is_object(), "{probe}");
}

/// The README's table lists absent_from_fstab (ansible.posix.mount's word); `--state` refused it.
#[test]
fn state_absent_from_fstab_removes_the_entry() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    let fstab = sb.file(
        "fstab",
        format!("# site\ntmpfs {shm} tmpfs nodev 0 0\n").as_bytes(),
    );
    let r = sb.apply(&[
        "--path",
        &shm,
        "--state",
        "absent_from_fstab",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(
        (r["failed"].clone(), r["changed"].clone()),
        (false.into(), true.into()),
        "{r}"
    );
    assert_eq!(String::from_utf8(sb.read(&fstab)).unwrap(), "# site\n");
    assert!(sb.mountinfo(&shm).contains("tmpfs"), "never unmounts");
}

#[test]
fn help_shows_each_default_and_leaves_the_salt_back_end_out() {
    let sb = Sandbox::new();
    let help = |args: &[&str]| {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&["--help"]);
    assert!(
        top.contains("  apply ") && top.contains("  status "),
        "{top}"
    );
    assert!(
        !top.contains("  salt "),
        "the Salt back end is not a command for people:\n{top}"
    );
    // Hidden, not gone: the Salt states still run it, and its help still says what it is.
    assert!(help(&["salt", "--help"]).contains("Salt state"));
    let apply = help(&["apply", "--help"]);
    for want in [
        "[default: /dev/shm]".to_string(),
        format!("[default: {DEFAULT_FSTAB}]"),
        format!("[default: {DEFAULT_SYSCTL}]"),
        "[default: mounted]".to_string(),
        "[default: auto]".to_string(),
        "[default: text]".to_string(),
        "absent_from_fstab".to_string(),
        "--options".to_string(),
    ] {
        assert!(apply.contains(&want), "{want} not in:\n{apply}");
    }
    // One vocabulary: the old spellings work but are not offered.
    for old in ["--option ", "--json", "--fstab "] {
        assert!(!apply.contains(old), "{old} in:\n{apply}");
    }
    let status = help(&["status", "--help"]);
    assert!(
        status.contains(&format!("[default: {DEFAULT_FSTAB}]")),
        "{status}"
    );
    assert!(status.contains("--format"), "{status}");
    for cmd in ["audit", "probe"] {
        let h = help(&[cmd, "--help"]);
        assert!(
            h.contains("[default: text on a terminal, else json]"),
            "{h}"
        );
    }
    assert!(help(&["audit", "--help"]).contains("--fstab-path"));
}
