//! Check mode plans without applying: same actions a real run takes, nothing changed.

use crate::sandbox::Sandbox;

#[test]
fn check_mode_reports_what_a_real_run_does_and_changes_nothing() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# mine\n");
    let args = [
        "--path",
        &shm,
        "--mode",
        "1777",
        "--size",
        "128m",
        "-o",
        "nodev,nosuid,noexec",
        "--fstab-path",
        &fstab,
    ];
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let mut check_args = args.to_vec();
    check_args.push("--check");
    let check = sb.apply(&check_args);
    assert_eq!(check["changed"], true);
    assert_eq!(check["check_mode"], true);
    assert_eq!(
        sb.snapshot(&[&shm], &[&fstab]),
        snap,
        "check mode changed something"
    );
    let real = sb.apply(&args);
    assert_eq!(check["actions"], real["actions"]);
    assert_eq!(
        check["after"], real["after"],
        "check mode's predicted state must be what the real run leaves"
    );
}

#[test]
fn diff_shows_the_live_state_the_next_boot_and_fstab_before_and_after() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# mine\n");
    let r = sb.apply(&[
        "--path",
        &shm,
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
        "--check",
        "--diff",
    ]);
    let diff = r["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 3, "{r}");
    assert!(diff[0]["before"].as_str().unwrap().contains("mode: 0755"));
    assert!(diff[0]["after"].as_str().unwrap().contains("mode: 1777"));
    assert_eq!(diff[1]["before_header"], format!("{shm} (next boot)"));
    assert!(
        diff[1]["before"]
            .as_str()
            .unwrap()
            .contains("boot: no fstab entry")
    );
    assert!(
        diff[1]["after"]
            .as_str()
            .unwrap()
            .contains("boot mode: 1777")
    );
    assert_eq!(diff[2]["before_header"], fstab.as_str());
    assert_eq!(
        diff[2]["after"],
        format!("# mine\ntmpfs {shm} tmpfs defaults 0 0\n")
    );
}

#[test]
fn human_check_output_says_would() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let out = sb.run(&[
        "apply",
        "--path",
        &shm,
        "--mode",
        "1777",
        "--state",
        "ephemeral",
        "--check",
        "--diff",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        text.contains(&format!(
            "{shm}: would make 1 change\n  would: chmod {shm} 0755 -> 1777\n"
        )),
        "{text}"
    );
    assert!(text.contains("-mode: 0755\n+mode: 1777\n"), "{text}");
    assert_eq!(sb.mode(&shm), "755");
}

/// Issue 22: a read-only /dev/shm is drift unless `ro` is asked for. Check mode predicts the
/// remount to read-write before the chmod, exactly what the real run then does (the chmod
/// alone would fail with EROFS and roll back).
#[test]
fn a_read_only_dev_shm_is_made_writable_and_check_mode_says_so_first() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=755,size=16m,ro");
    let fstab = sb.file("fstab", b"# mine\n");
    let args = [
        "--path",
        "/dev/shm",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ];
    let snap = sb.snapshot(&["/dev/shm"], &[&fstab]);
    let mut check_args = args.to_vec();
    check_args.extend(["--check", "--diff"]);
    let check = sb.apply(&check_args);
    assert_eq!(check["failed"], false, "{check}");
    assert_eq!(
        sb.snapshot(&["/dev/shm"], &[&fstab]),
        snap,
        "check mode changed something"
    );
    let actions = check["actions"].as_array().unwrap();
    assert_eq!(
        actions[0],
        "remount /dev/shm: add rw, drop ro, make the filesystem (superblock) read-write",
        "{check}"
    );
    assert_eq!(actions[1], "chmod /dev/shm 0755 -> 1777", "{check}");
    let mut real_args = args.to_vec();
    real_args.push("--diff");
    let real = sb.apply(&real_args);
    assert_eq!(real["failed"], false, "{real}");
    assert_eq!(check["actions"], real["actions"]);
    assert_eq!(check["after"], real["after"]);
    assert_eq!(
        check["diff"], real["diff"],
        "check mode's diff is the real one"
    );
    let line = sb.mountinfo("/dev/shm");
    assert!(line.contains(" - tmpfs tmpfs rw,"), "{line}");
    assert!(!line.split(' ').nth(5).unwrap().contains("ro"), "{line}");
    assert_eq!(sb.mode("/dev/shm"), "1777");
    sb.sh("touch /dev/shm/written && rm /dev/shm/written");
    assert_eq!(sb.apply(&args)["changed"], false, "converged");
}

#[test]
fn a_read_only_dev_shm_stays_read_only_when_ro_is_asked_for() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=16m,ro");
    let fstab = sb.file("fstab", b"tmpfs /dev/shm tmpfs ro 0 0\n");
    let args = [
        "--path",
        "/dev/shm",
        "-o",
        "ro",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ];
    let mut check_args = args.to_vec();
    check_args.push("--check");
    assert_eq!(sb.apply(&check_args)["changed"], false);
    let r = sb.apply(&args);
    assert_eq!(r["changed"], false, "{r}");
    assert_eq!(r["failed"], false, "{r}");
    let line = sb.mountinfo("/dev/shm");
    assert!(line.contains(" - tmpfs tmpfs ro,"), "{line}");
}
