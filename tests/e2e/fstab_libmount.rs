//! shmguard reads fstab as util-linux's libmount does, which is what mount(8) and boot use:
//! for every file of a corpus, each entry shmguard sees (spec, mount point, type, options,
//! dump, pass) and each line it takes for a parse error equal what
//! `findmnt --fstab --tab-file F -J` prints. Then every edit (state present and absent for
//! /dev/shm) leaves every other entry as findmnt read it before, adds no `findmnt --verify`
//! error, and a second run changes nothing.
//!
//! Corpus: tests/fixtures/fstab-nasty (a case for each rule), tests/fixtures/fstab (the shapes
//! distributions write), and the public inputs of util-linux, systemd, Augeas, ansible.posix
//! and Salt in ../shared/fixtures/fstab-libmount, read from there and never copied here.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use shmguard::observe::fstab::{Fstab, LineKind, split_options};

use crate::sandbox::Sandbox;

/// One entry as both sides describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    source: String,
    target: String,
    fstype: String,
    options: Vec<String>,
    freq: i64,
    passno: i64,
}

fn corpus() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("SHMGUARD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let public = shared.join("fixtures/fstab-libmount");
    assert!(
        public.is_dir(),
        "{} is missing: the public fstab inputs (util-linux, systemd, Augeas, ansible.posix, Salt) live in the workplace's shared/ folder beside the project; point SHMGUARD_SHARED at a copy of it",
        public.display()
    );
    let mut files = Vec::new();
    for dir in [
        root.join("tests/fixtures/fstab-nasty"),
        root.join("tests/fixtures/fstab"),
        public,
    ] {
        let mut here: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "fstab"))
            .collect();
        here.sort();
        files.extend(here);
    }
    assert!(files.len() >= 30, "corpus too small: {}", files.len());
    files
}

/// findmnt's reading: the entries, and the 1-based lines it reports as parse errors.
fn findmnt(path: &Path) -> (Vec<Seen>, Vec<usize>) {
    findmnt_with(Command::new("findmnt"), path)
}

/// `findmnt`, run by `cmd` (inside a sandbox, for the files it holds).
fn findmnt_with(mut cmd: Command, path: &Path) -> (Vec<Seen>, Vec<usize>) {
    let out = cmd
        .args(["--fstab", "--tab-file"])
        .arg(path)
        .args(["-J", "-o", "SOURCE,TARGET,FSTYPE,OPTIONS,FREQ,PASSNO"])
        .output()
        .expect("findmnt (util-linux) is needed: apt-get install util-linux");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<usize> = stderr
        .lines()
        .filter_map(|l| l.split("parse error at line ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return (Vec::new(), errors);
    }
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let s = |x: &Value| x.as_str().unwrap_or("").to_string();
    let entries = v["filesystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Seen {
            source: s(&e["source"]),
            target: s(&e["target"]),
            fstype: s(&e["fstype"]),
            options: split_options(e["options"].as_str().unwrap_or("")),
            freq: e["freq"].as_i64().unwrap(),
            passno: e["passno"].as_i64().unwrap(),
        })
        .collect();
    (entries, errors)
}

/// shmguard's reading of the same bytes.
fn ours(bytes: &[u8]) -> (Vec<Seen>, Vec<usize>) {
    let f = Fstab::parse(bytes);
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for i in 0..f.file.len() {
        match f.kind(i) {
            LineKind::Skipped => {}
            LineKind::Rejected(_) => errors.push(i + 1),
            LineKind::Entry => {
                let e = f.entry(i).unwrap();
                let num = |v: &Option<String>| v.as_deref().map_or(0, |t| t.parse().unwrap());
                entries.push(Seen {
                    source: String::from_utf8_lossy(&e.spec).into_owned(),
                    target: String::from_utf8_lossy(&e.file).into_owned(),
                    fstype: e.vfstype.clone(),
                    options: e.options.clone(),
                    freq: num(&e.freq),
                    passno: num(&e.passno),
                });
            }
        }
    }
    (entries, errors)
}

