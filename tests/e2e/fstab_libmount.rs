//! shmguard reads fstab as util-linux's libmount does, which is what mount(8) and boot use:
//! for every file of a corpus, each entry shmguard sees (spec, mount point, type, options,
//! dump, pass) and each line it takes for a parse error equal what
//! `findmnt --fstab --tab-file F -J` prints. Then every edit (state present and absent for
//! /dev/shm) leaves every other entry as findmnt read it before, adds no `findmnt --verify`
//! error, and a second run changes nothing.
//!
//! Corpus: tests/fixtures/fstab-nasty (a case for each rule), tests/fixtures/fstab (the shapes
//! distributions write), and the public inputs of util-linux, systemd, Augeas, ansible.posix
//! and Salt in ../shared/fixtures/fstab-libmount ($SHMGUARD_SHARED/fixtures/fstab-libmount),
//! read from there and never copied here. The public inputs have tests of their own: a clone
//! without shared/ beside it skips them, counted as skipped by tests/run (a failure under CI).

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

/// The `.fstab` files of `dir`, sorted.
fn fstab_files(dir: &Path) -> Vec<PathBuf> {
    let mut here: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fstab"))
        .collect();
    here.sort();
    here
}

/// The project's own corpus: a case for each rule, and the shapes distributions write.
fn own_corpus() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = fstab_files(&root.join("tests/fixtures/fstab-nasty"));
    files.extend(fstab_files(&root.join("tests/fixtures/fstab")));
    assert!(files.len() >= 20, "corpus too small: {}", files.len());
    files
}

/// The public inputs in the workplace's shared/ folder ($SHMGUARD_SHARED, else ../shared beside
/// the checkout). A clone elsewhere has none: then `test` is skipped, with a `SKIPPED:` line
/// that tests/run counts and repeats (None); under CI=true that is a failure.
fn public_corpus(test: &str) -> Option<Vec<PathBuf>> {
    let shared = std::env::var_os("SHMGUARD_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
        PathBuf::from,
    );
    let public = shared.join("fixtures/fstab-libmount");
    let missing = format!(
        "{} is missing: the public fstab inputs (util-linux, systemd, Augeas, ansible.posix, Salt) live in the workplace's shared/ folder beside the project; set SHMGUARD_SHARED to a copy of it",
        public.display()
    );
    if !public.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{missing} (under CI=true a missing input fails, not skips)"
        );
        // Straight to stderr: the test harness captures eprintln!, and passes a test that
        // returns. tests/run counts these lines as skipped, not passed.
        let line = format!("SKIPPED: fstab_libmount::{test}: {missing}\n");
        std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes()).unwrap();
        return None;
    }
    let files = fstab_files(&public);
    assert!(files.len() >= 10, "corpus too small: {}", files.len());
    Some(files)
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

/// Each file of `files` is read as findmnt reads it; how many.
fn read_as_libmount(files: Vec<PathBuf>) -> usize {
    let mut checked = 0;
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            ours(&bytes),
            findmnt(&path),
            "{} is read differently from libmount",
            path.display()
        );
        checked += 1;
    }
    checked
}

#[test]
fn every_entry_is_read_as_libmount_reads_it() {
    let checked = read_as_libmount(own_corpus());
    eprintln!("fstab_libmount: {checked} files read as findmnt reads them");
}

#[test]
fn every_entry_of_the_public_inputs_is_read_as_libmount_reads_it() {
    let Some(files) =
        public_corpus("every_entry_of_the_public_inputs_is_read_as_libmount_reads_it")
    else {
        return;
    };
    let checked = read_as_libmount(files);
    eprintln!("fstab_libmount: {checked} public files read as findmnt reads them");
}

/// Every edit of each file of `files` (state present and absent for /dev/shm) leaves every
/// other entry as findmnt read it, adds no `findmnt --verify` error, and a second run changes
/// nothing; (files edited, lines repaired, files refused).
fn edits_keep_the_rest(files: Vec<PathBuf>) -> (usize, usize, usize) {
    let sb = Sandbox::new();
    let (mut edited, mut repaired, mut refused) = (0, 0, 0);
    for (n, path) in files.into_iter().enumerate() {
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
    (edited, repaired, refused)
}

#[test]
fn edits_leave_every_other_entry_and_add_no_verify_error() {
    // 29 edits, 3 lines repaired, 1 refused when written
    let (edited, repaired, refused) = edits_keep_the_rest(own_corpus());
    assert!(
        edited >= 25 && repaired >= 3 && refused >= 1,
        "{edited} {repaired} {refused}"
    );
}

#[test]
fn edits_of_the_public_inputs_leave_every_other_entry_and_add_no_verify_error() {
    let Some(files) =
        public_corpus("edits_of_the_public_inputs_leave_every_other_entry_and_add_no_verify_error")
    else {
        return;
    };
    // 22 edits when written; none of these files needs a repair or is refused
    let (edited, _, _) = edits_keep_the_rest(files);
    assert!(edited >= 20, "{edited}");
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
