//! The client matrix (issue 10): real Python programs — multiprocessing's Lock, Pool,
//! ProcessPoolExecutor and Queue, multiprocessing.shared_memory, numpy arrays through
//! SharedArray, POSIX message queues through posix_ipc — run as `nobody` on fresh mounts in
//! private mount and IPC namespaces. In each situation, shmguard's probe (as root, which also
//! probes as nobody) and its profile must say what the programs did; where they fail, the test
//! follows the remedy shmguard printed and the programs must then work. The message-queue
//! cases are in clients_mqueue.rs, issue 18's room and queue shapes in clients_room.rs.
//!
//! The programs run under the system python3 (so nobody can run them) with the packages of a
//! venv under target/venv/clients that this module creates once (numpy, posix_ipc,
//! SharedArray, prometheus_client). nobody may not reach the checkout (a clone in root's home),
//! so it runs them with a copy of the venv's site-packages in outside.rs's scratch directory,
//! on PYTHONPATH. Needs real root: switching to nobody.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::audit::failing;
use crate::sandbox::{BIN, Sandbox, require_real_root};

const SYSTEM_PYTHON: &str = "/usr/bin/python3";
const REQUIREMENTS: [&str; 4] = [
    "numpy==2.1.3",
    "posix_ipc==1.1.1",
    "SharedArray==3.2.4",
    "prometheus_client==0.21.1",
];

