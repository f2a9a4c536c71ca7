//! Planner tests: Observed values built from fixture mountinfo and fstab files, no system.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::*;
use crate::observe::mountinfo;
use crate::observe::{FileState, Fstab, LiveMount, PathKind, Usage, live};
use crate::spec::{Host, Params};

const HOST: Host = Host {
    page_size: 4096,
    total_ram_pages: 6_170_914,
};

fn fixture(p: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn desired(v: serde_json::Value) -> Desired {
    let p: Params = serde_json::from_value(v).unwrap();
    Desired::from_params(&p).unwrap()
}

/// A systemd host's state: PID 1 mounted /dev/shm.
fn on_systemd(mut o: Observed) -> Observed {
    o.systemd = true;
    o
}

fn live_from(mountinfo_fixture: &str, path: &str, mode: u32) -> LiveMount {
    let (entries, _) = mountinfo::parse(&fixture(mountinfo_fixture));
    let e = mountinfo::find(&entries, path.as_bytes()).unwrap();
    live::from_entry(e, mode, Usage::default(), &HOST)
}

fn observed(live: Option<LiveMount>, fstab: &[u8]) -> Observed {
    Observed {
        host: HOST,
        path_kind: PathKind::Directory,
        live,
        fstab: FileState::from_bytes(
            Path::new("/etc/fstab"),
            Some(fstab.to_vec()),
            Fstab::from_shared,
        ),
        sysctl: None,
        mqueue_limits: BTreeMap::new(),
        systemd: false,
    }
}

fn summaries(p: &Plan) -> Vec<String> {
    p.steps.iter().map(|s| s.summary.clone()).collect()
}

fn fstab_after(p: &Plan) -> String {
    String::from_utf8(p.expected.fstab.current().unwrap().into_owned()).unwrap()
}

#[test]
fn docker_64m_dev_shm_is_grown_hardened_and_persisted() {
    let o = observed(
        Some(live_from(
            "mountinfo/docker-container.mountinfo",
            "/dev/shm",
            0o1777,
        )),
        &fixture("fstab/minimal-container.fstab"),
    );
    let d =
        desired(json!({"mode": "1777", "size": "4G", "options": ["nodev", "nosuid", "noexec"]}));
    let p = plan(&d, &o).unwrap();
    assert_eq!(summaries(&p)[0], "remount /dev/shm: size 64M -> 4G");
    assert_eq!(
        fstab_after(&p),
        "proc /proc proc defaults 0 0\ntmpfs /dev/shm tmpfs nodev,nosuid,noexec,relatime,size=4G 0 0\n",
        "the live mount's relatime is written: systemd's remount would keep PID 1's strictatime"
    );
    assert_eq!(p.steps.len(), 2);
}

#[test]
fn systemd_dev_shm_default_size_equals_fifty_percent_and_1777() {
    let o = on_systemd(observed(
        Some(live_from(
            "mountinfo/systemd-host.mountinfo",
            "/dev/shm",
            0o1777,
        )),
        b"tmpfs /dev/shm tmpfs nosuid,nodev 0 0\n",
    ));
    let d = desired(json!({"mode": "01777", "size": "50%", "options": ["nodev", "nosuid"]}));
    let p = plan(&d, &o).unwrap();
    assert!(p.is_empty(), "{:?}", summaries(&p));
}

#[test]
fn equivalent_size_spellings_in_fstab_are_not_rewritten() {
    let mut live = live_from("mountinfo/docker-container.mountinfo", "/dev/shm", 0o1777);
    live.size_pages = Some(1 << 20);
    let o = observed(
        Some(live),
        b"shm /dev/shm tmpfs size=4194304k,nodev,nosuid,noexec 0 0\n",
    );
    let p = plan(
        &desired(json!({"size": "4G", "options": "nodev,nosuid,noexec"})),
        &o,
    )
    .unwrap();
    assert!(p.is_empty(), "{:?}", summaries(&p));
}

#[test]
fn cis_fstab_line_keeps_its_spacing_and_gets_size_and_mode() {
    let fstab = fixture("fstab/cis-hardened.fstab");
    let o = on_systemd(observed(
        Some(live_from(
            "mountinfo/systemd-host.mountinfo",
            "/dev/shm",
            0o755,
        )),
        &fstab,
    ));
    let d =
        desired(json!({"mode": "1777", "size": "2g", "options": ["nodev", "nosuid", "noexec"]}));
    let p = plan(&d, &o).unwrap();
    let s = summaries(&p);
    assert_eq!(s[0], "remount /dev/shm: size 11.8G -> 2G, add noexec");
    assert_eq!(s[1], "chmod /dev/shm 0755 -> 1777");
    let after = fstab_after(&p);
    let before = String::from_utf8(fstab).unwrap();
    assert_eq!(
        after,
        before.replace(
            "tmpfs defaults,nodev,nosuid,noexec    0 0",
            "tmpfs defaults,nodev,nosuid,noexec,size=2g    0 0"
        )
    );
}

#[test]
fn remount_keeps_flags_it_was_not_asked_to_change() {
    let o = observed(
        Some(live_from(
            "mountinfo/systemd-host.mountinfo",
            "/dev/shm",
            0o1777,
        )),
        b"",
    );
    let p = plan(&desired(json!({"size": "1G", "state": "ephemeral"})), &o).unwrap();
    match &p.steps[0].action {
        Action::Remount { flags, data, .. } => {
            assert!(flags.nosuid && flags.nodev && !flags.noexec);
            assert_eq!(data, "size=1G");
        }
        a => panic!("{a:?}"),
    }
}

#[test]
fn flag_only_change_remounts_without_touching_the_superblock() {
    let o = observed(
        Some(live_from(
            "mountinfo/systemd-host.mountinfo",
            "/dev/shm",
            0o1777,
        )),
        b"",
    );
    let p = plan(
        &desired(json!({"options": ["noexec"], "state": "ephemeral"})),
        &o,
    )
    .unwrap();
    assert!(matches!(&p.steps[0].action, Action::Remount { data, .. } if data.is_empty()));
}

#[test]
fn exec_in_fstab_is_replaced_not_contradicted() {
    let o = observed(
        None,
        b"tmpfs /dev/shm tmpfs rw,exec,inode64,x-systemd.after=foo 0 0 # mine\n",
    );
    let p = plan(
        &desired(json!({"options": ["noexec"], "state": "present"})),
        &o,
    )
    .unwrap();
    assert_eq!(
        fstab_after(&p),
        "tmpfs /dev/shm tmpfs rw,inode64,x-systemd.after=foo,noexec 0 0 # mine\n"
    );
}

#[test]
fn duplicates_fix_the_first_and_warn() {
    let o = observed(
        None,
        b"tmpfs /dev/shm tmpfs defaults 0 0\nnone /dev/shm tmpfs defaults 0 0\n",
    );
    let p = plan(
        &desired(json!({"options": ["nodev"], "state": "present"})),
        &o,
    )
    .unwrap();
    assert_eq!(
        fstab_after(&p),
        "tmpfs /dev/shm tmpfs defaults,nodev 0 0\nnone /dev/shm tmpfs defaults 0 0\n"
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("1 more entries") && w.contains("line 2")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn absent_removes_every_entry_and_never_unmounts() {
    let o = observed(Some(live_from("mountinfo/systemd-host.mountinfo", "/dev/shm", 0o1777)), b"# c\ntmpfs /dev/shm tmpfs defaults 0 0\nx /y ext4 defaults 0 0\nnone /dev/shm/ tmpfs defaults 0 0\n");
    let p = plan(&desired(json!({"state": "absent"})), &o).unwrap();
    assert_eq!(fstab_after(&p), "# c\nx /y ext4 defaults 0 0\n");
    assert_eq!(p.steps.len(), 1);
}

#[test]
fn not_mounted_path_is_created_and_mounted() {
    let mut o = observed(None, b"");
    o.path_kind = PathKind::Missing;
    let p = plan(&desired(json!({"path": "/mnt/x", "size": "64m", "mode": "0755", "options": ["nodev"], "state": "ephemeral"})), &o).unwrap();
    assert_eq!(
        summaries(&p),
        [
            "create directory /mnt/x",
            "mount tmpfs on /mnt/x (rw,nodev,relatime,size=64m,mode=755)"
        ]
    );
}

#[test]
fn shrinking_below_usage_is_refused_before_anything() {
    let mut live = live_from("mountinfo/docker-container.mountinfo", "/dev/shm", 0o1777);
    live.usage.used_pages = 10_000;
    let e = plan(&desired(json!({"size": "1m"})), &observed(Some(live), b"")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("size: \"1m\" is below what is in use (39.1M)"),
        "{e}"
    );
}

#[test]
fn an_unlimited_tmpfs_cannot_be_limited() {
    let mut live = live_from("mountinfo/docker-container.mountinfo", "/dev/shm", 0o1777);
    live.size_pages = Some(0);
    let e = plan(&desired(json!({"size": "1G"})), &observed(Some(live), b"")).unwrap_err();
    assert!(e.to_string().contains("cannot retroactively limit"), "{e}");
}

#[test]
fn min_size_grows_but_never_shrinks() {
    let live = live_from("mountinfo/docker-container.mountinfo", "/dev/shm", 0o1777);
    let p = plan(
        &desired(json!({"min_size": "32m", "state": "ephemeral"})),
        &observed(Some(live.clone()), b""),
    )
    .unwrap();
    assert!(p.is_empty());
    let p = plan(
        &desired(json!({"min_size": "1g", "state": "ephemeral"})),
        &observed(Some(live), b""),
    )
    .unwrap();
    assert_eq!(summaries(&p), ["remount /dev/shm: size 64M -> 1G"]);
}

#[test]
fn a_different_filesystem_at_the_path_is_left_alone() {
    let live = live_from("mountinfo/systemd-host.mountinfo", "/dev/mqueue", 0o1777);
    let e = plan(
        &desired(json!({"path": "/dev/mqueue", "fstype": "tmpfs"})),
        &observed(Some(live), b""),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("is mounted as mqueue, not tmpfs"),
        "{e}"
    );
}

#[test]
fn a_symlinked_path_is_refused() {
    let mut o = observed(None, b"");
    o.path_kind = PathKind::Symlink;
    assert!(matches!(
        plan(&desired(json!({})), &o),
        Err(PlanError::PathIsSymlink { .. })
    ));
}

#[test]
fn expected_state_replans_to_nothing() {
    let o = observed(
        Some(live_from(
            "mountinfo/docker-container.mountinfo",
            "/dev/shm",
            0o755,
        )),
        &fixture("fstab/debian12.fstab"),
    );
    let d = desired(
        json!({"mode": "1777", "size": "1G", "nr_inodes": "10k", "options": ["nodev", "nosuid", "noexec", "noatime"]}),
    );
    let p = plan(&d, &o).unwrap();
    assert!(!p.is_empty());
    let again = plan(&d, &p.expected).unwrap();
    assert!(again.is_empty(), "{:?}", summaries(&again));
}

/// Found by fuzzing (fuzz/corpus/fstab/regression-hash-option): removing `dev` from `dev,#`
/// led the options field with `#`, which made the rest of the line a comment.
#[test]
fn an_edited_options_field_never_starts_with_a_hash() {
    let before = b"tmpfs /dev/shm tmpfs dev,#x 0 0\n";
    let d = desired(json!({"options": ["nodev"], "state": "present"}));
    let p = plan(&d, &observed(None, before)).unwrap();
    assert_eq!(fstab_after(&p), "tmpfs /dev/shm tmpfs nodev,#x 0 0\n");
    let again = plan(&d, &p.expected).unwrap();
    assert!(again.is_empty(), "{:?}", summaries(&again));
}

/// Issue "Boot truth": `apply --size 4G` on a stock systemd host wrote `size=4G` alone, and
/// systemd's remount at boot then dropped nosuid,nodev.
#[test]
fn a_size_only_request_keeps_the_live_flags_in_the_line() {
    let o = on_systemd(observed(
        Some(live_from(
            "mountinfo/systemd-host.mountinfo",
            "/dev/shm",
            0o1777,
        )),
        b"",
    ));
    let d = desired(json!({"size": "4G"}));
    let p = plan(&d, &o).unwrap();
    assert_eq!(
        fstab_after(&p),
        "tmpfs /dev/shm tmpfs nosuid,nodev,strictatime,size=4G 0 0\n"
    );
    let boot = boot::of(&p.expected, &d).mount.unwrap();
    assert_eq!(boot.flags, p.expected.live.as_ref().unwrap().flags);
    let again = plan(&d, &p.expected).unwrap();
    assert!(again.is_empty(), "{:?}", summaries(&again));
}

#[test]
fn the_guides_defaults_size_line_gets_the_flags_boot_would_drop() {
    let o = on_systemd(observed(
        Some(live_from(
            "mountinfo/systemd-host.mountinfo",
            "/dev/shm",
            0o1777,
        )),
        b"tmpfs /dev/shm tmpfs defaults,size=4G 0 0\n",
    ));
    let d = desired(json!({"size": "4G"}));
    let p = plan(&d, &o).unwrap();
    assert_eq!(
        fstab_after(&p),
        "tmpfs /dev/shm tmpfs defaults,size=4G,nosuid,nodev,strictatime 0 0\n"
    );
}

#[test]
fn a_trailing_defaults_keeps_the_flags_before_it() {
    let o = observed(
        None,
        b"tmpfs /dev/shm tmpfs nodev,nosuid,noexec,defaults 0 0\n",
    );
    let d = desired(json!({"options": ["nodev", "nosuid", "noexec"], "state": "present"}));
    let p = plan(&d, &o).unwrap();
    assert!(p.is_empty(), "{:?}", summaries(&p));
}

/// Regression (issue 17): audit printed "would image/etc/fstab line 1: ..." because the
/// summary of an edited line had no verb; each fstab summary now starts with one.
#[test]
fn every_fstab_summary_starts_with_a_verb() {
    let o = observed(None, b"tmpfs /dev/shm ramfs defaults 0 0\n");
    let d = desired(json!({"options": ["nodev"], "state": "present"}));
    let p = plan(&d, &o).unwrap();
    assert!(!summaries(&p).is_empty());
    for s in summaries(&p) {
        for part in s.split("; ") {
            assert!(part.starts_with("edit /etc/fstab line 1: "), "{part}");
        }
    }
}

#[test]
fn an_inline_comment_boot_skips_is_moved_after_field_six() {
    let o = observed(None, b"tmpfs /dev/shm tmpfs defaults,nodev # CIS 1.1.2.2\n");
    let d = desired(json!({"options": ["nodev", "noexec"], "state": "present"}));
    let p = plan(&d, &o).unwrap();
    assert_eq!(
        fstab_after(&p),
        "tmpfs /dev/shm tmpfs defaults,nodev,noexec 0 0 # CIS 1.1.2.2\n"
    );
    assert!(summaries(&p)[0].contains("moved the comment after field 6"));
    let again = plan(&d, &p.expected).unwrap();
    assert!(again.is_empty(), "{:?}", summaries(&again));
}

/// Found by fuzzing (fuzz/corpus/fstab): moving the comment cannot help a line whose NUL
/// byte stands before its newline; it was edited, still skipped, and a second line added.
#[test]
fn a_skipped_line_a_comment_move_cannot_mend_is_refused_not_half_repaired() {
    let o = observed(None, b"tmpfs /dev/shm # CIS\0x\n");
    let d = desired(json!({"options": ["noexec"], "state": "present"}));
    let e = plan(&d, &o).unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("NUL"), "{e}");
}

#[test]
fn a_skipped_line_before_a_valid_one_is_left_and_the_valid_one_managed() {
    let o = observed(
        None,
        b"tmpfs /dev/shm tmpfs noexec x\ntmpfs /dev//shm/ tmpfs defaults 0 0\n",
    );
    let d = desired(json!({"options": ["noexec"], "state": "present"}));
    let p = plan(&d, &o).unwrap();
    assert_eq!(
        fstab_after(&p),
        "tmpfs /dev/shm tmpfs noexec x\ntmpfs /dev//shm/ tmpfs defaults,noexec 0 0\n"
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("line 1") && w.contains("boot skips it"))
    );
}

#[test]
fn an_unrepairable_skipped_line_is_refused_naming_it() {
    let o = observed(None, b"tmpfs /dev/shm tmpfs noexec zero zero\n");
    let d = desired(json!({"options": ["noexec"], "state": "present"}));
    let e = plan(&d, &o).unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("`zero`"), "{e}");
}

