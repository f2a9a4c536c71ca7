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
