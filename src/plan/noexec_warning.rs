//! The noexec warning is worth giving only on the run that adds noexec (live or in fstab):
//! repeated on every compliant run it is one warning per host per run across a fleet.
//! Pure: compares the observed state with the state the plan leaves.

use crate::observe::Observed;
use crate::spec::MountFlags;
use crate::spec::flags::Flag;

/// Whether noexec is set in `after` (live flags or the first fstab entry of `path`) where
/// `before` did not have it.
pub fn adds_noexec(before: &Observed, after: &Observed, path: &[u8]) -> bool {
    let live = |o: &Observed| o.live.as_ref().is_some_and(|l| l.flags.noexec);
    let fstab = |o: &Observed| {
        o.fstab
            .doc
            .entries_at(path)
            .first()
            .and_then(|i| o.fstab.doc.entry(*i))
            .is_some_and(|e| {
                MountFlags::from_fstab_words(e.options.iter().map(String::as_str)).noexec
            })
    };
    (live(after) && !live(before)) || (fstab(after) && !fstab(before))
}

/// Drops the noexec warning from `warnings` unless the plan adds noexec.
pub fn keep_only_when_added(
    warnings: &mut Vec<String>,
    before: &Observed,
    after: &Observed,
    path: &[u8],
) {
    if let Some(w) = Flag::Noexec.warning() {
        if !adds_noexec(before, after, path) {
            warnings.retain(|x| x != w);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use serde_json::json;

    use crate::observe::{FileState, Fstab, Observed, PathKind, Usage, live, mountinfo};
    use crate::spec::{Desired, Flag, Host, Params};

    const HOST: Host = Host {
        page_size: 4096,
        total_ram_pages: 6_170_914,
    };

    /// /dev/shm as the fixture's mountinfo has it (docker: noexec; systemd host: without).
    fn observed(fixture: &str, fstab: &[u8]) -> Observed {
        let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let (entries, _) = mountinfo::parse(&std::fs::read(path).unwrap());
        let e = mountinfo::find(&entries, b"/dev/shm").unwrap();
        Observed {
            host: HOST,
            path_kind: PathKind::Directory,
            live: Some(live::from_entry(e, 0o1777, Usage::default(), &HOST)),
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

    fn warns(o: &Observed) -> bool {
        let p: Params = serde_json::from_value(json!({"options": ["nodev", "noexec"]})).unwrap();
        let plan = crate::plan::plan(&Desired::from_params(&p).unwrap(), o).unwrap();
        plan.warnings
            .iter()
            .any(|w| Some(w.as_str()) == Flag::Noexec.warning())
    }

    #[test]
    fn noexec_already_live_and_in_fstab_gives_no_warning() {
        let o = observed(
            "mountinfo/docker-container.mountinfo",
            b"tmpfs /dev/shm tmpfs nodev,noexec 0 0\n",
        );
        assert!(!warns(&o));
    }

    #[test]
    fn adding_noexec_live_or_to_fstab_warns() {
        let live_missing = observed(
            "mountinfo/systemd-host.mountinfo",
            b"tmpfs /dev/shm tmpfs nodev,noexec 0 0\n",
        );
        assert!(warns(&live_missing));
        let fstab_missing = observed("mountinfo/docker-container.mountinfo", b"");
        assert!(warns(&fstab_missing));
    }
}
