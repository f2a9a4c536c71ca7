//! Output that said the wrong thing (issue 17), each pinned by a regression test through the
//! real binary: the noexec warning on /dev/mqueue (and so twice in a Salt run), an audit
//! detail without a verb, the fstab_path error's example, `status --json` contradicting the
//! text for a path with no entry, and size suffixes the README did not list.

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox};

const JIT: &str = "some JITs, e.g. Chrome";

/// `shmguard salt` with this state's arguments, as the Salt state module runs it.
fn salt_state(sb: &Sandbox, args: Value) -> Value {
    let out = sb.run_with_input(BIN, &["salt"], args.to_string().as_bytes());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// salt/example.sls asks noexec of both /dev/shm and /dev/mqueue: the warning is about
/// code mapped from shared memory, so it comes once, from /dev/shm.
#[test]
fn the_noexec_warning_comes_once_for_shm_and_never_for_mqueue() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    let mq = sb.mqueue("mqueue", "rw");
    let fstab = sb.file("fstab", b"");
    let mut warnings = Vec::new();
    for (path, fstype) in [(&shm, "tmpfs"), (&mq, "mqueue")] {
        let r = salt_state(
            &sb,
            serde_json::json!({"name": path, "fstype": fstype, "options": ["nodev", "nosuid", "noexec"],
                "fstab_path": fstab, "state": "mounted", "test": false}),
        );
        assert_eq!(r["result"], true, "{r}");
        for w in r["warnings"].as_array().into_iter().flatten() {
            warnings.push(format!("{path}: {w}"));
        }
    }
    let jit: Vec<&String> = warnings.iter().filter(|w| w.contains(JIT)).collect();
    assert_eq!(jit.len(), 1, "{warnings:?}");
    assert!(jit[0].starts_with(&format!("{shm}: ")), "{warnings:?}");
    // The CLI says the same: a run that adds noexec to an mqueue mount says nothing of JITs.
    let mq2 = sb.mqueue("mqueue2", "rw");
    let fstab2 = sb.file("fstab2", b"");
    let out = sb.run(&[
        "apply",
        "--path",
        &mq2,
        "--fstype",
        "mqueue",
        "-o",
        "noexec",
        "--fstab-path",
        &fstab2,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("noexec"), "{text}");
    assert!(!text.contains(JIT), "{text}");
}

#[test]
fn an_audit_detail_says_what_it_would_do_to_a_line() {
    let sb = Sandbox::new();
    let image = sb.path("image");
    sb.sh(&format!(
        "mkdir -p {image}/etc && printf 'tmpfs /dev/shm tmpfs defaults 0 0\\n' > {image}/etc/fstab"
    ));
    let out = sb.run(&[
        "audit",
        "--profile",
        "cis",
        "--root",
        &image,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let details: Vec<&str> = v["targets"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["detail"].as_str())
        .filter(|d| d.contains("line 1"))
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.starts_with(&format!("would edit {image}/etc/fstab line 1: options"))),
        "{details:?}"
    );
    assert!(
        !details.iter().any(|d| d.contains("would /")),
        "{details:?}"
    );
}

#[test]
fn a_bad_fstab_path_gets_an_fstab_example() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    let out = sb.run(&[
        "apply",
        "--path",
        &shm,
        "-o",
        "nodev",
        "--fstab-path",
        "fstab",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fstab_path: \"fstab\""), "{err}");
    assert!(err.contains("e.g. /etc/fstab"), "{err}");
    assert!(!err.contains("/dev/shm"), "{err}");
}

#[test]
fn status_json_and_text_agree_on_a_path_with_no_entry() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    let fstab = sb.file("fstab", b"# no entry\n");
    let run = |format| {
        let out = sb.run(&[
            "status",
            &shm,
            "--fstab-path",
            &fstab,
            "--init",
            "other",
            "--format",
            format,
        ]);
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let v: Value = serde_json::from_str(&run("json")).unwrap();
    let describe = v[&shm]["boot"]["describe"].as_str().unwrap().to_string();
    assert!(describe.starts_with("no fstab entry"), "{v}");
    assert!(!describe.contains("afresh"), "{v}");
    assert!(run("text").contains(&format!("boot: {describe}\n")));
}

/// The size error, the README's table and the parser agree on the suffixes.
#[test]
fn the_size_error_lists_the_suffixes_the_readme_lists() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=8m,mode=1777");
    let fstab = sb.file("fstab", b"");
    let out = sb.run(&[
        "apply",
        "--path",
        &shm,
        "--size",
        "4X",
        "--fstab-path",
        &fstab,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("k/m/g/t/p/e suffix"), "{err}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `size` |"))
        .unwrap();
    assert!(row.contains("k/m/g/t/p/e suffix"), "{row}");
    // and the parser takes them: 1P is more than any tmpfs gets, so check mode plans a resize
    let r = sb.apply(&[
        "--path",
        &shm,
        "--size",
        "1P",
        "--state",
        "ephemeral",
        "--check",
    ]);
    assert_eq!(r["failed"], false, "{r}");
}
