//! The collection's audit playbook (`ansible-playbook shmguard.shm.audit`) through the real
//! ansible-playbook over real SSH to three loopback sshd hosts (ssh_host.rs), each in its own
//! namespaces with its own /dev/shm and fstab: the fleet report is written on the controller
//! by the collection's own build, counts every host, changes nothing on the hosts, and a
//! cached run is one remote command per host. Every host of the pattern is in the report —
//! compliant, drifted, without fstab, whose audit errs, unreachable — with --check leaving
//! nothing on the hosts, the fail-on-drift step, and a controller that cannot run the build
//! (merged on a host instead). Needs real root (sshd): names say another_user.

use serde_json::Value;

use crate::ssh_host::{SshHost, free_port, tool};

struct Fleet {
    hosts: Vec<SshHost>,
    inventory: String,
}

/// Host 0 compliant, host 1 without noexec live, host 2 without nosuid in fstab; host 0's
/// namespaces also hold the controller.
fn fleet() -> Fleet {
    let specs = [
        ("nodev,nosuid,noexec", "defaults,nodev,nosuid,noexec"),
        ("nodev,nosuid", "defaults,nodev,nosuid,noexec"),
        ("nodev,nosuid,noexec", "defaults,nodev,noexec"),
    ];
    let hosts: Vec<SshHost> = specs
        .iter()
        .map(|(live, line)| {
            let h = SshHost::new(&format!("size=64m,mode=1777,{live}"), false);
            h.sh(&format!(
                "printf 'tmpfs /dev/shm tmpfs {line} 0 0\\n' > {}",
                h.fstab
            ));
            h
        })
        .collect();
    let mut inv = String::new();
    for (i, h) in hosts.iter().enumerate() {
        // each host's key, where the controller (in host 0's namespaces) can read it
        let key = hosts[0]
            .sb
            .file(&format!("key-{i}"), &h.sb.read(&h.sb.path("id")));
        hosts[0].sh(&format!("chmod 600 {key}"));
        inv += &format!(
            "shm-{i} ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={key} \
             ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' \
             shmguard_fstab={} shmguard_init=other\n",
            h.port, h.fstab
        );
    }
    let inventory = hosts[0].sb.file("fleet-inventory", inv.as_bytes());
    Fleet { hosts, inventory }
}

fn snapshot(h: &SshHost) -> String {
    h.sb.snapshot(&["/dev/shm"], &[&h.fstab])
}

#[test]
fn audit_playbook_writes_the_fleet_report_on_the_controller_another_user() {
    let f = fleet();
    let before: Vec<String> = f.hosts.iter().map(snapshot).collect();
    let controller = &f.hosts[0];
    let report = controller.sb.path("fleet.json");
    let html = controller.sb.path("fleet.html");
    for (run, format, out) in [(0, "json", &report), (1, "html", &html)] {
        let counts: Vec<usize> = f.hosts.iter().map(SshHost::remote_commands).collect();
        let (o, text, _) = controller.ansible_playbook(
            &f.inventory,
            "shmguard.shm.audit",
            &[
                "-e",
                &format!("shmguard_report={out} shmguard_report_format={format}"),
                "-e",
                "shmguard_profile=cis",
            ],
        );
        assert!(o.status.success(), "{text}");
        assert!(
            text.contains("drift found (3 hosts: 1 compliant, 2 drifted, 0 error, 0 unreachable)"),
            "{text}"
        );
        for (h, n) in f.hosts.iter().zip(counts) {
            let want = if run == 0 { 2 } else { 1 };
            assert_eq!(
                h.remote_commands() - n,
                want,
                "run {run}: first upload and run, then one cached command per host\n{text}"
            );
        }
    }
    let after: Vec<String> = f.hosts.iter().map(snapshot).collect();
    assert_eq!(before, after, "an audit changes nothing on the hosts");

    let v: Value = serde_json::from_slice(&controller.sb.read(&report)).unwrap();
    assert_eq!(v["summary"]["hosts"], 3, "{v}");
    assert_eq!(v["summary"]["compliant_hosts"], 1, "{v}");
    let hosts = crate::fleet::host_names(&v);
    assert_eq!(
        hosts,
        ["shm-2", "shm-1", "shm-0"],
        "worst first (2 fstab+boot failures, then 1 live)"
    );
    assert_eq!(v["hosts"][1]["checks"]["dev-shm.noexec.live"], "fail");
    assert_eq!(v["hosts"][0]["checks"]["dev-shm.nosuid.fstab"], "fail");
    assert_eq!(v["hosts"][0]["checks"]["dev-shm.nosuid.boot"], "fail");
    let page = String::from_utf8(controller.sb.read(&html)).unwrap();
    for i in 0..3 {
        assert!(page.contains(&format!(">shm-{i}</th>")), "{page}");
    }
    // nothing left behind on the controller but the report
    assert!(
        controller
            .sh(&format!("ls -A {}", controller.sb.path("")))
            .lines()
            .all(|l| !l.ends_with(".shmguard"))
    );
}

