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
    let mut ids: Vec<String> = ["live", "fstab", "boot"]
        .iter()
        .flat_map(|s| {
            let first = if *s == "fstab" { "fstab" } else { "mounted" };
            std::iter::once(format!("dev-shm.{first}.{s}"))
                .chain(FLAGS.iter().map(move |f| format!("dev-shm.{f}.{s}")))
        })
        .collect();
    // every host's /dev/shm and fstab line are read-write: the cis profile's rw checks pass
    for s in ["live", "fstab", "boot"] {
        ids.push(format!("dev-shm.rw.{s}"));
    }
    assert_eq!(ids.len(), 15);

    // json
    let (code, out, err) = report(&sb, "json", &files);
    assert_eq!(code, 2, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["summary"],
        json!({"hosts": 12, "audited": 12, "compliant_hosts": 1, "warned_hosts": 0,
               "drifted_hosts": 11, "error_hosts": 0, "unreachable_hosts": 0, "checks": 15})
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
            (15, expected_failures(i).len()),
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
        HOSTS * 15
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
    assert!(
        dom.contains("12 of 12 hosts audited: 1 compliant, 11 drifted, 0 errors, 0 unreachable")
    );
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
    // The remedies survive the trip through Salt, in Salt's words: a state of the formula with
    // the audit's fstab, not only what was found.
    let remedies = v["checks"].to_string();
    assert!(
        remedies.contains("shmguard.managed")
            && remedies.contains(&format!("- fstab_path: {fstab}")),
        "the audit document's remedy reached the report as a Salt state: {v}"
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

/// Issue 22: every host is in the fleet report. Three audits made in namespaces of their own
/// (compliant; /dev/shm live without noexec; a host without the fstab it names, audited
/// through the Ansible entry) and two hosts without an audit (Ansible's failed and unreachable
/// results) — all five in every format, counted right; exit 2 with the reason on stderr.
#[test]
fn report_lists_compliant_drifted_no_fstab_error_and_unreachable_hosts_in_every_format() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "nodev,nosuid,noexec");
    let fstab = sb.file(
        "fstab",
        b"tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n",
    );
    let bin = crate::sandbox::BIN;
    let in_host = |host: &str, live: &str, command: &str| {
        sb.sh(&format!(
            "unshare --uts --mount --propagation private sh -c 'hostname {host} && mount -n -t tmpfs -o size=8m,mode=1777,{live} tmpfs /dev/shm && {{ {command}; test $? -le 2; }}'"
        ))
    };
    let mut map = serde_json::Map::new();
    for (host, live) in [
        ("host-ok", "nodev,nosuid,noexec"),
        ("host-drift", "nodev,nosuid"),
    ] {
        let out = in_host(
            host,
            live,
            &format!("{bin} audit --profile cis --init other --fstab {fstab} --format json"),
        );
        map.insert(host.into(), serde_json::from_str(&out).unwrap());
    }
    // The Ansible entry, as the collection's action plugin runs it, on a host without the
    // fstab the task names: judged, not an error.
    let missing = sb.path("no-such-dir/fstab");
    let args = sb.file(
        "audit-args.json",
        json!({"_shmguard_entry": "audit", "_ansible_module_name": "shmguard.shm.audit",
               "profile": ["cis"], "init": "other", "fstab_path": missing, "probe": "no"})
        .to_string()
        .as_bytes(),
    );
    let out = in_host(
        "host-nofstab",
        "nodev,nosuid,noexec",
        &format!("{bin} - < {args}"),
    );
    let nofstab: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(nofstab["via"], "ansible", "{nofstab}");
    assert!(nofstab.get("failed").is_none(), "{nofstab}");
    let target = &nofstab["targets"][0];
    assert!(
        target.get("error").is_none(),
        "judged, not an error: {target}"
    );
    for c in target["checks"].as_array().unwrap() {
        let (scope, status) = (c["scope"].as_str().unwrap(), &c["status"]);
        match scope {
            "live" => assert_eq!(status, "pass", "{c}"),
            "fstab" => {
                assert_eq!(status, "fail", "{c}");
                assert_eq!(c["detail"], format!("no fstab at {missing}"), "{c}");
            }
            _ => assert!(
                c["detail"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("no fstab at {missing}")),
                "{c}"
            ),
        }
    }
    map.insert("host-nofstab".into(), nofstab);
    map.insert(
        "host-error".into(),
        json!({"failed": true, "changed": false, "rc": 127,
               "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error",
               "module_stderr": "/bin/sh: 1: /root/.ansible/tmp/shmguard: not found"}),
    );
    map.insert(
        "host-gone".into(),
        json!({"unreachable": true, "changed": false,
               "msg": "Failed to connect to the host via ssh: ssh: connect to host 192.0.2.7 port 22: Connection timed out"}),
    );
    let input = sb.file("five.json", Value::Object(map).to_string().as_bytes());
    let files = [input];
    let want: BTreeMap<&str, &str> = [
        ("host-ok", "compliant"),
        ("host-drift", "drifted"),
        ("host-nofstab", "drifted"),
        ("host-error", "error"),
        ("host-gone", "unreachable"),
    ]
    .into();
    let summary = "3 of 5 hosts audited: 1 compliant, 2 drifted, 1 error, 1 unreachable";
    let said_why = |err: &str| {
        assert!(err.contains(summary), "{err}");
        for part in [
            "unreachable: host-gone",
            "error: host-error",
            "drifted: host-nofstab, host-drift",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
    };

    // json
    let (code, out, err) = report(&sb, "json", &files);
    assert_eq!(code, 2, "{err}");
    said_why(&err);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["summary"],
        json!({"hosts": 5, "audited": 3, "compliant_hosts": 1, "warned_hosts": 0,
               "drifted_hosts": 2, "error_hosts": 1, "unreachable_hosts": 1, "checks": 15})
    );
    let hosts: BTreeMap<&str, &Value> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap(), h))
        .collect();
    for (host, verdict) in &want {
        assert_eq!(hosts[host]["verdict"], *verdict, "{host}");
    }
    assert!(
        hosts["host-error"]["message"]
            .as_str()
            .unwrap()
            .contains("/root/.ansible/tmp/shmguard: not found")
    );
    assert!(
        hosts["host-gone"]["message"]
            .as_str()
            .unwrap()
            .contains("Connection timed out")
    );
    let nf = hosts["host-nofstab"];
    assert_eq!(nf["checks"]["dev-shm.nodev.live"], "pass");
    assert_eq!(nf["checks"]["dev-shm.nodev.fstab"], "fail");
    assert_eq!(
        nf["found"]["dev-shm.fstab.fstab"],
        format!("no fstab at {missing}")
    );
    assert_eq!(hosts["host-drift"]["checks"]["dev-shm.noexec.live"], "fail");
    // remedies in the words of what audited: an Ansible task for the Ansible host, the
    // command for the command line's
    let remedies = |id: &str| -> Vec<(String, Vec<String>)> {
        let c = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap();
        serde_json::from_value::<Vec<Value>>(c["remedies"].clone())
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r["remedy"].as_str().unwrap().to_string(),
                    serde_json::from_value(r["hosts"].clone()).unwrap(),
                )
            })
            .collect()
    };
    let task = format!(
        "- name: shmguard /dev/shm\n  shmguard.shm.shmguard:\n    path: /dev/shm\n    options: [nodev, nosuid, noexec]\n    fstab_path: {missing}\n"
    );
    assert_eq!(
        remedies("dev-shm.nodev.fstab"),
        [(task, vec!["host-nofstab".to_string()])]
    );
    assert_eq!(
        remedies("dev-shm.noexec.live"),
        [(
            format!("shmguard apply --path /dev/shm --fstab-path {fstab} -o nodev,nosuid,noexec"),
            vec!["host-drift".to_string()]
        )]
    );

    // text
    let (code, out, err) = report(&sb, "text", &files);
    assert_eq!(code, 2, "{err}");
    said_why(&err);
    assert!(out.starts_with(&format!(
        "shmguard fleet report: NOT compliant — {summary}\n"
    )));
    for (host, verdict) in &want {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(host))
            .unwrap_or_else(|| panic!("{host}: {out}"));
        assert_eq!(
            line.split_whitespace().next(),
            Some(verdict.to_uppercase().as_str()),
            "{line}"
        );
    }

    // junit, by a real XML parser
    let (code, out, err) = report(&sb, "junit", &files);
    assert_eq!(code, 2, "{err}");
    said_why(&err);
    let suites = python_junit(&out);
    assert_eq!(suites.len(), 5, "{out}");
    assert_eq!(suites["host-ok"], (15, 0, 0, vec![]));
    assert_eq!(suites["host-drift"], (15, 1, 0, vec![]));
    // live 5 (rw included), fstab 5 (rw included; all failing: no fstab), boot 1 (no mount:
    // failing)
    assert_eq!(suites["host-nofstab"], (11, 6, 0, vec![]));
    assert_eq!(suites["host-error"], (1, 0, 1, vec!["error".to_string()]));
    assert_eq!(
        suites["host-gone"],
        (1, 0, 1, vec!["unreachable".to_string()])
    );

    // prometheus, by a parser of the text format
    let (code, out, err) = report(&sb, "prometheus", &files);
    assert_eq!(code, 2, "{err}");
    said_why(&err);
    let series = prometheus_series(&out);
    for (host, verdict) in &want {
        let up = u8::from(*verdict != "unreachable");
        let error = u8::from(*verdict == "error");
        let compliant = u8::from(*verdict == "compliant");
        let h = format!("host=\"{host}\"");
        assert_eq!(series[&format!("shmguard_host_up{{{h}}}")], f64::from(up));
        assert_eq!(
            series[&format!("shmguard_host_error{{{h}}}")],
            f64::from(error)
        );
        assert_eq!(
            series[&format!("shmguard_fleet_host_compliant{{{h}}}")],
            f64::from(compliant)
        );
    }
    for (status, n) in [
        ("compliant", 1.0),
        ("drifted", 2.0),
        ("error", 1.0),
        ("unreachable", 1.0),
    ] {
        assert_eq!(
            series[&format!("shmguard_fleet_hosts{{status=\"{status}\"}}")],
            n
        );
    }
    assert_eq!(series["shmguard_fleet_compliant"], 0.0);

    // html, rendered
    let page = sb.path("five.html");
    let (code, _, err) = report(
        &sb,
        "html",
        &[&files[..], &["--output".into(), page.clone()]].concat(),
    );
    assert_eq!(code, 2, "{err}");
    said_why(&err);
    let file = keep(&sb, &page, "fleet-five.html");
    let dom = dom(&file);
    assert!(dom.contains(summary), "{dom}");
    for (host, verdict) in &want {
        let row = format!("id=\"host-{host}\"><th>{host}</th><td class=\"s ");
        let at = dom.find(&row).unwrap_or_else(|| panic!("{host} row"));
        let cell = &dom[at + row.len()..];
        assert!(
            cell.split("</td>")
                .next()
                .unwrap()
                .ends_with(&format!(">{verdict}")),
            "{host}: {}",
            &cell[..80]
        );
    }
    assert!(dom.contains("/root/.ansible/tmp/shmguard: not found"));
    assert!(dom.contains("Connection timed out"));
    assert!(dom.contains("shmguard.shm.shmguard:"), "the Ansible task");
    screenshot(&file, "fleet-five.png", 1200);
}

