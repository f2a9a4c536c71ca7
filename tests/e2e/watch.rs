//! `shmguard watch`: one line per change of verdict, read line by line (with generous timeouts
//! against hangs, never timed assertions) while the test changes fresh mounts, a scratch fstab
//! and this IPC namespace's mqueue limits inside a private sandbox: a chmod, a remount that
//! drops nodev, fstab replaced by rename, an umount and a sysctl change each give exactly one
//! `drift` naming the failing checks, the repair one `compliant`; SIGTERM, SIGINT and a closed
//! stdout end it with exit 0; --apply repairs and stops at `flapping` against a fighter.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox};

/// Long enough for a loaded machine; only a hang ever waits this long.
const PATIENCE: Duration = Duration::from_secs(60);

struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    fn start(sb: &Sandbox, args: &[&str]) -> Watch {
        Watch::spawn(sb, args, usize::MAX)
    }

    /// Reads `keep` lines, then closes its end of the pipe.
    fn spawn(sb: &Sandbox, args: &[&str], keep: usize) -> Watch {
        Watch::from_command(sb.command(BIN), args, keep)
    }

    /// `cmd` (shmguard, or a tracer running it) with `watch ARGS`.
    fn from_command(mut cmd: std::process::Command, args: &[&str], keep: usize) -> Watch {
        let mut child = cmd
            .arg("watch")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().take(keep) {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|e| panic!("no line from shmguard watch within {PATIENCE:?}: {e}"))
    }

    fn event(&self) -> Value {
        let l = self.line();
        serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
    }

    /// The next event is `kind` with exactly these failing checks.
    fn expect(&self, kind: &str, failing: &[&str]) -> Value {
        let e = self.event();
        assert_eq!(e["event"], kind, "{e}");
        let have: Vec<&str> = e["failing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(have, failing, "{e}");
        assert_eq!(e["compliant"], failing.is_empty(), "{e}");
        assert!(e["time"].as_str().unwrap().ends_with('Z'), "{e}");
        assert!(!e["host"].as_str().unwrap().is_empty(), "{e}");
        if failing.is_empty() {
            assert!(e.get("remedy").is_none(), "{e}");
        } else {
            assert!(
                e["remedy"]
                    .as_str()
                    .unwrap()
                    .starts_with("shmguard apply --path"),
                "{e}"
            );
        }
        e
    }

    /// Sends `signal` and returns the exit code.
    fn stop(&mut self, signal: nix::sys::signal::Signal) -> Option<i32> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
        self.exit()
    }

    fn exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            assert!(
                Instant::now() < deadline,
                "shmguard watch did not exit within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id(path: &str, key: &str, scope: &str) -> String {
    shmguard::audit::check::id(path, key, scope)
}

/// A fresh tmpfs `shm` (mode 1777, nodev, nosuid), its fstab line and a policy for both.
fn compliant_shm(sb: &Sandbox) -> (String, String, String) {
    let shm = sb.tmpfs("shm", "mode=1777,nodev,nosuid,size=8m");
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {shm} tmpfs nodev,nosuid,mode=1777 0 0\n").as_bytes(),
    );
    let policy = sb.file(
        "policy.json",
        serde_json::json!({"path": shm, "mode": "1777", "options": ["nodev", "nosuid"],
                           "fstab_path": fstab})
        .to_string()
        .as_bytes(),
    );
    (shm, fstab, policy)
}