/// Five hosts, one of each kind, in this order: shm-ok (compliant), shm-drift (no noexec
/// live), shm-nofstab (its fstab does not exist), shm-error (its cache directory is not safe:
/// the audit task fails), shm-down (no sshd on its port). Host 0's namespaces hold the
/// controller. Each host's sshd gives its sessions TMPDIR=/var/cache/tmp (a private tmpfs), so
/// what a run leaves on a host is all under /var/cache.
struct Five {
    hosts: Vec<SshHost>,
    inventory: String,
}

const NAMES: [&str; 5] = [
    "shm-ok",
    "shm-drift",
    "shm-nofstab",
    "shm-error",
    "shm-down",
];

fn five() -> Five {
    let live = [
        "nodev,nosuid,noexec",
        "nodev,nosuid",
        "nodev,nosuid,noexec",
        "nodev,nosuid,noexec",
    ];
    let hosts: Vec<SshHost> = live
        .iter()
        .map(|opts| {
            let h = SshHost::with_sshd_config(
                &format!("size=64m,mode=1777,{opts}"),
                false,
                "SetEnv TMPDIR=/var/cache/tmp\n",
            );
            h.sh(&format!(
                "mkdir -m 1777 /var/cache/tmp; printf 'tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\\n' > {}",
                h.fstab
            ));
            h
        })
        .collect();
    let mut inv = String::new();
    for (i, name) in NAMES.iter().enumerate() {
        let Some(h) = hosts.get(i) else {
            // shm-down: a port no sshd listens on
            inv += &format!(
                "{name} ansible_host=127.0.0.1 ansible_port={} ansible_user=root \
                 ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5'\n",
                free_port()
            );
            continue;
        };
        let key = hosts[0]
            .sb
            .file(&format!("key-{i}"), &h.sb.read(&h.sb.path("id")));
        hosts[0].sh(&format!("chmod 600 {key}"));
        let fstab = if *name == "shm-nofstab" {
            h.sb.path("no-such-fstab")
        } else {
            h.fstab.clone()
        };
        let mut vars = format!(
            "shmguard_fstab={fstab} shmguard_init=other ansible_remote_tmp={}",
            h.sb.path("remote-tmp")
        );
        if *name == "shm-error" {
            // a cache directory others could read: not the user's own 0700 directory
            let dir = h.sb.path("shared-cache");
            h.sh(&format!("mkdir -m 755 {dir}"));
            vars += &format!(" shmguard_cache_dir={dir}");
        }
        inv += &format!(
            "{name} ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={key} \
             ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' {vars}\n",
            h.port
        );
    }
    let inventory = hosts[0].sb.file("five-inventory", inv.as_bytes());
    Five { hosts, inventory }
}

impl Five {
    fn run(&self, extra: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let (o, text, _) = self.hosts[0].ansible_playbook_env(
            &tool("ansible-playbook"),
            &self.inventory,
            "shmguard.shm.audit",
            extra,
            env,
        );
        (o.status.success(), text)
    }

    /// What is on each host outside what it manages: its cache tree (the cache, temporary
    /// directories of TMPDIR) and ansible's remote tmp.
    fn leftovers(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| {
                h.sh(&format!(
                    "cd /var/cache && find . ! -name . ! -name tmp | sort; ls -A {} 2>/dev/null || true",
                    h.sb.path("remote-tmp")
                ))
            })
            .collect()
    }

    fn report(&self, path: &str) -> String {
        String::from_utf8(self.hosts[0].sb.read(path)).unwrap()
    }
}

/// A host's entry in the JSON report.
fn host_of<'a>(v: &'a Value, host: &str) -> &'a Value {
    v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == host)
        .unwrap_or_else(|| panic!("{host} is not in the report: {v}"))
}

