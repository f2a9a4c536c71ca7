//! Fault injection on the fstab write path: every call of open, read, write, fsync, rename,
//! fchown, fchmod and flock that touches the fstab directory is made to fail, one at a time,
//! with ENOSPC, EIO and EACCES (strace -e inject). Each run must fail with a clear message and
//! leave fstab byte-identical, with its owner and mode, and no file but fstab in the directory
//! (its lock file is under /run/lock/shmguard; its flock is failed too). A failure after the rename (syncing the directory) must say the new file is
//! in place. Also: a failing remount leaves the live flags alone, a failing chmod the mode, and
//! a really full disk is a clean failure.

use crate::counts;
use crate::sandbox::Sandbox;
use crate::strace;

const OLD: &[u8] = b"# fstab\nproc /proc proc defaults 0 0\n";
const SYSCALLS: [&str; 8] = [
    "openat", "read", "write", "fsync", "rename", "fchown", "fchmod", "flock",
];
const ERRNOS: [(&str, &str); 3] = [
    ("ENOSPC", "No space left on device"),
    ("EIO", "Input/output error"),
    ("EACCES", "Permission denied"),
];

/// The message names the error: strerror's text (std) or the errno name (nix).
fn names(msg: &str, errno: &str, text: &str) -> bool {
    msg.contains(text) || msg.contains(&format!("({errno})"))
}

struct Setup {
    sb: Sandbox,
    etc: String,
    fstab: String,
    args: Vec<String>,
}

fn setup(backup: bool) -> Setup {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let etc = sb.path("etc");
    let fstab = format!("{etc}/fstab");
    let mut args: Vec<String> = [
        "apply",
        "--json",
        "--path",
        &shm,
        "--state",
        "present",
        "-o",
        "nodev,nosuid",
        "--fstab-path",
        &fstab,
    ]
    .map(String::from)
    .to_vec();
    if backup {
        args.push("--backup".into());
    }
    let s = Setup {
        sb,
        etc,
        fstab,
        args,
    };
    reset(&s);
    s
}

/// fstab back to OLD, owned by another user (so fchown runs) with mode 0640.
fn reset(s: &Setup) {
    s.sb.sh(&format!(
        "mkdir -p {0} && rm -f {0}/.fstab.* {0}/fstab.*~",
        s.etc
    ));
    s.sb.file("etc/fstab", OLD);
    s.sb.sh(&format!("chown 1000:1000 {0} && chmod 0640 {0}", s.fstab));
}

fn listing(s: &Setup) -> String {
    s.sb.sh(&format!("ls -A {}", s.etc))
}

fn owner_mode(s: &Setup) -> String {
    s.sb.sh(&format!("stat -c '%u:%g %a' {}", s.fstab))
}

fn inject_every_write_path_fault(backup: bool) -> usize {
    strace::require();
    let s = setup(backup);
    let args: Vec<&str> = s.args.iter().map(String::as_str).collect();
    let calls = strace::trace(&s.sb, &SYSCALLS, &args);
    let lock = s.sb.lock_file(&s.fstab);
    let new = s.sb.read(&s.fstab);
    assert_ne!(new, OLD, "the traced run did not change fstab");
    let (listed, kept) = ("fstab\n", owner_mode(&s));
    assert_eq!(listing(&s).lines().count(), if backup { 2 } else { 1 });
    assert_eq!(kept, "1000:1000 640\n");
    // The write path ends with the directory fsync after the rename; later calls (reading the
    // result back) are not part of it.
    let rename = calls
        .iter()
        .position(|c| c.name == "rename" && c.line.contains(&s.fstab))
        .expect("fstab is replaced by rename");
    let end = calls
        .iter()
        .enumerate()
        .skip(rename)
        .find(|(_, c)| c.name == "fsync")
        .map(|(i, _)| i)
        .expect("the directory is synced after the rename");
    let targets: Vec<(usize, &strace::Call)> = calls[..=end]
        .iter()
        .enumerate()
        // fstab's lock file is under /run/lock/shmguard: its flock is on the write path too.
        .filter(|(_, c)| c.line.contains(&s.etc) || (c.name == "flock" && c.line.contains(&lock)))
        // Listing the directory for temporary files of killed runs is best effort, not part
        // of the write: when it fails, nothing is cleaned and the write goes on.
        .filter(|(i, c)| !(*i < rename && c.name == "openat" && c.line.contains("O_DIRECTORY")))
        .collect();
    for want in [
        "openat", "read", "write", "fsync", "rename", "fchown", "fchmod", "flock",
    ] {
        assert!(
            targets.iter().any(|(_, c)| c.name == want),
            "no {want} on the write path: {calls:#?}"
        );
    }
    let mut injected = 0;
    for (i, call) in &targets {
        for (errno, text) in ERRNOS {
            reset(&s);
            let inject = format!("inject={}:error={errno}:when={}", call.name, call.nth);
            let out = strace::run(&s.sb, &["-o", "/dev/null", "-e", &inject], &args);
            let r = strace::json(&out);
            let what = format!("{} ({inject})", call.line);
            assert_eq!(r["failed"], true, "{what}: {r}");
            let msg = r["msg"].as_str().unwrap();
            assert!(names(msg, errno, text), "{what}: {msg}");
            if *i > rename {
                assert!(msg.contains("new file is in place"), "{what}: {msg}");
                assert_eq!(s.sb.read(&s.fstab), new, "{what}");
            } else {
                assert!(msg.contains("fstab_path"), "{what}: {msg}");
                assert_eq!(s.sb.read(&s.fstab), OLD, "{what}: fstab changed");
            }
            // After the rename the backup of the old file is kept, as on success.
            let left: Vec<String> = listing(&s)
                .lines()
                .filter(|l| !(*i > rename && l.ends_with('~')))
                .map(|l| format!("{l}\n"))
                .collect();
            assert_eq!(left.concat(), listed, "{what}: files left behind");
            assert_eq!(owner_mode(&s), kept, "{what}");
            injected += 1;
        }
    }
    injected
}

