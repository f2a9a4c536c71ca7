//! `shmguard report`: 12 audits made in private UTS and mount namespaces (each its own host
//! name, live /dev/shm and fstab drift) merged into the fleet view, counted right in html
//! (rendered by Chromium), json, junit (read by a real XML parser) and prometheus; exit codes;
//! Salt's `--out=json` shape; and bad inputs that exit 1 naming the file and write nothing.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::reports::{FLAGS, dom, keep, screenshot};
use crate::sandbox::Sandbox;

/// Host i: the flags its live mount lacks (mask i % 8) and those its fstab line lacks
/// (mask i / 2 % 8); host 0 is compliant.
fn masks(i: usize) -> (usize, usize) {
    (i % 8, (i / 2) % 8)
}

fn kept(mask: usize) -> Vec<&'static str> {
    (0..3)
        .filter(|b| mask & (1 << b) == 0)
        .map(|b| FLAGS[b])
        .collect()
}

/// The check ids that fail on host i.
fn expected_failures(i: usize) -> Vec<String> {
    let (live, fstab) = masks(i);
    let mut out = Vec::new();
    for (b, flag) in FLAGS.iter().enumerate() {
        if live & (1 << b) != 0 {
            out.push(format!("dev-shm.{flag}.live"));
        }
        if fstab & (1 << b) != 0 {
            out.push(format!("dev-shm.{flag}.fstab"));
            out.push(format!("dev-shm.{flag}.boot"));
        }
    }
    out
}

const HOSTS: usize = 12;

/// Audits 12 hosts, each in its own UTS and mount namespace inside the sandbox, into
/// DIR/hN.json; returns the sandbox.
fn twelve_audits() -> Sandbox {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "nodev,nosuid,noexec");
    for i in 0..HOSTS {
        let (live, fstab) = masks(i);
        let opts = |m| {
            let k = kept(m);
            if k.is_empty() {
                "defaults".to_string()
            } else {
                format!("defaults,{}", k.join(","))
            }
        };
        let f = sb.file(
            &format!("fstab-{i}"),
            format!("tmpfs /dev/shm tmpfs {} 0 0\n", opts(fstab)).as_bytes(),
        );
        let out = sb.path(&format!("h{i}.json"));
        // A fresh tmpfs over /dev/shm in a namespace of its own: this host's live drift.
        let script = format!(
            "unshare --uts --mount --propagation private sh -c 'hostname host-{i:02} && mount -n -t tmpfs -o size=8m,{} tmpfs /dev/shm && {} audit --profile cis --init other --fstab {f} --format json --output {out}; echo rc=$?'",
            opts(live)
                .replace("defaults,", "")
                .replace("defaults", "mode=1777"),
            crate::sandbox::BIN
        );
        let rc = sb.sh(&script);
        let want = if expected_failures(i).is_empty() {
            "rc=0"
        } else {
            "rc=2"
        };
        assert_eq!(rc.trim(), want, "host {i}");
    }
    sb
}

