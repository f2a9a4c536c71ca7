//! The noexec warning is worth giving only on the run that adds noexec (live or in fstab):
//! repeated on every compliant run it is one warning per host per run across a fleet.
//! Pure: compares the observed state with the state the plan leaves.

use crate::observe::Observed;
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
            .is_some_and(|e| e.options.iter().any(|w| w == "noexec"))
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
