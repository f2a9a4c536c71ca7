//! The real salt-call (masterless, minion config in the sandbox, nothing in /etc/salt) running
//! the shmguard state and execution modules from salt/, and the cmd.run stateful route.

use std::path::PathBuf;

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox};

fn salt_call_bin() -> String {
    let dir = std::env::var_os("SHMGUARD_SALT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/venv/salt"));
    let p = dir.join("bin/salt-call");
    assert!(
        p.exists(),
        "{} not found: run ./tests/run (it installs salt==3008.3 into target/venv/salt), or point SHMGUARD_SALT_VENV at a venv with salt",
        p.display()
    );
    p.display().to_string()
}

/// A masterless minion whose file_roots are the sandbox's srv/, with shmguard's modules.
fn minion(sb: &Sandbox, binary: &str) -> String {
    let repo = env!("CARGO_MANIFEST_DIR");
    let conf = sb.path("salt-conf");
    sb.sh(&format!("mkdir -p {conf} {}", sb.path("srv")));
    let text = format!(
        "id: test-minion\nfile_client: local\nroot_dir: {root}\nfile_roots:\n  base:\n    - {srv}\nstates_dirs:\n  - {repo}/salt/_states\nmodule_dirs:\n  - {repo}/salt/_modules\nshmguard:\n  binary: {binary}\nlog_level: quiet\n",
        root = sb.path("salt-root"),
        srv = sb.path("srv"),
    );
    sb.file("salt-conf/minion", text.as_bytes());
    conf
}

/// `salt-call --local ARGS --out=json` inside the sandbox: the `local` object.
fn salt_call(sb: &Sandbox, conf: &str, args: &[&str]) -> Value {
    let out = sb
        .command(&salt_call_bin())
        .args(["--local", "-c", conf, "--out=json"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "salt-call gave no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["local"].clone()
}

/// The single state's return out of a state.apply result.
fn only_state(local: &Value) -> Value {
    let states = local
        .as_object()
        .unwrap_or_else(|| panic!("not a state result: {local}"));
    assert_eq!(states.len(), 1, "{local}");
    states.values().next().unwrap().clone()
}

fn sls(sb: &Sandbox, name: &str, text: &str) {
    sb.file(&format!("srv/{name}.sls"), text.as_bytes());
}

#[test]
fn salt_state_dry_run_then_converge_then_no_change() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# site\n");
    let conf = minion(&sb, BIN);
    sls(
        &sb,
        "shm",
        &format!(
            "{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - size: 128m\n    - options: [nodev, nosuid, noexec]\n    - fstab_path: {fstab}\n"
        ),
    );

    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let dry = only_state(&salt_call(&sb, &conf, &["state.apply", "shm", "test=True"]));
    assert_eq!(dry["result"], Value::Null, "{dry}");
    assert_eq!(dry["changes"]["mode"]["old"], "0755", "{dry}");
    assert_eq!(dry["changes"]["mode"]["new"], "1777");
    assert_eq!(dry["changes"]["size"]["new"], "128M");
    assert_eq!(
        dry["changes"]["options"]["new"],
        "rw,nosuid,nodev,noexec,relatime"
    );
    assert_eq!(
        dry["changes"]["fstab"]["new"],
        format!("tmpfs {shm} tmpfs nodev,nosuid,noexec,size=128m 0 0")
    );
    assert_eq!(
        sb.snapshot(&[&shm], &[&fstab]),
        snap,
        "test=True changed something"
    );

    let real = only_state(&salt_call(&sb, &conf, &["state.apply", "shm"]));
    assert_eq!(real["result"], true, "{real}");
    assert_eq!(
        real["changes"], dry["changes"],
        "test=True must predict the real changes"
    );
    assert_eq!(sb.mode(&shm), "1777");
    assert!(sb.mountinfo(&shm).contains("rw,nosuid,nodev,noexec"));

    let again = only_state(&salt_call(&sb, &conf, &["state.apply", "shm"]));
    assert_eq!(again["result"], true, "{again}");
    assert_eq!(again["changes"], serde_json::json!({}));
    let dry_again = only_state(&salt_call(&sb, &conf, &["state.apply", "shm", "test=True"]));
    assert_eq!(
        dry_again["result"], true,
        "a compliant system is True under test, not None: {dry_again}"
    );
}

#[test]
fn salt_state_bad_parameter_fails_and_changes_nothing() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# site\n");
    let conf = minion(&sb, BIN);
    sls(
        &sb,
        "bad",
        &format!(
            "{shm}:\n  shmguard.managed:\n    - size: huge\n    - mode: \"1777\"\n    - fstab_path: {fstab}\n"
        ),
    );
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let r = only_state(&salt_call(&sb, &conf, &["state.apply", "bad"]));
    assert_eq!(r["result"], false, "{r}");
    assert!(
        r["comment"]
            .as_str()
            .unwrap()
            .starts_with("size: \"huge\" is not accepted"),
        "{r}"
    );
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
}

