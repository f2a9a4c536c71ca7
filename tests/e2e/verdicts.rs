//! Issue 18: the warn verdict in every output. /dev/shm with 11 free inodes (a Pool, which
//! needs 7, works, with less than the recommended 16 more beside it): the multiprocessing
//! profile and the probe warn, exit 0, and show it as
//! `WARN` in text, `"status": "warn"` in JSON valid against schema/audit.schema.json, a passed
//! JUnit case whose system-out starts with `WARNING:` (parsed by Python's XML parser), and
//! `*_warning` gauges in Prometheus (parsed by prometheus_client).

use crate::audit::py;
use crate::clients::venv_python;
use crate::sandbox::Sandbox;

/// A fresh /dev/shm with 11 free inodes, in a private /dev.
fn eleven_free() -> Sandbox {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=16m,nr_inodes=20");
    sb.sh("for i in $(seq 1 8); do touch /dev/shm/f$i; done");
    sb
}

fn audit(sb: &Sandbox, format: &str) -> (i32, String) {
    let out = sb.run(&[
        "audit",
        "--profile",
        "multiprocessing",
        "--probe",
        "--format",
        format,
    ]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn verdicts_a_warning_exits_0_in_text_and_json() {
    let sb = eleven_free();
    let (code, text) = audit(&sb, "text");
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("shmguard audit: compliant — "), "{text}");
    assert!(text.contains(" 2 warned, 0 failed, 0 errors\n"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("/dev/shm free_inodes (live)"))
        .unwrap();
    assert!(line.starts_with("  WARN  "), "{line}");
    assert!(
        line.contains("11 of 20 inodes free") && line.contains("--nr-inodes 32"),
        "{line}"
    );
    let (code, json) = audit(&sb, "json");
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["compliant"], true);
    assert_eq!(
        v["summary"]["warned"], 2,
        "the profile's and the probe's: {v}"
    );
    let schema = format!("{}/schema/audit.schema.json", env!("CARGO_MANIFEST_DIR"));
    let script = format!(
        "import json,sys,jsonschema\njsonschema.validate(json.load(sys.stdin), json.load(open({schema:?})))\nprint('valid')"
    );
    assert_eq!(py(&script, &json), "valid\n");

    let out = sb.run(&["probe", "--format", "text"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("  WARN   root    free_inodes"), "{text}");
    assert!(text.contains("fix: raise nr_inodes by 12, to 32"), "{text}");
}

#[test]
fn verdicts_a_warning_is_a_passed_junit_case_with_system_out() {
    let sb = eleven_free();
    let (code, xml) = audit(&sb, "junit");
    assert_eq!(code, 0, "{xml}");
    let script = "import sys, xml.etree.ElementTree as ET\nr = ET.fromstring(sys.stdin.read())\nprint(r.get('failures'), r.get('errors'))\nfor c in r.findall('.//testcase'):\n    out = c.find('system-out')\n    if out is not None and out.text.startswith('WARNING:'):\n        print(c.get('name'), c.find('failure') is None, c.find('skipped') is None, out.text[:41])";
    assert_eq!(
        py(script, &xml),
        "0 0\n/dev/shm free_inodes (live) True True WARNING: 11 of 20 inodes free in /dev/shm\nfree_inodes (as root) True True WARNING: 11 of 20 inodes free in /dev/shm\n",
        "{xml}"
    );
}

#[test]
fn verdicts_a_warning_has_its_own_prometheus_gauge() {
    let sb = eleven_free();
    let (code, text) = audit(&sb, "prometheus");
    assert_eq!(code, 0, "{text}");
    let parse = "from prometheus_client.parser import text_string_to_metric_families as p\nimport sys\nfor f in p(sys.stdin.read()):\n    for s in f.samples:\n        if 'free_inodes' in str(s.labels) or s.name == 'shmguard_audit_warnings':\n            print(s.name, s.labels.get('id', s.labels.get('user', '')), s.value)";
    let mut c = std::process::Command::new(venv_python())
        .args(["-c", parse])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(c.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let out = String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap();
    for want in [
        "shmguard_audit_check dev-shm.free_inodes.live 1.0",
        "shmguard_audit_check_warning dev-shm.free_inodes.live 1.0",
        "shmguard_probe_check root 1.0",
        "shmguard_probe_check_warning root 1.0",
        "shmguard_audit_warnings  2.0",
    ] {
        assert!(out.lines().any(|l| l == want), "{want}\n{out}\n{text}");
    }
}