#[test]
fn every_failing_syscall_on_the_write_path_of_an_fstab_owned_by_another_user_changes_nothing() {
    // The fstab belongs to uid 1000 so that fchown runs and can be failed too: that needs a
    // real root (a user namespace maps only the caller).
    crate::sandbox::require_real_root();
    let plain = inject_every_write_path_fault(false);
    let with_backup = inject_every_write_path_fault(true);
    counts::record(
        "faults",
        &format!(
            "fault injection: {} faults injected on the fstab write path ({plain} plain, {with_backup} with backup), all failed cleanly",
            plain + with_backup
        ),
    );
}

#[test]
fn a_failing_remount_leaves_the_live_flags_and_size_alone() {
    strace::require();
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,nosuid,mode=755");
    let fstab = sb.file("fstab", OLD);
    let before = sb.snapshot(&[&shm], &[&fstab]);
    for (errno, text) in ERRNOS {
        let inject = format!("inject=mount:error={errno}");
        let out = strace::run(
            &sb,
            &["-o", "/dev/null", "-e", &inject],
            &[
                "apply",
                "--json",
                "--path",
                &shm,
                "--size",
                "16m",
                "-o",
                "nodev,noexec",
                "--mode",
                "1777",
                "--fstab-path",
                &fstab,
            ],
        );
        let r = strace::json(&out);
        assert_eq!(r["failed"], true, "{r}");
        let msg = r["msg"].as_str().unwrap();
        assert!(msg.contains("remount") && names(msg, errno, text), "{msg}");
        assert!(msg.contains("nothing was changed"), "{msg}");
        assert_eq!(sb.snapshot(&[&shm], &[&fstab]), before, "{errno}");
    }
    counts::record(
        "faults-remount",
        &format!(
            "fault injection: {} failing remounts, live flags and size unchanged",
            ERRNOS.len()
        ),
    );
}

#[test]
fn a_failing_chmod_leaves_the_mode_alone() {
    strace::require();
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let fstab = sb.file("fstab", OLD);
    let before = sb.snapshot(&[&shm], &[&fstab]);
    for errno in ["EPERM", "EIO", "EROFS"] {
        let inject = format!("inject=fchmod:error={errno}");
        let out = strace::run(
            &sb,
            &["-o", "/dev/null", "-e", &inject],
            &[
                "apply",
                "--json",
                "--path",
                &shm,
                "--mode",
                "1777",
                "--fstab-path",
                &fstab,
            ],
        );
        let r = strace::json(&out);
        assert_eq!(r["failed"], true, "{r}");
        let msg = r["msg"].as_str().unwrap();
        assert!(msg.contains("chmod") && msg.contains(errno), "{msg}");
        assert_eq!(sb.snapshot(&[&shm], &[&fstab]), before, "{errno}");
    }
    counts::record(
        "faults-chmod",
        "fault injection: 3 failing chmods, mode unchanged",
    );
}

#[test]
fn a_full_disk_fails_cleanly_without_a_temporary_file() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let etc = sb.tmpfs("etc", "size=64k");
    let fstab = sb.file("etc/fstab", OLD);
    sb.sh(&format!(
        "dd if=/dev/zero of={etc}/fill bs=4k 2>/dev/null; true"
    ));
    let r = sb.add_nodev_entry(&shm, &fstab);
    assert_eq!(r["failed"], true, "{r}");
    let msg = r["msg"].as_str().unwrap();
    assert!(msg.contains("No space left on device"), "{msg}");
    assert_eq!(sb.read(&fstab), OLD);
    assert_eq!(sb.sh(&format!("ls -A {etc}")), "fill\nfstab\n");
}