fn report(sb: &Sandbox, format: &str, files: &[String]) -> (i32, String, String) {
    let mut args = vec!["report".to_string(), "--format".into(), format.into()];
    args.extend(files.iter().cloned());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sb.run(&a);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fleet_of_12_namespaced_hosts_is_counted_right_in_every_format() {
    let sb = twelve_audits();
    let files: Vec<String> = (0..HOSTS).map(|i| sb.path(&format!("h{i}.json"))).collect();
    let host = |i: usize| format!("host-{i:02}");
    let total_fail: usize = (0..HOSTS).map(|i| expected_failures(i).len()).sum();
    let ids: Vec<String> = ["live", "fstab", "boot"]
        .iter()
        .flat_map(|s| {
            let first = if *s == "fstab" { "fstab" } else { "mounted" };
            std::iter::once(format!("dev-shm.{first}.{s}"))
                .chain(FLAGS.iter().map(move |f| format!("dev-shm.{f}.{s}")))
        })
        .collect();
    assert_eq!(ids.len(), 12);

    // json
    let (code, out, err) = report(&sb, "json", &files);
    assert_eq!(code, 2, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["summary"],
        json!({"hosts": 12, "compliant_hosts": 1, "checks": 12})
    );
    let order: Vec<usize> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["counts"]["fail"].as_u64().unwrap() as usize)
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] >= w[1]),
        "worst first: {order:?}"
    );
    for h in v["hosts"].as_array().unwrap() {
        let i: usize = h["host"].as_str().unwrap()[5..].parse().unwrap();
        let fails = expected_failures(i);
        for id in &ids {
            let want = if fails.contains(id) { "fail" } else { "pass" };
            assert_eq!(h["checks"][id], want, "{} {id}", host(i));
        }
    }
    for c in v["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap().to_string();
        let want = (0..HOSTS)
            .filter(|i| expected_failures(*i).contains(&id))
            .count();
        assert_eq!(c["counts"]["fail"], want, "{id}");
        assert_eq!(c["counts"]["pass"], HOSTS - want, "{id}");
        let hosts: usize = c["remedies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["hosts"].as_array().unwrap().len())
            .sum();
        assert_eq!(hosts, want, "{id}: every failing host has a remedy");
    }

    // junit, by a real XML parser
    let (code, out, _) = report(&sb, "junit", &files);
    assert_eq!(code, 2);
    let parsed = python_xml(&out);
    assert_eq!(parsed.len(), HOSTS);
    for i in 0..HOSTS {
        assert_eq!(
            parsed[&host(i)],
            (12, expected_failures(i).len()),
            "{}",
            host(i)
        );
    }

    // prometheus
    let (code, out, _) = report(&sb, "prometheus", &files);
    assert_eq!(code, 2);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("shmguard_fleet_check{"))
            .count(),
        HOSTS * 12
    );
    for i in 0..HOSTS {
        for id in &ids {
            let scope = id.rsplit('.').next().unwrap();
            let want = u8::from(!expected_failures(i).contains(id));
            let line = format!(
                "shmguard_fleet_check{{host=\"{}\",id=\"{id}\",scope=\"{scope}\"}} {want}\n",
                host(i)
            );
            assert!(out.contains(&line), "{line}");
        }
    }

    // html, rendered
    let (code, _, err) = report(
        &sb,
        "html",
        &[&files[..], &["--output".into(), sb.path("fleet.html")]].concat(),
    );
    assert_eq!(code, 2, "{err}");
    let file = keep(&sb, &sb.path("fleet.html"), "fleet.html");
    let dom = dom(&file);
    for i in 0..HOSTS {
        assert!(dom.contains(&format!(">{}</th>", host(i))), "{}", host(i));
    }
    for id in &ids {
        assert!(dom.contains(&format!(">{id}</th>")), "{id}");
    }
    assert_eq!(
        dom.matches("<td class=\"s fail\" title=").count(),
        total_fail
    );
    assert!(dom.contains("12 hosts: 1 compliant, 11 drifted"));
    screenshot(&file, "fleet.png", 1000);

    // exit codes: the compliant host alone is 0
    let (code, _, _) = report(&sb, "json", &files[..1]);
    assert_eq!(code, 0);
}