/// The JSON report of the five hosts: each one, with its verdict and the error's message.
fn assert_five(v: &Value, text: &str) {
    assert_eq!(v["summary"]["hosts"], 5, "{v}\n{text}");
    assert_eq!(v["summary"]["compliant_hosts"], 1, "{v}");
    assert_eq!(v["summary"]["drifted_hosts"], 2, "{v}");
    assert_eq!(v["summary"]["error_hosts"], 1, "{v}");
    assert_eq!(v["summary"]["unreachable_hosts"], 1, "{v}");
    for (host, verdict) in [
        ("shm-ok", "compliant"),
        ("shm-drift", "drifted"),
        ("shm-nofstab", "drifted"),
        ("shm-error", "error"),
        ("shm-down", "unreachable"),
    ] {
        assert_eq!(host_of(v, host)["verdict"], verdict, "{host}: {v}");
    }
    assert!(
        host_of(v, "shm-error")["message"]
            .as_str()
            .is_some_and(|m| m.contains("is not safe")),
        "the error's message is in the report: {v}"
    );
    assert!(
        host_of(v, "shm-down")["message"]
            .as_str()
            .is_some_and(|m| m.contains("127.0.0.1")),
        "Ansible's message for the unreachable host: {}",
        host_of(v, "shm-down")
    );
    assert_eq!(
        host_of(v, "shm-nofstab")["checks"]["dev-shm.nodev.fstab"],
        "fail",
        "a host without its fstab is judged: its fstab checks fail: {v}"
    );
    assert!(
        text.contains("drift found (5 hosts: 1 compliant, 2 drifted, 1 error, 1 unreachable)"),
        "{text}"
    );
}

fn assert_every_format(f: &Five, extra_env: &[(&str, &str)]) {
    for format in ["html", "junit", "prometheus"] {
        let out = f.hosts[0].sb.path(&format!("fleet.{format}"));
        let (ok, text) = f.run(
            &[
                "-e",
                &format!("shmguard_report={out} shmguard_report_format={format}"),
            ],
            extra_env,
        );
        assert!(
            ok,
            "a host that errs or is unreachable does not fail the run\n{text}"
        );
        let page = f.report(&out);
        for name in NAMES {
            assert!(page.contains(name), "{format}: {name} missing\n{page}");
        }
        if format == "prometheus" {
            for want in [
                "shmguard_host_up{host=\"shm-down\"} 0",
                "shmguard_host_error{host=\"shm-error\"} 1",
                "shmguard_fleet_hosts{status=\"unreachable\"} 1",
                "shmguard_fleet_hosts{status=\"error\"} 1",
            ] {
                assert!(page.contains(want), "{want}\n{page}");
            }
        } else {
            assert!(page.contains("unreachable"), "{format}\n{page}");
            assert!(
                page.contains("is not safe"),
                "{format}: the error's message\n{page}"
            );
        }
    }
}

#[test]
fn audit_playbook_accounts_for_every_host_another_user() {
    let f = five();
    let json = f.hosts[0].sb.path("fleet.json");

    // --check first, on fresh hosts: a full report, and nothing left on any host.
    let (ok, text) = f.run(
        &[
            "--check",
            "-e",
            &format!("shmguard_report={json} shmguard_report_format=json"),
        ],
        &[],
    );
    assert!(ok, "{text}");
    assert!(text.contains("merged on the controller"), "{text}");
    let v: Value = serde_json::from_str(&f.report(&json)).unwrap();
    assert_five(&v, &text);
    for (h, left) in f.hosts.iter().zip(f.leftovers()) {
        assert_eq!(
            left, "",
            "--check left this on the host of port {}\n{text}",
            h.port
        );
    }

    // Not in check mode: the same report, the build now cached where the cache is safe.
    let (ok, text) = f.run(
        &[
            "-e",
            &format!("shmguard_report={json} shmguard_report_format=json"),
        ],
        &[],
    );
    assert!(ok, "{text}");
    let v: Value = serde_json::from_str(&f.report(&json)).unwrap();
    assert_five(&v, &text);
    assert_every_format(&f, &[]);

    // No host answers: the report says so, and the run still succeeds.
    let (ok, text) = f.run(
        &["-e", &format!("shmguard_report={json} shmguard_report_format=json shmguard_hosts=shm-error:shm-down")],
        &[],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains(
            "no host could be audited (2 hosts: 0 compliant, 0 drifted, 1 error, 1 unreachable)"
        ),
        "{text}"
    );
    let v: Value = serde_json::from_str(&f.report(&json)).unwrap();
    assert_eq!(v["summary"]["audited"], 0, "{v}");
    assert!(
        v["verdict"]
            .as_str()
            .unwrap_or("")
            .contains("0 of 2 hosts audited"),
        "{v}"
    );

    // shmguard_fail_on_drift: the report is still written, then the run fails saying why.
    f.hosts[0].sh(&format!("rm {json}"));
    let (ok, text) = f.run(
        &[
            "-e",
            &format!(
                "shmguard_report={json} shmguard_report_format=json shmguard_fail_on_drift=true"
            ),
        ],
        &[],
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("not every host is compliant (2 drifted, 1 error, 1 unreachable)"),
        "{text}"
    );
    let v: Value = serde_json::from_str(&f.report(&json)).unwrap();
    assert_five(&v, &text);
}

