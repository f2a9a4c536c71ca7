//! The next boot, played with the real mount(8): after an apply, the fstab line shmguard wrote
//! must reproduce the enforced state both ways a host boots, and the boot prediction that
//! `status` shows must be what mount(8) produced.
//! - systemd: PID 1 mounts /dev/shm (`mode=1777,nosuid,nodev,strictatime`), then
//!   systemd-remount-fs runs `mount /dev/shm -o remount` with the fstab line;
//! - fresh: `mount /dev/shm` from the line (hosts without systemd, /dev/mqueue, other paths).
//!
//! Each case runs in a sandbox with a private /dev (a fresh tmpfs over /dev inside the private
//! mount namespace) and fresh mounts on /dev/shm and /dev/mqueue; mount(8) runs with -n.

use serde_json::Value;

use crate::fstab_links::audit_cis;
use crate::sandbox::Sandbox;

/// systemd's PID 1 mount of /dev/shm (src/shared/mount-setup.c).
const PID1_SHM: &str = "mode=1777,nosuid,nodev,strictatime";

/// What a status view says of a mount: the properties boot must reproduce.
fn props(v: &Value, keys: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for k in keys {
        out.insert(k.to_string(), v[k].clone());
    }
    Value::Object(out)
}

fn status(sb: &Sandbox, path: &str, fstab: &str, init: &str) -> Value {
    let out = sb.run(&[
        "status",
        "--json",
        "--fstab-path",
        fstab,
        "--init",
        init,
        path,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v[path].clone()
}

/// Plays one boot of `path` with the real mount(8): `systemd` or `fresh`.
fn play(sb: &Sandbox, path: &str, fstab: &str, way: &str) {
    let script = match way {
        "systemd" => format!(
            "umount -n {path} && mount -n -t tmpfs -o {PID1_SHM} tmpfs {path} && mount -n --fstab {fstab} -o remount {path}"
        ),
        _ => format!("umount -n {path} && mount -n --fstab {fstab} {path}"),
    };
    sb.sh(&script);
}

/// One case: a fresh /dev/shm mounted with `initial` (then `tune`, a shell command), an fstab
/// holding `fstab`, `shmguard apply ARGS`; then both boots must give what apply enforced, and
/// what status predicted. `keys`: the properties compared (size and nr_inodes when enforced).
fn case(initial: &str, tune: &str, fstab: &str, args: &[&str], keys: &[&str]) -> String {
    case_with(initial, tune, fstab, args, keys, &[])
}

/// `case`, with properties the request sets although the live mount does not show them
/// (state present changes only fstab).
fn case_with(
    initial: &str,
    tune: &str,
    fstab: &str,
    args: &[&str],
    keys: &[&str],
    asked: &[(&str, Value)],
) -> String {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", initial);
    if !tune.is_empty() {
        sb.sh(tune);
    }
    let f = sb.file("fstab", fstab.as_bytes());
    let mut all = vec![
        "--path",
        "/dev/shm",
        "--fstab-path",
        &f,
        "--init",
        "systemd",
    ];
    all.extend_from_slice(args);
    let r = sb.apply(&all);
    assert_eq!(r["failed"], false, "{r}");
    let enforced = status(&sb, "/dev/shm", &f, "systemd");
    let mut want = props(&enforced, keys);
    for (k, v) in asked {
        want[*k] = v.clone();
    }
    for (way, init) in [("systemd", "systemd"), ("fresh", "other")] {
        let predicted = status(&sb, "/dev/shm", &f, init)["boot"].clone();
        play(&sb, "/dev/shm", &f, way);
        let booted = status(&sb, "/dev/shm", &f, init);
        let line = String::from_utf8_lossy(&sb.read(&f)).into_owned();
        assert_eq!(
            props(&booted, keys),
            want,
            "{way} boot does not reproduce the enforced state\nfstab: {line}\nmountinfo: {}",
            sb.mountinfo("/dev/shm")
        );
        assert_eq!(
            props(&predicted, keys),
            props(&booted, keys),
            "the {way} boot prediction is not what mount(8) did\nfstab: {line}"
        );
        // The next run on the booted system has nothing to do.
        let again = sb.apply(&all);
        assert_eq!(again["changed"], false, "{way}: {again}");
        // Back to the enforced state for the other way.
        sb.sh(&format!(
            "umount -n /dev/shm && mount -n -t tmpfs -o {initial} tmpfs /dev/shm"
        ));
        if !tune.is_empty() {
            sb.sh(tune);
        }
        sb.apply(&all);
    }
    String::from_utf8_lossy(&sb.read(&f)).into_owned()
}

const FLAGS: &[&str] = &["options", "mode"];

#[test]
fn boot_keeps_nosuid_nodev_after_a_size_only_apply() {
    let line = case(
        PID1_SHM,
        "",
        "",
        &["--size", "64m"],
        &["options", "mode", "size"],
    );
    assert!(line.contains("nosuid") && line.contains("nodev"), "{line}");
}

#[test]
fn boot_keeps_flags_only_changes() {
    case(PID1_SHM, "", "", &["-o", "noexec"], FLAGS);
}

#[test]
fn boot_keeps_mode_1777_with_size_fifty_percent() {
    case(
        PID1_SHM,
        "",
        "",
        &["--mode", "1777", "--size", "50%"],
        &["options", "mode", "size"],
    );
}

#[test]
fn boot_keeps_inodes_and_atime_after_the_classic_tuning_command() {
    let tune =
        "mount -n -o size=4000M -o nr_inodes=1000000 -o noatime,nodiratime -o remount /dev/shm";
    case(
        PID1_SHM,
        tune,
        "",
        &["--nr-inodes", "1m", "-o", "noatime,nodiratime"],
        &["options", "mode", "nr_inodes"],
    );
}

#[test]
fn boot_drops_noexec_once_exec_is_asked() {
    let line = case(
        "mode=1777,nosuid,nodev,noexec,strictatime",
        "",
        "tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0\n",
        &["-o", "exec"],
        FLAGS,
    );
    assert!(!line.contains("noexec"), "{line}");
}

#[test]
fn boot_matches_a_state_present_line() {
    case_with(
        PID1_SHM,
        "",
        "",
        &["--state", "present", "--size", "128m"],
        &["options", "mode", "size"],
        &[(
            "size",
            serde_json::json!({"bytes": 134217728, "human": "128M"}),
        )],
    );
}

#[test]
fn boot_keeps_flags_when_editing_the_guides_defaults_size_line() {
    let line = case(
        PID1_SHM,
        "",
        "tmpfs /dev/shm tmpfs defaults,size=4G 0 0\n",
        &["--size", "4G"],
        &["options", "mode", "size"],
    );
    assert!(
        line.starts_with("tmpfs /dev/shm tmpfs defaults,size=4G,"),
        "{line}"
    );
}

/// systemd's dev-mqueue.mount is replaced by an fstab line: boot mounts afresh from it, so a
/// mode-only line must still carry nosuid,nodev,noexec.
#[test]
fn boot_keeps_dev_mqueue_flags_with_a_mode_only_apply() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.sh("mount -n -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue");
    let f = sb.file("fstab", b"");
    let args = [
        "--path",
        "/dev/mqueue",
        "--mode",
        "1777",
        "--fstab-path",
        &f,
        "--init",
        "systemd",
    ];
    let r = sb.apply(&args);
    assert_eq!(r["failed"], false, "{r}");
    let enforced = props(&status(&sb, "/dev/mqueue", &f, "systemd"), FLAGS);
    let predicted = props(&status(&sb, "/dev/mqueue", &f, "systemd")["boot"], FLAGS);
    sb.sh(&format!(
        "umount -n /dev/mqueue && mount -n --fstab {f} /dev/mqueue"
    ));
    let booted = props(&status(&sb, "/dev/mqueue", &f, "systemd"), FLAGS);
    let line = String::from_utf8_lossy(&sb.read(&f)).into_owned();
    assert_eq!(booted, enforced, "fstab: {line}");
    assert_eq!(predicted, booted, "fstab: {line}");
    assert!(line.contains("nosuid,nodev,noexec"), "{line}");
}

/// The audit's boot checks say what mount(8) then does: a guide's `defaults,size=4G` line
/// fails dev-shm.nosuid.boot under systemd; after apply it passes, and the booted mount has
/// nosuid live.
#[test]
fn audit_boot_checks_agree_with_the_real_boot() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", PID1_SHM);
    let f = sb.file("fstab", b"tmpfs /dev/shm tmpfs defaults,size=4G 0 0\n");
    let audit = |sb: &Sandbox| audit_cis(sb, &f).1;
    let status_of = |report: &Value, id: &str| -> String {
        report["targets"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no check {id}: {report}"))
    };
    let before = audit(&sb);
    assert_eq!(
        status_of(&before, "dev-shm.nosuid.boot"),
        "fail",
        "{before}"
    );
    assert_eq!(
        status_of(&before, "dev-shm.nosuid.live"),
        "pass",
        "{before}"
    );
    // What the prediction said, mount(8) does: the boot loses nosuid.
    play(&sb, "/dev/shm", &f, "systemd");
    assert!(
        !sb.mountinfo("/dev/shm").contains("nosuid"),
        "{}",
        sb.mountinfo("/dev/shm")
    );
    let after_boot = audit(&sb);
    assert_eq!(status_of(&after_boot, "dev-shm.nosuid.live"), "fail");
    // Enforce, boot again: nothing lost.
    let r = sb.apply(&[
        "--path",
        "/dev/shm",
        "--fstab-path",
        &f,
        "--init",
        "systemd",
        "-o",
        "nodev,nosuid,noexec",
    ]);
    assert_eq!(r["failed"], false, "{r}");
    let fixed = audit(&sb);
    for id in [
        "dev-shm.nosuid.boot",
        "dev-shm.nodev.boot",
        "dev-shm.noexec.boot",
    ] {
        assert_eq!(status_of(&fixed, id), "pass", "{id}: {fixed}");
    }
    play(&sb, "/dev/shm", &f, "systemd");
    let booted = audit(&sb);
    assert_eq!(booted["compliant"], true, "{booted}");
}

/// A line that mounts /dev/shm read-only at boot is drift, as a read-only live mount is: the
/// audit fails its `rw` fstab and boot checks (and, once mount(8) has played that boot, the
/// live one), and apply drops the `ro`, so both boots give a writable /dev/shm.
#[test]
fn boot_of_a_read_only_line_is_drift_and_apply_drops_its_ro() {
    let line = case(
        "mode=1777,nodev,nosuid,noexec",
        "",
        "tmpfs /dev/shm tmpfs ro,nodev,nosuid,noexec 0 0\n",
        &["-o", "nodev,nosuid,noexec"],
        FLAGS,
    );
    assert!(
        !line
            .split_whitespace()
            .nth(3)
            .unwrap()
            .split(',')
            .any(|w| w == "ro"),
        "{line}"
    );

    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", PID1_SHM);
    let f = sb.file(
        "fstab",
        b"tmpfs /dev/shm tmpfs ro,nodev,nosuid,noexec 0 0\n",
    );
    let audit = |sb: &Sandbox| {
        let v = audit_cis(sb, &f).1;
        (crate::audit::failing(&v), v)
    };
    sb.sh("mount -n -o remount,noexec /dev/shm");
    let (failing, v) = audit(&sb);
    assert_eq!(failing, ["dev-shm.rw.fstab", "dev-shm.rw.boot"], "{v}");
    // What the prediction said, mount(8) does: that boot leaves /dev/shm read-only.
    play(&sb, "/dev/shm", &f, "systemd");
    assert!(
        sb.mountinfo("/dev/shm").contains(" /dev/shm ro,"),
        "{}",
        sb.mountinfo("/dev/shm")
    );
    let (failing, v) = audit(&sb);
    assert!(failing.contains(&"dev-shm.rw.live".to_string()), "{v}");
}
