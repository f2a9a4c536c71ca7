//! The engine every front end calls: Params -> Desired -> observe -> plan -> (apply unless
//! check mode) -> observe again -> Report. Check mode is decided here, once.
//!
//! Concurrency: a run that has something to change takes the lock of the files it manages
//! (fstab, and the sysctl file for persisted mqueue limits: lock files under
//! /run/lock/shmguard, see `apply::file_lock`) and of the mount point (a flock on the
//! directory itself), then
//! observes and plans AGAIN under the lock and applies that plan. The first, unlocked plan
//! only decides whether a lock (and root) is needed at all, so compliant hosts and check mode
//! never wait or create lock files. Planning from bytes read under the lock is what keeps
//! parallel runs from losing each other's updates: each one edits the file the previous one
//! left, and the live mount the previous one left. Locks are taken in one order (fstab,
//! sysctl, mount point), so runs cannot deadlock.

use crate::apply::{FileLock, LOCK_WAIT, apply, lock, lock_dir, remove_stale_temp_files};
use crate::observe::{Observed, observe, privilege};
use crate::plan::{Plan, plan};
use crate::report::{Report, StateView, diff};
use crate::spec::{Desired, FsType, Params, State};

/// How to run: check mode plans without applying; diff mode adds before/after texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunMode {
    pub check: bool,
    pub diff: bool,
}

fn failed(path: String, msg: String, check: bool) -> Report {
    Report {
        failed: true,
        msg,
        path,
        check_mode: check,
        ..Report::default()
    }
}

/// Observes and plans; a failure is already the Report to return.
fn observe_and_plan(desired: &Desired, check: bool) -> Result<(Observed, Plan), Box<Report>> {
    let path = desired.path.clone();
    let before =
        observe(desired).map_err(|e| Box::new(failed(path.clone(), e.to_string(), check)))?;
    match plan(desired, &before) {
        Ok(p) => Ok((before, p)),
        Err(e) => {
            let mut r = failed(path, e.to_string(), check);
            r.before = Some(StateView::of(&before, desired));
            Err(Box::new(r))
        }
    }
}

/// Takes the locks of the files this target manages, then of the mount point, in that fixed
/// order, and removes the temporary files of killed runs it finds beside the files (safe only
/// under the lock). An ephemeral target manages no file: it locks only the mount point (a
/// flock on the directory itself, so it creates nothing beside /etc/fstab).
fn take_locks(desired: &Desired, warnings: &mut Vec<String>) -> Result<Vec<FileLock>, String> {
    let mut files = Vec::new();
    if desired.state != State::Ephemeral {
        files.push(("fstab_path", &desired.fstab_path));
    }
    if desired.fstype == FsType::Mqueue
        && desired.state.persistent()
        && !desired.mqueue.managed().is_empty()
    {
        files.push(("sysctl_path", &desired.sysctl_path));
    }
    let mut locks = Vec::new();
    for (param, file) in files {
        let taken = lock(file, LOCK_WAIT, &locks).map_err(|e| format!("{param}: {e}"))?;
        locks.extend(taken);
        for stale in remove_stale_temp_files(file) {
            warnings.push(format!(
                "removed {}, the temporary file of a run that was killed",
                stale.display()
            ));
        }
    }
    if desired.state.live() {
        let path = std::path::Path::new(&desired.path);
        let taken = lock_dir(path, LOCK_WAIT, &locks).map_err(|e| format!("path: {e}"))?;
        locks.extend(taken);
    }
    Ok(locks)
}

