//! Salt across a fleet: the formula serving the build for grains['cpuarch'] (and failing
//! clearly for an architecture without one), a binary of another architecture explained rather
//! than a traceback, a binary of another version flagged, and a real master and minion on
//! localhost (private config directories, high ports on 127.0.0.1, stopped by PID).

use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::salt::{
    minion, minion_with, only_state, salt_call, salt_call_rc, salt_venv_bin, sls, state_named,
};
use crate::sandbox::{BIN, Sandbox};

/// ELF e_machine of aarch64 (elf.h EM_AARCH64).
const EM_AARCH64: u16 = 183;

/// A copy of the shmguard binary whose ELF header says `machine`: it cannot run here (exec
/// fails with ENOEXEC), as the build of another architecture would not.
fn stand_in(sb: &Sandbox, rel: &str, machine: u16) -> String {
    let mut bytes = std::fs::read(BIN).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    bytes[18..20].copy_from_slice(&machine.to_le_bytes());
    let p = sb.file(rel, &bytes);
    sb.sh(&format!("chmod 755 {p}"));
    p
}

fn e_machine(sb: &Sandbox, path: &str) -> u16 {
    let bytes = sb.read(path);
    u16::from_le_bytes([bytes[18], bytes[19]])
}

#[test]
fn salt_binary_of_another_architecture_is_explained_not_a_traceback() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let arm = stand_in(&sb, "shmguard-aarch64", EM_AARCH64);
    let conf = minion(&sb, &arm);
    sls(
        &sb,
        "arch",
        &format!("{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - fstab_path: {fstab}\n"),
    );
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let r = only_state(&salt_call(&sb, &conf, &["state.apply", "arch"]));
    assert_eq!(r["result"], false, "{r}");
    let comment = r["comment"].as_str().unwrap();
    assert!(
        comment.starts_with(&format!("the shmguard binary {arm} cannot run (")),
        "{comment}"
    );
    assert!(
        comment.contains("Exec format error"),
        "exec must fail (a host that runs aarch64 binaries through qemu binfmt_misc cannot run this test): {comment}"
    );
    assert!(
        comment
            .contains("this minion's cpuarch (grains) is x86_64; the binary is built for aarch64."),
        "{comment}"
    );
    assert!(comment.contains("Place the x86_64 build"), "{comment}");
    assert!(!comment.contains("Traceback"), "{comment}");
    assert!(
        comment.lines().count() <= 2,
        "a few lines, not a traceback: {comment}"
    );
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);

    let arch = salt_call(&sb, &conf, &["shmguard.arch"]);
    assert_eq!(arch["binary_arch"], "aarch64", "{arch}");
    assert_eq!(arch["cpuarch"], "x86_64");
    assert_eq!(arch["match"], false);
    let native = salt_call(&sb, &conf, &["shmguard.arch", &format!("binary={BIN}")]);
    assert_eq!(native["match"], true, "{native}");

    // The execution module explains it too.
    let out = sb
        .command(&salt_venv_bin("salt-call"))
        .args(["--local", "-c", &conf, "shmguard.audit"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("Error running 'shmguard.audit': the shmguard binary")
            && err.contains("the binary is built for aarch64"),
        "{err}"
    );
}

#[test]
fn salt_binary_of_another_version_is_flagged_in_warnings() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=1777");
    let fstab = sb.file("fstab", b"");
    let old = sb.file(
        "shmguard-old",
        format!(
            "#!/bin/sh\n{BIN} \"$@\" | sed 's/\"shmguard_version\":\"[^\"]*\"/\"shmguard_version\":\"0.0.9\"/'\n"
        )
        .as_bytes(),
    );
    sb.sh(&format!("chmod 755 {old}"));
    let conf = minion(&sb, &old);
    sls(
        &sb,
        "old",
        &format!("{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - fstab_path: {fstab}\n"),
    );
    let r = only_state(&salt_call(&sb, &conf, &["state.apply", "old", "test=True"]));
    assert_eq!(r["result"], Value::Null, "{r}");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains(&format!(
            "the shmguard binary {old} is version 0.0.9, this Salt module is {}",
            env!("CARGO_PKG_VERSION")
        )),
        "{r}"
    );
    let same = minion(&sb, BIN);
    let r = only_state(&salt_call(&sb, &same, &["state.apply", "old", "test=True"]));
    assert!(r.get("warnings").is_none(), "{r}");
    let v = salt_call(&sb, &same, &["shmguard.version"]);
    assert_eq!(v["match"], true, "{v}");
    assert_eq!(v["binary_version"], env!("CARGO_PKG_VERSION"));
}

