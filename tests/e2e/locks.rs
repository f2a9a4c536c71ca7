//! Locks that leave nothing beside the managed files (issue 17): after applies on /dev/shm and
//! /dev/mqueue with scratch fstab and sysctl files, each file's directory holds only the files
//! shmguard manages (and backups when asked); the locks are under /run/lock/shmguard (the
//! sandbox's private /run/lock), root's and 0700. Without a usable /run/lock the files'
//! directories are locked instead: still serialised, still nothing created.

use std::time::{Duration, Instant};

use crate::sandbox::Sandbox;

/// A private /dev with fresh /dev/shm (tmpfs) and /dev/mqueue (mqueue), and scratch etc/ and
/// etc/sysctl.d/ directories holding one file each.
fn host(sb: &Sandbox) -> (String, String) {
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=755,size=16m");
    sb.sh("mount -t mqueue -o rw mqueue /dev/mqueue && chmod 0755 /dev/mqueue");
    let etc = sb.path("etc");
    sb.sh(&format!("mkdir -p {etc}/sysctl.d"));
    let fstab = sb.file("etc/fstab", b"# scratch\n");
    (etc, fstab)
}

fn apply_both(sb: &Sandbox, etc: &str, fstab: &str) {
    let sysctl = format!("{etc}/sysctl.d/90-shmguard-mqueue.conf");
    for args in [
        &[
            "--path",
            "/dev/shm",
            "--mode",
            "1777",
            "-o",
            "nodev,nosuid",
            "--backup",
        ][..],
        &[
            "--path",
            "/dev/mqueue",
            "--mode",
            "1777",
            "-o",
            "nodev",
            "--queues-max",
            "300",
        ],
    ] {
        let mut all = args.to_vec();
        all.extend(["--fstab-path", fstab, "--sysctl-path", &sysctl]);
        let r = sb.apply(&all);
        assert_eq!(
            (r["failed"].clone(), r["changed"].clone()),
            (false.into(), true.into()),
            "{r}"
        );
    }
}

fn listing(sb: &Sandbox, dir: &str) -> Vec<String> {
    sb.sh(&format!("ls -A {dir}"))
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn applies_on_shm_and_mqueue_leave_only_the_managed_files() {
    let sb = Sandbox::new();
    let (etc, fstab) = host(&sb);
    apply_both(&sb, &etc, &fstab);
    let files = listing(&sb, &etc);
    assert_eq!(files.len(), 3, "fstab, its backup, sysctl.d: {files:?}");
    assert!(files[0] == "fstab" && files[1].starts_with("fstab.") && files[1].ends_with('~'));
    assert_eq!(files[2], "sysctl.d");
    assert_eq!(
        listing(&sb, &format!("{etc}/sysctl.d")),
        ["90-shmguard-mqueue.conf"]
    );
    assert!(listing(&sb, "/dev/shm").is_empty() && listing(&sb, "/dev/mqueue").is_empty());
    // The locks: named after the files, in a directory only root can enter.
    let locks = listing(&sb, "/run/lock/shmguard");
    let name = |f: &str| sb.lock_file(f).rsplit('/').next().unwrap().to_string();
    let sysctl = format!("{etc}/sysctl.d/90-shmguard-mqueue.conf");
    assert_eq!(locks, [name(&fstab), name(&sysctl)], "{locks:?}");
    assert!(
        locks[1].ends_with("-etc-sysctl.d-90-shmguard-mqueue.conf.lock"),
        "{locks:?}"
    );
    assert_eq!(sb.sh("stat -c '%a %u' /run/lock/shmguard"), "700 0\n");
}

#[test]
fn without_a_usable_run_lock_the_directory_is_locked_and_nothing_is_created() {
    let sb = Sandbox::new();
    let (etc, fstab) = host(&sb);
    // A read-only /run/lock (as in a container with a read-only /run): mkdir fails.
    sb.sh("mount -t tmpfs -o ro,size=1m ro-lock /run/lock");
    apply_both(&sb, &etc, &fstab);
    assert_eq!(listing(&sb, &etc).len(), 3, "{:?}", listing(&sb, &etc));
    assert_eq!(listing(&sb, &format!("{etc}/sysctl.d")).len(), 1);
    assert!(listing(&sb, "/run/lock").is_empty());
    // Still serialised: a run waits while another process holds the directory's lock.
    let ready = sb.path("ready");
    let mut holder = sb
        .command("flock")
        .args([&etc, "-c", &format!("touch {ready}; sleep 1")])
        .spawn()
        .unwrap();
    while sb
        .sh(&format!("test -e {ready} && echo y || true"))
        .is_empty()
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let start = Instant::now();
    let r = sb.apply(&["--path", "/dev/shm", "-o", "noexec", "--fstab-path", &fstab]);
    assert_eq!(r["changed"], true, "{r}");
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "did not wait for the lock"
    );
    assert!(holder.wait().unwrap().success());
}

/// A /run/lock/shmguard that another user made first is not used: that user could hold or
/// remove the locks. The run locks the directory instead and writes nothing into it.
#[test]
fn a_lock_directory_of_another_user_is_not_used_another_user() {
    crate::sandbox::require_real_root();
    let sb = Sandbox::new();
    let (etc, fstab) = host(&sb);
    sb.sh("mkdir -m 0777 /run/lock/shmguard && chown 65534 /run/lock/shmguard");
    apply_both(&sb, &etc, &fstab);
    assert!(listing(&sb, "/run/lock/shmguard").is_empty());
    assert_eq!(sb.sh("stat -c '%a %u' /run/lock/shmguard"), "777 65534\n");
    assert_eq!(listing(&sb, &etc).len(), 3);
}

/// Root of a user namespace (an unprivileged user's) sees the host's /run/lock as another
/// user's: it must not leave a directory of that user there, so it locks the file's directory.
#[test]
fn root_of_a_user_namespace_does_not_write_the_hosts_run_lock_another_user() {
    crate::sandbox::require_real_root();
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    let etc = sb.path("etc");
    sb.sh(&format!("mkdir {etc} && chown 65534:65534 {etc}"));
    let fstab = sb.file("etc/fstab", b"# scratch\n");
    sb.sh(&format!("chown 65534:65534 {fstab}"));
    let out = sb
        .command("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        // a copy nobody can reach: the checkout may be closed to it
        .args([
            "unshare",
            "--user",
            "--map-root-user",
            &crate::outside::bin(),
        ])
        .args([
            "apply", "--json", "--path", &shm, "--state", "present", "-o", "nodev",
        ])
        .args(["--fstab-path", &fstab])
        .output()
        .unwrap();
    let r = crate::strace::json(&out);
    assert_eq!(r["changed"], true, "{r}");
    assert!(
        listing(&sb, "/run/lock").is_empty(),
        "{:?}",
        listing(&sb, "/run/lock")
    );
    assert_eq!(listing(&sb, &etc), ["fstab"]);
}
