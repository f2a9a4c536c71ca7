//! /dev/mqueue: mode, flags, fstab entry, and the fs.mqueue limits live (this IPC namespace's
//! /proc/sys/fs/mqueue) and persisted in a scratch sysctl file.

use crate::sandbox::Sandbox;

#[test]
fn mqueue_mode_flags_limits_are_converged_and_then_stable() {
    let sb = Sandbox::new();
    let mq = sb.mqueue("mqueue", "rw");
    sb.sh(&format!("chmod 0755 {mq}"));
    let fstab = sb.file("fstab", b"");
    let sysctl = sb.path("90-shmguard-mqueue.conf");
    let args = [
        "--path",
        &mq,
        "--fstype",
        "mqueue",
        "--mode",
        "1777",
        "-o",
        "nodev,nosuid,noexec",
        "--queues-max",
        "512",
        "--msg-max",
        "64",
        "--fstab-path",
        &fstab,
        "--sysctl-path",
        &sysctl,
    ];
    let r = sb.apply(&args);
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(sb.mode(&mq), "1777");
    assert!(sb.mountinfo(&mq).contains("rw,nosuid,nodev,noexec"));
    assert_eq!(
        sb.sh("cat /proc/sys/fs/mqueue/queues_max /proc/sys/fs/mqueue/msg_max"),
        "512\n64\n"
    );
    assert_eq!(
        String::from_utf8(sb.read(&fstab)).unwrap(),
        format!("mqueue {mq} mqueue nodev,nosuid,noexec 0 0\n")
    );
    assert_eq!(
        String::from_utf8(sb.read(&sysctl)).unwrap(),
        format!(
            "# POSIX message queue limits for {mq}, managed by shmguard\nfs.mqueue.queues_max = 512\nfs.mqueue.msg_max = 64\n"
        ),
        "the header names the managed path"
    );
    assert_eq!(r["after"]["mqueue"]["queues_max"], 512);
    assert_eq!(r["after"]["sysctl"]["msg_max"], 64);
    let again = sb.apply(&args);
    assert_eq!(again["changed"], false, "{again}");
}

#[test]
fn a_persisted_limit_is_rewritten_in_place() {
    let sb = Sandbox::new();
    let mq = sb.mqueue("mqueue", "rw");
    let sysctl = sb.file(
        "mq.conf",
        b"# site\nfs.mqueue.msgsize_max=8192\nkernel.x = 1\n",
    );
    let fstab = sb.file("fstab", b"");
    let r = sb.apply(&[
        "--path",
        &mq,
        "--fstype",
        "mqueue",
        "--msgsize-max",
        "16384",
        "--state",
        "present",
        "--fstab-path",
        &fstab,
        "--sysctl-path",
        &sysctl,
    ]);
    assert_eq!(r["changed"], true, "{r}");
    assert_eq!(
        sb.read(&sysctl),
        b"# site\nfs.mqueue.msgsize_max=16384\nkernel.x = 1\n"
    );
    assert_eq!(
        sb.sh("cat /proc/sys/fs/mqueue/msgsize_max"),
        "8192\n",
        "present does not touch the live limit"
    );
}

#[test]
fn mqueue_is_mounted_when_missing() {
    let sb = Sandbox::new();
    let mq = sb.path("newmq");
    let fstab = sb.file("fstab", b"");
    let r = sb.apply(&[
        "--path",
        &mq,
        "--fstype",
        "mqueue",
        "-o",
        "nodev",
        "--state",
        "ephemeral",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["changed"], true, "{r}");
    assert!(
        sb.mountinfo(&mq).contains(" - mqueue mqueue "),
        "{}",
        sb.mountinfo(&mq)
    );
}