/// An empty map (a playbook whose pattern matched no host): a report that says nothing was
/// audited, exit 2 with the reason on stderr — never a silent success.
#[test]
fn report_of_an_empty_map_says_nothing_was_audited() {
    let sb = Sandbox::new();
    let empty = sb.file("empty.json", b"{}\n");
    for format in ["text", "json", "junit", "prometheus", "html"] {
        let (code, out, err) = report(&sb, format, std::slice::from_ref(&empty));
        assert_eq!(code, 2, "{format}: {err}");
        assert!(err.contains("nothing was audited"), "{format}: {err}");
        assert!(!out.is_empty(), "{format}");
    }
    let (_, out, _) = report(&sb, "text", &[empty]);
    assert!(out.contains("no hosts"), "{out}");
}

/// When no host could be audited, the report still renders, in every format, and says so.
#[test]
fn report_where_every_host_failed_renders_and_says_so() {
    let sb = Sandbox::new();
    let all_failed = sb.file(
        "all-failed.json",
        json!({"a": {"failed": true, "msg": "value of profile must be one of: cis, got: bogus"},
               "b": {"failed": true, "msg": "MODULE FAILURE", "module_stderr": "Killed", "rc": 137},
               "c": "ERROR: Minions returned with non-zero exit code",
               "d": "Minion did not return. [No response]"})
        .to_string()
        .as_bytes(),
    );
    let summary = "0 of 4 hosts audited: 0 compliant, 0 drifted, 3 errors, 1 unreachable";
    for format in ["text", "json", "junit", "prometheus", "html"] {
        let (code, out, err) = report(&sb, format, std::slice::from_ref(&all_failed));
        assert_eq!(code, 2, "{format}: {err}");
        assert!(err.contains(summary), "{format}: {err}");
        for host in ["a", "b", "c", "d"] {
            assert!(
                out.contains(&format!("\"{host}"))
                    || out.contains(&format!(" {host} "))
                    || out.contains(&format!(">{host}<")),
                "{format}: {host}: {out}"
            );
        }
        if format != "prometheus" && format != "junit" {
            assert!(out.contains(summary), "{format}: {out}");
        }
    }
    let (_, out, _) = report(&sb, "junit", &[all_failed]);
    let suites = python_junit(&out);
    assert_eq!(suites["d"], (1, 0, 1, vec!["unreachable".to_string()]));
    assert_eq!(suites["b"], (1, 0, 1, vec!["error".to_string()]));
}