#[test]
fn a_mode_systemd_resets_at_boot_warns() {
    let o = on_systemd(observed(
        Some(live_from(
            "mountinfo/systemd-host.mountinfo",
            "/dev/shm",
            0o1777,
        )),
        b"",
    ));
    let p = plan(&desired(json!({"mode": "1733"})), &o).unwrap();
    assert_eq!(
        p.warnings
            .iter()
            .filter(|w| w.contains("does not survive a reboot"))
            .count(),
        1
    );
}

/// Found by fuzzing (fuzz/corpus/fstab/regression-unclosed-quote): libmount drops the options
/// after an unclosed `"`, so an edit could never be read back; such a line is refused.
#[test]
fn an_unclosed_quote_in_the_options_is_refused() {
    let o = observed(None, b"tmpfs /dev/shm tmpfs defaults\"0 0 0 # c\n");
    let d = desired(json!({"options": ["nodev"], "state": "present"}));
    let e = plan(&d, &o).unwrap_err().to_string();
    assert!(
        e.contains("line 1") && e.contains("unclosed double quote"),
        "{e}"
    );
}

/// A tmpfs mounted `ro` (per-mount and superblock), as `mount -o ro` leaves it.
fn read_only_shm(mode: u32) -> LiveMount {
    let mut live = live_from("mountinfo/systemd-host.mountinfo", "/dev/shm", mode);
    live.flags.read_only = true;
    live.super_options = vec!["ro".into(), "size=1024k".into()];
    live
}

