//! The real salt-call (masterless, minion config in the sandbox, nothing in /etc/salt) running
//! the shmguard state and execution modules from salt/, and the cmd.run stateful route; and
//! `shmguard salt` refusing input that is not from its wrapper.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox};

pub fn salt_venv_bin(name: &str) -> String {
    let dir = std::env::var_os("SHMGUARD_SALT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/venv/salt"));
    let p = dir.join("bin").join(name);
    assert!(
        p.exists(),
        "{} not found: run ./tests/run (it installs salt==3008.3 into target/venv/salt), or point SHMGUARD_SALT_VENV at a venv with salt",
        p.display()
    );
    p.display().to_string()
}

pub fn salt_call_bin() -> String {
    salt_venv_bin("salt-call")
}

/// Copies of salt/formula/_states and salt/formula/_modules into the sandbox (Salt compiles the modules and
/// would leave __pycache__ in the repository) and of the formula into srv/; returns the
/// minion config lines that point at them.
pub fn modules_and_formula(sb: &Sandbox) -> String {
    let repo = env!("CARGO_MANIFEST_DIR");
    let (mods, srv) = (sb.path("salt-mods"), sb.path("srv"));
    sb.sh(&format!(
        "mkdir -p {mods} {srv} && cp -r {repo}/salt/formula/_states {repo}/salt/formula/_modules {mods}/ && \\
         if [ ! -d {srv}/shmguard ]; then cp -r {repo}/salt/formula/shmguard {srv}/ && rm -rf {srv}/shmguard/files; fi"
    ));
    format!(
        "file_roots:\n  base:\n    - {srv}\nstates_dirs:\n  - {mods}/_states\nmodule_dirs:\n  - {mods}/_modules\n"
    )
}

/// A masterless minion whose file_roots are the sandbox's srv/, with shmguard's modules;
/// `extra` is appended to its config (pillar, grains, or the `shmguard:binary` setting).
pub fn minion_with(sb: &Sandbox, extra: &str) -> String {
    let conf = sb.path("salt-conf");
    sb.sh(&format!("mkdir -p {conf}"));
    let text = format!(
        "id: test-minion\nfile_client: local\nroot_dir: {root}\n{roots}log_level: quiet\n{extra}",
        root = sb.path("salt-root"),
        roots = modules_and_formula(sb),
    );
    sb.file("salt-conf/minion", text.as_bytes());
    conf
}

pub fn minion(sb: &Sandbox, binary: &str) -> String {
    minion_with(sb, &format!("shmguard:\n  binary: {binary}\n"))
}

/// `salt-call --local ARGS --out=json` inside the sandbox: (the `local` object, exit code as
/// the function set it: --retcode-passthrough).
pub fn salt_call_rc(sb: &Sandbox, conf: &str, args: &[&str]) -> (Value, i32) {
    let out = sb
        .command(&salt_call_bin())
        .args(["--local", "-c", conf, "--out=json", "--retcode-passthrough"])
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
    (v["local"].clone(), out.status.code().unwrap_or(-1))
}

pub fn salt_call(sb: &Sandbox, conf: &str, args: &[&str]) -> Value {
    salt_call_rc(sb, conf, args).0
}

/// The single state's return out of a state.apply result.
pub fn only_state(local: &Value) -> Value {
    let states = local
        .as_object()
        .unwrap_or_else(|| panic!("not a state result: {local}"));
    assert_eq!(states.len(), 1, "{local}");
    states.values().next().unwrap().clone()
}

/// The return of the state whose key contains `id`.
pub fn state_named(local: &Value, id: &str) -> Value {
    local
        .as_object()
        .unwrap_or_else(|| panic!("not a state result: {local}"))
        .iter()
        .find(|(k, _)| k.contains(id))
        .unwrap_or_else(|| panic!("no state {id} in {local}"))
        .1
        .clone()
}

