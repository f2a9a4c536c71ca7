//! The mount a path reaches is the one judged and changed: the top of a stack of mounts on the
//! path, never one hidden under a later mount over a parent directory; and /dev/shm as a
//! symbolic link to /run/shm (older Debian and Ubuntu) is followed to the real mount point
//! when only root controls the link.

use serde_json::Value;

use crate::sandbox::Sandbox;

fn status(sb: &Sandbox, path: &str, fstab: &str) -> Value {
    let out = sb.run(&["status", "--json", "--fstab-path", fstab, path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout).unwrap()[path].clone()
}

#[test]
fn the_top_of_a_stack_is_judged_and_changed() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    sb.sh(&format!(
        "mount -n -t tmpfs -o size=16m,mode=1777 top {shm}"
    ));
    let fstab = sb.file("fstab", b"");
    assert_eq!(status(&sb, &shm, &fstab)["size"]["human"], "16M");
    let r = sb.apply(&["--path", &shm, "--state", "ephemeral", "--size", "32m"]);
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(r["after"]["size"]["human"], "32M", "{r}");
    assert!(sb.mountinfo(&shm).contains("size=32768k"));
    // The one below was not touched.
    sb.sh(&format!("umount -n {shm}"));
    assert!(
        sb.mountinfo(&shm).contains("size=8192k"),
        "{}",
        sb.mountinfo(&shm)
    );
}

#[test]
fn a_mount_covered_by_a_later_mount_over_its_parent_is_not_judged() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("dev/shm", "size=8m,mode=1777");
    let dev = sb.path("dev");
    // Something mounts over the parent (as a container runtime or a second udev would); the
    // path is then a plain directory of that new filesystem.
    sb.sh(&format!(
        "mount -n -t tmpfs -o mode=755 newdev {dev} && mkdir {shm}"
    ));
    let fstab = sb.file("fstab", b"");
    let v = status(&sb, &shm, &fstab);
    assert_eq!(v["mounted"], false, "the 8m tmpfs is hidden: {v}");
    // apply mounts a fresh tmpfs on the directory it reaches, without blaming a race.
    let r = sb.apply(&["--path", &shm, "--state", "ephemeral", "--size", "4m"]);
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(r["before"]["mounted"], false, "{r}");
    assert_eq!(r["after"]["size"]["human"], "4M", "{r}");
}

/// A private /dev with /dev/shm -> /run/shm, and a private tmpfs over /run holding the mount.
fn run_shm_link(sb: &Sandbox) {
    sb.private_dev();
    sb.sh(
        "mount -n -t tmpfs -o mode=755 run /run && mkdir /run/shm && \
         mount -n -t tmpfs -o size=8m,mode=1777 tmpfs /run/shm && \
         rmdir /dev/shm && ln -s /run/shm /dev/shm",
    );
}

#[test]
fn dev_shm_as_a_link_to_run_shm_is_shown_audited_and_managed_there() {
    let sb = Sandbox::new();
    run_shm_link(&sb);
    let fstab = sb.file("fstab", b"tmpfs /run/shm tmpfs nodev 0 0\n");
    let v = status(&sb, "/dev/shm", &fstab);
    assert_eq!(v["symlink_to"], "/run/shm", "{v}");
    assert_eq!(v["mounted"], true, "{v}");
    assert_eq!(v["size"]["human"], "8M", "{v}");
    assert_eq!(v["fstab"]["line"], 1, "the /run/shm line is the entry: {v}");
    let text = sb.run(&["status", "--fstab-path", &fstab, "/dev/shm"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("symlink to /run/shm"),
        "{text:?}"
    );
    // The multiprocessing profile judges the target, where programs create their objects.
    let out = sb.run(&["audit", "--profile", "multiprocessing", "--format", "json"]);
    let audit: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit["compliant"], true, "{audit}");
    let r = sb.apply(&[
        "--path",
        "/dev/shm",
        "--size",
        "16m",
        "-o",
        "nosuid",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["failed"], false, "{r}");
    assert!(
        sb.mountinfo("/run/shm").contains("size=16384k"),
        "{}",
        sb.mountinfo("/run/shm")
    );
    let line = String::from_utf8(sb.read(&fstab)).unwrap();
    assert!(
        line.starts_with("tmpfs /run/shm tmpfs nodev,nosuid"),
        "{line}"
    );
    assert!(line.contains("size=16m"), "{line}");
    let again = sb.apply(&[
        "--path",
        "/dev/shm",
        "--size",
        "16m",
        "-o",
        "nosuid",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(again["changed"], false, "{again}");
}

#[test]
fn a_link_others_could_redirect_is_refused_naming_it() {
    let sb = Sandbox::new();
    run_shm_link(&sb);
    sb.sh("chmod 1777 /dev");
    let fstab = sb.file("fstab", b"");
    let snap = sb.snapshot(&["/run/shm"], &[&fstab]);
    let r = sb.apply(&[
        "--path",
        "/dev/shm",
        "--size",
        "16m",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["failed"], true, "{r}");
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.contains("/dev/shm is a symbolic link")
            && msg.contains("/dev is writable by group or others"),
        "{msg}"
    );
    assert_eq!(sb.snapshot(&["/run/shm"], &[&fstab]), snap);
}

/// `status` shows the free inodes (every shared-memory object and semaphore takes one) and
/// says when the fstab it was given does not exist, instead of "no entry".
#[test]
fn status_shows_free_inodes_and_a_missing_fstab() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,nr_inodes=100,mode=1777");
    sb.sh(&format!("touch {shm}/a {shm}/b {shm}/c"));
    let free: u64 = sb
        .sh(&format!("stat -f -c %d {shm}"))
        .trim()
        .parse()
        .unwrap();
    let fstab = sb.file("fstab", b"");
    let v = status(&sb, &shm, &fstab);
    assert_eq!(v["free_inodes"], free, "{v}");
    assert!(free < 100 - 2, "three files take three inodes: {free}");
    let missing = sb.path("nowhere/fstab");
    let out = sb.run(&["status", "--fstab-path", &missing, &shm]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("fstab: {missing} does not exist")),
        "{text}"
    );
    assert!(text.contains(&format!("free inodes: {free}")), "{text}");
}