#[test]
fn watch_reports_each_drift_once_and_its_repair() {
    let sb = Sandbox::new();
    let (shm, fstab, policy) = compliant_shm(&sb);
    let prom = sb.path("shmguard.prom");
    let mut w = Watch::start(
        &sb,
        &[
            "--policy",
            &policy,
            "--format",
            "json",
            "--prometheus",
            &prom,
        ],
    );
    w.expect("initial", &[]);
    let textfile = || String::from_utf8(sb.read(&prom)).unwrap();
    assert!(
        textfile().contains("shmguard_audit_compliant 1\n"),
        "{}",
        textfile()
    );

    sb.sh(&format!("chmod 700 {shm}"));
    w.expect("drift", &[&id(&shm, "mode", "live")]);
    assert!(
        textfile().contains("shmguard_audit_compliant 0\n"),
        "{}",
        textfile()
    );
    sb.sh(&format!("chmod 1777 {shm}"));
    w.expect("compliant", &[]);
    assert!(
        textfile().contains("shmguard_audit_compliant 1\n"),
        "{}",
        textfile()
    );

    // `--options-mode ignore`: only the flags given (in a user namespace mount(8) would pass
    // the ones it reads from mountinfo, uid= among them, and the kernel refuses the remount).
    let remount = |flags: &str| {
        sb.sh(&format!(
            "mount -n --options-mode ignore -o remount,{flags} {shm}"
        ))
    };
    remount("nodev,suid");
    w.expect("drift", &[&id(&shm, "nosuid", "live")]);
    remount("nodev,nosuid");
    w.expect("compliant", &[]);
    // Dropping nodev needs real root: a user namespace keeps its mounts nodev.
    if nix::unistd::geteuid().is_root() {
        remount("dev,nosuid");
        w.expect("drift", &[&id(&shm, "nodev", "live")]);
        remount("nodev,nosuid");
        w.expect("compliant", &[]);
    } else {
        eprintln!(
            "note: not root: the remount dropping nodev is left out (a user namespace keeps mounts nodev); the one dropping nosuid ran"
        );
    }

    // fstab replaced by rename, as editors and config management write it
    let tmp = sb.path("fstab.new");
    sb.sh(&format!(
        "printf 'tmpfs {shm} tmpfs defaults 0 0\\n' > {tmp} && mv {tmp} {fstab}"
    ));
    w.expect(
        "drift",
        &[
            &id(&shm, "nodev", "fstab"),
            &id(&shm, "nosuid", "fstab"),
            &id(&shm, "nodev", "boot"),
            &id(&shm, "nosuid", "boot"),
        ],
    );
    sb.sh(&format!(
        "printf 'tmpfs {shm} tmpfs nodev,nosuid,mode=1777 0 0\\n' > {tmp} && mv {tmp} {fstab}"
    ));
    w.expect("compliant", &[]);

    sb.sh(&format!("umount -n {shm}"));
    let e = w.event();
    assert_eq!(e["event"], "drift", "{e}");
    assert!(
        e["failing"]
            .as_array()
            .unwrap()
            .contains(&Value::from(id(&shm, "mounted", "live"))),
        "{e}"
    );
    sb.sh(&format!(
        "mount -n -t tmpfs -o mode=1777,nodev,nosuid,size=8m tmpfs {shm}"
    ));
    w.expect("compliant", &[]);
    // the new mount's root is watched too
    sb.sh(&format!("chmod 755 {shm}"));
    w.expect("drift", &[&id(&shm, "mode", "live")]);

    assert_eq!(w.stop(nix::sys::signal::Signal::SIGTERM), Some(0));
}

#[test]
fn watch_rechecks_the_mqueue_limits_on_its_timer() {
    let sb = Sandbox::new();
    let mq = sb.mqueue("mqueue", "nodev,nosuid,noexec");
    let fstab = sb.file("fstab", b"");
    let sysctl = sb.path("90-shmguard-mqueue.conf");
    let args = [
        "--path",
        &mq,
        "--fstype",
        "mqueue",
        "--queues-max",
        "300",
        "--fstab-path",
        &fstab,
        "--sysctl-path",
        &sysctl,
    ];
    let r = sb.apply(&args);
    assert_eq!(r["failed"], false, "{r}");
    let policy = sb.file(
        "policy.json",
        serde_json::json!({"path": mq, "fstype": "mqueue", "queues_max": 300,
                           "fstab_path": fstab, "sysctl_path": sysctl})
        .to_string()
        .as_bytes(),
    );
    let mut w = Watch::start(
        &sb,
        &[
            "--policy",
            &policy,
            "--sysctl-interval",
            "1",
            "--format",
            "json",
        ],
    );
    w.expect("initial", &[]);
    sb.sh("echo 100 > /proc/sys/fs/mqueue/queues_max");
    w.expect("drift", &[&id(&mq, "queues_max", "live")]);
    sb.sh("echo 300 > /proc/sys/fs/mqueue/queues_max");
    w.expect("compliant", &[]);
    assert_eq!(w.stop(nix::sys::signal::Signal::SIGINT), Some(0));

    // --apply sets the limit back live, through the engine
    let w = Watch::start(
        &sb,
        &[
            "--policy",
            &policy,
            "--sysctl-interval",
            "1",
            "--format",
            "json",
            "--apply",
        ],
    );
    w.expect("initial", &[]);
    sb.sh("echo 100 > /proc/sys/fs/mqueue/queues_max");
    let queues = id(&mq, "queues_max", "live");
    w.expect("drift", &[&queues]);
    w.expect("repaired", &[&queues]);
    w.expect("compliant", &[]);
    assert_eq!(sb.sh("cat /proc/sys/fs/mqueue/queues_max"), "300\n");
}