pub fn sls(sb: &Sandbox, name: &str, text: &str) {
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
fn salt_state_without_a_binary_says_where_it_looked_and_is_none_under_test() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m");
    let conf = minion(&sb, "/nonexistent/shmguard");
    sls(
        &sb,
        "nobin",
        &format!("{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - size: 4G\n"),
    );
    let r = only_state(&salt_call(&sb, &conf, &["state.apply", "nobin"]));
    assert_eq!(r["result"], false, "{r}");
    let comment = r["comment"].as_str().unwrap();
    assert!(
        comment.starts_with(
            "shmguard binary not found (looked at /nonexistent/shmguard (shmguard:binary in pillar or the minion config))"
        ),
        "{r}"
    );
    let dry = only_state(&salt_call(
        &sb,
        &conf,
        &["state.apply", "nobin", "test=True"],
    ));
    assert_eq!(
        dry["result"],
        Value::Null,
        "a new minion under test=True: None, not False: {dry}"
    );
    assert!(
        dry["comment"].as_str().unwrap().contains(&format!(
            "once the binary is in place, shmguard would enforce state=mounted on {shm} with mode=1777, size=4G"
        )),
        "{dry}"
    );
}

#[test]
fn salt_state_warnings_go_to_the_warnings_key_not_the_comment() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=1777");
    let fstab = sb.file("fstab", b"");
    let conf = minion(&sb, BIN);
    sls(
        &sb,
        "noexec",
        &format!(
            "{shm}:\n  shmguard.managed:\n    - options: [nodev, nosuid, noexec]\n    - fstab_path: {fstab}\n"
        ),
    );
    // The run that adds noexec warns, in `warnings`; the next one, with nothing to change, is
    // quiet (issue 11: one warning per host per run across a fleet was noise).
    let r = only_state(&salt_call(&sb, &conf, &["state.apply", "noexec"]));
    assert_eq!(r["result"], true, "{r}");
    let warnings = r["warnings"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(warnings.len(), 1, "{r}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("noexec on a shared-memory mount")
    );
    assert!(
        !r["comment"]
            .as_str()
            .unwrap()
            .contains("noexec on a shared"),
        "the warning is not in the comment: {r}"
    );
    assert!(
        r.get("shmguard_version").is_none(),
        "the wrapper pops it: {r}"
    );
    let again = only_state(&salt_call(&sb, &conf, &["state.apply", "noexec"]));
    assert_eq!(again["result"], true, "{again}");
    assert_eq!(again["changes"], serde_json::json!({}), "{again}");
    assert!(
        again["warnings"].as_array().is_none_or(|w| w.is_empty()),
        "nothing added, no warning: {again}"
    );
}

#[test]
fn salt_state_signatures_and_docs_name_every_parameter() {
    let sb = Sandbox::new();
    let conf = minion(&sb, BIN);
    let spec = salt_call(&sb, &conf, &["sys.state_argspec", "shmguard"]);
    let want: Vec<&str> = std::iter::once("name")
        .chain(
            shmguard::spec::params::NAMES
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| *n != "path" && *n != "state"),
        )
        .chain(std::iter::once("binary"))
        .collect();
    for fun in ["managed", "present", "ephemeral", "absent"] {
        let args: Vec<&str> = spec[format!("shmguard.{fun}")]["args"]
            .as_array()
            .unwrap_or_else(|| panic!("{spec}"))
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args, want, "shmguard.{fun}");
    }
    let doc = salt_call(&sb, &conf, &["sys.state_doc", "shmguard.managed"]);
    let text = doc["shmguard.managed"]
        .as_str()
        .unwrap_or_else(|| panic!("{doc}"));
    for name in &want {
        assert!(
            text.contains(&format!("\n    {name}\n")),
            "no doc for {name}: {text}"
        );
    }
    assert!(text.contains("tmpfs size limit"), "{text}");
    assert!(!text.contains("README"), "the doc is on the minion: {text}");

    // The execution module's doc stands on its own: no pointer to a doc sys.doc never prints,
    // every profile, no example file that does not exist, no internal argument.
    let doc = salt_call(&sb, &conf, &["sys.doc", "shmguard"]).to_string();
    for absent in ["see the module doc", "salt://shmguard/policy.json"] {
        assert!(!doc.contains(absent), "{absent}: {doc}");
    }
    assert!(
        doc.contains("cis, multiprocessing, mqueue, default"),
        "{doc}"
    );
    assert!(doc.contains("PATH is never searched"), "{doc}");
    let spec = salt_call(&sb, &conf, &["sys.argspec", "shmguard"]);
    assert_eq!(
        spec["shmguard.arch"]["args"],
        serde_json::json!(["binary"]),
        "{spec}"
    );

    // A misspelt argument is refused by Salt itself, naming it.
    let shm = sb.tmpfs("shm", "size=64m");
    sls(
        &sb,
        "typo",
        &format!("{shm}:\n  shmguard.managed:\n    - sizee: 1G\n"),
    );
    let r = only_state(&salt_call(
        &sb,
        &conf,
        &["state.apply", "typo", "test=True"],
    ));
    assert_eq!(r["result"], false, "{r}");
    let comment = r["comment"].as_str().unwrap();
    assert!(
        comment.starts_with(
            "shmguard.managed: unknown argument(s) sizee (did you mean size?); its arguments are name, fstype, mode, size,"
        ),
        "in Salt's words, with the state's own argument names: {r}"
    );
    for ansible in ["Unsupported parameters", "module", "path (name)", "state,"] {
        assert!(!comment.contains(ansible), "{ansible}: {r}");
    }
    assert!(comment.ends_with(", binary"), "{r}");
}