/// testsuite name -> (tests, failures, errors, the types of its errors), read by Python's XML
/// parser; the counts must match the testcases.
fn python_junit(xml: &str) -> BTreeMap<String, (usize, usize, usize, Vec<String>)> {
    let mut c = Command::new("python3")
        .args(["-c", "import sys, json, xml.etree.ElementTree as E\nr = E.fromstring(sys.stdin.read())\nassert int(r.get('tests')) == len(r.findall('.//testcase')), 'tests'\nassert int(r.get('errors')) == len(r.findall('.//testcase/error')), 'errors'\nprint(json.dumps({s.get('name'): [int(s.get('tests')), int(s.get('failures')), int(s.get('errors')), len(s.findall('testcase')), len(s.findall('testcase/failure')), len(s.findall('testcase/error')), [e.get('type') for e in s.findall('testcase/error') if e.get('type')]] for s in r.iter('testsuite')}))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(c.stdin.as_mut().unwrap(), xml.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    type Suite = (usize, usize, usize, usize, usize, usize, Vec<String>);
    let v: BTreeMap<String, Suite> = serde_json::from_slice(&out.stdout).unwrap();
    v.into_iter()
        .map(|(k, (t, f, e, tc, tf, te, types))| {
            assert_eq!(
                (t, f, e),
                (tc, tf, te),
                "{k}: the counts match the testcases"
            );
            (k, (t, f, e, types))
        })
        .collect()
}

/// Series -> value of Prometheus' text format, checked as a scraper reads it: every sample
/// line `name{label="value",...} number` with a metric name and labels of the allowed
/// characters and escapes, under its `# TYPE`, and no series twice.
fn prometheus_series(text: &str) -> BTreeMap<String, f64> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut typed = std::collections::BTreeSet::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut w = rest.split(' ');
            let name = w.next().unwrap();
            assert!(name_ok(name), "{line}");
            assert!(
                matches!(w.next(), Some("gauge" | "counter" | "untyped")),
                "{line}"
            );
            assert!(typed.insert(name.to_string()), "TYPE twice: {line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        let name = series.split('{').next().unwrap();
        assert!(name_ok(name), "{line}");
        assert!(typed.contains(name), "a sample before its TYPE: {line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            let labels = labels
                .strip_prefix('{')
                .and_then(|l| l.strip_suffix('}'))
                .unwrap_or_else(|| panic!("{line}"));
            // label="value" pairs, values with \\, \" and \n escapes only
            let mut rest = labels;
            while !rest.is_empty() {
                let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                assert!(name_ok(key), "{line}");
                let mut chars = after.char_indices();
                let end = loop {
                    match chars.next() {
                        Some((_, '\\')) => {
                            let (_, e) = chars.next().unwrap();
                            assert!(matches!(e, '\\' | '"' | 'n'), "{line}");
                        }
                        Some((i, '"')) => break i,
                        Some(_) => {}
                        None => panic!("unclosed label value: {line}"),
                    }
                };
                rest = after[end + 1..]
                    .strip_prefix(',')
                    .unwrap_or(&after[end + 1..]);
            }
        }
        assert!(
            out.insert(series.to_string(), value).is_none(),
            "a series twice: {line}"
        );
    }
    out
}