#[test]
fn watch_prints_text_and_ends_when_stdout_closes() {
    let sb = Sandbox::new();
    let (shm, _, policy) = compliant_shm(&sb);
    sb.sh(&format!("chmod 700 {shm}"));
    let mut w = Watch::spawn(&sb, &["--policy", &policy, "--format", "text"], 1);
    let l = w.line();
    let want = format!("{shm} initial: {}", id(&shm, "mode", "live"));
    assert!(l.contains(&want), "{l}");
    assert!(l.contains("— fix: shmguard apply --path"), "{l}");
    // The reader has gone away (its end of the pipe closed after one line): watch ends with
    // exit 0 without waiting for another change.
    assert_eq!(w.exit(), Some(0));
}

#[test]
fn watch_apply_repairs_drift_and_stops_at_flapping_against_a_fighter() {
    let sb = Sandbox::new();
    let (shm, _, policy) = compliant_shm(&sb);
    let mut w = Watch::start(&sb, &["--policy", &policy, "--format", "json", "--apply"]);
    w.expect("initial", &[]);
    let mode = id(&shm, "mode", "live");

    // One drift: repaired through the engine, then seen compliant.
    sb.sh(&format!("chmod 700 {shm}"));
    w.expect("drift", &[&mode]);
    let e = w.expect("repaired", &[&mode]);
    assert!(
        e["actions"][0].as_str().unwrap().contains("1777"),
        "the repair says what it changed: {e}"
    );
    w.expect("compliant", &[]);
    assert_eq!(sb.mode(&shm), "1777");

    // Another tool keeps breaking it: repaired up to the limit (3 within a minute), then
    // reported as flapping and left alone.
    let mut fighter = sb
        .command("sh")
        .args([
            "-c",
            &format!("while :; do chmod 700 {shm}; sleep 0.2; done"),
        ])
        .spawn()
        .unwrap();
    let mut repaired = 1;
    let flapping = loop {
        let e = w.event();
        match e["event"].as_str().unwrap() {
            "repaired" => repaired += 1,
            "drift" | "compliant" => {}
            "flapping" => break e,
            _ => panic!("unexpected event {e}"),
        }
    };
    assert_eq!(repaired, 3, "{flapping}");
    assert_eq!(flapping["failing"], serde_json::json!([mode]), "{flapping}");
    assert!(
        flapping["error"].as_str().unwrap().contains("left alone"),
        "{flapping}"
    );
    let _ = fighter.kill();
    let _ = fighter.wait();
    // Left alone: the fighter's mode stays; the next line is the fix by hand, not a repair.
    assert_eq!(sb.mode(&shm), "700");
    sb.sh(&format!("chmod 1777 {shm}"));
    w.expect("compliant", &[]);
    assert_eq!(w.stop(nix::sys::signal::Signal::SIGTERM), Some(0));
}

#[test]
fn watch_bad_arguments_exit_1_naming_them_before_watching() {
    let sb = Sandbox::new();
    for (args, want) in [
        (&["--format", "junit"][..], "[possible values: json, text]"),
        (&["--fstab-path", "/nonexistent/fstab"], "--fstab-path"),
        (&["--sysctl-interval", "0"], "--sysctl-interval"),
    ] {
        let mut all = vec!["watch"];
        all.extend_from_slice(args);
        let out = sb.run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// Between changes it sleeps in the kernel (in poll), not in a loop: over two quiet seconds
/// it is not scheduled once (a sleep-and-recheck loop, or a spin, would be).
#[test]
fn watch_blocks_in_poll_between_changes() {
    let sb = Sandbox::new();
    let (_, _, policy) = compliant_shm(&sb);
    let mut w = Watch::start(&sb, &["--policy", &policy, "--format", "json"]);
    w.expect("initial", &[]);
    let pid = w.child.id();
    let switches = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
            .sum::<u64>()
    };
    // wait until it has gone to sleep after the initial line
    let deadline = Instant::now() + PATIENCE;
    while !std::fs::read_to_string(format!("/proc/{pid}/wchan"))
        .unwrap()
        .contains("poll")
    {
        assert!(Instant::now() < deadline, "never blocked in poll");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = switches();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(switches(), before, "it ran while nothing changed");
    assert!(
        std::fs::read_to_string(format!("/proc/{pid}/wchan"))
            .unwrap()
            .contains("poll")
    );
    assert_eq!(w.stop(nix::sys::signal::Signal::SIGTERM), Some(0));
}

/// fstab's directory is the mount point's root itself: one inode, watched for both (the
/// second watch adds to the first's mask instead of replacing it).
#[test]
fn watch_sees_the_root_and_fstab_when_they_share_a_directory() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "mode=1777,nodev,nosuid,size=8m");
    let fstab = format!("{shm}/fstab");
    sb.sh(&format!(
        "printf 'tmpfs {shm} tmpfs nodev,nosuid,mode=1777 0 0\\n' > {fstab}"
    ));
    let policy = sb.file(
        "policy.json",
        serde_json::json!({"path": shm, "mode": "1777", "options": ["nodev", "nosuid"],
                           "fstab_path": fstab})
        .to_string()
        .as_bytes(),
    );
    let w = Watch::start(&sb, &["--policy", &policy, "--format", "json"]);
    w.expect("initial", &[]);
    sb.sh(&format!("chmod 700 {shm}"));
    w.expect("drift", &[&id(&shm, "mode", "live")]);
    sb.sh(&format!("chmod 1777 {shm}"));
    w.expect("compliant", &[]);
    sb.sh(&format!(
        "printf 'tmpfs {shm} tmpfs nosuid,mode=1777 0 0\\n' > {shm}/new && mv {shm}/new {fstab}"
    ));
    w.expect(
        "drift",
        &[&id(&shm, "nodev", "fstab"), &id(&shm, "nodev", "boot")],
    );
}

