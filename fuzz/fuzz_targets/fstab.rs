//! fstab parser and editor: any bytes render back byte for byte; the planner's edit changes
//! only the managed line (the first entry, or a skipped line it repairs), or appends one, or
//! removes the managed ones; every other line stays byte-equal, and planning again on the
//! result asks for no further fstab change.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use shmguard::observe::line_file::LineFile;
use shmguard::observe::{FileState, Fstab, Observed, PathKind};
use shmguard::plan::{Action, plan};
use shmguard::spec::{Desired, Host, Params};

const HOST: Host = Host {
    page_size: 4096,
    total_ram_pages: 6_170_914,
};

fn observed(bytes: &[u8]) -> Observed {
    Observed {
        host: HOST,
        path_kind: PathKind::Missing,
        live: None,
        fstab: FileState::from_bytes(Path::new("/etc/fstab"), Some(bytes.to_vec()), Fstab::from_shared),
        sysctl: None,
        mqueue_limits: BTreeMap::new(),
        systemd: false,
    }
}

fn fstab_write(p: &shmguard::plan::Plan) -> Option<Vec<u8>> {
    p.steps.iter().find_map(|s| match &s.action {
        Action::WriteFile {
            param: "fstab_path",
            after,
            ..
        } => Some(after.render()),
        _ => None,
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (choice, bytes) = data.split_at(3);
    let doc = Fstab::parse(bytes);
    assert_eq!(doc.render(), bytes, "parse/render is not byte-preserving");

    let state = ["present", "absent", "mounted"][choice[0] as usize % 3];
    let path = ["/dev/shm", "/mnt/a b", "/x"][choice[1] as usize % 3];
    let options: &[&str] = [
        &["nodev", "nosuid", "noexec"][..],
        &["exec", "dev"],
        &["ro", "noatime"],
        &[],
    ][choice[2] as usize % 4];
    let size = ["4G", "50%", "0", "4096m"][(choice[2] as usize / 4) % 4];
    let params: Params = serde_json::from_value(json!({
        "path": path, "state": state, "options": options, "size": size, "mode": "1777"
    }))
    .unwrap();
    let desired = Desired::from_params(&params).unwrap();
    let Ok(p) = plan(&desired, &observed(bytes)) else {
        return;
    };
    let Some(after) = fstab_write(&p) else {
        return;
    };
    let before = LineFile::parse(bytes);
    let new = LineFile::parse(&after);
    let managed = doc.entries_at(path.as_bytes());
    if state == "absent" {
        let kept: Vec<_> = before
            .lines()
            .enumerate()
            .filter(|(i, _)| !managed.contains(i))
            .map(|(_, l)| l)
            .collect();
        assert_eq!(
            new.lines().collect::<Vec<_>>(), kept,
            "absent removed more than the managed lines"
        );
    } else if new.len() == before.len() {
        // Edited in place: the first entry, or a line naming the path that boot skips and
        // that was repaired. Every other line stays byte-equal.
        let skipped = doc.rejected_at(path.as_bytes());
        let first = managed
            .first()
            .copied()
            .or(skipped.first().map(|(i, _)| *i));
        for (i, (a, b)) in before.lines().zip(new.lines()).enumerate() {
            if Some(i) != first {
                assert_eq!(a, b, "line {i} changed but only line {first:?} is managed");
            }
        }
    } else {
        // Added: at the end (the old bytes are a prefix; an unterminated last line only gains
        // its newline), or, when the last line is a NUL tail (a NUL and no newline after it,
        // what a crash can leave), just before that line, which stays last and byte-equal.
        let n = before.len();
        let at = if n > 0 && !before.terminated(n - 1) && before.text(n - 1).contains(&0) {
            let tail = (before.text(n - 1), before.eol(n - 1));
            let last = new.len() - 1;
            assert_eq!((new.text(last), new.eol(last)), tail, "the NUL tail moved or changed");
            assert!(
                after.starts_with(&bytes[..bytes.len() - tail.0.len() - tail.1.len()]),
                "inserting changed existing bytes"
            );
            n - 1
        } else {
            assert!(after.starts_with(bytes), "appending changed existing bytes");
            new.len() - 1
        };
        let added = Fstab::parse(&after).entries_at(path.as_bytes());
        assert_eq!(added, [at], "the added line is not the entry");
    }
    let again = plan(&desired, &observed(&after)).expect("the edited file plans again");
    assert_eq!(
        fstab_write(&again),
        None,
        "not idempotent: a second run edits fstab again"
    );
});
