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

/// Issue 24: a missing fstab (its directory exists) is created with the entry by mounted and
/// present, as ansible.posix.mount does: root-owned, mode 0644, atomically. Check mode and the
/// diff say so first (before: nothing), and change nothing.
#[test]
fn a_missing_fstab_is_created_with_the_entry_and_check_mode_says_so() {
    for state in ["mounted", "present"] {
        let sb = Sandbox::new();
        let shm = sb.tmpfs("shm", "size=8m,mode=1777,nodev");
        let etc = sb.path("etc");
        sb.sh(&format!("mkdir -m 755 {etc}"));
        let fstab = format!("{etc}/fstab");
        let args = [
            "--path",
            &shm,
            "--state",
            state,
            "-o",
            "nodev",
            "--backup",
            "--fstab-path",
            &fstab,
            "--diff",
        ];
        let mut check_args = args.to_vec();
        check_args.push("--check");
        let check = sb.apply(&check_args);
        assert_eq!(check["failed"], false, "{state}: {check}");
        assert_eq!(check["changed"], true, "{state}: {check}");
        assert_eq!(
            sb.sh(&format!("ls -A {etc}")),
            "",
            "check mode created something"
        );
        let line = format!("tmpfs {shm} tmpfs nodev 0 0\n");
        let actions = check["actions"].as_array().unwrap();
        assert_eq!(
            actions.last().unwrap(),
            &format!(
                "create {fstab} (mode 0644); add to {fstab}: {}",
                line.trim_end()
            ),
            "{state}: {check}"
        );
        let file_diff = check["diff"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["after_header"] == fstab.as_str())
            .unwrap_or_else(|| panic!("{state}: no diff of {fstab}: {check}"))
            .clone();
        assert_eq!(file_diff["before_header"], format!("{fstab} (absent)"));
        assert_eq!(file_diff["before"], "");
        assert_eq!(file_diff["after"], line.as_str());

        let real = sb.apply(&args);
        assert_eq!(real["failed"], false, "{state}: {real}");
        assert_eq!(real["actions"], check["actions"], "{state}");
        assert_eq!(real["diff"], check["diff"], "{state}");
        assert!(
            real.get("backup_file").is_none(),
            "nothing to back up: {real}"
        );
        assert_eq!(String::from_utf8(sb.read(&fstab)).unwrap(), line);
        assert_eq!(
            sb.sh(&format!("stat -c '%U:%G %a %h' {fstab}")),
            "root:root 644 1\n"
        );
        assert_eq!(
            sb.sh(&format!("ls -A {etc}")),
            "fstab\n",
            "{state}: no temporary file or backup left"
        );
        let again = sb.apply(&args);
        assert_eq!(again["changed"], false, "{state}: {again}");
    }
}

#[test]
fn ephemeral_creates_no_fstab() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=755");
    let fstab = sb.path("fstab");
    let r = sb.apply(&[
        "--path",
        &shm,
        "--state",
        "ephemeral",
        "--mode",
        "1777",
        "--fstab-path",
        &fstab,
    ]);
    assert_eq!(r["failed"], false, "{r}");
    let listing = sb.sh(&format!("ls -A {}", sb.dir.display()));
    assert!(!listing.contains("fstab"), "{listing}");
}

/// Issue 24: backups are bounded. Seven changes with backup_keep 5 (through the CLI and the
/// module's arguments file alike) leave the 5 newest of shmguard's copies, each run returning
/// its own as backup_file; files with similar names that shmguard did not make are untouched.
#[test]
fn backups_are_bounded_to_the_newest_backup_keep_and_foreign_files_stay() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m");
    let etc = sb.path("etc");
    sb.sh(&format!("mkdir -m 755 {etc}"));
    let fstab = sb.file("etc/fstab", b"# scratch\n");
    let foreign = [
        "fstab.bak~",
        "fstab.orig",
        "fstab.1.2020-01-01T00:00:00Z",
        "fstab.x.2020-01-01T00:00:00Z~",
        "fstab2.1.2020-01-01T00:00:00Z~",
    ];
    for f in foreign {
        sb.file(&format!("etc/{f}"), b"an admin's\n");
    }
    let mut made = Vec::new();
    for i in 0..7 {
        let flag = if i % 2 == 0 { "nodev" } else { "dev" };
        let r = if i % 3 == 2 {
            sb.module(&serde_json::json!({
                "path": shm, "state": "present", "options": [flag],
                "fstab_path": fstab, "backup": true, "backup_keep": 5
            }))
        } else {
            sb.apply(&[
                "--path",
                &shm,
                "--state",
                "present",
                "-o",
                flag,
                "--fstab-path",
                &fstab,
                "--backup",
                "--backup-keep",
                "5",
            ])
        };
        assert_eq!(r["changed"], true, "run {i}: {r}");
        assert_eq!(r["failed"], false, "run {i}: {r}");
        let b = r["backup_file"].as_str().unwrap_or_else(|| panic!("{r}"));
        assert_eq!(r["backup_files"], serde_json::json!([b]), "{r}");
        assert!(
            b.starts_with(&format!("{fstab}.")) && b.ends_with("Z~"),
            "{b}"
        );
        made.push(b.to_string());
    }
    let listing = sb.sh(&format!("ls -A {etc}"));
    let mut left: Vec<&str> = listing.lines().collect();
    left.sort_unstable();
    let mut want: Vec<String> = made[2..]
        .iter()
        .map(|p| p.rsplit('/').next().unwrap().to_string())
        .chain(foreign.iter().map(|f| f.to_string()))
        .chain(["fstab".to_string()])
        .collect();
    want.sort();
    assert_eq!(
        left, want,
        "the 5 newest backups, fstab and the foreign files"
    );
    for f in foreign {
        assert_eq!(sb.read(&format!("{etc}/{f}")), b"an admin's\n", "{f}");
    }
    // each copy holds the fstab its run replaced: the newest, the one the sixth run left
    // (`dev`, the default: `defaults`), the one before it the fifth run's (`defaults,nodev`)
    let copy = |i: usize| String::from_utf8(sb.read(&made[i])).unwrap();
    let line = |opts: &str| format!("tmpfs {shm} tmpfs {opts} 0 0\n");
    assert!(copy(6).ends_with(&line("defaults")), "{}", copy(6));
    assert!(copy(5).ends_with(&line("defaults,nodev")), "{}", copy(5));
}
