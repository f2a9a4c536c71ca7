//! `shmguard audit`: judge targets (policy files, profiles) against the system without
//! changing anything — observe, then plan once per check; nothing is ever applied.

pub mod audit_report;
pub mod check;
pub mod policy;

use std::path::{Path, PathBuf};

pub use audit_report::{AuditReport, CheckResult, Status, TargetResult};
pub use policy::Target;

use crate::observe::observe;
use crate::probe::ProbeReport;
use crate::spec::Desired;

/// Where the audited files are.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// use this fstab for every target
    pub fstab: Option<PathBuf>,
    /// an image or chroot: its files only (root/etc/fstab, root/<sysctl_path>), no live checks
    pub root: Option<PathBuf>,
}

fn under(root: &Path, p: &Path) -> PathBuf {
    root.join(p.strip_prefix("/").unwrap_or(p))
}

/// Audits every target; never changes anything.
pub fn audit(targets: &[Target], opts: &AuditOptions, probe: Option<ProbeReport>) -> AuditReport {
    let results = targets.iter().map(|t| audit_target(t, opts)).collect();
    AuditReport::new(results, probe)
}

fn audit_target(t: &Target, opts: &AuditOptions) -> TargetResult {
    let mut result = TargetResult {
        source: t.source.clone(),
        path: t
            .params
            .path
            .clone()
            .unwrap_or_else(|| crate::spec::params::DEFAULT_PATH.into()),
        fstype: String::new(),
        checks: Vec::new(),
        error: None,
    };
    let mut desired = match Desired::from_params(&t.params) {
        Ok(d) => d,
        Err(e) => {
            result.error = Some(e.to_string());
            return result;
        }
    };
    result.path = desired.path.clone();
    result.fstype = desired.fstype.word().to_string();
    if let Some(f) = &opts.fstab {
        desired.fstab_path = f.clone();
    }
    if let Some(root) = opts.root.as_ref().filter(|r| !r.is_dir()) {
        result.error = Some(format!(
            "root: {} does not exist or is not a directory",
            root.display()
        ));
        return result;
    }
    if let Some(root) = &opts.root {
        desired.fstab_path = under(
            root,
            opts.fstab.as_deref().unwrap_or(Path::new("/etc/fstab")),
        );
        desired.sysctl_path = under(root, &desired.sysctl_path);
    }
    if opts.root.is_none() {
        desired = match crate::observe::follow_link(&desired) {
            Ok(d) => d,
            Err(e) => {
                result.error = Some(e.to_string());
                return result;
            }
        };
    }
    let observed = match observe(&desired) {
        Ok(o) => o,
        Err(e) => {
            result.error = Some(e.to_string());
            return result;
        }
    };
    if observed.fstab.bytes.is_none() && (desired.state.persistent() || opts.root.is_some()) {
        result.error = Some(format!(
            "fstab: {} does not exist; give an existing fstab (--fstab, --root)",
            observed.fstab.path.display()
        ));
        return result;
    }
    let observed = if opts.root.is_some() {
        // An image's files say nothing about this host's mounts or limits.
        crate::observe::Observed {
            live: None,
            mqueue_limits: Default::default(),
            ..observed
        }
    } else {
        observed
    };
    for c in check::checks(&desired, opts.root.is_some()) {
        let refs = t.references.get(&c.key).cloned().unwrap_or_default();
        result.checks.push(check::judge(&c, &observed, refs));
    }
    result
}
