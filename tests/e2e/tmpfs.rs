//! Converging a drifted tmpfs: mode, size, inodes, flags; idempotence; equivalent spellings.

use crate::sandbox::Sandbox;

const HARDEN: [&str; 2] = ["--option", "nodev,nosuid,noexec"];

#[test]
fn drifted_tmpfs_is_fixed_live_and_in_fstab_then_left_alone() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"proc /proc proc defaults 0 0\n");
    let mut args = vec![
        "--path",
        &shm,
        "--mode",
        "1777",
        "--size",
        "256m",
        "--fstab-path",
        &fstab,
    ];
    args.extend(HARDEN);
    let r = sb.apply(&args);
    assert_eq!(r["failed"], false, "{r}");
    assert_eq!(r["changed"], true);
    assert_eq!(r["actions"].as_array().unwrap().len(), 3, "{r}");
    let mi = sb.mountinfo(&shm);
    assert!(mi.contains("rw,nosuid,nodev,noexec"), "{mi}");
    assert!(mi.contains("size=262144k"), "{mi}");
    assert_eq!(sb.mode(&shm), "1777");
    let want_line = format!("tmpfs {shm} tmpfs nodev,nosuid,noexec,size=256m 0 0\n");
    assert_eq!(
        String::from_utf8(sb.read(&fstab)).unwrap(),
        format!("proc /proc proc defaults 0 0\n{want_line}")
    );
    assert_eq!(r["after"]["size"]["human"], "256M");
    assert_eq!(r["before"]["mode"], "0755");

    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let again = sb.apply(&args);
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["actions"].as_array().unwrap().len(), 0);
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
}

#[test]
fn equivalent_size_spellings_are_the_same_size() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=4G");
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {} tmpfs size=4194304k 0 0\n", sb.path("shm")).as_bytes(),
    );
    for size in ["4G", "4g", "4096m", "4194304k", "4294967296"] {
        let r = sb.apply(&["--path", &shm, "--size", size, "--fstab-path", &fstab]);
        assert_eq!(r["changed"], false, "{size}: {r}");
    }
}

#[test]
fn fifty_percent_equals_a_mount_without_size_and_1777_equals_no_mode() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "nosuid,nodev");
    assert!(
        !sb.mountinfo(&shm).contains("size="),
        "the kernel omits the default size"
    );
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {shm} tmpfs defaults,nosuid,nodev 0 0\n").as_bytes(),
    );
    let r = sb.apply(&[
        "--path",
        &shm,
        "--size",
        "50%",
        "--mode",
        "01777",
        "-o",
        "nosuid,nodev",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["changed"], false, "{r}");
}

#[test]
fn remount_keeps_the_flags_it_was_not_asked_to_change() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,nosuid,nodev,noexec,noatime");
    let r = sb.apply(&["--path", &shm, "--size", "128m", "--state", "ephemeral"]);
    assert_eq!(r["changed"], true, "{r}");
    let mi = sb.mountinfo(&shm);
    assert!(
        mi.contains("rw,nosuid,nodev,noexec,noatime"),
        "flags lost by the remount: {mi}"
    );
    assert!(mi.contains("size=131072k"), "{mi}");
}

#[test]
fn flags_can_be_turned_off_again() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,noexec,nodev");
    let r = sb.apply(&["--path", &shm, "-o", "exec", "--state", "ephemeral"]);
    assert_eq!(r["actions"][0], format!("remount {shm}: drop noexec"));
    let mi = sb.mountinfo(&shm);
    assert!(
        mi.contains("rw,nodev,relatime") && !mi.contains("noexec"),
        "{mi}"
    );
    assert!(
        mi.contains("size=8192k"),
        "a flag-only remount must leave the size alone: {mi}"
    );
}

#[test]
fn nr_inodes_is_set_and_then_stable() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,nr_inodes=100");
    let fstab = sb.file("fstab", b"");
    let args = ["--path", &shm, "--nr-inodes", "1k", "--fstab-path", &fstab];
    let r = sb.apply(&args);
    assert_eq!(
        r["actions"][0],
        format!("remount {shm}: nr_inodes 100 -> 1024"),
        "{r}"
    );
    assert!(sb.mountinfo(&shm).contains("nr_inodes=1024"));
    assert_eq!(
        String::from_utf8(sb.read(&fstab)).unwrap(),
        format!("tmpfs {shm} tmpfs nr_inodes=1k 0 0\n")
    );
    assert_eq!(sb.apply(&args)["changed"], false);
}