#[test]
fn salt_watch_reruns_the_state_and_says_why() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=1777");
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {shm} tmpfs size=64m 0 0\n").as_bytes(),
    );
    let conf = minion(&sb, BIN);
    sls(
        &sb,
        "watch",
        &format!(
            "app-config:\n  test.succeed_with_changes: []\n\
             {shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - fstab_path: {fstab}\n    - watch:\n      - test: app-config\n"
        ),
    );
    let local = salt_call(&sb, &conf, &["state.apply", "watch"]);
    let r = state_named(&local, "shmguard_");
    assert_eq!(r["result"], true, "{r}");
    assert!(
        r["comment"]
            .as_str()
            .unwrap()
            .starts_with("Re-checked because a watched state changed."),
        "mod_watch ran: {r}"
    );
    assert_eq!(r["changes"], serde_json::json!({}));

    // A state that failed with no changes gets mod_watch too: the re-run must fail the same way.
    sls(
        &sb,
        "watch-typo",
        &format!(
            "app-config:\n  test.succeed_with_changes: []\n\
             {shm}:\n  shmguard.managed:\n    - sizee: 1G\n    - fstab_path: {fstab}\n    - watch:\n      - test: app-config\n"
        ),
    );
    let local = salt_call(&sb, &conf, &["state.apply", "watch-typo"]);
    let r = state_named(&local, "shmguard_");
    assert_eq!(
        r["result"], false,
        "the watch re-run does not hide the error: {r}"
    );
    assert!(
        r["comment"]
            .as_str()
            .unwrap()
            .contains("shmguard.managed: unknown argument(s) sizee (did you mean size?)"),
        "{r}"
    );
}