#[test]
fn issue_22_a_read_only_mount_is_remounted_read_write_before_the_chmod() {
    let o = observed(Some(read_only_shm(0o755)), b"");
    let d = desired(json!({"mode": "1777", "state": "ephemeral"}));
    let p = plan(&d, &o).unwrap();
    assert_eq!(
        summaries(&p),
        [
            "remount /dev/shm: add rw, drop ro, make the filesystem (superblock) read-write",
            "chmod /dev/shm 0755 -> 1777"
        ]
    );
    match &p.steps[0].action {
        Action::Remount {
            flags,
            superblock_rw,
            data,
            ..
        } => {
            assert!(!flags.read_only && flags.nosuid && flags.nodev);
            assert!(*superblock_rw);
            assert!(data.is_empty());
        }
        a => panic!("{a:?}"),
    }
    let live = p.expected.live.as_ref().unwrap();
    assert!(!live.flags.read_only);
    assert!(!live.super_options.iter().any(|o| o == "ro"));
    assert!(plan(&d, &p.expected).unwrap().is_empty());
}

#[test]
fn issue_22_a_read_only_mount_is_drift_even_with_nothing_else_asked() {
    let o = observed(Some(read_only_shm(0o1777)), b"");
    let p = plan(&desired(json!({"state": "ephemeral"})), &o).unwrap();
    assert_eq!(p.steps.len(), 1, "{:?}", summaries(&p));
    // only the per-mount flag: a bind remount clears it
    let mut live = read_only_shm(0o1777);
    live.super_options = vec!["rw".into()];
    let p = plan(
        &desired(json!({"state": "ephemeral"})),
        &observed(Some(live), b""),
    )
    .unwrap();
    assert_eq!(summaries(&p), ["remount /dev/shm: add rw, drop ro"]);
    assert!(matches!(
        &p.steps[0].action,
        Action::Remount {
            superblock_rw: false,
            ..
        }
    ));
}

