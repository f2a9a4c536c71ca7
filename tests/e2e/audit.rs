//! `shmguard audit`: profiles against compliant and drifted fresh mounts, policy files, the
//! three formats parsed back (JUnit by a real XML parser, JSON against its schema), exit codes,
//! and proof that an audit changes nothing.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::sandbox::Sandbox;

/// A sandbox whose /dev/shm and /dev/mqueue are fresh mounts (the host's are untouched).
fn fresh_dev(shm_opts: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", shm_opts);
    sb.sh("mount -t mqueue -o nodev,nosuid,noexec mqueue /dev/mqueue");
    sb
}

fn audit(sb: &Sandbox, args: &[&str]) -> (i32, String) {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn json_audit(sb: &Sandbox, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out) = audit(sb, &all);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
    )
}

/// The ids of the failing checks of an audit report, in order.
pub fn failing(v: &Value) -> Vec<String> {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["checks"].as_array().unwrap().clone())
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// The test venv's python (it has jsonschema): SHMGUARD_ANSIBLE_VENV, as for the Ansible tests.
fn python() -> String {
    match std::env::var("SHMGUARD_ANSIBLE_VENV") {
        Ok(dir) => format!("{dir}/bin/python"),
        Err(_) => format!(
            "{}/target/venv/ansible/bin/python",
            env!("CARGO_MANIFEST_DIR")
        ),
    }
}