/// All or nothing: when the fstab write fails after the live remount and chmod, both are
/// undone; the result is failed, changed false, and says what was undone.
#[test]
fn a_failing_fstab_write_undoes_the_live_steps() {
    strace::require();
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,nosuid,mode=755");
    let fstab = sb.file("fstab", OLD);
    let before = sb.snapshot(&[&shm], &[&fstab]);
    let args = [
        "apply",
        "--json",
        "--path",
        &shm,
        "--size",
        "16m",
        "-o",
        "nodev,noexec",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ];
    for (errno, text) in ERRNOS {
        let inject = format!("inject=rename:error={errno}");
        let out = strace::run(&sb, &["-o", "/dev/null", "-e", &inject], &args);
        let r = strace::json(&out);
        assert_eq!(r["failed"], true, "{r}");
        assert_eq!(r["changed"], false, "everything was undone: {r}");
        let msg = r["msg"].as_str().unwrap();
        assert!(names(msg, errno, text), "{msg}");
        assert!(
            msg.contains("undone: chmod")
                && msg.contains("remount")
                && msg.contains("nothing is left changed"),
            "{msg}"
        );
        assert_eq!(sb.snapshot(&[&shm], &[&fstab]), before, "{errno}: {msg}");
    }
}

/// When an undo fails too, the result names exactly what is still changed.
#[test]
fn a_failing_undo_says_what_is_left_changed() {
    strace::require();
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,nosuid,mode=755");
    let fstab = sb.file("fstab", OLD);
    let before_mount = sb.mountinfo(&shm);
    let args = [
        "apply",
        "--json",
        "--path",
        &shm,
        "--size",
        "16m",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ];
    // The last fchmod of a run whose fstab rename fails is the undo of the chmod.
    let fail_rename = "inject=rename:error=EIO";
    let traced = {
        let log = sb.path("undo.log");
        strace::run(
            &sb,
            &[
                "-y",
                "-o",
                &log,
                "-e",
                "trace=fchmod,rename",
                "-e",
                fail_rename,
            ],
            &args,
        );
        let n = String::from_utf8_lossy(&sb.read(&log))
            .matches("fchmod(")
            .count();
        assert_eq!(sb.mountinfo(&shm), before_mount, "the run was undone");
        n
    };
    assert!(traced >= 2, "the chmod and its undo: {traced}");
    let fail_undo = format!("inject=fchmod:error=EIO:when={traced}");
    let out = strace::run(
        &sb,
        &["-o", "/dev/null", "-e", fail_rename, "-e", &fail_undo],
        &args,
    );
    let r = strace::json(&out);
    assert_eq!(r["failed"], true, "{r}");
    assert_eq!(r["changed"], true, "the mode is still changed: {r}");
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.contains("undone: remount")
            && msg.contains("STILL CHANGED: chmod")
            && msg.contains("undoing it failed"),
        "{msg}"
    );
    assert_eq!(sb.mode(&shm), "1777", "what the message says is left");
    assert_eq!(sb.mountinfo(&shm), before_mount, "the remount was undone");
    assert_eq!(sb.read(&fstab), OLD);
}

/// Issue 24: creating a missing fstab is all or nothing too. The link(2) that puts the new
/// file in place fails: no fstab, no temporary file, and the remount done before it is undone.
#[test]
fn a_failing_creation_of_a_missing_fstab_leaves_no_file_and_undoes_the_remount() {
    strace::require();
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    let etc = sb.path("etc");
    sb.sh(&format!("mkdir -m 755 {etc}"));
    let fstab = format!("{etc}/fstab");
    let args = [
        "apply",
        "--json",
        "--path",
        &shm,
        "-o",
        "nodev",
        "--fstab-path",
        &fstab,
    ];
    let before = sb.mountinfo(&shm);
    for (errno, text) in ERRNOS {
        let inject = format!("inject=link,linkat:error={errno}");
        let out = strace::run(&sb, &["-o", "/dev/null", "-e", &inject], &args);
        let r = strace::json(&out);
        assert_eq!(r["failed"], true, "{r}");
        let msg = r["msg"].as_str().unwrap();
        assert!(
            msg.contains("fstab_path") && names(msg, errno, text),
            "{errno}: {msg}"
        );
        assert!(msg.contains("undone: remount"), "{errno}: {msg}");
        assert_eq!(sb.sh(&format!("ls -A {etc}")), "", "{errno}: files left");
        assert_eq!(sb.mountinfo(&shm), before, "{errno}: the remount stayed");
    }
    let r = sb.apply(&args[2..]);
    assert_eq!(r["failed"], false, "and without a fault it works: {r}");
    assert_eq!(sb.sh(&format!("ls -A {etc}")), "fstab\n");
}