/// A pillar for the formula: where the binary goes, one mount point.
pub fn formula_pillar(sb: &Sandbox, binary: &str, shm: &str, fstab: &str) -> String {
    let pillar = sb.path("pillar");
    sb.sh(&format!("mkdir -p {pillar}"));
    sb.file("pillar/top.sls", b"base:\n  '*':\n    - shmguard\n");
    sb.file(
        "pillar/shmguard.sls",
        format!(
            "shmguard:\n  binary: {binary}\n  mounts:\n    {shm}:\n      mode: \"1777\"\n      size: 128m\n      options: [nodev, nosuid]\n      fstab_path: {fstab}\n"
        )
        .as_bytes(),
    );
    format!("pillar_roots:\n  base:\n    - {pillar}\n")
}

/// The formula's builds in the sandbox's file roots: files/<arch>/shmguard and its hash,
/// shmguard.sha256, as salt/build-formula writes them.
pub fn serve(sb: &Sandbox, arch: &str, from: &str) {
    let dir = sb.path(&format!("srv/shmguard/files/{arch}"));
    sb.sh(&format!(
        "mkdir -p {dir} && cp {from} {dir}/shmguard && cd {dir} && sha256sum shmguard > shmguard.sha256"
    ));
}

#[test]
fn salt_formula_places_the_build_for_the_minions_cpuarch_then_converges() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let placed = sb.path("sbin/shmguard");
    let conf = minion_with(&sb, &formula_pillar(&sb, &placed, &shm, &fstab));
    serve(&sb, "x86_64", BIN);
    let arm = stand_in(&sb, "arm", EM_AARCH64);
    serve(&sb, "aarch64", &arm);

    // A new minion under test=True: the binary would be placed, and the mount state predicts
    // its changes with the build from the minion's file cache (hash checked); nothing is
    // placed on the system or changed.
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let dry = salt_call(&sb, &conf, &["state.apply", "shmguard", "test=True"]);
    let bin_state = state_named(&dry, "shmguard-binary");
    assert_eq!(bin_state["result"], Value::Null, "{dry}");
    let key = format!("shmguard_|-shmguard-{shm}_|-{shm}_|-managed");
    let shm_state = state_named(&dry, &key);
    assert_eq!(shm_state["result"], Value::Null, "{dry}");
    let comment = shm_state["comment"].as_str().unwrap();
    assert!(
        comment.contains(
            "predicted with the build salt://shmguard/files/x86_64/shmguard from the minion's file cache"
        ) && comment.contains("sha256 verified"),
        "{shm_state}"
    );
    assert_eq!(shm_state["changes"]["mode"]["new"], "1777", "{shm_state}");
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
    assert!(
        sb.sh(&format!("ls {placed} 2>/dev/null || true"))
            .is_empty()
    );

    let real = salt_call(&sb, &conf, &["state.apply", "shmguard"]);
    for (id, r) in real.as_object().unwrap() {
        assert_eq!(r["result"], true, "{id}: {r}");
    }
    assert_eq!(
        state_named(&real, &key)["changes"],
        shm_state["changes"],
        "the dry run on the new minion predicted the real changes"
    );
    assert_eq!(
        state_named(&real, &key)["shmguard"]["binary"],
        placed.as_str()
    );

    // A build whose hash does not match is not run: the dry run says so and predicts nothing.
    let fresh = minion_with(
        &sb,
        &formula_pillar(&sb, &sb.path("other-sbin/shmguard"), &shm, &fstab),
    );
    sb.sh(&format!(
        "echo 0000000000000000000000000000000000000000000000000000000000000000 > {}",
        sb.path("srv/shmguard/files/x86_64/shmguard.sha256")
    ));
    sb.sh(&format!(
        "rm -rf {}",
        sb.path("salt-root/var/cache/salt/minion/files")
    ));
    let dry = salt_call(&sb, &fresh, &["state.apply", "shmguard", "test=True"]);
    let r = state_named(&dry, &key);
    assert_eq!(r["result"], Value::Null, "{r}");
    assert!(
        r["comment"]
            .as_str()
            .unwrap()
            .contains("its hash says 0000"),
        "{r}"
    );
    assert_eq!(r["changes"], serde_json::json!({}), "{r}");
    serve(&sb, "x86_64", BIN);
    assert_eq!(e_machine(&sb, &placed), 62, "the x86_64 build was placed");
    assert_eq!(sb.mode(&shm), "1777");
    assert!(sb.mountinfo(&shm).contains("nosuid,nodev"));
    assert_eq!(
        String::from_utf8(sb.read(&fstab)).unwrap(),
        format!("tmpfs {shm} tmpfs nodev,nosuid,size=128m 0 0\n")
    );

    // salt/example.sls renders with the formula: the binary, both mount points, the handler.
    let repo = env!("CARGO_MANIFEST_DIR");
    sb.sh(&format!(
        "cp {repo}/salt/example.sls {}",
        sb.path("srv/example.sls")
    ));
    let shown = salt_call(&sb, &conf, &["state.show_sls", "example"]);
    for id in [
        "shmguard-binary",
        "shmguard-/dev/shm",
        "shmguard-/dev/mqueue",
        "restart-the-app-after-a-shm-change",
    ] {
        assert!(shown.get(id).is_some(), "example.sls has no {id}: {shown}");
    }
    assert!(
        shown["shmguard-/dev/shm"]["shmguard"]
            .to_string()
            .contains(r#"{"name":"/dev/shm"}"#),
        "the ID is namespaced, the name is the path: {shown}"
    );
    let handler = shown["restart-the-app-after-a-shm-change"]["cmd"].to_string();
    assert!(
        handler.contains(r#"{"onchanges":[{"shmguard":"shmguard-/dev/shm"}]}"#),
        "{handler}"
    );

    // An aarch64 minion gets the aarch64 build (grains as that minion reports them).
    let arm_conf = minion_with(
        &sb,
        &(formula_pillar(&sb, &sb.path("arm-sbin/shmguard"), &shm, &fstab)
            + "grains:\n  cpuarch: aarch64\n"),
    );
    let r = salt_call(&sb, &arm_conf, &["state.apply", "shmguard.binary"]);
    assert_eq!(only_state(&r)["result"], true, "{r}");
    assert_eq!(e_machine(&sb, &sb.path("arm-sbin/shmguard")), EM_AARCH64);
}

#[test]
fn salt_formula_fails_clearly_for_an_architecture_without_a_build() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let placed = sb.path("sbin/shmguard");
    let conf = minion_with(
        &sb,
        &(formula_pillar(&sb, &placed, &shm, &fstab) + "grains:\n  cpuarch: s390x\n"),
    );
    serve(&sb, "x86_64", BIN);
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let (local, rc) = salt_call_rc(&sb, &conf, &["state.apply", "shmguard"]);
    assert_ne!(rc, 0);
    let bin_state = state_named(&local, "shmguard-binary");
    assert_eq!(bin_state["result"], false, "{local}");
    let comment = bin_state["comment"].as_str().unwrap_or_default();
    assert_eq!(
        bin_state["name"], "shmguard build for cpuarch s390x",
        "the reason is in the comment, not the name: {bin_state}"
    );
    assert!(
        comment.contains(
            "shmguard has no build for this minion's cpuarch s390x: builds exist for aarch64, x86_64"
        ),
        "{bin_state}"
    );
    let shm_state = state_named(
        &local,
        &format!("shmguard_|-shmguard-{shm}_|-{shm}_|-managed"),
    );
    assert_eq!(shm_state["result"], false, "{shm_state}");
    assert!(
        shm_state["comment"]
            .as_str()
            .unwrap()
            .contains("requisite failed"),
        "{shm_state}"
    );
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
}