/// testsuite name -> (tests, failures), read by Python's XML parser.
fn python_xml(xml: &str) -> BTreeMap<String, (usize, usize)> {
    let mut c = Command::new("python3")
        .args(["-c", "import sys, json, xml.etree.ElementTree as E\nr = E.fromstring(sys.stdin.read())\nprint(json.dumps({s.get('name'): [int(s.get('tests')), int(s.get('failures')), len(s.findall('testcase')), len(s.findall('testcase/failure'))] for s in r.iter('testsuite')}))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(c.stdin.as_mut().unwrap(), xml.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    let v: BTreeMap<String, [usize; 4]> = serde_json::from_slice(&out.stdout).unwrap();
    v.into_iter()
        .map(|(k, [t, f, tc, tf])| {
            assert_eq!((t, f), (tc, tf), "{k}: the counts match the testcases");
            (k, (t, f))
        })
        .collect()
}

#[test]
fn report_reads_salts_out_json_shape() {
    let sb = twelve_salt_like();
    let (code, out, err) = report(&sb, "json", &[sb.path("salt.json")]);
    assert_eq!(code, 2, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let hosts = host_names(&v);
    assert_eq!(
        hosts,
        ["minion-b", "minion-a"],
        "worst first, named by minion id"
    );
    assert_eq!(v["hosts"][0]["checks"]["dev-shm.nodev.fstab"], "fail");
    assert_eq!(v["hosts"][1]["checks"]["dev-shm.nodev.fstab"], "pass");
}

/// Two minions' `shmguard.audit` returns as `salt --out=json` prints them: one object per
/// minion, one after the other (no --static).
fn twelve_salt_like() -> Sandbox {
    let sb = Sandbox::new();
    let minion = |id: &str, status: &str| {
        json!({id: {"verdict": if status == "pass" {"compliant"} else {"drift"}, "compliant": status == "pass",
            "host": "ignored-uname", "time": "2026-12-02T07:00:00Z", "summary": {},
            "checks": {"dev-shm.nodev.fstab": {"target": "/dev/shm", "source": "profile cis",
                "name": "/dev/shm nodev (fstab)", "scope": "fstab", "status": status,
                "detail": if status == "pass" {""} else {"would add nodev"}, "references": ["CIS RHEL9 v2.0.0 1.1.2.2.2"]}}}})
    };
    let text = format!(
        "{}\n{}\n",
        serde_json::to_string_pretty(&minion("minion-a", "pass")).unwrap(),
        serde_json::to_string_pretty(&minion("minion-b", "fail")).unwrap()
    );
    sb.file("salt.json", text.as_bytes());
    sb
}

#[test]
fn report_bad_inputs_exit_1_naming_the_file_and_write_nothing() {
    let sb = Sandbox::new();
    let good = sb.file(
        "good.json",
        br#"{"host": "a", "time": "t", "compliant": true, "summary": {}, "targets": []}"#,
    );
    let dup = sb.file(
        "dup.json",
        br#"{"host": "a", "time": "t", "compliant": true, "summary": {}, "targets": []}"#,
    );
    let notjson = sb.file("notjson.json", b"tmpfs /dev/shm tmpfs defaults 0 0\n");
    let other = sb.file("other.json", br#"{"changed": false, "path": "/dev/shm"}"#);
    let nohost = sb.file(
        "nohost.json",
        br#"{"compliant": true, "summary": {}, "targets": []}"#,
    );
    let out = sb.path("out.html");
    for (files, named) in [
        (vec![good.clone(), dup.clone()], dup.as_str()),
        (vec![good.clone(), notjson.clone()], notjson.as_str()),
        (vec![other.clone()], other.as_str()),
        (vec![nohost.clone()], nohost.as_str()),
        (vec![sb.path("missing.json")], "missing.json"),
    ] {
        let (code, stdout, err) = report(
            &sb,
            "html",
            &[&files[..], &["--output".into(), out.clone()]].concat(),
        );
        assert_eq!(code, 1, "{files:?}: {err}");
        assert!(err.contains(named), "{err} names {named}");
        assert!(stdout.is_empty());
        assert!(
            sb.sh(&format!("test -e {out} && echo yes || echo no"))
                .trim()
                == "no",
            "nothing written"
        );
    }
    let (code, _, err) = report(&sb, "html", &[]);
    assert_eq!(code, 1, "no files: {err}");
    assert!(err.contains("FILE"), "{err}");
    // one good file: written, exit 0
    let (code, _, err) = report(&sb, "html", &[good, "--output".into(), out.clone()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn report_reads_what_the_real_salt_call_shmguard_audit_prints() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "nodev,nosuid");
    let fstab = sb.file("fstab", b"tmpfs /dev/shm tmpfs defaults,nodev 0 0\n");
    let conf = crate::salt::minion(&sb, crate::sandbox::BIN);
    let out = sb
        .command(&crate::salt::salt_call_bin())
        .args([
            "--local",
            "-c",
            &conf,
            "--out=json",
            "shmguard.audit",
            "profile=cis",
        ])
        .arg(format!("fstab={fstab}"))
        .output()
        .unwrap();
    let printed = sb.file("salt-out.json", &out.stdout);
    let cli = sb.run(&[
        "audit",
        "--profile",
        "cis",
        "--fstab",
        &fstab,
        "--format",
        "json",
    ]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    let (code, text, err) = report(&sb, "json", &[printed]);
    assert_eq!(code, 2, "{err}\n{}", String::from_utf8_lossy(&out.stdout));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["hosts"][0]["host"], "local",
        "salt-call's key names the host: {v}"
    );
    let fails = crate::audit::failing(&cli);
    assert_eq!(v["hosts"][0]["counts"]["fail"], fails.len(), "{v}");
    for id in fails {
        assert_eq!(v["hosts"][0]["checks"][&id], "fail", "{id}");
    }
    assert_eq!(v["summary"]["checks"], cli["summary"]["checks"]);
    // The remedies survive the trip through Salt: the CLI's command, not only what was found.
    let remedies = v["checks"].to_string();
    assert!(
        remedies.contains(&format!("--fstab-path {fstab}")),
        "the audit document's remedy reached the report: {v}"
    );
}

/// The host names of a fleet JSON report, in its order.
pub fn host_names(v: &Value) -> Vec<&str> {
    v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect()
}
