//! fstab editing on real-world files: only the managed line changes, every other byte stays.

use crate::sandbox::Sandbox;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/fstab/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn every_fixture_gains_one_line_and_keeps_every_other_byte() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    for name in [
        "arch-genfstab.fstab",
        "debian12.fstab",
        "rhel9.fstab",
        "ubuntu-cloud.fstab",
        "minimal-container.fstab",
    ] {
        let before = fixture(name);
        let fstab = sb.file(name, &before);
        let r = sb.add_nodev_entry(&shm, &fstab);
        assert_eq!(r["changed"], true, "{name}: {r}");
        let after = sb.read(&fstab);
        assert!(after.starts_with(&before), "{name}: existing bytes changed");
        let added = String::from_utf8(after[before.len()..].to_vec()).unwrap();
        assert!(
            added == format!("tmpfs {shm} tmpfs nodev 0 0\n")
                || added == format!("tmpfs\t{shm}\ttmpfs\tnodev\t0\t0\n"),
            "{name}: {added:?}"
        );
    }
}

#[test]
fn an_existing_line_is_edited_in_place_keeping_spec_options_and_comment() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let before = format!(
        "# caf\u{e9}\r\nshm\t{shm}\ttmpfs\tdefaults,inode64,x-systemd.automount\t0 0 # keep me\r\nproc /proc proc defaults 0 0"
    );
    let mut bytes = before.clone().into_bytes();
    bytes.extend_from_slice(b"\n# \xff not utf-8");
    let fstab = sb.file("fstab", &bytes);
    let r = sb.apply(&[
        "--path",
        &shm,
        "--state",
        "present",
        "-o",
        "nodev,noexec",
        "--size",
        "1G",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["changed"], true, "{r}");
    let mut want = before
        .replace(
            "defaults,inode64,x-systemd.automount",
            "defaults,inode64,x-systemd.automount,nodev,noexec,size=1G",
        )
        .into_bytes();
    want.extend_from_slice(b"\n# \xff not utf-8");
    assert_eq!(sb.read(&fstab), want);
}

#[test]
fn duplicate_entries_fix_the_first_and_warn_about_the_rest() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let fstab = sb.file(
        "fstab",
        format!("tmpfs {shm} tmpfs defaults 0 0\nnone {shm} tmpfs size=1m 0 0\n").as_bytes(),
    );
    let r = sb.apply(&[
        "--path",
        &shm,
        "--state",
        "present",
        "-o",
        "nosuid",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(
        sb.read(&fstab),
        format!("tmpfs {shm} tmpfs defaults,nosuid 0 0\nnone {shm} tmpfs size=1m 0 0\n")
            .into_bytes()
    );
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("1 more entries") && warnings.contains("line 2"),
        "{warnings}"
    );
}

#[test]
fn the_replaced_fstab_keeps_its_mode_and_leaves_no_temporary_file() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    sb.sh(&format!(
        "mkdir {0}/etc && printf '# x\\n' > {0}/etc/fstab && chmod 0640 {0}/etc/fstab",
        sb.path("")
    ));
    let fstab = sb.path("etc/fstab");
    let r = sb.apply(&["--path", &shm, "--state", "present", "--fstab-path", &fstab]);
    assert_eq!(r["changed"], true);
    assert_eq!(sb.mode(&fstab), "640");
    // Nothing beside fstab: its lock file is under /run/lock/shmguard.
    assert_eq!(sb.sh(&format!("ls -A {}/etc", sb.path(""))), "fstab\n");
    sb.sh(&format!("test -f {}", sb.lock_file(&fstab)));
}