/// Two free TCP ports on 127.0.0.1.
pub fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// A Salt daemon in its own PID namespace inside the sandbox: killing the returned process
/// (unshare, by PID) kills the daemon and every process it forked.
/// A salt-master and one minion (`fleet-minion`) on loopback, each in its own namespaces, with
/// `master_extra`/`minion_extra` appended to their configs and `env` for the minion; returns
/// the master's config dir once the minion answers test.ping (within 90 s).
pub fn master_and_minion(
    sb: &Sandbox,
    master_extra: &str,
    minion_extra: &str,
    env: &[(&str, &str)],
) -> (String, Daemon, Daemon) {
    let (publish, ret) = free_ports();
    let (mconf, nconf) = (sb.path("master-conf"), sb.path("minion-conf"));
    sb.sh(&format!("mkdir -p {mconf} {nconf}"));
    sb.file(
        "master-conf/master",
        format!(
            "root_dir: {root}\ninterface: 127.0.0.1\npublish_port: {publish}\nret_port: {ret}\nauto_accept: True\n{master_extra}",
            root = sb.path("master-root")
        )
        .as_bytes(),
    );
    sb.file(
        "minion-conf/minion",
        format!(
            "id: fleet-minion\nroot_dir: {root}\nmaster: 127.0.0.1\nmaster_port: {ret}\npublish_port: {publish}\nacceptance_wait_time: 1\nrandom_reauth_delay: 0\n{minion_extra}",
            root = sb.path("minion-root")
        )
        .as_bytes(),
    );
    let started = Instant::now();
    let master = Daemon::start(sb, "salt-master", &mconf);
    let minion = Daemon::start_with_env(sb, "salt-minion", &nconf, env);
    loop {
        let (ping, _, text) = salt(sb, &mconf, &["test.ping"]);
        if ping == true {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the minion did not answer within 90 s: {text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "minion answered after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (mconf, master, minion)
}

pub struct Daemon(Child);

impl Daemon {
    pub fn start(sb: &Sandbox, program: &str, conf: &str) -> Daemon {
        Daemon::start_with_env(sb, program, conf, &[])
    }

    /// `start`, with `env` set for the daemon (PYTHONPATH for an installed extension, PATH).
    pub fn start_with_env(sb: &Sandbox, program: &str, conf: &str, env: &[(&str, &str)]) -> Daemon {
        let child = sb
            .command("unshare")
            .envs(env.iter().copied())
            .args(["--pid", "--fork", "--kill-child"])
            .arg(salt_venv_bin(program))
            .args(["-c", conf, "-l", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Daemon(child)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `salt -c CONF fleet-minion ARGS --out=json`: the minion's return, the exit code (not
/// --static: that route drops the minions' retcodes), the output.
pub fn salt(sb: &Sandbox, conf: &str, args: &[&str]) -> (Value, i32, String) {
    let out = sb
        .command(&salt_venv_bin("salt"))
        .args(["-c", conf, "--out=json", "-t", "60"])
        .arg("fleet-minion")
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        v["fleet-minion"].clone(),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn salt_master_and_minion_on_localhost_apply_a_state_and_audit() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let repo = env!("CARGO_MANIFEST_DIR");
    // The master serves salt/formula alone (as salt/README.md says) plus its build and hash,
    // and the user's own SLS from a second root; pillar drives the formula.
    let (formula, srv) = (sb.path("formula"), sb.path("srv"));
    sb.sh(&format!(
        "mkdir -p {srv} && cp -r {repo}/salt/formula {formula} && rm -rf {formula}/shmguard/files && \
         mkdir -p {formula}/shmguard/files/x86_64 && cp {BIN} {formula}/shmguard/files/x86_64/shmguard && \
         cd {formula}/shmguard/files/x86_64 && sha256sum shmguard > shmguard.sha256"
    ));
    let placed = sb.path("sbin/shmguard");
    let pillar = formula_pillar(&sb, &placed, &shm, &fstab);
    sls(
        &sb,
        "shm",
        &format!(
            "{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - size: 128m\n    - options: [nodev, nosuid]\n    - fstab_path: {fstab}\n"
        ),
    );
    let started = Instant::now();
    let (mconf, _master, _minion) = master_and_minion(
        &sb,
        &format!("file_roots:\n  base:\n    - {srv}\n    - {formula}\n{pillar}"),
        "",
        &[],
    );
    let (sync, _, text) = salt(&sb, &mconf, &["saltutil.sync_all"]);
    assert!(
        sync["states"].to_string().contains("states.shmguard"),
        "{text}"
    );

    // A fresh minion (no binary yet) under test=True: the formula's state predicts its changes
    // with the build from the file cache; nothing is placed or changed.
    let key = format!("shmguard_|-shmguard-{shm}_|-{shm}_|-managed");
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let (dry, rc, text) = salt(&sb, &mconf, &["state.apply", "shmguard", "test=True"]);
    assert_eq!(rc, 0, "{text}");
    let predicted = state_named(&dry, &key);
    assert_eq!(predicted["result"], Value::Null, "{text}");
    assert_eq!(predicted["changes"]["mode"]["new"], "1777", "{text}");
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
    assert!(
        sb.sh(&format!("ls {placed} 2>/dev/null || true"))
            .is_empty()
    );

    let (real, rc, text) = salt(&sb, &mconf, &["state.apply", "shmguard"]);
    assert_eq!(rc, 0, "{text}");
    assert_eq!(
        state_named(&real, &key)["changes"],
        predicted["changes"],
        "{text}"
    );
    assert_eq!(e_machine(&sb, &placed), 62);
    let (again, rc, text) = salt(&sb, &mconf, &["state.apply", "shmguard"]);
    assert_eq!(rc, 0, "{text}");
    for (id, r) in again.as_object().unwrap() {
        assert_eq!(r["changes"], serde_json::json!({}), "{id}: {r}");
    }

    // The user's own SLS beside the formula.
    let (states, rc, text) = salt(&sb, &mconf, &["state.apply", "shm"]);
    assert_eq!(rc, 0, "{text}");
    let r = only_state(&states);
    assert_eq!(r["result"], true, "{r}");
    assert_eq!(sb.mode(&shm), "1777");
    assert_eq!(
        String::from_utf8(sb.read(&fstab)).unwrap(),
        format!("tmpfs {shm} tmpfs nodev,nosuid,size=128m 0 0\n")
    );

    let policy = format!(
        r#"policy={{"path": "{shm}", "mode": "1777", "size": "128m", "options": [nodev, nosuid, noexec]}}"#
    );
    let (audit, rc, text) = salt(
        &sb,
        &mconf,
        &["shmguard.audit", &policy, &format!("fstab={fstab}")],
    );
    assert_eq!(audit["verdict"], "drift", "noexec is missing: {text}");
    assert!(
        rc == 1 && text.contains("Minions returned with non-zero exit code"),
        "the retcode the audit set on drift reaches the salt command: {rc} {text}"
    );
    let id = shm.trim_start_matches('/').replace('/', "-");
    assert_eq!(
        audit["checks"][format!("{id}.noexec.live")]["status"],
        "fail",
        "{text}"
    );
    assert_eq!(audit["binary"], placed.as_str(), "{text}");
    // salt --out=json prints {minion: return}: shmguard report reads it, remedies included.
    let printed = sb.file(
        "fleet.json",
        serde_json::json!({"fleet-minion": audit})
            .to_string()
            .as_bytes(),
    );
    let report = sb
        .command(BIN)
        .args(["report", "--format", "json", &printed])
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&report.stdout).unwrap();
    let remedies = v["checks"].to_string();
    assert!(
        remedies.contains("shmguard.managed")
            && remedies.contains(&format!("- fstab_path: {fstab}")),
        "the remedy reached the report as a Salt state: {v}"
    );
    eprintln!(
        "master/minion test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A process started for a test, killed by PID when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn salt_formula_places_the_build_from_an_http_source_checked_by_its_hash() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let placed = sb.path("sbin/shmguard");
    // The builds on a web server (Python's http.server on 127.0.0.1, a free high port), each
    // with its .sha256 beside it; pillar points the formula at it.
    let www = sb.path("www");
    sb.sh(&format!(
        "mkdir -p {www}/x86_64 && cp {BIN} {www}/x86_64/shmguard && cd {www}/x86_64 && sha256sum shmguard > shmguard.sha256"
    ));
    let (port, _) = free_ports();
    let server = Server(
        sb.command(&salt_venv_bin("python"))
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
                &www,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("http://127.0.0.1:{port}/x86_64/shmguard");
    let conf = minion_with(&sb, &formula_pillar(&sb, &placed, &shm, &fstab));
    // No build in the file roots: only the web server has one.
    sb.sh(&format!(
        "printf '  sources:\\n    x86_64: {url}\\n' >> {}",
        sb.path("pillar/shmguard.sls")
    ));
    let key = format!("shmguard_|-shmguard-{shm}_|-{shm}_|-managed");
    let dry = salt_call(&sb, &conf, &["state.apply", "shmguard", "test=True"]);
    let r = state_named(&dry, &key);
    assert_eq!(r["result"], Value::Null, "{dry}");
    assert!(
        r["comment"].as_str().unwrap().contains(&format!(
            "predicted with the build {url} from the minion's file cache"
        )),
        "{r}"
    );
    assert_eq!(r["changes"]["mode"]["new"], "1777", "{r}");
    assert!(
        sb.sh(&format!("ls {placed} 2>/dev/null || true"))
            .is_empty()
    );

    let real = salt_call(&sb, &conf, &["state.apply", "shmguard"]);
    for (id, r) in real.as_object().unwrap() {
        assert_eq!(r["result"], true, "{id}: {r}");
    }
    assert_eq!(e_machine(&sb, &placed), 62, "the build came over http");
    assert_eq!(sb.mode(&shm), "1777");
    let again = salt_call(&sb, &conf, &["state.apply", "shmguard"]);
    for (id, r) in again.as_object().unwrap() {
        assert_eq!(r["changes"], serde_json::json!({}), "{id}: {r}");
    }
    drop(server);
}

/// The beacon (salt/formula/_beacons/shmguard.py) and the reactor (salt/reactor/shmguard.sls)
/// with a real master and minion on localhost: a chmod 0755 of the minion's mount point (a
/// fresh tmpfs in the sandbox's mount namespace) reaches the master's event bus as
/// `salt/beacon/fleet-minion/shmguard/<path>` from the minion's `shmguard watch`, and the
/// reactor's state.apply makes it 1777 again.
#[test]
fn salt_beacon_reports_drift_and_the_reactor_repairs_it() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let repo = env!("CARGO_MANIFEST_DIR");
    let formula = sb.path("formula");
    sb.sh(&format!(
        "cp -r {repo}/salt/formula {formula} && rm -rf {formula}/shmguard/files && \
         mkdir -p {formula}/shmguard/files/x86_64 && cp {BIN} {formula}/shmguard/files/x86_64/shmguard && \
         cd {formula}/shmguard/files/x86_64 && sha256sum shmguard > shmguard.sha256 && \
         cp {repo}/salt/reactor/shmguard.sls {}",
        sb.path("reactor.sls")
    ));
    let placed = sb.path("sbin/shmguard");
    let pillar = formula_pillar(&sb, &placed, &shm, &fstab);
    let (mconf, _master, _minion) = master_and_minion(
        &sb,
        &format!(
            "file_roots:\n  base:\n    - {formula}\n{pillar}reactor:\n  - 'salt/beacon/*/shmguard/*':\n    - {reactor}\n",
            reactor = sb.path("reactor.sls"),
        ),
        "beacons:\n  shmguard:\n    - interval: 1\n",
        &[],
    );
    let (sync, _, text) = salt(&sb, &mconf, &["saltutil.sync_all"]);
    assert!(
        sync["beacons"].to_string().contains("beacons.shmguard"),
        "{text}"
    );
    // The formula places the binary and makes the mount point compliant.
    let (real, rc, text) = salt(&sb, &mconf, &["state.apply", "shmguard"]);
    assert_eq!(rc, 0, "{text}");
    assert!(real.is_object(), "{text}");
    assert_eq!(sb.mode(&shm), "1777");

    // The master's event bus, watched from before the drift.
    let bus = sb
        .command(&salt_venv_bin("salt-run"))
        .args([
            "-c",
            &mconf,
            "state.event",
            "tagmatch=salt/beacon/*/shmguard/*",
            "count=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The beacon's watch is running (started at its first call after the sync).
    let watching = Instant::now();
    while !sb
        .sh(&format!(
            // this minion's watch (its policy is in this minion's cachedir), not another test's
            "ps -eo args | grep '[s]hmguard watch --format json' | grep -cF -- {} || true",
            sb.path("minion-root")
        ))
        .trim()
        .ne("0")
    {
        assert!(
            watching.elapsed() < Duration::from_secs(30),
            "the beacon started no shmguard watch"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    sb.sh(&format!("chmod 0755 {shm}"));
    let drifted = Instant::now();
    let mut repaired = false;
    while drifted.elapsed() < Duration::from_secs(60) {
        if sb.mode(&shm) == "1777" {
            repaired = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let line = {
        let killer = std::thread::spawn({
            let pid = bus.id();
            move || {
                std::thread::sleep(Duration::from_secs(20));
                let _ = std::process::Command::new("kill")
                    .arg(pid.to_string())
                    .status();
            }
        });
        let out = bus.wait_with_output().unwrap();
        drop(killer);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let tag = format!(
        "salt/beacon/fleet-minion/shmguard/{}",
        shm.trim_start_matches('/')
    );
    assert!(
        line.starts_with(&tag),
        "the drift on the master's bus: {line:?}"
    );
    // `TAG\tDATA` on one line, then the runner's own return.
    let first = line.lines().next().unwrap_or_default();
    let data: Value =
        serde_json::from_str(first[tag.len()..].trim()).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    assert_eq!(data["event"], "drift", "{data}");
    assert_eq!(data["path"], shm.as_str(), "{data}");
    assert_eq!(data["id"], "fleet-minion", "{data}");
    let id = shm.trim_start_matches('/').replace('/', "-");
    assert!(
        data["failing"]
            .as_array()
            .unwrap()
            .contains(&Value::from(format!("{id}.mode.live"))),
        "{data}"
    );
    assert!(
        data["remedy"].as_str().unwrap().contains("shmguard apply"),
        "{data}"
    );
    assert!(
        repaired,
        "the reactor did not make {shm} 1777 again within 60 s (mode {})",
        sb.mode(&shm)
    );
    eprintln!(
        "drift to repaired through beacon and reactor: {:.1} s",
        drifted.elapsed().as_secs_f64()
    );
}

/// contrib/shmguard-watch.service passes `systemd-analyze verify` (with ExecStart on this
/// build), and the protections that would give the service its own mount or IPC namespace (a
/// remount there sets nodev/nosuid/noexec on its copy only) stay off.
#[test]
fn systemd_unit_for_watch_verifies_and_keeps_the_host_namespaces() {
    let sb = Sandbox::new();
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/shmguard-watch.service"
    ))
    .unwrap();
    assert!(
        unit.contains("ExecStart=/usr/local/sbin/shmguard watch "),
        "{unit}"
    );
    for off in [
        "ProtectSystem=no",
        "ProtectHome=no",
        "PrivateTmp=no",
        "PrivateDevices=no",
        "PrivateMounts=no",
        "PrivateIPC=no",
        "PrivateUsers=no",
        "ProtectKernelTunables=no",
    ] {
        assert!(unit.lines().any(|l| l == off), "{off} missing");
    }
    for key in [
        "ReadWritePaths=",
        "ProtectKernelModules=",
        "ProtectControlGroups=",
    ] {
        assert!(!unit.lines().any(|l| l.starts_with(key)), "{key} set");
    }
    let path = sb.file(
        "shmguard-watch.service",
        unit.replace("/usr/local/sbin/shmguard", BIN).as_bytes(),
    );
    let out = sb
        .command("systemd-analyze")
        .args(["verify", &path])
        .output()
        .expect("systemd-analyze not found: install systemd (apt-get install systemd)");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a Python script in the sandbox; what it prints is one JSON value.
fn python_json(sb: &Sandbox, script: &str) -> Value {
    let out = sb.command("python3").args(["-c", script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A watch that cannot run (here: a binary that exits 1 at once, as a bad policy or another
/// CPU's build would) is not started again at every call of the beacon: after its first death
/// it is started at once, then after 1, 2, 4, ... seconds; its error is one event. Over 4.5 s of
/// calls every 0.1 s, a beacon without the delay would start it ~45 times.
#[test]
fn salt_beacon_backs_off_a_watch_that_keeps_exiting() {
    let sb = Sandbox::new();
    let cache = sb.path("cache");
    let fails = sb.file("fails", b"#!/bin/sh\necho \"cannot watch\" >&2\nexit 1\n");
    assert!(
        sb.command("chmod")
            .args(["0755", &fails])
            .status()
            .unwrap()
            .success()
    );
    let script = format!(
        r#"
import importlib.util, json, time
spec = importlib.util.spec_from_file_location("shmguard_beacon", "{repo}/salt/formula/_beacons/shmguard.py")
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
b.__salt__ = {{"config.get": lambda k: None}}
b.__opts__ = {{"cachedir": "{cache}"}}
starts = []
real_start = b._start
def counted(*a):
    starts.append(time.monotonic()); real_start(*a)
b._start = counted
conf = [{{"interval": 1}}, {{"binary": "{fails}"}}, {{"profile": "cis"}}]
evs = []
end = time.monotonic() + 4.5
while time.monotonic() < end:
    evs += b.beacon(conf); time.sleep(0.1)
b.close(conf)
print(json.dumps({{"starts": [round(s - starts[0], 2) for s in starts], "events": evs}}))
"#,
        repo = env!("CARGO_MANIFEST_DIR"),
    );
    let v = python_json(&sb, &script);
    let starts = v["starts"].as_array().unwrap();
    // 0, ~0.1 (at once after the first death), ~1.2 (1 s), ~3.3 (2 s); the next is at ~7.4.
    assert!(
        (3..=5).contains(&starts.len()),
        "started {} times in 4.5 s: {v}",
        starts.len()
    );
    let gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| w[1].as_f64().unwrap() - w[0].as_f64().unwrap())
        .collect();
    assert!(
        gaps.windows(2).all(|g| g[1] >= g[0]),
        "the delay grows: {v}"
    );
    let events = v["events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        1,
        "one error event while the same error lasts: {v}"
    );
    let error = events[0]["error"].as_str().unwrap();
    assert!(
        error.contains("shmguard watch exited with 1: cannot watch"),
        "{v}"
    );
    assert!(error.contains("growing delay of up to 60 s"), "{v}");
}

/// The beacon module on its own (loaded as Salt's loader would, with `__salt__` and `__opts__`),
/// driving a real `shmguard watch` on a fresh tmpfs: validate() refuses bad configuration in
/// words; a compliant start sends nothing; a chmod 0755 is exactly one drift event, tagged with
/// the path; a watch that died is reported once and started again; close() stops it.
#[test]
fn salt_beacon_module_reads_its_watch_without_blocking_and_restarts_it() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=1777");
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {shm} tmpfs mode=1777 0 0\n").as_bytes(),
    );
    let cache = sb.path("cache");
    let script = format!(
        r#"
import importlib.util, json, os, signal, time
spec = importlib.util.spec_from_file_location("shmguard_beacon", "{repo}/salt/formula/_beacons/shmguard.py")
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
pillar = {{"shmguard:mounts": {{"{shm}": {{"mode": 1777, "fstab_path": "{fstab}"}}}}, "shmguard:binary": "{BIN}"}}
b.__salt__ = {{"config.get": lambda k: pillar.get(k)}}
b.__opts__ = {{"cachedir": "{cache}"}}
out = {{}}
out["bad"] = [b.validate({{"mounts": {{}}}}), b.validate([{{"mount": {{}}}}]), b.validate([{{"events": ["drfit"]}}])]
out["good"] = b.validate([{{"interval": 1}}, {{"_beacon_name": "shmguard"}}])
conf = [{{"interval": 1}}, {{"_beacon_name": "shmguard"}}]
def calls(n):
    evs = []
    for _ in range(n):
        evs += b.beacon(conf); time.sleep(0.3)
    return evs
out["start"] = calls(5)
os.chmod("{shm}", 0o755)
out["drift"] = calls(5)
os.chmod("{shm}", 0o1777)
out["back"] = calls(3)
pid = b._WATCH["proc"].pid
os.kill(pid, signal.SIGKILL); time.sleep(0.3)
out["died"] = calls(3)
out["restarted"] = b._WATCH["proc"].pid != pid and b._WATCH["proc"].poll() is None
newpid = b._WATCH["proc"].pid
b.close(conf)
out["closed"] = not os.path.exists("/proc/%d/status" % newpid) or "zombie" in open("/proc/%d/status" % newpid).read()
out["policy"] = json.load(open("{cache}/shmguard/beacon-policy.json"))
print(json.dumps(out))
"#,
        repo = env!("CARGO_MANIFEST_DIR"),
    );
    let v = python_json(&sb, &script);
    for bad in v["bad"].as_array().unwrap() {
        assert_eq!(bad[0], false, "{v}");
    }
    assert!(
        v["bad"][1][1]
            .as_str()
            .unwrap()
            .contains("unknown key(s) mount"),
        "{v}"
    );
    assert_eq!(v["good"][0], true, "{v}");
    assert_eq!(
        v["start"],
        serde_json::json!([]),
        "compliant: nothing sent: {v}"
    );
    let drift = v["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1, "one event for one chmod: {v}");
    assert_eq!(drift[0]["event"], "drift");
    assert_eq!(drift[0]["tag"], shm.trim_start_matches('/'));
    assert_eq!(drift[0]["path"], shm.as_str());
    let id = shm.trim_start_matches('/').replace('/', "-");
    assert_eq!(
        drift[0]["failing"],
        serde_json::json!([format!("{id}.mode.live")]),
        "{v}"
    );
    assert_eq!(
        v["back"],
        serde_json::json!([]),
        "compliant is not sent: {v}"
    );
    let died = v["died"].as_array().unwrap();
    assert_eq!(died.len(), 1, "the death reported once: {v}");
    assert_eq!(died[0]["event"], "error");
    assert_eq!(died[0]["tag"], "beacon", "{v}");
    assert!(
        died[0]["error"]
            .as_str()
            .unwrap()
            .contains("shmguard watch exited with -9"),
        "{v}"
    );
    assert_eq!(v["restarted"], true, "{v}");
    assert_eq!(v["closed"], true, "{v}");
    assert_eq!(
        v["policy"],
        serde_json::json!([{"fstab_path": fstab, "mode": "1777", "path": shm}]),
        "the pillar's int mode as its octal digits: {v}"
    );
}
