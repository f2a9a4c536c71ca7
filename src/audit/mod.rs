//! `shmguard audit`: judge targets (policy files, profiles) against the system without
//! changing anything — observe, then plan once per check; nothing is ever applied.

pub mod audit_report;
pub mod check;
pub mod condition;
pub mod policy;
pub mod remedy_command;

use std::path::{Path, PathBuf};

pub use audit_report::{AuditReport, CheckResult, PathUsage, Status, TargetResult, Via};
pub use policy::Target;

use crate::audit::condition::Condition;
pub use crate::audit::condition::Needs;
use crate::observe::container::{Runtime, advice};
use crate::observe::{Observed, observe};
use crate::probe::ProbeReport;
use crate::spec::{Desired, SizeTarget};

/// Where the audited files are.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// use this fstab for every target
    pub fstab: Option<PathBuf>,
    /// an image or chroot: its files only (root/etc/fstab, root/<sysctl_path>), no live checks
    pub root: Option<PathBuf>,
    /// the container runtime shmguard runs in: its lever is named where /dev/shm is too small
    pub container: Option<Runtime>,
    /// the init system that boots the host or image (None: each target's `init`)
    pub init: Option<crate::spec::Init>,
    /// what the programs use (`--bytes`, the queue shape), for the profiles' conditions
    pub needs: Needs,
}

fn under(root: &Path, p: &Path) -> PathBuf {
    root.join(p.strip_prefix("/").unwrap_or(p))
}

/// Audits every target; never changes anything.
pub fn audit(targets: &[Target], opts: &AuditOptions, probe: Option<ProbeReport>) -> AuditReport {
    let results = targets.iter().map(|t| audit_target(t, opts)).collect();
    let mut report = AuditReport::new(results, probe);
    report.host = nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().into_owned())
        .unwrap_or_default();
    report.time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    report
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
        usage: None,
        wanted: remedy_command::wanted(&t.params),
        remedy: Some(remedy_command::apply_command(
            &t.params,
            opts.fstab.as_deref().and_then(Path::to_str),
        )),
        remedy_params: Some(remedy_command::apply_params(
            &t.params,
            opts.fstab.as_deref().and_then(Path::to_str),
        )),
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
    if let Some(init) = opts.init {
        desired.init = init;
    }
    if let Some(root) = &opts.root {
        // An image boots with its own init: systemd when it has systemd's binary.
        if desired.init == crate::spec::Init::Auto {
            let systemd = ["usr/lib/systemd/systemd", "lib/systemd/systemd"]
                .iter()
                .any(|p| root.join(p).exists());
            desired.init = if systemd {
                crate::spec::Init::Systemd
            } else {
                crate::spec::Init::Other
            };
        }
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
    // A host (or image) without the fstab is judged, not refused: its live checks as on any
    // host, its fstab checks failing with where the fstab should be.
    let no_fstab = (!observed.fstab.exists()).then(|| no_fstab(&observed));
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
    let planned = if t.conditions_only {
        Vec::new()
    } else {
        check::checks(&desired, opts.root.is_some())
    };
    for c in planned {
        let refs = t.references.get(&c.key).cloned().unwrap_or_default();
        let mut r = match (&no_fstab, c.scope) {
            (Some(found), "fstab") => CheckResult {
                id: check::id(&c.desired.path, &c.key, c.scope),
                name: format!("{} {} ({})", c.desired.path, c.key, c.scope),
                scope: c.scope.to_string(),
                status: Status::Fail,
                detail: found.clone(),
                references: refs,
            },
            // sysctl checks judge the sysctl file alone: as if an (empty) fstab were there
            (Some(_), "sysctl") => {
                let mut o = observed.clone();
                o.fstab.replaced = true;
                check::judge(&c, &o, refs)
            }
            _ => check::judge(&c, &observed, refs),
        };
        if let (Status::Fail, Some(rt), Some(size)) = (r.status, opts.container, &c.desired.size) {
            let want = match size {
                SizeTarget::Exact(q) | SizeTarget::AtLeast(q) => q.pages(&observed.host),
            } * observed.host.page_size;
            r.detail += &format!("; {}", advice(rt, shm_size(&observed), want));
        }
        result.checks.push(r);
    }
    let refs = |key: &str| t.references.get(key).cloned().unwrap_or_default();
    if !t.conditions_only {
        result
            .checks
            .extend(check::boot_checks(&desired, &observed, &refs));
    }
    if opts.root.is_none() {
        let needs = Needs {
            queue: t.mq_shape.unwrap_or(opts.needs.queue),
            ..opts.needs
        };
        for cond in &t.conditions {
            let key = cond.key();
            let (status, mut detail) = cond.judge(&desired.path, &observed, &needs);
            if let (Status::Fail | Status::Warn, Some(rt), Condition::FreeSpace) =
                (status, opts.container, cond)
            {
                let page = observed.host.page_size;
                let used = observed.live.as_ref().map_or(0, |l| l.usage.used_pages) * page;
                let want = needs.bytes.map_or(page, |b| {
                    b + page * (1 + crate::probe::needs::EXECUTOR_PAGES)
                }) + crate::probe::needs::RECOMMENDED_BYTES;
                detail += &format!("; {}", advice(rt, shm_size(&observed), used + want));
            }
            result.checks.push(CheckResult {
                id: check::id(&desired.path, key, "live"),
                name: format!("{} {key} (live)", desired.path),
                scope: "live".into(),
                status,
                detail,
                references: t.references.get(key).cloned().unwrap_or_default(),
            });
        }
        result.usage = observed.live.as_ref().map(|l| {
            let page = observed.host.page_size;
            PathUsage {
                size_bytes: l.size_pages.map(|p| p * page),
                used_bytes: l.usage.used_pages * page,
                free_inodes: match (l.nr_inodes, l.usage.used_inodes) {
                    (Some(n), Some(u)) if n > 0 => Some(n.saturating_sub(u)),
                    _ => None,
                },
            }
        });
    }
    result
}

/// What a missing fstab is reported as: `no fstab at /etc/fstab`.
pub fn no_fstab(o: &Observed) -> String {
    format!("no fstab at {}", o.fstab.path.display())
}

/// The tmpfs size in bytes, when limited.
fn shm_size(o: &Observed) -> Option<u64> {
    o.live
        .as_ref()
        .and_then(|l| l.size_pages)
        .filter(|p| *p > 0)
        .map(|p| p * o.host.page_size)
}