/// The venv's python (the system python3), created on first use.
pub fn venv_python() -> String {
    static VENV: OnceLock<String> = OnceLock::new();
    VENV.get_or_init(|| {
        let dir = format!("{}/target/venv/clients", env!("CARGO_MANIFEST_DIR"));
        let want = REQUIREMENTS.join(" ");
        let marker = format!("{dir}/.requirements");
        let python = format!("{dir}/bin/python");
        if std::fs::read_to_string(&marker).ok().as_deref() == Some(want.as_str()) {
            return python;
        }
        assert!(
            std::path::Path::new(SYSTEM_PYTHON).exists(),
            "{SYSTEM_PYTHON} is missing: apt-get install python3 python3-venv python3-dev gcc"
        );
        let _ = std::fs::remove_dir_all(&dir);
        let run = |c: &mut std::process::Command| {
            let out = c.output().unwrap();
            assert!(
                out.status.success(),
                "setting up {dir} failed (needs python3-venv, and python3-dev and gcc to build SharedArray and posix_ipc: apt-get install python3-venv python3-dev gcc): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(std::process::Command::new(SYSTEM_PYTHON).args(["-m", "venv", &dir]));
        run(std::process::Command::new(format!("{dir}/bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(REQUIREMENTS));
        std::fs::write(&marker, &want).unwrap();
        python
    })
    .clone()
}

/// What nobody runs the programs with, as `env` arguments: the system python3 with a copy of
/// the venv's site-packages (made on first use) first on its path, and no user site.
pub fn python_for_nobody() -> String {
    static CMD: OnceLock<String> = OnceLock::new();
    CMD.get_or_init(|| {
        let python = venv_python();
        let venv = std::path::Path::new(&python)
            .parent()
            .unwrap()
            .parent()
            .unwrap();
        let lib = venv.join("lib");
        // lib/python3.X/site-packages: the one version the system python3 made it with
        let site = std::fs::read_dir(&lib)
            .unwrap()
            .map(|e| e.unwrap().path().join("site-packages"))
            .find(|p| p.is_dir())
            .unwrap_or_else(|| panic!("no site-packages under {}", lib.display()));
        let copy = crate::outside::copy_dir(&site, "clients-site-packages");
        format!("PYTHONPATH={copy} PYTHONNOUSERSITE=1 {SYSTEM_PYTHON}")
    })
    .clone()
}

/// A sandbox with a private /dev, a fresh /dev/shm and (optionally) a fresh /dev/mqueue.
pub struct Matrix {
    pub sb: Sandbox,
    script: String,
    fstab: String,
    sysctl: String,
    /// a root without container markers: remedies as on a plain host
    no_container: String,
}

pub const SHM: [&str; 5] = ["lock", "pool", "executor", "queue", "shared_memory"];
pub const MQ: [&str; 1] = ["mq_posix_ipc"];

impl Matrix {
    pub fn new(shm_opts: &str, mqueue: bool) -> Matrix {
        require_real_root();
        python_for_nobody();
        let sb = Sandbox::new();
        sb.private_dev();
        sb.tmpfs_over("/dev/shm", shm_opts);
        if mqueue {
            sb.sh("mount -t mqueue -o nodev,nosuid,noexec mqueue /dev/mqueue");
        }
        let script = sb.file("clients.py", include_bytes!("clients.py"));
        let fstab = sb.file("fstab", b"");
        let sysctl = sb.file("sysctl.conf", b"");
        let no_container = sb.path("plain-root");
        sb.sh(&format!("mkdir -p {no_container}"));
        Matrix {
            sb,
            script,
            fstab,
            sysctl,
            no_container,
        }
    }

    /// Runs the named programs as nobody; `wrap` prefixes the command (e.g. prlimit).
    pub fn programs(&self, names: &[&str], wrap: &str, bytes: u64) -> BTreeMap<String, String> {
        self.programs_with(names, wrap, &format!("CLIENT_BYTES={bytes}"))
    }

    /// Runs the named programs as nobody with `env` (`NAME=VALUE ...`: CLIENT_BYTES, CLIENT_MQ).
    pub fn programs_with(&self, names: &[&str], wrap: &str, env: &str) -> BTreeMap<String, String> {
        let out = self.sb.sh(&format!(
            "cd / && {wrap} setpriv --reuid=65534 --regid=65534 --clear-groups env {env} {} {} {}",
            python_for_nobody(),
            self.script,
            names.join(" ")
        ));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    pub fn works(&self, names: &[&str], wrap: &str) -> bool {
        let r = self.programs(names, wrap, 0);
        r.values().all(|v| v == "ok")
    }

    pub fn shmguard(&self, wrap: &str, args: &[&str]) -> (i32, Value) {
        let out = self
            .sb
            .command("sh")
            .arg("-c")
            .arg(format!("{wrap} \"$0\" \"$@\""))
            .arg(BIN)
            .args(args)
            .env("SHMGUARD_CONTAINER_ROOT", &self.no_container)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: {e}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }

    /// `shmguard probe` as root (which probes as nobody too).
    pub fn probe(&self, wrap: &str, extra: &[&str]) -> Value {
        let mut args = vec!["probe", "--format", "json"];
        args.extend_from_slice(extra);
        let (code, v) = self.shmguard(wrap, &args);
        assert_eq!(code == 0, passed(&v), "exit code and checks disagree: {v}");
        assert_eq!(v["users"], serde_json::json!(["root", "nobody"]), "{v}");
        v
    }

    pub fn profile(&self, name: &str) -> Value {
        self.audit("", &["--profile", name])
    }

    /// `shmguard audit ARGS --format json` under `wrap`; exit 0 exactly when compliant.
    pub fn audit(&self, wrap: &str, args: &[&str]) -> Value {
        let mut all = vec!["audit", "--format", "json"];
        all.extend_from_slice(args);
        let (code, v) = self.shmguard(wrap, &all);
        assert_eq!(code == 0, v["compliant"] == true, "{v}");
        v
    }

    /// Runs `shmguard apply ARGS` as a remedy says, with scratch fstab and sysctl files.
    pub fn follow(&self, line: &str) {
        let mut args: Vec<&str> = vec!["apply", "--json"];
        args.extend(line.split_whitespace());
        args.extend(["--fstab-path", &self.fstab, "--sysctl-path", &self.sysctl]);
        let (code, v) = self.shmguard("", &args);
        assert_eq!(code, 0, "following `shmguard apply {line}` failed: {v}");
    }
}

pub fn passed(v: &Value) -> bool {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] != "fail")
}

pub fn failing_probe(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| {
            format!(
                "{}@{}",
                c["name"].as_str().unwrap(),
                c["user"].as_str().unwrap()
            )
        })
        .collect()
}

/// The `shmguard apply ...` lines in the remedies of the failing probe checks and in the
/// details of the failing audit checks, each once, in order.
pub fn remedies(probe: Option<&Value>, audit: Option<&Value>) -> Vec<String> {
    remedies_of("fail", probe, audit)
}

/// The same for the checks of `status` (fail or warn); a report without checks or targets
/// has none.
pub fn remedies_of(status: &str, probe: Option<&Value>, audit: Option<&Value>) -> Vec<String> {
    let mut texts = Vec::new();
    let empty = Vec::new();
    for c in probe.and_then(|p| p["checks"].as_array()).unwrap_or(&empty) {
        if c["status"] == status {
            texts.push(c["remedy"].as_str().unwrap_or("").to_string());
        }
    }
    for t in audit
        .and_then(|a| a["targets"].as_array())
        .unwrap_or(&empty)
    {
        for c in t["checks"].as_array().unwrap() {
            if c["status"] == status {
                texts.push(c["detail"].as_str().unwrap_or("").to_string());
            }
        }
    }
    apply_lines(&texts)
}

/// The `shmguard apply ...` lines quoted in `texts` (as `(shmguard apply ARGS)`), each once,
/// in order.
fn apply_lines(texts: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for t in texts {
        let mut rest = t.as_str();
        while let Some(at) = rest.find("(shmguard apply ") {
            let tail = &rest[at + "(shmguard apply ".len()..];
            let end = tail.find(')').unwrap();
            let line = tail[..end].to_string();
            if !lines.contains(&line) {
                lines.push(line);
            }
            rest = &tail[end..];
        }
    }
    lines
}

/// A /dev/shm situation where the programs fail: the probe and the multiprocessing profile
/// must both fail, their remedies followed must make the programs, probe and profile pass.
pub fn broken_shm(m: &Matrix, want_probe: &[&str], want_audit: &[&str]) {
    let before = m.programs(&SHM, "", 0);
    assert!(before.values().any(|v| v != "ok"), "{before:?}");
    let probe = m.probe("", &[]);
    for f in want_probe {
        assert!(
            failing_probe(&probe).contains(&f.to_string()),
            "{f}: {probe}"
        );
    }
    let audit = m.profile("multiprocessing");
    assert_eq!(failing(&audit), want_audit, "{audit}");
    let fixes = remedies(Some(&probe), Some(&audit));
    assert!(!fixes.is_empty(), "no remedy to follow: {probe}\n{audit}");
    for f in &fixes {
        m.follow(f);
    }
    let after = m.programs(&SHM, "", 0);
    assert!(
        after.values().all(|v| v == "ok"),
        "after {fixes:?}: {after:?}"
    );
    let probe = m.probe("", &[]);
    assert!(passed(&probe), "after {fixes:?}: {probe}");
    assert_eq!(m.profile("multiprocessing")["compliant"], true);
}

/// A situation where the programs work: probe and profile pass.
pub fn working_shm(m: &Matrix) -> Value {
    let r = m.programs(&SHM, "", 0);
    assert!(r.values().all(|v| v == "ok"), "{r:?}");
    let probe = m.probe("", &[]);
    assert!(passed(&probe), "{probe}");
    let audit = m.profile("multiprocessing");
    assert_eq!(audit["compliant"], true, "{audit}");
    probe
}

pub fn check<'a>(v: &'a Value, name: &str, user: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["user"] == user)
        .unwrap_or_else(|| panic!("no {name} as {user}: {v}"))
}

#[test]
fn clients_another_user_mode_0755_fails_and_chmod_1777_fixes_it() {
    let m = Matrix::new("mode=0755,size=16m", true);
    let probe = m.probe("", &[]);
    assert_eq!(
        check(&probe, "semaphore", "root")["status"],
        "pass",
        "root bypasses the mode"
    );
    assert_eq!(
        check(&probe, "exec_mapping", "nobody")["detail"],
        "not tested: could not create an object to map (shm_open: EACCES)"
    );
    broken_shm(
        &m,
        &["semaphore@nobody", "shared_memory@nobody"],
        &["dev-shm.mode.live"],
    );
    assert_eq!(m.sb.mode("/dev/shm"), "1777");
}

#[test]
fn clients_another_user_modes_1777_and_1733_work() {
    for mode in ["1777", "1733"] {
        let m = Matrix::new(&format!("mode={mode},size=16m"), true);
        working_shm(&m);
    }
}

#[test]
fn clients_another_user_mode_0777_works_but_is_a_security_problem() {
    let m = Matrix::new("mode=0777,size=16m", true);
    let r = m.programs(&SHM, "", 0);
    assert!(r.values().all(|v| v == "ok"), "{r:?}");
    assert!(passed(&m.probe("", &[])), "programs work: the probe passes");
    let audit = m.profile("multiprocessing");
    assert_eq!(failing(&audit), ["dev-shm.mode.live"]);
    assert!(audit.to_string().contains("security problem"), "{audit}");
    for f in remedies(None, Some(&audit)) {
        m.follow(&f);
    }
    working_shm(&m);
    assert_eq!(m.sb.mode("/dev/shm"), "1777");
}

#[test]
fn clients_another_user_read_only_fails_and_rw_fixes_it() {
    let m = Matrix::new("mode=1777,size=16m,ro", true);
    broken_shm(
        &m,
        &["shared_memory@nobody", "semaphore@root"],
        &["dev-shm.rw.live"],
    );
    m.sb.sh("touch /dev/shm/written");
}

#[test]
fn clients_another_user_full_fails_and_growing_fixes_it() {
    let m = Matrix::new("mode=1777,size=16m", true);
    m.sb.sh("dd if=/dev/zero of=/dev/shm/filler bs=1M count=32 2>/dev/null; true");
    broken_shm(
        &m,
        &["shared_memory@nobody", "free_space@root"],
        &["dev-shm.free_space.live"],
    );
}

#[test]
fn clients_another_user_out_of_inodes_fails_and_nr_inodes_fixes_it() {
    // 20 inodes: the root directory and 18 files leave 1, where a Lock needs 2 (sem_open
    // links a temporary file to its name); with 3 free it is a warning (clients_room).
    let m = Matrix::new("mode=1777,size=16m,nr_inodes=20", true);
    m.sb.sh("for i in $(seq 1 18); do touch /dev/shm/f$i; done");
    let probe = m.probe("", &[]);
    let inodes = check(&probe, "free_inodes", "root");
    assert!(
        inodes["remedy"].as_str().unwrap().contains("--nr-inodes"),
        "{inodes}"
    );
    assert!(!inodes["remedy"].as_str().unwrap().contains("--min-size"));
    broken_shm(&m, &["free_inodes@root"], &["dev-shm.free_inodes.live"]);
}

/// A SharedArray of N bytes needs N plus a page: at N it dies with SIGBUS, and so does
/// `probe --bytes N`'s verdict; at N + a page both work.
#[test]
fn clients_another_user_sharedarray_needs_n_plus_a_page() {
    const N: u64 = 8 << 20;
    let m = Matrix::new("mode=1777,size=8m", true);
    let r = m.programs(&["sharedarray"], "", N);
    assert_eq!(r["sharedarray"], "killed by signal 7", "SIGBUS: {r:?}");
    m.sb.sh("rm -f /dev/shm/client-*");
    // small programs still fit: the profile (which knows nothing of N) passes, as they do
    assert!(m.works(&SHM, ""));
    assert_eq!(m.profile("multiprocessing")["compliant"], true);
    let probe = m.probe("", &["--bytes", "8m"]);
    assert_eq!(
        failing_probe(&probe),
        ["free_space@root", "reserve@root", "reserve@nobody"]
    );
    let fixes = remedies(Some(&probe), None);
    assert_eq!(fixes, ["--path /dev/shm --min-size 9M"]);
    m.follow(&fixes[0]);
    assert_eq!(m.programs(&["sharedarray"], "", N)["sharedarray"], "ok");
    assert!(passed(&m.probe("", &["--bytes", "8m"])));

    // N plus a page fit exactly: SharedArray alone works, but the semaphores of a process
    // pool beside the data do not (issue 23): the probe fails, as the executor does
    let m = Matrix::new("mode=1777,size=8196k", true);
    assert_eq!(m.programs(&["sharedarray"], "", N)["sharedarray"], "ok");
    assert!(m.programs(&["executor4"], "", N)["executor4"].contains("No space left"));
    let probe = m.probe("", &["--bytes", "8m", "--program", "executor"]);
    assert_eq!(
        failing_probe(&probe),
        ["free_space@root", "reserve@root", "reserve@nobody"],
        "{probe}"
    );
    assert_eq!(
        check(&probe, "reserve", "nobody")["errno"],
        "sem_open: ENOSPC",
        "{probe}"
    );
}

#[test]
fn clients_another_user_noexec_works_and_the_probe_says_exec_is_denied() {
    let m = Matrix::new("mode=1777,size=16m,noexec", true);
    let probe = working_shm(&m);
    let exec = check(&probe, "exec_mapping", "nobody");
    assert_eq!(exec["errno"], "mmap PROT_EXEC: EPERM");
    assert!(
        exec["detail"].as_str().unwrap().contains("noexec"),
        "{exec}"
    );
}

/// `audit --format prometheus --output FILE`: prometheus_client's parser reads it, and the
/// file is replaced by a rename (a hard link to the old one keeps the old bytes).
#[test]
fn clients_another_user_prometheus_output_parses_and_is_replaced_atomically() {
    let m = Matrix::new("mode=1777,size=16m,nr_inodes=1000", true);
    let prom = m.sb.path("textfile/shmguard.prom");
    m.sb.sh(&format!(
        "mkdir -p {0} && echo old > {1} && ln {1} {0}/old-link",
        m.sb.path("textfile"),
        prom
    ));
    let out =
        m.sb.command(BIN)
            .args([
                "audit",
                "--profile",
                "multiprocessing",
                "--profile",
                "cis",
                "--probe",
            ])
            .args(["--format", "prometheus", "--output", &prom])
            .output()
            .unwrap();
    assert_eq!(out.status.code(), Some(2), "cis fails here");
    assert!(out.stdout.is_empty(), "the report went to the file");
    assert_eq!(m.sb.read(&m.sb.path("textfile/old-link")), b"old\n");
    assert_eq!(
        m.sb.sh(&format!("ls -A {}", m.sb.path("textfile"))),
        "old-link\nshmguard.prom\n",
        "no temporary file left"
    );
    let parse = format!(
        "from prometheus_client.parser import text_string_to_metric_families as p\nimport sys\nfor f in p(open({prom:?}).read()):\n    for s in f.samples:\n        print(s.name, ','.join('%s=%s' % kv for kv in sorted(s.labels.items())), s.value)"
    );
    let parsed = m.sb.sh(&format!(
        "{} -c '{}'",
        venv_python(),
        parse.replace('\'', "'\\''")
    ));
    for want in [
        "shmguard_audit_check id=dev-shm.mode.live,path=/dev/shm,references=Python multiprocessing: SemLock (sem_open) and shared_memory create in /dev/shm as every user,scope=live,source=profile multiprocessing 1.0",
        "shmguard_audit_check id=dev-shm.nodev.live,path=/dev/shm,references=CIS RHEL9 v2.0.0 1.1.2.2.2, STIG RHEL-09-231110,scope=live,source=profile cis 0.0",
        "shmguard_probe_check check=semaphore,user=nobody 1.0",
        "shmguard_size_bytes path=/dev/shm 16777216.0",
        "shmguard_used_bytes path=/dev/shm 0.0",
        "shmguard_free_inodes path=/dev/shm 999.0",
        "shmguard_audit_compliant  0.0",
    ] {
        assert!(parsed.lines().any(|l| l == want), "{want}\n{parsed}");
    }
}
