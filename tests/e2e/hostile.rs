//! Hostile or surprising input: links and swapped paths, paths that are not tmpfs/mqueue
//! mounts, fstab files that are links, not regular, bind-mounted, unreadable, CRLF or with
//! NUL bytes (read as libmount reads them), a planted lock file, and a run without root. Each
//! refusal changes nothing: mounts, modes and files are compared before and after.

use std::time::Duration;

use crate::sandbox::{BIN, Sandbox};
use crate::strace;

const FSTAB: &[u8] = b"# mine\nproc /proc proc defaults 0 0\n";

fn refused(r: &serde_json::Value, want: &str) {
    assert_eq!(r["failed"], true, "{r}");
    let msg = r["msg"].as_str().unwrap();
    assert!(msg.contains(want), "got {msg}\nwant {want}");
}

#[test]
fn a_path_that_is_a_link_is_refused_and_its_target_untouched() {
    let sb = Sandbox::new();
    let target = sb.tmpfs("real", "size=8m,mode=755");
    let link = sb.path("link");
    sb.sh(&format!("ln -s {target} {link}"));
    let fstab = sb.file("fstab", FSTAB);
    let snap = sb.snapshot(&[&target], &[&fstab]);
    let r = sb.apply(&[
        "--path",
        &link,
        "--mode",
        "1777",
        "-o",
        "noexec",
        "--fstab-path",
        &fstab,
    ]);
    refused(&r, "is a symbolic link");
    assert_eq!(sb.snapshot(&[&target], &[&fstab]), snap);
}

/// Runs apply with a 2 s pause at the open of the mount root in apply (found by a traced run
/// first), swaps the path with `swap` during the pause, and returns the result.
fn swap_during_apply(sb: &Sandbox, shm: &str, fstab: &str, swap: &str) -> serde_json::Value {
    strace::require();
    let args = [
        "apply",
        "--json",
        "--path",
        shm,
        "--state",
        "ephemeral",
        "--mode",
        "1777",
        "-o",
        "noexec",
        "--fstab-path",
        fstab,
    ];
    let calls = strace::trace(sb, &["openat"], &args);
    // The last such open is apply's (the first one takes the mount point's lock).
    let open = calls
        .iter()
        .rfind(|c| c.line.contains(&format!("\"{shm}\"")) && c.line.contains("O_NOFOLLOW"))
        .expect("the mount root is opened without following links");
    // The traced run applied: put the mount back as it was.
    sb.sh(&format!(
        "umount {shm} && mount -t tmpfs -o size=8m,mode=755 tmpfs {shm}"
    ));
    let inject = format!("inject=openat:delay_enter=2000000:when={}", open.nth);
    let child = sb
        .command("strace")
        .args(["-qq", "-f", "-o", "/dev/null", "-e", &inject, BIN])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    sb.sh(swap);
    strace::json(&child.wait_with_output().unwrap())
}

#[test]
fn a_path_swapped_for_a_link_mid_run_is_not_followed() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let victim = sb.tmpfs("victim", "size=8m,mode=755");
    let fstab = sb.file("fstab", FSTAB);
    let before = sb.snapshot(&[&victim], &[&fstab]);
    let r = swap_during_apply(
        &sb,
        &shm,
        &fstab,
        &format!("umount -l {shm} && rmdir {shm} && ln -s {victim} {shm}"),
    );
    refused(&r, "without following links");
    assert_eq!(
        sb.snapshot(&[&victim], &[&fstab]),
        before,
        "the link was followed"
    );
}

#[test]
fn a_path_swapped_for_another_mount_mid_run_is_refused() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let fstab = sb.file("fstab", FSTAB);
    let r = swap_during_apply(
        &sb,
        &shm,
        &fstab,
        &format!("mount -t tmpfs -o size=4m,mode=755 other {shm}"),
    );
    refused(&r, "not the");
    assert_eq!(sb.mode(&shm), "755");
    assert!(!sb.mountinfo(&shm).contains("noexec"));
}

