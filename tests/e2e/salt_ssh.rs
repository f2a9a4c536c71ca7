//! The real salt-ssh (from the salt venv) against a loopback sshd host (ssh_host.rs) whose
//! target has Python 3 (the machine's /usr/bin/python3): the formula places the binary at the
//! pillar's `shmguard:binary` and converges the host's fresh /dev/shm with a scratch fstab, and
//! the execution module, through salt/formula/_wrapper, runs that binary (not one on PATH). Master
//! config, cache, pki, logs, known_hosts, keys and the target's thin_dir are all scratch.

use std::process::Stdio;

use serde_json::Value;

use crate::salt::salt_venv_bin;
use crate::sandbox::BIN;
use crate::ssh_host::SshHost;

/// A salt-ssh master (config dir, roster, file and pillar roots) in the host's scratch dir.
struct SaltSsh {
    host: SshHost,
    conf: String,
}

impl SaltSsh {
    /// The pillar is pillar/shmguard.sls in the host's scratch dir; the test writes it.
    fn new() -> SaltSsh {
        let host =
            SshHost::with_sshd_config("size=64m,mode=755", false, "Subsystem sftp internal-sftp\n");
        let d = host.sb.path("");
        let repo = env!("CARGO_MANIFEST_DIR");
        let (conf, srv, root) = (
            format!("{d}salt-ssh"),
            format!("{d}srv"),
            format!("{d}master"),
        );
        // The formula, the modules and the wrapper as a master would serve them; the x86_64
        // build where salt/build-formula puts it. cache/proc: salt-run needs it (a salt-master
        // that has run once made it).
        host.sh(&format!(
            "set -e; mkdir -p {conf} {srv} {d}pillar {d}thin {root}/cache/proc; \
             cp -r {repo}/salt/formula/_states {repo}/salt/formula/_modules {repo}/salt/formula/_wrapper {repo}/salt/formula/shmguard {srv}/; \
             rm -rf {srv}/shmguard/files; mkdir -p {srv}/shmguard/files/x86_64; \
             cp {BIN} {srv}/shmguard/files/x86_64/shmguard; \
             printf '[127.0.0.1]:{port} %s\\n' \"$(cut -d' ' -f1,2 {d}hostkey.pub)\" > {conf}/known_hosts",
            port = host.port
        ));
        host.sb
            .file("pillar/top.sls", b"base:\n  '*':\n    - shmguard\n");
        // thin_dir: salt-ssh's "thin" Salt goes here on the target, not to /var/tmp. set_path:
        // this machine's root PATH starts with pyenv's shims, shell scripts that salt-ssh's
        // shim cannot run (it exports LD_LIBRARY_PATH unset under `set -u`).
        host.sb.file(
            "salt-ssh/roster",
            format!(
                "target:\n  host: 127.0.0.1\n  port: {port}\n  user: root\n  priv: {d}id\n  thin_dir: {d}thin\n  \
                 set_path: /usr/sbin:/usr/bin:/sbin:/bin\n",
                port = host.port
            )
            .as_bytes(),
        );
        host.sb.file(
            "salt-ssh/master",
            format!(
                "root_dir: {root}\ncachedir: {root}/cache\npki_dir: {root}/pki\nsock_dir: {root}/sock\n\
                 log_file: {root}/master.log\nssh_log_file: {root}/ssh.log\nlog_level_logfile: warning\n\
                 known_hosts_file: {conf}/known_hosts\nroster_file: {conf}/roster\n\
                 file_roots:\n  base:\n    - {srv}\npillar_roots:\n  base:\n    - {d}pillar\n"
            )
            .as_bytes(),
        );
        SaltSsh { host, conf }
    }