#[test]
fn min_size_grows_a_small_tmpfs_and_never_shrinks_a_big_one() {
    let sb = Sandbox::new();
    let small = sb.tmpfs("small", "size=64m");
    let big = sb.tmpfs("big", "size=1g");
    let r = sb.apply(&[
        "--path",
        &small,
        "--min-size",
        "512m",
        "--state",
        "ephemeral",
    ]);
    assert_eq!(
        r["actions"][0],
        format!("remount {small}: size 64M -> 512M")
    );
    let r = sb.apply(&["--path", &big, "--min-size", "512m", "--state", "ephemeral"]);
    assert_eq!(r["changed"], false, "{r}");
    assert!(sb.mountinfo(&big).contains("size=1048576k"));
}

#[test]
fn size_below_what_is_in_use_fails_and_changes_nothing() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=16m,mode=755");
    sb.sh(&format!("head -c 4194304 /dev/zero > {shm}/data"));
    let fstab = sb.file("fstab", b"# mine\n");
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let r = sb.apply(&[
        "--path",
        &shm,
        "--size",
        "1m",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["failed"], true);
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("size: \"1m\" is below what is in use (4M)"),
        "{msg}"
    );
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
}

#[test]
fn an_unlimited_tmpfs_cannot_be_limited_and_is_left_alone() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=0");
    let fstab = sb.file("fstab", b"");
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let r = sb.apply(&["--path", &shm, "--size", "1g", "--fstab-path", &fstab]);
    assert_eq!(r["failed"], true);
    assert!(
        r["msg"]
            .as_str()
            .unwrap()
            .contains("cannot retroactively limit"),
        "{r}"
    );
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);
}

#[test]
fn a_path_that_is_not_mounted_is_created_and_mounted() {
    let sb = Sandbox::new();
    let p = sb.path("new/shm");
    let fstab = sb.file("fstab", b"");
    let r = sb.apply(&[
        "--path",
        &p,
        "--size",
        "32m",
        "--mode",
        "1777",
        "-o",
        "nodev,nosuid",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["changed"], true, "{r}");
    let mi = sb.mountinfo(&p);
    assert!(
        mi.contains(" - tmpfs tmpfs ") && mi.contains("size=32768k") && mi.contains("nosuid,nodev"),
        "{mi}"
    );
    assert_eq!(sb.mode(&p), "1777");
    assert_eq!(
        sb.apply(&[
            "--path",
            &p,
            "--size",
            "32m",
            "--mode",
            "1777",
            "-o",
            "nodev,nosuid",
            "--fstab-path",
            &fstab
        ])["changed"],
        false
    );
}

#[test]
fn a_mount_of_another_type_is_refused() {
    let sb = Sandbox::new();
    let mq = sb.mqueue("mq", "nodev");
    let r = sb.apply(&[
        "--path",
        &mq,
        "--fstype",
        "tmpfs",
        "--mode",
        "0755",
        "--state",
        "ephemeral",
    ]);
    assert_eq!(r["failed"], true);
    assert!(
        r["msg"]
            .as_str()
            .unwrap()
            .contains("is mounted as mqueue, not tmpfs"),
        "{r}"
    );
    assert_eq!(sb.mode(&mq), "1777");
}

#[test]
fn a_symlinked_path_is_refused_not_followed() {
    let sb = Sandbox::new();
    let real = sb.tmpfs("real", "size=8m,mode=755");
    let link = sb.path("link");
    sb.sh(&format!("ln -s {real} {link}"));
    let r = sb.apply(&["--path", &link, "--mode", "1777", "--state", "ephemeral"]);
    assert_eq!(r["failed"], true);
    assert!(
        r["msg"].as_str().unwrap().contains("is a symbolic link"),
        "{r}"
    );
    assert_eq!(sb.mode(&real), "755");
}