#[test]
fn a_path_that_is_not_a_tmpfs_mount_is_never_chmodded() {
    let sb = Sandbox::new();
    let fstab = sb.file("fstab", FSTAB);
    // Another filesystem type mounted there: refused.
    let ramfs = sb.path("ramfs");
    sb.sh(&format!(
        "mkdir {ramfs} && mount -t ramfs -o mode=755 ramfs {ramfs}"
    ));
    let snap = sb.snapshot(&[&ramfs], &[&fstab]);
    let r = sb.apply(&["--path", &ramfs, "--mode", "1777", "--fstab-path", &fstab]);
    refused(&r, "is mounted as ramfs, not tmpfs");
    assert_eq!(sb.snapshot(&[&ramfs], &[&fstab]), snap);
    // A plain directory: fstab only, or a tmpfs mounted over it; the directory keeps 0755.
    let dir = sb.path("plain");
    sb.sh(&format!("mkdir -m 755 {dir}"));
    let r = sb.apply(&[
        "--path",
        &dir,
        "--state",
        "present",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(sb.mode(&dir), "755");
    let r = sb.apply(&[
        "--path",
        &dir,
        "--fstype",
        "mqueue",
        "--state",
        "ephemeral",
        "--mode",
        "1770",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(sb.mode(&dir), "1770", "the new mqueue root has the mode");
    sb.sh(&format!("umount {dir}"));
    assert_eq!(
        sb.mode(&dir),
        "755",
        "the directory under the mount was changed"
    );
}

#[test]
fn an_fstab_that_is_a_link_is_not_replaced() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let real = sb.file("real-fstab", FSTAB);
    let link = sb.path("fstab");
    sb.sh(&format!("ln -s {real} {link}"));
    let r = sb.add_nodev_entry(&shm, &link);
    refused(&r, "fstab_path: ");
    refused(&r, "is a symbolic link");
    assert_eq!(sb.read(&real), FSTAB);
    assert_eq!(sb.sh(&format!("readlink {link}")).trim(), real);
}

#[test]
fn an_fstab_that_is_not_a_regular_file_is_refused_without_hanging() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    for (name, make) in [("fifo", "mkfifo"), ("dir", "mkdir")] {
        let p = sb.path(name);
        sb.sh(&format!("{make} {p}"));
        let r = sb.add_nodev_entry(&shm, &p);
        refused(&r, "not a regular file");
        refused(&r, "fstab_path");
    }
}

#[test]
fn a_bind_mounted_fstab_is_refused_before_anything_changes() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let real = sb.file("real-fstab", FSTAB);
    let fstab = sb.file("fstab", b"# the mount point file\n");
    sb.sh(&format!("mount --bind {real} {fstab}"));
    let snap = sb.snapshot(&[&shm], &[&real, &fstab]);
    for state in ["present", "mounted"] {
        let r = sb.apply(&[
            "--path",
            &shm,
            "--state",
            state,
            "-o",
            "nodev,noexec",
            "--mode",
            "1777",
            "--fstab-path",
            &fstab,
        ]);
        refused(&r, "is a mount point");
        refused(&r, "EBUSY");
        assert_eq!(
            sb.snapshot(&[&shm], &[&real, &fstab]),
            snap,
            "{state}: half-applied"
        );
    }
}

#[test]
fn crlf_is_kept_and_nul_bytes_are_refused() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let fstab = sb.file("fstab", b"# dos\r\nproc /proc proc defaults 0 0\r\n");
    let args = [
        "--path",
        &shm,
        "--state",
        "present",
        "-o",
        "nodev",
        "--fstab-path",
        &fstab,
    ];
    assert_eq!(sb.apply(&args)["changed"], true);
    let want = format!("# dos\r\nproc /proc proc defaults 0 0\r\ntmpfs {shm} tmpfs nodev 0 0\r\n");
    assert_eq!(sb.read(&fstab), want.as_bytes());
    assert_eq!(sb.apply(&args)["changed"], false);

    // Issue 18: a NUL byte is read as libmount reads it (here: a line it skips), not a reason
    // to refuse the file; every byte of it stays.
    let nul = b"# x\ntmpfs /elsewhere tmpfs de\0faults 0 0\n";
    let fstab = sb.file("fstab-nul", nul);
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let a = ["--path", &shm, "-o", "nodev", "--fstab-path", &fstab];
    let mut check = a.to_vec();
    check.push("--check");
    assert_eq!(sb.apply(&check)["changed"], true);
    assert_eq!(
        sb.snapshot(&[&shm], &[&fstab]),
        snap,
        "--check changed nothing"
    );
    assert_eq!(sb.apply(&a)["changed"], true);
    let mut want = nul.to_vec();
    want.extend_from_slice(format!("tmpfs {shm} tmpfs nodev 0 0\n").as_bytes());
    assert_eq!(sb.read(&fstab), want);
    assert_eq!(sb.apply(&a)["changed"], false);
}

#[test]
fn a_planted_lock_file_is_not_followed() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let fstab = sb.file("fstab", FSTAB);
    let elsewhere = sb.path("elsewhere");
    let lock = sb.lock_file(&fstab);
    sb.sh(&format!(
        "mkdir -m 0700 -p /run/lock/shmguard && ln -s {elsewhere} {lock}"
    ));
    let args = [
        "--path",
        &shm,
        "--state",
        "present",
        "-o",
        "nodev",
        "--fstab-path",
        &fstab,
    ];
    refused(&sb.apply(&args), &format!("fstab_path: cannot lock {lock}"));
    assert_eq!(
        sb.sh(&format!("test -e {elsewhere} && echo yes || echo no")),
        "no\n"
    );
    sb.sh(&format!("rm {lock} && mkfifo {lock}"));
    refused(&sb.apply(&args), "not a regular file");
    assert_eq!(sb.read(&fstab), FSTAB);
}

/// `shmguard ARGS` as user nobody with no capabilities, inside the sandbox's namespaces (a copy
/// of the build that nobody can reach: the checkout may be closed to it).
fn as_nobody(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    sb.command("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ])
        .arg(crate::outside::bin())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn as_another_user_apply_says_it_needs_root_and_audit_still_works() {
    crate::sandbox::require_real_root();
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let fstab = sb.file("fstab", FSTAB);
    sb.sh(&format!("chmod 0755 {}", sb.path("")));
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let args = [
        "apply",
        "--json",
        "--path",
        &shm,
        "--mode",
        "1777",
        "-o",
        "nodev",
        "--fstab-path",
        &fstab,
    ];
    let r = strace::json(&as_nobody(&sb, &args));
    refused(&r, "needs root (CAP_SYS_ADMIN)");
    refused(&r, &format!("chmod {shm} 0755 -> 1777"));
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);

    let mut check = args.to_vec();
    check.push("--check");
    let r = strace::json(&as_nobody(&sb, &check));
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(r["changed"], true, "{r}");
    let out = as_nobody(&sb, &["status", "--json", "--fstab-path", &fstab, &shm]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"mode\": \"0755\""));
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);

    // An fstab it cannot read is named.
    sb.sh(&format!("chmod 0600 {fstab}"));
    let r = strace::json(&as_nobody(&sb, &check));
    refused(
        &r,
        &format!("cannot read fstab_path {fstab}: Permission denied"),
    );
}