#[test]
fn salt_state_functions_map_to_shmguard_states_and_limits() {
    let sb = Sandbox::new();
    let mq = sb.mqueue("mq", "rw");
    let shm = sb.tmpfs("shm", "size=64m");
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {shm} tmpfs defaults 0 0\n").as_bytes(),
    );
    let sysctl = sb.path("mq.conf");
    let conf = minion(&sb, BIN);
    sls(
        &sb,
        "more",
        &format!(
            "{mq}:\n  shmguard.managed:\n    - fstype: mqueue\n    - queues_max: 300\n    - fstab_path: {fstab}\n    - sysctl_path: {sysctl}\n\
             shm-gone:\n  shmguard.absent:\n    - name: {shm}\n    - fstab_path: {fstab}\n    - require:\n      - shmguard: {mq}\n"
        ),
    );
    let local = salt_call(&sb, &conf, &["state.apply", "more"]);
    for (_, r) in local.as_object().unwrap() {
        assert_eq!(r["result"], true, "{r}");
    }
    assert_eq!(sb.sh("cat /proc/sys/fs/mqueue/queues_max"), "300\n");
    assert_eq!(
        String::from_utf8(sb.read(&fstab)).unwrap(),
        format!("mqueue {mq} mqueue defaults 0 0\n")
    );
    assert!(
        sb.mountinfo(&shm).contains("size=65536k"),
        "absent never unmounts"
    );
}

#[test]
fn salt_state_without_a_binary_says_where_it_looked() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m");
    let conf = minion(&sb, "/nonexistent/shmguard");
    sls(
        &sb,
        "nobin",
        &format!("{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n"),
    );
    let r = only_state(&salt_call(&sb, &conf, &["state.apply", "nobin"]));
    assert_eq!(r["result"], false);
    assert!(
        r["comment"]
            .as_str()
            .unwrap()
            .contains("shmguard binary not found"),
        "{r}"
    );
}

#[test]
fn salt_execution_module_status_and_audit_are_read_only() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let conf = minion(&sb, BIN);
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let status = salt_call(
        &sb,
        &conf,
        &["shmguard.status", &shm, &format!("fstab_path={fstab}")],
    );
    assert_eq!(status[&shm]["mode"], "0755", "{status}");
    assert_eq!(status[&shm]["size"]["human"], "64M");
    let audit = salt_call(
        &sb,
        &conf,
        &[
            "shmguard.audit",
            &shm,
            "mode=1777",
            "options=nodev,noexec",
            &format!("fstab_path={fstab}"),
        ],
    );
    assert_eq!(audit["compliant"], false, "{audit}");
    let failing: Vec<&str> = audit["targets"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let id = shm.trim_start_matches('/').replace('/', "-");
    assert_eq!(
        failing,
        [
            format!("{id}.mode.live"),
            format!("{id}.nodev.live"),
            format!("{id}.noexec.live"),
            format!("{id}.fstab.fstab"),
            format!("{id}.mode.fstab"),
            format!("{id}.nodev.fstab"),
            format!("{id}.noexec.fstab"),
            format!("{id}.mounted.boot")
        ]
    );
    let probe = salt_call(&sb, &conf, &["shmguard.probe"]);
    assert_eq!(probe["checks"][0]["name"], "shared_memory", "{probe}");
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
}

#[test]
fn salt_cmd_run_stateful_route_needs_no_python_glue() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let conf = minion(&sb, BIN);
    let cmd = format!(
        "{BIN} apply --path {shm} --mode 1777 --option nodev,nosuid --fstab-path {fstab} --format salt-stateful"
    );
    sls(
        &sb,
        "cmd",
        &format!(
            "shm-by-cmd:\n  cmd.run:\n    - name: {cmd}\n    - stateful:\n      - test_name: {cmd} --check\n"
        ),
    );
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let dry = only_state(&salt_call(&sb, &conf, &["state.apply", "cmd", "test=True"]));
    assert_eq!(dry["result"], Value::Null, "{dry}");
    assert_eq!(dry["changes"]["mode"]["new"], "1777", "{dry}");
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
    let real = only_state(&salt_call(&sb, &conf, &["state.apply", "cmd"]));
    assert_eq!(real["result"], true, "{real}");
    assert_eq!(sb.mode(&shm), "1777");
    let again = only_state(&salt_call(&sb, &conf, &["state.apply", "cmd"]));
    assert_eq!(again["result"], true);
    assert_eq!(again["changes"], serde_json::json!({}), "{again}");
}