/// Runs a Python snippet (from the test venv, which has jsonschema) on `input`.
pub fn py(script: &str, input: &str) -> String {
    let mut c = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run ./tests/run, which installs the venv",
                python()
            )
        });
    std::io::Write::write_all(c.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cis_profile_passes_on_a_hardened_dev_shm_and_fails_on_a_drifted_one() {
    let sb = fresh_dev("nodev,nosuid,noexec,mode=1777");
    let fstab = sb.file(
        "fstab",
        b"tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n",
    );
    let (code, v) = json_audit(&sb, &["--profile", "cis", "--fstab", &fstab]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["checks"], 15, "live, fstab and boot: {v}");
    let nodev = &v["targets"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "dev-shm.nodev.fstab")
        .unwrap()
        .clone();
    assert_eq!(
        nodev["references"],
        serde_json::json!(["CIS RHEL9 v2.0.0 1.1.2.2.2", "STIG RHEL-09-231110"])
    );

    let drifted = fresh_dev("mode=1777");
    let fstab = drifted.file("fstab", b"tmpfs /dev/shm tmpfs defaults,nodev 0 0\n");
    let (code, v) = json_audit(&drifted, &["--profile", "cis", "--fstab", &fstab]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(
        failing(&v),
        [
            "dev-shm.nodev.live",
            "dev-shm.nosuid.live",
            "dev-shm.noexec.live",
            "dev-shm.nosuid.fstab",
            "dev-shm.noexec.fstab",
            "dev-shm.nosuid.boot",
            "dev-shm.noexec.boot"
        ]
    );
}

fn detail(v: &Value, id: &str) -> String {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["checks"].as_array().unwrap().clone())
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {v}"))["detail"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Issue 10: the multiprocessing profile judges /dev/shm only (Python never uses
/// /dev/mqueue), by what programs need: 1733 works, 0777 is a security problem, 0755 fails.
#[test]
fn multiprocessing_profile_judges_dev_shm_as_programs_use_it() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=16m");
    let (code, v) = json_audit(&sb, &["--profile", "multiprocessing"]);
    assert_eq!(code, 0, "passes with no /dev/mqueue mounted: {v}");
    assert_eq!(v["summary"]["checks"], 5, "{v}");
    sb.sh("chmod 1733 /dev/shm");
    assert_eq!(json_audit(&sb, &["--profile", "multiprocessing"]).0, 0);
    sb.sh("chmod 0777 /dev/shm");
    let (code, v) = json_audit(&sb, &["--profile", "multiprocessing"]);
    assert_eq!(code, 2);
    assert_eq!(failing(&v), ["dev-shm.mode.live"]);
    assert!(
        detail(&v, "dev-shm.mode.live").contains("security problem"),
        "{v}"
    );
    sb.sh("chmod 0755 /dev/shm");
    let (code, v) = json_audit(&sb, &["--profile", "multiprocessing"]);
    assert_eq!(code, 2);
    assert_eq!(failing(&v), ["dev-shm.mode.live"]);
    assert!(
        detail(&v, "dev-shm.mode.live")
            .contains("every user can create and, being sticky, keeps users from deleting")
            || detail(&v, "dev-shm.mode.live").contains("lets every user create"),
        "{v}"
    );
}

/// Issue 10 point 11: the summary counts the probe's checks too.
#[test]
fn the_summary_counts_the_probe_s_checks() {
    let sb = fresh_dev("mode=1777,size=16m");
    let (code, v) = json_audit(
        &sb,
        &["--profile", "multiprocessing", "--probe", "--bytes", "64m"],
    );
    assert_eq!(code, 2, "{v}");
    let probe_checks = v["probe"]["checks"].as_array().unwrap().len();
    assert_eq!(v["summary"]["checks"], 5 + probe_checks as u64, "{v}");
    assert_eq!(
        v["summary"]["failed"], 4,
        "reserve as root and as nobody, and the probe's and the profile's free space, one verdict (issue 23): {v}"
    );
    assert_eq!(v["compliant"], false);
    let (_, text) = audit(
        &sb,
        &[
            "--profile",
            "multiprocessing",
            "--probe",
            "--bytes",
            "64m",
            "--format",
            "text",
        ],
    );
    assert!(
        text.starts_with(&format!(
            "shmguard audit: NOT compliant — {} checks, {} passed, 0 warned, 4 failed, 0 errors\n",
            5 + probe_checks,
            1 + probe_checks
        )),
        "{text}"
    );
}

#[test]
fn the_default_audit_runs_with_no_arguments() {
    let sb = fresh_dev("mode=1777,nodev,nosuid");
    let (code, text) = audit(&sb, &["--format", "text"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.starts_with(
            "shmguard audit: compliant — 8 checks, 8 passed, 0 warned, 0 failed, 0 errors\n"
        ),
        "{text}"
    );
}

#[test]
fn an_audit_changes_nothing_byte_for_byte() {
    let sb = fresh_dev("mode=755,size=8m");
    let fstab = sb.file("fstab", b"# x\r\ntmpfs /dev/shm tmpfs defaults 0 0");
    let snap = sb.snapshot(&["/dev/shm", "/dev/mqueue"], &[&fstab]);
    for p in ["cis", "multiprocessing", "mqueue", "default"] {
        for f in ["text", "json", "junit", "prometheus"] {
            let (code, _) = audit(&sb, &["--profile", p, "--fstab", &fstab, "--format", f]);
            // only /dev/shm drifted: the mqueue profile passes
            assert_eq!(code, if p == "mqueue" { 0 } else { 2 }, "{p} {f}");
        }
    }
    assert_eq!(sb.snapshot(&["/dev/shm", "/dev/mqueue"], &[&fstab]), snap);
    assert_eq!(sb.sh("ls -A /dev/shm"), "", "the audit left files behind");
}

#[test]
fn json_report_validates_against_the_committed_schema() {
    let sb = fresh_dev("mode=755");
    let fstab = sb.file("fstab", b"");
    let (_, out) = audit(
        &sb,
        &[
            "--profile",
            "cis",
            "--profile",
            "multiprocessing",
            "--fstab",
            &fstab,
            "--probe",
            "--format",
            "json",
        ],
    );
    let schema = format!("{}/schema/audit.schema.json", env!("CARGO_MANIFEST_DIR"));
    let script = format!(
        "import json,sys,jsonschema\njsonschema.validate(json.load(sys.stdin), json.load(open({schema:?})))\nprint('valid')"
    );
    assert_eq!(py(&script, &out), "valid\n");
}

#[test]
fn junit_report_parses_with_one_testcase_per_check() {
    let sb = fresh_dev("mode=1777");
    let fstab = sb.file("fstab", b"");
    let (code, xml) = audit(
        &sb,
        &["--profile", "cis", "--fstab", &fstab, "--format", "junit"],
    );
    assert_eq!(code, 2);
    let script = "import sys, xml.etree.ElementTree as ET\nr = ET.fromstring(sys.stdin.read())\ncases = r.findall('.//testcase')\nfails = [c.get('name') for c in cases if c.find('failure') is not None]\nprint(r.tag, r.get('tests'), r.get('failures'), len(cases))\nprint(fails[0])";
    let parsed = py(script, &xml);
    assert_eq!(
        parsed,
        "testsuites 11 9 11\n/dev/shm nodev (live) [CIS RHEL9 v2.0.0 1.1.2.2.2, STIG RHEL-09-231110]\n",
        "{xml}"
    );
}

#[test]
fn policy_files_hold_one_target_or_a_list_and_bad_ones_exit_1() {
    let sb = fresh_dev("mode=1777,size=64m");
    let fstab = sb.file("fstab", b"");
    let one = sb.file(
        "one.json",
        br#"{"path": "/dev/shm", "state": "ephemeral", "min_size": "32m"}"#,
    );
    assert_eq!(json_audit(&sb, &["--policy", &one]).0, 0);
    let list = sb.file(
        "list.json",
        format!(r#"[{{"path": "/dev/shm", "size": "1g", "fstab_path": "{fstab}", "references": {{"size": ["SITE-7"]}}}}, {{"path": "/dev/mqueue", "state": "ephemeral", "queues_max": 256}}]"#).as_bytes(),
    );
    let (code, v) = json_audit(&sb, &["--policy", &list]);
    assert_eq!(code, 2);
    assert_eq!(
        failing(&v),
        [
            "dev-shm.size.live",
            "dev-shm.fstab.fstab",
            "dev-shm.size.fstab",
            "dev-shm.rw.fstab",
            "dev-shm.mounted.boot"
        ]
    );
    assert_eq!(
        v["targets"][0]["checks"][1]["references"],
        serde_json::json!(["SITE-7"])
    );

    let bad = sb.file("bad.json", br#"{"path": "/dev/shm", "mode": "rwx"}"#);
    let out = sb.run(&["audit", "--policy", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let out = sb.run(&["audit", "--policy", &sb.path("missing.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read it"));
    let unreadable = sb.path("dir-as-fstab");
    sb.sh(&format!("mkdir {unreadable}"));
    let (code, v) = json_audit(&sb, &["--profile", "cis", "--fstab", &unreadable]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{v}"
    );
}

#[test]
fn root_audits_an_image_s_files_without_live_checks() {
    let sb = Sandbox::new();
    let image = sb.path("image");
    sb.sh(&format!("mkdir -p {image}/etc && printf 'tmpfs /dev/shm tmpfs nodev,nosuid,noexec 0 0\\n' > {image}/etc/fstab"));
    let (code, v) = json_audit(&sb, &["--profile", "cis", "--root", &image]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["summary"]["checks"], 10,
        "fstab and boot checks only: {v}"
    );
    sb.sh(&format!("printf '# nothing\\n' > {image}/etc/fstab"));
    let (code, v) = json_audit(&sb, &["--profile", "cis", "--root", &image]);
    assert_eq!(code, 2);
    assert_eq!(
        failing(&v).len(),
        6,
        "5 fstab checks (rw among them), and boot does not mount it: {v}"
    );
}

/// Issue 22: the cis and default profiles flag a read-only /dev/shm (a check of its own,
/// which apply fixes: a read-only mount is drift unless `ro` is asked for); the
/// multiprocessing profile's own condition judges it once.
#[test]
fn profiles_flag_a_read_only_dev_shm() {
    let sb = fresh_dev("mode=1777,size=16m,nodev,nosuid,noexec,ro");
    let fstab = sb.file(
        "fstab",
        b"tmpfs /dev/shm tmpfs nodev,nosuid,noexec 0 0\ntmpfs /dev/mqueue mqueue defaults 0 0\n",
    );
    for profile in ["cis", "default"] {
        let (code, v) = json_audit(&sb, &["--profile", profile, "--fstab", &fstab]);
        assert_eq!(code, 2, "{profile}: {v}");
        assert_eq!(failing(&v), ["dev-shm.rw.live"], "{profile}: {v}");
        assert!(
            detail(&v, "dev-shm.rw.live").contains("make the filesystem (superblock) read-write"),
            "{v}"
        );
        assert_eq!(v["targets"][0]["wanted"]["rw"], "mounted read-write", "{v}");
    }
    let (code, v) = json_audit(&sb, &["--profile", "multiprocessing"]);
    assert_eq!(code, 2, "{v}");
    let ids: Vec<Value> = v["targets"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .filter(|id| id == "dev-shm.rw.live")
        .collect();
    assert_eq!(ids.len(), 1, "one rw check: {v}");
    assert!(
        detail(&v, "dev-shm.rw.live").contains("EROFS"),
        "the condition's detail: {v}"
    );
    // the remedy the audit names makes it pass
    let r = sb.apply(&[
        "--path",
        "/dev/shm",
        "--fstab-path",
        &fstab,
        "-o",
        "nodev,nosuid,noexec",
    ]);
    assert_eq!(r["failed"], false, "{r}");
    let (code, v) = json_audit(&sb, &["--profile", "cis", "--fstab", &fstab]);
    assert_eq!(code, 0, "{v}");
    // asked for, ro is the desired state
    sb.sh("mount -o remount,ro /dev/shm");
    let policy = sb.file(
        "ro.json",
        br#"{"path": "/dev/shm", "state": "ephemeral", "options": ["ro"]}"#,
    );
    let (code, v) = json_audit(&sb, &["--policy", &policy]);
    assert_eq!(code, 0, "{v}");
}

/// Issue 10 point 13: `apply -o rw` on a read-only tmpfs clears the superblock's ro too, so
/// writes work afterwards; the multiprocessing profile fails before and passes after.
#[test]
fn apply_rw_makes_a_read_only_tmpfs_really_writable() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=16m,ro");
    let (code, v) = json_audit(&sb, &["--profile", "multiprocessing"]);
    assert_eq!(code, 2);
    assert_eq!(failing(&v), ["dev-shm.rw.live"], "{v}");
    let r = sb.apply(&["--path", "/dev/shm", "-o", "rw", "--state", "ephemeral"]);
    assert_eq!(
        r["actions"][0],
        "remount /dev/shm: add rw, drop ro, make the filesystem (superblock) read-write",
        "{r}"
    );
    let line = sb.mountinfo("/dev/shm");
    assert!(line.contains(" - tmpfs tmpfs rw,"), "{line}");
    sb.sh("touch /dev/shm/written && rm /dev/shm/written");
    assert_eq!(json_audit(&sb, &["--profile", "multiprocessing"]).0, 0);
    // the buggy state of old versions: per-mount rw over a read-only superblock
    sb.sh("mount -o remount,ro /dev/shm && mount -o remount,bind,rw /dev/shm");
    let (code, v) = json_audit(&sb, &["--profile", "multiprocessing"]);
    assert_eq!(code, 2);
    assert!(
        detail(&v, "dev-shm.rw.live").starts_with("the filesystem (superblock) is read-only"),
        "{v}"
    );
    let r = sb.apply(&["--path", "/dev/shm", "-o", "rw", "--state", "ephemeral"]);
    assert_eq!(
        r["actions"][0], "remount /dev/shm: make the filesystem (superblock) read-write",
        "{r}"
    );
    sb.sh("touch /dev/shm/written");
}