#[test]
fn issue_22_ro_asked_for_keeps_a_read_only_mount() {
    let o = observed(Some(read_only_shm(0o1777)), b"");
    let p = plan(&desired(json!({"state": "ephemeral", "options": "ro"})), &o).unwrap();
    assert!(p.is_empty(), "{:?}", summaries(&p));
}

#[test]
fn an_fstab_ro_is_dropped_unless_ro_is_asked_for_or_boot_would_bring_the_drift_back() {
    let live = live_from("mountinfo/systemd-host.mountinfo", "/dev/shm", 0o1777);
    let line = b"tmpfs /dev/shm tmpfs ro,nosuid,nodev,mode=1777 0 0\n";
    let o = observed(Some(live), line);
    let p = plan(&desired(json!({"options": "nodev"})), &o).unwrap();
    assert_eq!(
        fstab_after(&p),
        "tmpfs /dev/shm tmpfs nosuid,nodev,mode=1777,strictatime 0 0\n",
        "{:?}",
        summaries(&p)
    );
    let asked = plan(
        &desired(json!({"options": "ro,nodev", "state": "present"})),
        &o,
    )
    .unwrap();
    assert!(
        fstab_after(&asked).starts_with("tmpfs /dev/shm tmpfs ro,nosuid,nodev,"),
        "ro asked for: the line keeps it: {:?}",
        summaries(&asked)
    );
}