/// The report of `shmguard audit ARGS --format json` inside the sandbox, and its exit code.
fn cli_audit(sb: &Sandbox, args: &[&str]) -> (Value, i32) {
    let out = sb
        .command(BIN)
        .args(["audit", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (v, out.status.code().unwrap())
}

/// id -> status of every check of a CLI audit report.
fn statuses(report: &Value) -> std::collections::BTreeMap<String, String> {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["checks"].as_array().unwrap().iter())
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn salt_execution_module_audit_gives_the_clis_results_and_retcode() {
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

    // A policy from the command line (as pillar would give it) with the fstab to judge.
    let policy_file = sb.file(
        "policy.json",
        format!(r#"{{"path": "{shm}", "mode": "1777", "options": ["nodev", "noexec"]}}"#)
            .as_bytes(),
    );
    let (cli, cli_rc) = cli_audit(&sb, &["--policy", &policy_file, "--fstab", &fstab]);
    assert_eq!(cli_rc, 2, "{cli}");
    let policy = format!(r#"policy={{"path": "{shm}", "mode": 1777, "options": [nodev, noexec]}}"#);
    let fstab_arg = format!("fstab={fstab}");
    let (salt, rc) = salt_call_rc(&sb, &conf, &["shmguard.audit", &policy, &fstab_arg]);
    assert_eq!(salt["verdict"], "drift", "{salt}");
    assert_eq!(salt["compliant"], false);
    assert_eq!(salt["summary"], cli["summary"]);
    // The audit document whole: the remedy, what is wanted and the fstype survive, marked as
    // Salt's so `shmguard report` gives the remedies as Salt states.
    assert_eq!(salt["via"], "salt", "{salt}");
    for key in ["remedy", "wanted", "fstype", "checks"] {
        assert!(salt["targets"][0].get(key).is_some(), "{key} kept: {salt}");
        assert_eq!(salt["targets"][0][key], cli["targets"][0][key], "{key}");
    }
    assert_eq!(salt["binary"], BIN, "{salt}");
    assert_eq!(salt["binary_version"], env!("CARGO_PKG_VERSION"));
    let by_id: std::collections::BTreeMap<String, String> = salt["checks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, c)| (id.clone(), c["status"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(by_id, statuses(&cli), "the CLI's checks, keyed by id");
    let id = shm.trim_start_matches('/').replace('/', "-");
    assert_eq!(
        salt["checks"][format!("{id}.mode.live")]["target"],
        shm.as_str()
    );
    assert_eq!(rc, 2, "salt-call exits with the CLI's code on drift");

    // The same policy from a file, judged against --root: the CLI's answer again.
    let root = sb.path("image");
    sb.sh(&format!("mkdir -p {root}/etc && printf 'tmpfs {shm} tmpfs mode=1777,nodev,noexec 0 0\\n' > {root}/etc/fstab"));
    let (cli, cli_rc) = cli_audit(&sb, &["--policy", &policy_file, "--root", &root]);
    let (salt, rc) = salt_call_rc(
        &sb,
        &conf,
        &[
            "shmguard.audit",
            &format!("policy={policy_file}"),
            &format!("root={root}"),
        ],
    );
    assert_eq!(rc, cli_rc, "{salt}");
    assert_eq!(
        salt["verdict"],
        if cli_rc == 0 { "compliant" } else { "drift" }
    );
    let by_id: std::collections::BTreeMap<String, String> = salt["checks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, c)| (id.clone(), c["status"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(by_id, statuses(&cli));

    // A mistake is an error with the CLI's message, not drift.
    let out = sb
        .command(&salt_call_bin())
        .args(["--local", "-c", &conf, "--retcode-passthrough"])
        .args(["shmguard.audit", "profile=nope"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("shmguard.audit: profile 'nope' is not a built-in profile; accepted: cis, multiprocessing, mqueue, default"),
        "{err}"
    );
    assert!(
        !err.contains("--profile") && !err.contains("--help"),
        "{err}"
    );
    // A value only the binary can judge: its message in this module's words.
    let out = sb
        .command(&salt_call_bin())
        .args(["--local", "-c", &conf, "--retcode-passthrough"])
        .args([
            "shmguard.audit",
            "profile=default",
            "probe=True",
            "mq_maxmsg=0",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("shmguard.audit: mq_maxmsg: 0 is not accepted; expected 1 to 65536"),
        "{err}"
    );

    let (probe, rc) = salt_call_rc(&sb, &conf, &["shmguard.probe"]);
    assert_eq!(
        probe["checks"]["shared_memory.root"]["status"], "pass",
        "keyed by name and user, the same on every run: {probe}"
    );
    let (again, _) = salt_call_rc(&sb, &conf, &["shmguard.probe"]);
    let keys = |v: &Value| {
        v["checks"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&again), keys(&probe));
    assert!(
        keys(&probe).iter().all(|k| !k.contains('(')),
        "no per-run indices: {probe}"
    );
    assert_eq!(probe["binary"], BIN, "{probe}");
    assert_eq!(probe["binary_version"], env!("CARGO_PKG_VERSION"));
    let verdict = probe["verdict"].as_str().unwrap();
    assert_eq!(
        (verdict, rc),
        if rc == 0 { ("pass", 0) } else { ("fail", 2) },
        "{probe}"
    );
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap, "read-only");
}

/// A scratch /etc (fstab, an empty sysctl.d, the user database) and /dev (with a fresh tmpfs at
/// /dev/shm) over the real ones inside the sandbox's mount namespace: a run with every default
/// only reaches these.
fn scratch_defaults(sb: &Sandbox) {
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "size=64m,mode=755");
    let etc = sb.path("etc");
    sb.sh(&format!(
        "mkdir -p {etc}/sysctl.d && printf '# scratch fstab\\n' > {etc}/fstab && \\
         for f in passwd group nsswitch.conf; do cp /etc/$f {etc}/ 2>/dev/null || true; done && \\
         mount --bind {etc} /etc"
    ));
}

#[test]
fn salt_backend_refuses_input_that_is_not_from_its_wrapper() {
    let sb = Sandbox::new();
    scratch_defaults(&sb);
    let files = ["/etc/fstab"];
    let snap = sb.snapshot(&["/dev/shm"], &files) + &sb.sh("ls -la /etc/sysctl.d");
    for (input, missing) in [
        ("{}", "no name and no test"),
        (r#"{"name": "/dev/shm", "mode": "1777"}"#, "no test"),
        (r#"{"test": false, "mode": "1777"}"#, "no name"),
        ("", "stdin is empty"),
        ("[]", "got a list"),
    ] {
        let mut child = sb
            .command(BIN)
            .arg("salt")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{input}: {err}");
        assert!(err.contains(missing), "{input}: {err}");
        assert!(
            err.contains("shmguard apply"),
            "says what to use instead: {err}"
        );
        assert!(out.stdout.is_empty(), "{input}");
    }
    assert_eq!(
        sb.snapshot(&["/dev/shm"], &files) + &sb.sh("ls -la /etc/sysctl.d"),
        snap,
        "nothing changed"
    );
    // The same defaults with the wrapper's keys would change the scratch /dev/shm (the guard is
    // the missing keys, not something else): under test it says so.
    let mut child = sb
        .command(BIN)
        .arg("salt")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"name": "/dev/shm", "test": true, "mode": "1777"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let ret: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ret["result"], Value::Null, "{ret}");
}

#[test]
fn salt_backend_in_a_terminal_refuses_at_once() {
    let sb = Sandbox::new();
    // script(1) gives the binary a terminal on stdin; it must not wait for input.
    let out = sb
        .command("timeout")
        .args(["10", "script", "-qec", &format!("{BIN} salt"), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("stdin is a terminal"), "{text}");
    assert!(text.contains("shmguard apply"), "{text}");
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

/// `salt-call --local ARGS --out=json` with `dir` first on PATH: (the `local` object, the exit
/// code, stderr).
fn salt_call_with_path(sb: &Sandbox, conf: &str, dir: &str, args: &[&str]) -> (Value, i32, String) {
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let out = sb
        .command(&salt_call_bin())
        .env("PATH", path)
        .args(["--local", "-c", conf, "--out=json", "--retcode-passthrough"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        v["local"].clone(),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn salt_never_runs_a_stray_shmguard_on_path_and_names_the_binary_it_runs() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    // An empty /usr/local/sbin (the formula's path) inside the sandbox only, and a stray
    // `shmguard` first on PATH that leaves a mark when anything runs it.
    sb.sh("mount -t tmpfs -o size=8m,mode=755 sandbox-sbin /usr/local/sbin");
    let mark = sb.path("stray-ran");
    let stray_dir = sb.path("stray");
    sb.sh(&format!("mkdir -p {stray_dir}"));
    sb.file(
        "stray/shmguard",
        format!("#!/bin/sh\ntouch {mark}\nexec {BIN} \"$@\"\n").as_bytes(),
    );
    sb.sh(&format!("chmod 755 {stray_dir}/shmguard"));
    let conf = minion_with(&sb, "");
    sls(
        &sb,
        "shm",
        &format!("{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - fstab_path: {fstab}\n"),
    );
    let formula = "/usr/local/sbin/shmguard (the formula's path)";
    let (local, rc, _) = salt_call_with_path(&sb, &conf, &stray_dir, &["state.apply", "shm"]);
    let r = only_state(&local);
    assert_eq!(r["result"], false, "{r}");
    assert_ne!(rc, 0, "{r}");
    assert!(
        r["comment"]
            .as_str()
            .unwrap()
            .starts_with(&format!("shmguard binary not found (looked at {formula})")),
        "{r}"
    );
    let (_, rc, err) = salt_call_with_path(&sb, &conf, &stray_dir, &["shmguard.status"]);
    assert_eq!(rc, 1, "{err}");
    assert!(
        err.contains(&format!("shmguard binary not found: looked at {formula}")),
        "{err}"
    );
    let (found, _, _) = salt_call_with_path(&sb, &conf, &stray_dir, &["shmguard.locate"]);
    assert_eq!(found["binary"], Value::Null, "{found}");
    // A binary named without a path is refused, not looked up on PATH.
    let (local, _, _) = salt_call_with_path(
        &sb,
        &conf,
        &stray_dir,
        &[
            "state.single",
            "shmguard.managed",
            &shm,
            "binary=shmguard",
            &format!("fstab_path={fstab}"),
        ],
    );
    let r = only_state(&local);
    assert!(
        r["comment"]
            .as_str()
            .unwrap()
            .contains("binary: 'shmguard' (from the binary argument) is not an absolute path: shmguard never searches PATH"),
        "{r}"
    );
    assert!(
        sb.sh(&format!("ls {mark} 2>/dev/null || true")).is_empty(),
        "the stray shmguard on PATH ran"
    );

    // The formula's path, once a binary is there: the states and the execution module run it
    // and name it with its version.
    sb.sh(&format!(
        "printf '#!/bin/sh\\nexec {BIN} \"$@\"\\n' > /usr/local/sbin/shmguard && chmod 755 /usr/local/sbin/shmguard"
    ));
    let (local, rc, _) = salt_call_with_path(&sb, &conf, &stray_dir, &["state.apply", "shm"]);
    let r = only_state(&local);
    assert_eq!((r["result"].clone(), rc), (Value::Bool(true), 0), "{r}");
    assert_eq!(
        r["shmguard"],
        serde_json::json!({"binary": "/usr/local/sbin/shmguard", "version": env!("CARGO_PKG_VERSION")})
    );
    let (status, _, _) = salt_call_with_path(
        &sb,
        &conf,
        &stray_dir,
        &["shmguard.audit", "profile=default"],
    );
    assert_eq!(status["binary"], "/usr/local/sbin/shmguard", "{status}");
    let (found, _, _) = salt_call_with_path(&sb, &conf, &stray_dir, &["shmguard.locate"]);
    assert_eq!(found["source"], "the formula's path", "{found}");
    assert!(
        sb.sh(&format!("ls {mark} 2>/dev/null || true")).is_empty(),
        "the stray shmguard on PATH ran"
    );
}

#[test]
fn salt_status_audit_and_probe_default_to_the_pillars_mounts() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {shm} tmpfs size=64m 0 0\n").as_bytes(),
    );
    let pillar = sb.path("pillar");
    sb.sh(&format!("mkdir -p {pillar}"));
    sb.file("pillar/top.sls", b"base:\n  '*':\n    - shmguard\n");
    sb.file(
        "pillar/shmguard.sls",
        format!(
            "shmguard:\n  binary: {BIN}\n  mounts:\n    {shm}:\n      mode: \"1777\"\n      options: [nodev]\n      fstab_path: {fstab}\n  probe:\n    mq_maxmsg: 5\n"
        )
        .as_bytes(),
    );
    let conf = minion_with(&sb, &format!("pillar_roots:\n  base:\n    - {pillar}\n"));
    let status = salt_call(&sb, &conf, &["shmguard.status"]);
    let keys: Vec<&String> = status.as_object().unwrap().keys().collect();
    assert_eq!(keys, [&shm], "only the pillar's mount point: {status}");
    assert_eq!(
        status[&shm]["fstab"]["text"],
        format!("tmpfs {shm} tmpfs size=64m 0 0"),
        "read from the pillar's fstab_path: {status}"
    );
    let (audit, rc) = salt_call_rc(&sb, &conf, &["shmguard.audit"]);
    assert_eq!(rc, 2, "{audit}");
    let targets = audit["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{audit}");
    assert_eq!(targets[0]["path"], shm.as_str());
    let remedy = targets[0]["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("--mode 1777") && remedy.contains(&format!("--fstab-path {fstab}")),
        "{remedy}"
    );
    let (probe, _) = salt_call_rc(&sb, &conf, &["shmguard.probe"]);
    let detail = probe["checks"]["message_queue.root"]["detail"].to_string();
    assert!(
        detail.contains("5 messages"),
        "the pillar's mq_maxmsg: {probe}"
    );
}

#[test]
fn salt_state_backup_file_is_in_the_changes() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=1777");
    let fstab = sb.file("fstab", b"# site\n");
    let conf = minion(&sb, BIN);
    sls(
        &sb,
        "backup",
        &format!(
            "{shm}:\n  shmguard.managed:\n    - options: [nodev]\n    - backup: true\n    - fstab_path: {fstab}\n"
        ),
    );
    let dry = only_state(&salt_call(
        &sb,
        &conf,
        &["state.apply", "backup", "test=True"],
    ));
    assert!(
        dry["changes"].get("backup_file").is_none(),
        "no copy under test: {dry}"
    );
    let r = only_state(&salt_call(&sb, &conf, &["state.apply", "backup"]));
    assert_eq!(r["result"], true, "{r}");
    let backup = r["changes"]["backup_file"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(String::from_utf8(sb.read(backup)).unwrap(), "# site\n");
    assert!(r.get("backup_file").is_none(), "moved into changes: {r}");
}