    /// `salt-ssh target ARGS --out=json` inside the host's namespaces: (target's return, exit
    /// code, stderr).
    fn run(&self, args: &[&str]) -> (Value, i32, String) {
        let out = self
            .host
            .sb
            .command(&salt_venv_bin("salt-ssh"))
            .args(["-c", &self.conf, "--out=json", "target"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "salt-ssh {args:?} gave no JSON ({e}):\n{}\n{err}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (v["target"].clone(), out.status.code().unwrap_or(-1), err)
    }

    /// `salt-run ARGS` with the same master config.
    fn salt_run(&self, args: &[&str]) -> String {
        let out = self
            .host
            .sb
            .command(&salt_venv_bin("salt-run"))
            .args(["-c", &self.conf, "--out=json"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "salt-run {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }
}

/// Salt's default places on this machine (as the machine, not the sandbox, sees them): the
/// default thin_dir `/var/tmp/.<user>_<uuid>_salt`, /etc/salt, /var/log/salt, /var/cache/salt.
fn salt_traces() -> Vec<String> {
    let mut found: Vec<String> = ["/etc/salt", "/var/log/salt", "/var/cache/salt", "/run/salt"]
        .iter()
        .filter(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
        .collect();
    for entry in std::fs::read_dir("/var/tmp")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.contains("salt") {
            found.push(format!("/var/tmp/{name}"));
        }
    }
    found.sort();
    found
}

#[test]
fn salt_ssh_applies_the_formula_and_the_execution_module_uses_the_pillars_binary() {
    let ssh = SaltSsh::new();
    let d = ssh.host.sb.path("");
    // The pillar's binary is where nothing else would look: not on PATH, not /usr/local/sbin.
    ssh.host.sb.file(
        "pillar/shmguard.sls",
        format!(
            "shmguard:\n  binary: {d}target-sbin/shmguard\n  mounts:\n    /dev/shm:\n      mode: \"1777\"\n      size: 128m\n      options: [nodev, nosuid, noexec]\n      fstab_path: {}\n",
            ssh.host.fstab
        )
        .as_bytes(),
    );
    let host = &ssh.host;
    let placed = format!("{d}target-sbin/shmguard");
    let traces = salt_traces();
    let synced = ssh.salt_run(&["saltutil.sync_all"]);
    assert!(synced.contains("wrapper.shmguard"), "{synced}");
    let started = std::time::Instant::now();

    // A dry run places nothing and changes nothing.
    let snap = host.sb.snapshot(&["/dev/shm"], &[&host.fstab]);
    let (dry, rc, err) = ssh.run(&["state.apply", "shmguard", "test=True"]);
    assert_eq!(rc, 0, "{dry}\n{err}");
    let shm = state(&dry, "shmguard_|-shmguard-/dev/shm_|-/dev/shm_|-managed");
    assert_eq!(shm["result"], Value::Null, "{dry}");
    assert_eq!(host.sb.snapshot(&["/dev/shm"], &[&host.fstab]), snap);
    assert_eq!(host.sh(&format!("ls {placed} 2>/dev/null || true")), "");

    // The real run places the build at the pillar's path and converges /dev/shm.
    let (real, rc, err) = ssh.run(&["state.apply", "shmguard"]);
    assert_eq!(rc, 0, "{real}\n{err}");
    for (id, r) in real.as_object().unwrap() {
        assert_eq!(r["result"], true, "{id}: {r}");
    }
    assert_eq!(
        host.sh(&format!("cmp {BIN} {placed} && echo same")),
        "same\n"
    );
    assert_eq!(host.sb.mode("/dev/shm"), "1777");
    let live = host.sb.mountinfo("/dev/shm");
    assert!(live.contains("rw,nosuid,nodev,noexec"), "{live}");
    assert!(live.contains("size=131072k"), "{live}");
    let line = String::from_utf8(host.sb.read(&host.fstab)).unwrap();
    assert!(
        line.contains("tmpfs /dev/shm tmpfs") && line.contains("size=128m"),
        "{line}"
    );
    // The execution module runs the pillar's binary on the target.
    let (status, rc, err) = ssh.run(&[
        "shmguard.status",
        "/dev/shm",
        &format!("fstab_path={}", host.fstab),
    ]);
    assert_eq!(rc, 0, "{status}\n{err}");
    assert_eq!(status["/dev/shm"]["mode"], "1777", "{status}");
    assert_eq!(status["/dev/shm"]["size"]["human"], "128M", "{status}");
    let (version, rc, _) = ssh.run(&["shmguard.version"]);
    assert_eq!(rc, 0, "{version}");
    assert_eq!(version["binary"], placed.as_str(), "{version}");
    assert_eq!(version["match"], true, "{version}");

    // audit keeps the CLI's verdicts, and its retcode on drift (2) makes salt-ssh exit 20, as it
    // does for any host whose retcode is not 0 (EX_AGGREGATE).
    // First a policy file served by the master (the wrapper copies it to the target), then the
    // same policy inline.
    host.sh(&format!("mkdir -p {d}srv/policies"));
    host.sb.file(
        "srv/policies/shm.json",
        br#"{"path": "/dev/shm", "mode": "1777", "options": ["nodev", "nosuid", "noexec"]}"#,
    );
    let fstab_arg = format!("fstab={}", host.fstab);
    let (audit, rc, err) = ssh.run(&[
        "shmguard.audit",
        "policy=salt://policies/shm.json",
        &fstab_arg,
    ]);
    assert_eq!(
        (audit["verdict"].as_str(), rc),
        (Some("compliant"), 0),
        "{audit}\n{err}"
    );
    host.sh("chmod 755 /dev/shm");
    let policy =
        r#"policy={"path": "/dev/shm", "mode": "1777", "options": [nodev, nosuid, noexec]}"#;
    let (audit, rc, err) = ssh.run(&["shmguard.audit", policy, &fstab_arg]);
    assert_eq!(
        (audit["verdict"].as_str(), rc),
        (Some("drift"), 20),
        "{audit}\n{err}"
    );
    assert_eq!(
        audit["checks"]["dev-shm.mode.live"]["status"], "fail",
        "{audit}"
    );

    eprintln!("salt-ssh: 6 calls in {:?}", started.elapsed());
    // Nothing outside the scratch dirs: the thin Salt went to the roster's thin_dir.
    assert_eq!(
        salt_traces(),
        traces,
        "salt-ssh left something outside its scratch dirs"
    );
    assert!(
        !host.sh(&format!("ls {d}thin")).is_empty(),
        "the thin Salt is in the roster's thin_dir"
    );
}

/// The return of the state whose key is `key` in a state.apply result.
fn state(ret: &Value, key: &str) -> Value {
    ret.get(key)
        .unwrap_or_else(|| panic!("no state {key} in {ret}"))
        .clone()
}
