//! Checks: a Desired split into one reduced Desired per property and scope (live, fstab,
//! sysctl), each judged by the same pure planner `apply` uses — a property passes when the
//! planner has nothing to do for it. Pure: no I/O.

use crate::audit::audit_report::{CheckResult, Status};
use crate::observe::Observed;
use crate::plan::plan;
use crate::spec::{Desired, Flag, FsType, MqueueLimits, SizeTarget, State};

/// One property to judge.
#[derive(Debug, Clone)]
pub struct Check {
    /// `mounted`, `fstab`, `mode`, `size`, `min_size`, `nr_inodes`, a flag, an mqueue limit
    pub key: String,
    pub scope: &'static str,
    pub desired: Desired,
}

/// The target with every managed property removed, for `state`.
fn bare(d: &Desired, state: State) -> Desired {
    Desired {
        state,
        mode: None,
        size: None,
        nr_inodes: None,
        flags: Vec::new(),
        mqueue: MqueueLimits::default(),
        backup: false,
        warnings: Vec::new(),
        mirror_live: false,
        writable: false,
        ..d.clone()
    }
}

/// The checks of a target; `files_only` keeps only fstab and sysctl checks (an image or chroot).
pub fn checks(d: &Desired, files_only: bool) -> Vec<Check> {
    let mut out = Vec::new();
    let mut scopes: Vec<(&'static str, State)> = Vec::new();
    if d.state.live() && !files_only {
        scopes.push(("live", State::Ephemeral));
    }
    if d.state.persistent() || (files_only && d.state != State::Absent) {
        scopes.push(("fstab", State::Present));
    }
    for (scope, state) in scopes {
        let base = bare(d, state);
        out.push(Check {
            key: if scope == "live" { "mounted" } else { "fstab" }.to_string(),
            scope,
            desired: base.clone(),
        });
        let mut add = |key: String, f: &dyn Fn(&mut Desired)| {
            let mut sub = base.clone();
            f(&mut sub);
            out.push(Check {
                key,
                scope,
                desired: sub,
            });
        };
        if let Some(m) = d.mode {
            // mqueue has no mode= option: its mode is only a live property
            if scope == "live" || d.fstype == FsType::Tmpfs {
                add("mode".into(), &|s| s.mode = Some(m));
            }
        }
        if let Some(size) = &d.size {
            let key = if matches!(size, SizeTarget::Exact(_)) {
                "size"
            } else {
                "min_size"
            };
            add(key.into(), &|s| s.size = Some(size.clone()));
        }
        if let Some(n) = &d.nr_inodes {
            add("nr_inodes".into(), &|s| s.nr_inodes = Some(n.clone()));
        }
        for flag in &d.flags {
            add(flag.name().into(), &|s| s.flags = vec![*flag]);
        }
        // A read-only mount is drift unless `ro` is asked for (apply remounts it read-write),
        // and so is a line that mounts it read-only at boot (apply drops its `ro`).
        if asks_writable(d) {
            add("rw".into(), &|s| s.flags = vec![Flag::Rw]);
        }
        if scope == "live" {
            for (name, v) in d.mqueue.managed() {
                add(name.into(), &|s| s.mqueue = limit(name, v));
            }
        }
    }
    if d.state.persistent() || files_only {
        let mut persisted = bare(d, State::Present);
        for (name, v) in d.mqueue.managed() {
            persisted.mqueue = limit(name, v);
            // sysctl checks judge the sysctl file alone: an fstab entry is another check
            out.push(Check {
                key: name.to_string(),
                scope: "sysctl",
                desired: persisted.clone(),
            });
        }
    }
    if d.state == State::Absent {
        out.push(Check {
            key: "no-fstab-entry".into(),
            scope: "fstab",
            desired: bare(d, State::Absent),
        });
    }
    out
}

/// Whether the target gets `rw` checks of its own: read-write is part of its desired state
/// (`Desired::writable`) without `ro` or `rw` asked for (those have their own checks).
fn asks_writable(d: &Desired) -> bool {
    d.writable && !d.flags.contains(&Flag::Ro) && !d.flags.contains(&Flag::Rw)
}

fn limit(name: &str, v: u64) -> MqueueLimits {
    let mut l = MqueueLimits::default();
    match name {
        "queues_max" => l.queues_max = Some(v),
        "msg_max" => l.msg_max = Some(v),
        _ => l.msgsize_max = Some(v),
    }
    l
}

/// The stable id of a check: `dev-shm.nodev.fstab`.
pub fn id(path: &str, key: &str, scope: &str) -> String {
    format!(
        "{}.{key}.{scope}",
        path.trim_start_matches('/').replace('/', "-")
    )
}

/// Judges one check against what was observed.
pub fn judge(c: &Check, observed: &Observed, references: Vec<String>) -> CheckResult {
    let path = &c.desired.path;
    let id = id(path, &c.key, c.scope);
    let (status, detail) = match plan(&c.desired, observed) {
        Ok(p) => {
            let relevant: Vec<String> = p
                .steps
                .iter()
                .filter(|s| {
                    c.scope != "sysctl"
                        || matches!(
                            &s.action,
                            crate::plan::Action::WriteFile {
                                param: "sysctl_path",
                                ..
                            }
                        )
                })
                .map(|s| s.summary.clone())
                .collect();
            if relevant.is_empty() {
                (Status::Pass, String::new())
            } else {
                (Status::Fail, format!("would {}", relevant.join("; ")))
            }
        }
        Err(e) => (Status::Fail, e.to_string()),
    };
    CheckResult {
        id,
        name: format!("{path} {} ({})", c.key, c.scope),
        scope: c.scope.to_string(),
        status,
        detail,
        references,
    }
}

/// The boot checks of a target: what the next boot gives the mount point (predicted from the
/// fstab line and the init system, see `plan::boot`) against each desired property. A target
/// that does not ask for an fstab entry, and whose mount no fstab line or init system
/// provides, gets none: what mounts it at boot cannot be known from here.
pub fn boot_checks(
    d: &Desired,
    o: &Observed,
    references: &dyn Fn(&str) -> Vec<String>,
) -> Vec<CheckResult> {
    if d.state == State::Absent {
        return Vec::new();
    }
    let b = crate::plan::boot::of(o, d);
    if b.mount.is_none() && !d.state.persistent() {
        return Vec::new();
    }
    let how = b.path.describe(b.systemd);
    let line = b
        .line
        .map(|i| format!("{} line {}", o.fstab.path.display(), i + 1))
        .unwrap_or_else(|| {
            if o.fstab.exists() {
                format!("no entry in {}", o.fstab.path.display())
            } else {
                crate::audit::no_fstab(o)
            }
        });
    let fix = format!("shmguard apply --path {} writes a line boot keeps", d.path);
    let mut out = Vec::new();
    let mut push = |key: &str, ok: bool, gives: String| {
        out.push(CheckResult {
            id: id(&d.path, key, "boot"),
            name: format!("{} {key} (boot)", d.path),
            scope: "boot".to_string(),
            status: if ok { Status::Pass } else { Status::Fail },
            detail: if ok {
                String::new()
            } else {
                format!("the next boot gives {gives} ({how}; {line}): {fix}")
            },
            references: references(key),
        });
    };
    let Some(m) = &b.mount else {
        push("mounted", false, "no mount".to_string());
        return out;
    };
    push("mounted", true, String::new());
    if let Some(want) = d.mode.filter(|_| d.fstype == FsType::Tmpfs) {
        push("mode", m.mode == want.0, format!("mode {:04o}", m.mode));
    }
    if let (Some(target), Some(pages)) = (&d.size, m.size_pages) {
        let key = if matches!(target, SizeTarget::Exact(_)) {
            "size"
        } else {
            "min_size"
        };
        let ok = crate::plan::wanted_pages(target, pages, &o.host).is_none();
        let shown = crate::spec::HumanBytes(pages * o.host.page_size);
        push(key, ok, format!("size {shown}"));
    }
    if let (Some(q), Some(n)) = (&d.nr_inodes, m.nr_inodes) {
        push("nr_inodes", q.count(&o.host) == n, format!("nr_inodes {n}"));
    }
    for flag in &d.flags {
        let words = m.flags.words().join(",");
        push(flag.name(), m.flags.satisfies(*flag), words);
    }
    if asks_writable(d) {
        push("rw", !m.flags.read_only, m.flags.words().join(","));
    }
    // Say which way boot was assumed to go, also when it passes.
    out[0].detail = format!("{how}; {line}");
    out
}
