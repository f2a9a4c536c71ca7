//! The formula beside a user's own states: its per-mount states have namespaced IDs
//! (`shmguard-<path>`, the path as `name`), so an SLS that includes it and declares `/dev/shm:`
//! itself, as the state module's docstring shows, while pillar also lists /dev/shm, renders and
//! converges without "Detected conflicting IDs".

use crate::salt::{minion_with, salt_call_rc, sls, state_named};
use crate::salt_fleet::{formula_pillar, serve};
use crate::sandbox::{BIN, Sandbox};

#[test]
fn salt_formula_ids_leave_room_for_the_users_own_dev_shm_state() {
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# site\n");
    let placed = sb.path("sbin/shmguard");
    let conf = minion_with(&sb, &formula_pillar(&sb, &placed, "/dev/shm", &fstab));
    serve(&sb, "x86_64", BIN);
    // The state module's docstring to the letter (include the formula, then a `/dev/shm:` state
    // that requires it), with the binary from pillar as the formula placed it.
    sls(
        &sb,
        "app",
        &format!(
            "include:\n  - shmguard\n\n/dev/shm:\n  shmguard.managed:\n    - options: [noexec]\n    - fstab_path: {fstab}\n    - require:\n      - sls: shmguard\n"
        ),
    );

    let (local, rc) = salt_call_rc(&sb, &conf, &["state.apply", "app"]);
    assert!(
        local.is_object(),
        "the SLS must render (no conflicting IDs): {local}"
    );
    assert_eq!(rc, 0, "{local}");
    let formula = state_named(&local, "shmguard_|-shmguard-/dev/shm_|-/dev/shm_|-managed");
    let own = state_named(&local, "shmguard_|-/dev/shm_|-/dev/shm_|-managed");
    for r in [&formula, &own] {
        assert_eq!(r["result"], true, "{local}");
        assert_ne!(r["changes"], serde_json::json!({}), "{local}");
    }
    assert_eq!(sb.mode("/dev/shm"), "1777", "the pillar's mode");
    let live = sb.mountinfo("/dev/shm");
    assert!(live.contains("rw,nosuid,nodev,noexec"), "{live}");
    assert!(live.contains("size=131072k"), "the pillar's size: {live}");
    let line = String::from_utf8(sb.read(&fstab)).unwrap();
    for word in ["nodev", "nosuid", "noexec", "size=128m"] {
        assert!(line.contains(word), "{word} in fstab: {line}");
    }

    // Each state keeps to its own arguments: the second run changes nothing.
    let (again, rc) = salt_call_rc(&sb, &conf, &["state.apply", "app"]);
    assert_eq!(rc, 0, "{again}");
    for (id, r) in again.as_object().unwrap() {
        assert_eq!(r["result"], true, "{id}: {r}");
        assert_eq!(r["changes"], serde_json::json!({}), "{id}: {r}");
    }
    // The placed build already has the served sha256: the cheap check, not file.managed.
    let bin = state_named(&again, "shmguard-binary");
    assert!(
        bin["name"]
            .as_str()
            .unwrap()
            .contains(" is the build salt://shmguard/files/x86_64/shmguard (sha256 "),
        "{bin}"
    );
    assert!(
        again
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("test_|-shmguard-binary_|-")),
        "{again}"
    );
    assert_eq!(
        again.as_object().unwrap().len(),
        3,
        "the binary, the formula's /dev/shm, the user's /dev/shm: {again}"
    );
}