/// A PATH for the controller on which uname says Darwin on arm64: a macOS controller, as the
/// playbook sees it.
fn macos_path(c: &SshHost) -> String {
    let fake = c.sb.path("macos-bin");
    c.sh(&format!(
        "mkdir -p {fake} && printf '#!/bin/sh\\ncase $1 in -s) echo Darwin ;; -m) echo arm64 ;; *) exec /usr/bin/uname \"$@\" ;; esac\\n' > {fake}/uname && chmod 755 {fake}/uname"
    ));
    format!("{fake}:{}", std::env::var("PATH").unwrap_or_default())
}

#[test]
fn audit_playbook_accounts_for_every_host_from_a_macos_controller_another_user() {
    let f = five();
    let json = f.hosts[0].sb.path("fleet.json");
    let path = macos_path(&f.hosts[0]);
    let macos = [("PATH", path.as_str())];
    let (ok, text) = f.run(
        &[
            "--check",
            "-e",
            &format!("shmguard_report={json} shmguard_report_format=json"),
        ],
        &macos,
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("the controller runs Darwin, not Linux"),
        "{text}"
    );
    assert!(
        text.contains("Write the report merged on shm-ok"),
        "merged on the first host that answered\n{text}"
    );
    assert_five(&serde_json::from_str(&f.report(&json)).unwrap(), &text);
    for (h, left) in f.hosts.iter().zip(f.leftovers()) {
        assert_eq!(
            left, "",
            "--check left this on the host of port {}\n{text}",
            h.port
        );
    }
    assert_every_format(&f, &macos);
}

fn fleet_report(f: &Fleet, extra: &[&str], env: &[(&str, &str)]) -> (Value, String) {
    let c = &f.hosts[0];
    let json = c.sb.path("fleet.json");
    c.sh(&format!("rm -f {json}"));
    let mut args = vec![
        "-e".to_string(),
        format!("shmguard_report={json} shmguard_report_format=json"),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (o, text, _) = c.ansible_playbook_env(
        &tool("ansible-playbook"),
        &f.inventory,
        "shmguard.shm.audit",
        &args,
        env,
    );
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("drift found (3 hosts: 1 compliant, 2 drifted, 0 error, 0 unreachable)"),
        "{text}"
    );
    let v: Value = serde_json::from_slice(&c.sb.read(&json)).unwrap();
    assert_eq!(v["summary"]["hosts"], 3, "{v}");
    assert_eq!(v["summary"]["compliant_hosts"], 1, "{v}");
    (v, text)
}

#[test]
fn audit_playbook_merges_on_a_host_when_the_controller_cannot_run_the_build_another_user() {
    let f = fleet();
    let c = &f.hosts[0];
    // A macOS controller: merged on the first host, also in --check, and nothing left there.
    let path = macos_path(c);
    let (_, text) = fleet_report(&f, &["--check"], &[("PATH", path.as_str())]);
    assert!(
        text.contains(
            "the report is merged on a Linux host: the controller runs Darwin, not Linux"
        ),
        "{text}"
    );
    assert!(
        text.contains("Write the report merged on shm-0"),
        "merged on the first host that answered\n{text}"
    );
    for h in &f.hosts {
        assert_eq!(
            h.sh("ls -A /var/cache"),
            "",
            "--check left a cache on port {}\n{text}",
            h.port
        );
    }

    // A Linux controller where the build cannot run: its temporary directory is noexec.
    let noexec = c.sb.path("noexec");
    c.sh(&format!(
        "mkdir {noexec} && mount -n -t tmpfs -o noexec,size=64m noexec {noexec}"
    ));
    let (_, text) = fleet_report(&f, &[], &[("TMPDIR", noexec.as_str())]);
    assert!(
        text.contains("the build cannot run on the controller"),
        "{text}"
    );
    assert!(text.contains("Write the report merged on shm-0"), "{text}");

    // shmguard_report_host picks the host; the merge uses the build its audit cached there.
    let before = f.hosts[2].remote_commands();
    let (_, text) = fleet_report(&f, &["-e", "shmguard_report_host=shm-2"], &[]);
    assert!(
        text.contains("the report is merged on a Linux host: shmguard_report_host is set"),
        "{text}"
    );
    assert!(text.contains("Write the report merged on shm-2"), "{text}");
    assert_eq!(
        f.hosts[2].remote_commands() - before,
        2,
        "the audit and the merge, each one cached command\n{text}"
    );
}