/// `findmnt --verify`'s counts: (parse errors, errors).
fn verify(sb: &Sandbox, file: &str) -> (u32, u32) {
    let out = sb
        .command("findmnt")
        .args(["--verify", "--tab-file", file])
        .output()
        .unwrap();
    let all =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let last = all
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    if last.starts_with("Success") {
        return (0, 0);
    }
    let (mut parse, mut errors) = (0, 0);
    for part in last.split(", ") {
        let (n, word) = part.split_once(' ').unwrap_or((part, ""));
        let n: u32 = n.parse().unwrap_or(0);
        if word.starts_with("parse") {
            parse = n;
        } else if word.starts_with("error") {
            errors = n;
        }
    }
    (parse, errors)
}

#[test]
fn every_entry_is_read_as_libmount_reads_it() {
    let mut checked = 0;
    for path in corpus() {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            ours(&bytes),
            findmnt(&path),
            "{} is read differently from libmount",
            path.display()
        );
        checked += 1;
    }
    eprintln!("fstab_libmount: {checked} files read as findmnt reads them");
}

#[test]
fn edits_leave_every_other_entry_and_add_no_verify_error() {
    let sb = Sandbox::new();
    let (mut edited, mut repaired, mut refused) = (0, 0, 0);
    for (n, path) in corpus().into_iter().enumerate() {
        let bytes = std::fs::read(&path).unwrap();
        for args in [
            &[
                "--state",
                "present",
                "-o",
                "nodev,nosuid,noexec",
                "--size",
                "1G",
            ][..],
            &["--state", "absent"],
        ] {
            let file = sb.file(&format!("fstab-{n}"), &bytes);
            let mut all = vec!["--path", "/dev/shm", "--fstab-path", &file];
            all.extend_from_slice(args);
            let before = findmnt_with(sb.command("findmnt"), Path::new(&file));
            let (parse_before, errors_before) = verify(&sb, &file);
            let r = sb.apply(&all);
            let shown = format!("{} {args:?}: {r}", path.display());
            if r["failed"] == true {
                // Only a /dev/shm line boot skips and shmguard cannot repair is refused.
                assert!(
                    r["msg"].as_str().unwrap().contains("boot skips it"),
                    "{shown}"
                );
                assert_eq!(
                    sb.read(&file),
                    bytes,
                    "a refused run changed fstab: {shown}"
                );
                refused += 1;
                continue;
            }
            edited += usize::from(r["changed"] == true);
            let actions = r["actions"].to_string();
            repaired += usize::from(actions.contains("moved the comment after field 6"));
            let after = findmnt_with(sb.command("findmnt"), Path::new(&file));
            let others = |v: &(Vec<Seen>, Vec<usize>)| -> Vec<Seen> {
                v.0.iter()
                    .filter(|e| shmguard_path(&e.target) != "/dev/shm")
                    .cloned()
                    .collect()
            };
            assert_eq!(
                others(&after),
                others(&before),
                "other entries changed: {shown}"
            );
            let shm: Vec<Seen> = after
                .0
                .iter()
                .filter(|e| shmguard_path(&e.target) == "/dev/shm")
                .cloned()
                .collect();
            if args[1] == "absent" {
                assert!(shm.is_empty(), "{shown}");
            } else {
                let first = &shm[0];
                for flag in ["nodev", "nosuid", "noexec", "size=1G"] {
                    assert!(first.options.iter().any(|o| o == flag), "{flag}: {shown}");
                }
            }
            let (parse_after, errors_after) = verify(&sb, &file);
            assert!(
                parse_after <= parse_before && errors_after <= errors_before,
                "findmnt --verify: {parse_before}/{errors_before} -> {parse_after}/{errors_after}: {shown}"
            );
            let again = sb.apply(&all);
            assert_eq!(again["changed"], false, "second run: {shown} -> {again}");
        }
    }
    eprintln!("fstab_libmount: {edited} edits, {repaired} lines repaired, {refused} refused");
    assert!(
        edited >= 40 && repaired >= 3 && refused >= 1,
        "{edited} {repaired} {refused}"
    );
}

/// A mount point as libmount compares it (`/dev//shm/` is /dev/shm, and so is /run/shm where
/// the host links it to /dev/shm: libmount canonicalises targets).
fn shmguard_path(target: &str) -> String {
    let shm = std::fs::canonicalize("/dev/shm").ok();
    if shm.is_some() && std::fs::canonicalize(target).ok() == shm {
        return "/dev/shm".into();
    }
    String::from_utf8_lossy(&shmguard::observe::fstab::normal_mount_point(
        target.as_bytes(),
    ))
    .into_owned()
}