/// Runs one target to completion and reports; every failure is a Report with failed: true.
pub fn run(params: &Params, mode: RunMode) -> Report {
    let desired = match Desired::from_params(params) {
        Ok(d) => d,
        Err(e) => {
            let path = params
                .path
                .clone()
                .unwrap_or_else(|| crate::spec::params::DEFAULT_PATH.into());
            return failed(path, e.to_string(), mode.check);
        }
    };
    let desired = match crate::observe::follow_link(&desired) {
        Ok(d) => d,
        Err(e) => return failed(desired.path.clone(), e.to_string(), mode.check),
    };
    let path = desired.path.clone();
    let (mut before, mut plan) = match observe_and_plan(&desired, mode.check) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let mut lock_warnings = Vec::new();
    let _locks = if mode.check || plan.is_empty() {
        Vec::new()
    } else {
        if !privilege::can_administer() {
            let todo: Vec<String> = plan.steps.iter().map(|s| s.summary.clone()).collect();
            let mut r = failed(
                path.clone(),
                format!(
                    "{path}: needs root (CAP_SYS_ADMIN) to apply; nothing was changed. It would: {}. Run it as root (Ansible: become: true), or audit without root with check mode or `shmguard status`",
                    todo.join("; ")
                ),
                false,
            );
            if let Some(a) = crate::observe::container::denied_advice(&desired, &before) {
                r.msg += &format!("; {a}");
            }
            r.before = Some(StateView::of(&before, &desired));
            return r;
        }
        let locks = match take_locks(&desired, &mut lock_warnings) {
            Ok(l) => l,
            Err(msg) => {
                let mut r = failed(path.clone(), format!("{path}: {msg}"), false);
                r.before = Some(StateView::of(&before, &desired));
                return r;
            }
        };
        // Under the lock: what another run changed meanwhile is seen, and planned from.
        (before, plan) = match observe_and_plan(&desired, false) {
            Ok(x) => x,
            Err(r) => return *r,
        };
        locks
    };
    let mut report = Report {
        changed: !plan.is_empty(),
        path: path.clone(),
        check_mode: mode.check,
        before: Some(StateView::of(&before, &desired)),
        warnings: plan.warnings.clone(),
        ..Report::default()
    };
    report.warnings.extend(lock_warnings);
    let summaries: Vec<String> = plan.steps.iter().map(|s| s.summary.clone()).collect();
    let after: Observed = if mode.check || plan.is_empty() {
        report.actions = summaries;
        plan.expected.clone()
    } else {
        match apply(&plan) {
            Ok(applied) => {
                report.actions = applied.done;
                report.backup_files = applied
                    .backups
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                report.backup_file = report.backup_files.first().cloned();
                report.warnings.extend(applied.warnings);
            }
            Err(e) => {
                report.failed = true;
                // All or nothing: what was done before the failure was undone; only what
                // could not be undone is still a change.
                report.changed = !e.left.is_empty();
                report.msg = format!("{path}: {e}");
                if e.cause.contains("EPERM") {
                    if let Some(a) = crate::observe::container::denied_advice(&desired, &before) {
                        report.msg += &format!("; {a}");
                    }
                }
                report.actions = e.applied.done.clone();
                report
                    .actions
                    .extend(e.undone.iter().map(|u| format!("undone: {u}")));
            }
        }
        match observe(&desired) {
            Ok(o) => o,
            Err(e) => {
                report
                    .warnings
                    .push(format!("could not read the state back after applying: {e}"));
                plan.expected.clone()
            }
        }
    };
    if !report.failed && !mode.check {
        if let Ok(again) = crate::plan::plan(&desired, &after) {
            for s in again.steps {
                report.warnings.push(format!(
                    "still differs after applying (the kernel did not take it?): {}",
                    s.summary
                ));
            }
        }
    }
    report.after = Some(StateView::of(&after, &desired));
    if mode.diff {
        report.diff = Some(diff(&path, &before, &after, &desired));
    }
    if report.msg.is_empty() {
        report.msg = summary_sentence(&path, &report);
    }
    report
}

fn summary_sentence(path: &str, r: &Report) -> String {
    let n = r.actions.len();
    let plural = if n == 1 { "" } else { "s" };
    match (n, r.check_mode) {
        (0, _) => format!("{path} already matches the desired state"),
        (_, true) => format!(
            "{path}: would make {n} change{plural}: {}",
            r.actions.join("; ")
        ),
        (_, false) => format!("{path}: made {n} change{plural}: {}", r.actions.join("; ")),
    }
}

/// Everything `observe` read about one mount point's live mount and files, as JSON: what the
/// hidden `status --observed` prints, so the end-to-end tests can hold the statmount(2)
/// observation against the mountinfo one (`SHMGUARD_OBSERVE=mountinfo`) and findmnt(8).
pub fn observed_json(params: &Params) -> Result<serde_json::Value, String> {
    let desired = Desired::from_params(params).map_err(|e| e.to_string())?;
    let desired = crate::observe::follow_link(&desired).map_err(|e| e.to_string())?;
    let o = observe(&desired).map_err(|e| e.to_string())?;
    let live = o.live.as_ref().map(|l| {
        serde_json::json!({
            "mount_id": l.mount_id,
            "dev": format!("{}:{}", l.dev.0, l.dev.1),
            "fstype": l.fstype,
            "source": String::from_utf8_lossy(&l.source),
            "flags": l.flags.words(),
            "flags_debug": format!("{:?}", l.flags),
            "super_options": l.super_options,
            "size_pages": l.size_pages,
            "nr_inodes": l.nr_inodes,
            "mode": format!("{:o}", l.mode),
        })
    });
    Ok(serde_json::json!({
        "path_kind": format!("{:?}", o.path_kind),
        "live": live,
        "fstab_is_mount_point": o.fstab.is_mount_point,
        "sysctl_is_mount_point": o.sysctl.as_ref().map(|s| s.is_mount_point),
    }))
}

/// The current state of one mount point, read-only.
pub fn status(params: &Params) -> Result<StateView, String> {
    let desired = Desired::from_params(params).map_err(|e| e.to_string())?;
    let desired = crate::observe::follow_link(&desired).map_err(|e| e.to_string())?;
    let observed = observe(&desired).map_err(|e| e.to_string())?;
    let mut v = StateView::of(&observed, &desired);
    v.free_inodes = observed
        .live
        .as_ref()
        .and_then(|l| match (l.nr_inodes, l.usage.used_inodes) {
            (Some(total), Some(used)) if total > 0 => Some(total.saturating_sub(used)),
            _ => None,
        });
    if observed.fstab.bytes.is_none() {
        v.fstab_missing = Some(observed.fstab.path.display().to_string());
    }
    Ok(v)
}
