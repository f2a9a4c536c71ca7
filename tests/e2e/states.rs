//! state: mounted (live and fstab), present (fstab only), ephemeral (live only), absent
//! (remove the fstab entry, never unmount); backup.

use crate::sandbox::Sandbox;

#[test]
fn present_writes_fstab_and_leaves_the_live_mount() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let before = sb.mountinfo(&shm);
    let r = sb.apply(&[
        "--path",
        &shm,
        "--state",
        "present",
        "--size",
        "1g",
        "--mode",
        "1777",
        "-o",
        "nodev",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["changed"], true, "{r}");
    assert_eq!(sb.mountinfo(&shm), before);
    assert_eq!(sb.mode(&shm), "755");
    assert_eq!(
        String::from_utf8(sb.read(&fstab)).unwrap(),
        format!("tmpfs {shm} tmpfs nodev,size=1g 0 0\n")
    );
}

#[test]
fn ephemeral_changes_the_live_mount_and_not_fstab() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# untouched\n");
    let r = sb.apply(&[
        "--path",
        &shm,
        "--state",
        "ephemeral",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["changed"], true, "{r}");
    assert_eq!(sb.mode(&shm), "1777");
    assert_eq!(sb.read(&fstab), b"# untouched\n");
}

#[test]
fn absent_removes_the_entry_and_keeps_the_mount() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m");
    let fstab = sb.file(
        "fstab",
        format!("# keep\ntmpfs {shm} tmpfs defaults 0 0\nproc /proc proc defaults 0 0\n")
            .as_bytes(),
    );
    let r = sb.apply(&["--path", &shm, "--state", "absent", "--fstab-path", &fstab]);
    assert_eq!(r["changed"], true, "{r}");
    assert_eq!(sb.read(&fstab), b"# keep\nproc /proc proc defaults 0 0\n");
    assert!(
        sb.mountinfo(&shm).contains("size=65536k"),
        "absent never unmounts"
    );
    assert_eq!(
        sb.apply(&["--path", &shm, "--state", "absent", "--fstab-path", &fstab])["changed"],
        false
    );
}

#[test]
fn backup_keeps_a_copy_of_the_old_fstab() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m");
    let fstab = sb.file("fstab", b"# old\n");
    let r = sb.apply(&[
        "--path",
        &shm,
        "--state",
        "present",
        "-o",
        "nodev",
        "--backup",
        "--fstab-path",
        &fstab,
    ]);
    let backup = r["backup_file"]
        .as_str()
        .unwrap_or_else(|| panic!("no backup_file: {r}"));
    assert!(
        backup.starts_with(&format!("{fstab}.")) && backup.ends_with('~'),
        "{backup}"
    );
    assert_eq!(sb.read(backup), b"# old\n");
}

#[test]
fn status_reports_the_live_state_read_only() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755,nodev");
    let fstab = sb.file("fstab", format!("tmpfs {shm} tmpfs nodev 0 0\n").as_bytes());
    let out = sb.run(&["status", &shm, "--fstab-path", &fstab]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    for want in [
        "mounted: yes",
        "mode: 0755",
        "size: 64M",
        "options: rw,nodev,relatime",
        "fstab: line 1: tmpfs",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}

/// Regression: `shmguard status | head -1` panicked on the broken pipe (and the size-tuned
/// build, whose panics abort, dumped core). `salt` reads stdin before it writes, so the pipe
/// is certainly closed first.
#[test]
fn a_reader_that_goes_away_ends_the_run_quietly() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::sandbox::BIN)
        .arg("salt")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"name": "relative", "test": true}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(nix::libc::SIGPIPE),
        "{:?} {stderr}",
        out.status
    );
}