/// Issue 25: mountinfo's POLLPRI wakes the watch on every mount in the namespace; the watch
/// only polls it (never reads it) and audits again only when a watched mount changed. strace
/// counts the opens of fstab (one set per audit) and any read of mountinfo, for a run with
/// unrelated mounts and one without, and for the mountinfo path (SHMGUARD_OBSERVE=mountinfo),
/// which audits on every mount event.
#[test]
fn watch_polls_mountinfo_and_audits_again_only_when_a_watched_mount_changed() {
    crate::strace::require();
    let sb = Sandbox::new();
    let (shm, fstab, policy) = compliant_shm(&sb);
    let other = sb.path("other");
    sb.sh(&format!("mkdir {other}"));
    let run = |name: &str, unrelated: usize, forced: bool| {
        let log = sb.path(&format!("watch-{name}.log"));
        let mut cmd = sb.command("strace");
        cmd.args(["-qq", "-f", "-y", "-e", "trace=openat,read,pread64,readv"])
            .args(["-o", &log, BIN]);
        if forced {
            cmd.env("SHMGUARD_OBSERVE", "mountinfo");
        } else {
            cmd.env_remove("SHMGUARD_OBSERVE");
        }
        let mut w = Watch::from_command(cmd, &["--policy", &policy, "--format", "json"], 2);
        w.expect("initial", &[]);
        for _ in 0..unrelated {
            sb.sh(&format!("mount -n -t tmpfs -o size=1m unrelated {other}"));
            // pacing only, so that the wakes are not all merged into one
            std::thread::sleep(Duration::from_millis(100));
            sb.sh(&format!("umount -n {other}"));
            std::thread::sleep(Duration::from_millis(100));
        }
        sb.sh(&format!("chmod 700 {shm}"));
        w.expect("drift", &[&id(&shm, "mode", "live")]);
        // two lines read: the pipe closes and the watch ends
        assert_eq!(w.exit(), Some(0), "{name}");
        sb.sh(&format!("chmod 1777 {shm}"));
        let text = String::from_utf8_lossy(&sb.read(&log)).into_owned();
        let count = |f: &dyn Fn(&str) -> bool| text.lines().filter(|l| f(l)).count();
        let fstab_opens = count(&|l| l.contains("openat(") && l.contains(&format!("\"{fstab}\"")));
        let mountinfo_opens = count(&|l| l.contains("openat(") && l.contains("/mountinfo\""));
        let mountinfo_reads = count(&|l| !l.contains("openat(") && l.contains("mountinfo>"));
        (fstab_opens, mountinfo_opens, mountinfo_reads)
    };
    let quiet = run("quiet", 0, false);
    let busy = run("busy", 5, false);
    let forced = run("forced", 5, true);
    assert!(
        quiet.0 > 0,
        "the trace sees the audits' fstab opens: {quiet:?}"
    );
    assert_eq!(
        busy.0, quiet.0,
        "unrelated mounts audited again: {busy:?} vs {quiet:?}"
    );
    assert!(
        forced.0 > busy.0,
        "the mountinfo path audits on every mount event, so the count could tell: {forced:?}"
    );
    for (fstab_opens, opens, reads) in [quiet, busy] {
        assert_eq!(
            (opens, reads),
            (1, 0),
            "mountinfo polled, never read ({fstab_opens})"
        );
    }
    assert!(forced.2 > 0, "the mountinfo path reads it: {forced:?}");
}