#[test]
fn issue_22_present_leaves_the_live_mount_alone() {
    let o = observed(Some(read_only_shm(0o1777)), b"");
    let p = plan(&desired(json!({"state": "present"})), &o).unwrap();
    assert!(
        p.steps
            .iter()
            .all(|s| matches!(s.action, Action::WriteFile { .. })),
        "{:?}",
        summaries(&p)
    );
}

/// An observed state whose fstab does not exist (its directory does when `dir`).
fn without_fstab(live: Option<LiveMount>, dir: bool) -> Observed {
    let mut o = observed(live, b"");
    o.fstab = FileState::from_bytes(Path::new("/etc/fstab"), None, Fstab::from_shared);
    o.fstab.dir_exists = dir;
    o
}

#[test]
fn issue_24_a_missing_fstab_is_created_with_the_entry_by_mounted_and_present() {
    let live = live_from("mountinfo/systemd-host.mountinfo", "/dev/shm", 0o1777);
    for state in ["mounted", "present"] {
        let o = without_fstab(Some(live.clone()), true);
        let d = desired(json!({"state": state, "options": "nodev,nosuid", "backup": true}));
        let p = plan(&d, &o).unwrap();
        let step = p.steps.last().unwrap();
        let line = fstab_after(&p);
        assert!(
            line.starts_with("tmpfs /dev/shm tmpfs nodev,nosuid") && line.ends_with(" 0 0\n"),
            "{state}: {line}"
        );
        assert_eq!(line.lines().count(), 1, "{state}: {line}");
        assert_eq!(
            step.summary,
            format!(
                "create /etc/fstab (mode 0644); add to /etc/fstab: {}",
                line.trim_end()
            ),
            "{state}"
        );
        assert!(
            matches!(&step.action, Action::WriteFile { before: None, .. }),
            "{state}"
        );
        assert!(
            plan(&d, &p.expected).unwrap().is_empty(),
            "{state}: converged"
        );
    }
}

#[test]
fn issue_24_absent_and_ephemeral_create_no_fstab() {
    let live = live_from("mountinfo/systemd-host.mountinfo", "/dev/shm", 0o1777);
    let o = without_fstab(Some(live.clone()), true);
    let p = plan(&desired(json!({"state": "ephemeral"})), &o).unwrap();
    assert!(p.is_empty(), "{:?}", summaries(&p));
    let e = plan(&desired(json!({"state": "absent"})), &o).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("fstab_path: /etc/fstab does not exist"),
        "{e}"
    );
}

#[test]
fn issue_24_a_missing_fstab_in_a_missing_directory_is_refused_naming_fstab_path() {
    let live = live_from("mountinfo/systemd-host.mountinfo", "/dev/shm", 0o1777);
    let o = without_fstab(Some(live), false);
    let e = plan(&desired(json!({"state": "present"})), &o).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("fstab_path: /etc/fstab does not exist, nor does its directory"),
        "{e}"
    );
}
