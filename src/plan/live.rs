//! Steps for the live mount: mkdir, mount or remount (sizes, inodes, flags), chmod, and the
//! live mqueue limits. Pure: no I/O.

use crate::observe::{LiveMount, PathKind};
use crate::plan::{Action, Plan, PlanError, Step};
use crate::spec::{Desired, Flag, FsType, Host, HumanBytes, MountFlags, Quantity, SizeTarget};

/// Pages a size target wants, given the current pages (`None` when nothing has to change).
/// `N%` is compared within one page, since the kernel's own rounding of N% and of its default
/// can differ by one.
pub fn wanted_pages(target: &SizeTarget, current: u64, host: &Host) -> Option<u64> {
    match target {
        SizeTarget::Exact(q) => {
            let want = q.pages(host);
            let same = if q.is_percent() {
                want.abs_diff(current) <= 1
            } else {
                want == current
            };
            (!same).then_some(want)
        }
        SizeTarget::AtLeast(q) => {
            let want = q.pages(host);
            (current != 0 && current < want).then_some(want)
        }
    }
}

fn human_pages(pages: u64, host: &Host) -> String {
    HumanBytes(pages * host.page_size).to_string()
}

fn size_text(target: &SizeTarget) -> &Quantity {
    match target {
        SizeTarget::Exact(q) | SizeTarget::AtLeast(q) => q,
    }
}

/// Value to write as nr_inodes=: the user's text when absolute, else the resolved count.
pub(super) fn inodes_text(q: &Quantity, host: &Host) -> String {
    if q.is_percent() {
        q.count(host).to_string()
    } else {
        q.text.clone()
    }
}

pub(super) fn plan(d: &Desired, plan: &mut Plan) -> Result<(), PlanError> {
    match plan.expected.path_kind {
        PathKind::Symlink => {
            return Err(PlanError::PathIsSymlink {
                path: d.path.clone(),
                why: d.link_refused.clone(),
            });
        }
        PathKind::Other => {
            return Err(PlanError::PathNotDirectory {
                path: d.path.clone(),
            });
        }
        PathKind::Missing | PathKind::Directory => {}
    }
    match plan.expected.live.clone() {
        None => plan_mount(d, plan),
        Some(live) => plan_remount(d, &live, plan)?,
    }
    plan_mqueue_limits(d, plan)
}

fn plan_mount(d: &Desired, plan: &mut Plan) {
    let host = plan.expected.host;
    if plan.expected.path_kind == PathKind::Missing {
        plan.steps.push(Step {
            action: Action::CreateDir {
                path: d.path.clone(),
            },
            summary: format!("create directory {}", d.path),
            undo: Some(Action::RemoveDir {
                path: d.path.clone(),
            }),
        });
        plan.expected.path_kind = PathKind::Directory;
    }
    let flags = d
        .flags
        .iter()
        .fold(MountFlags::default(), |f, fl| f.with(*fl));
    let mut data = Vec::new();
    let mut size_pages = None;
    let mut nr_inodes = None;
    let mut mode = 0o1777;
    if d.fstype == FsType::Tmpfs {
        let default = host.default_tmpfs_pages();
        let pages = d
            .size
            .as_ref()
            .and_then(|t| wanted_pages(t, default, &host));
        if let (Some(_), Some(t)) = (pages, &d.size) {
            data.push(format!("size={}", size_text(t).text));
        }
        size_pages = Some(pages.unwrap_or(default));
        nr_inodes = Some(host.default_tmpfs_inodes());
        if let Some(q) = &d.nr_inodes {
            data.push(format!("nr_inodes={}", inodes_text(q, &host)));
            nr_inodes = Some(q.count(&host));
        }
        if let Some(m) = d.mode {
            if m.0 != 0o1777 {
                data.push(format!("mode={:o}", m.0));
            }
            mode = m.0;
        }
    }
    let source = plan
        .expected
        .fstab
        .doc
        .entries_at(d.path.as_bytes())
        .first()
        .and_then(|i| plan.expected.fstab.doc.entry(*i))
        .map(|e| e.spec)
        .unwrap_or_else(|| d.fstype.word().as_bytes().to_vec());
    let data = data.join(",");
    let shown: Vec<String> = flags
        .words()
        .into_iter()
        .chain(data.split(',').filter(|s| !s.is_empty()).map(String::from))
        .collect();
    plan.steps.push(Step {
        action: Action::Mount {
            path: d.path.clone(),
            source: source.clone(),
            fstype: d.fstype,
            flags,
            data,
        },
        summary: format!(
            "mount {} on {} ({})",
            d.fstype.word(),
            d.path,
            shown.join(",")
        ),
        undo: Some(Action::Unmount {
            path: d.path.clone(),
        }),
    });
    plan.expected.live = Some(LiveMount {
        mount_id: 0,
        dev: (0, 0),
        fstype: d.fstype.word().to_string(),
        source,
        flags,
        super_options: vec!["rw".into()],
        size_pages,
        nr_inodes,
        mode,
        usage: Default::default(),
    });
    if d.fstype == FsType::Mqueue {
        if let Some(m) = d.mode.filter(|m| m.0 != 0o1777) {
            push_chmod(d, None, 0o1777, m.0, plan);
        }
    }
}

fn plan_remount(d: &Desired, live: &LiveMount, plan: &mut Plan) -> Result<(), PlanError> {
    let host = plan.expected.host;
    if live.fstype != d.fstype.word() {
        return Err(PlanError::WrongFstype {
            path: d.path.clone(),
            found: live.fstype.clone(),
            wanted: d.fstype.word(),
        });
    }
    let mut next = live.clone();
    let mut data = Vec::new();
    // What the undo passes back: the old value of each filesystem option changed.
    let mut old_data = Vec::new();
    let mut changes = Vec::new();
    if let (Some(target), Some(current)) = (&d.size, live.size_pages) {
        if let Some(want) = wanted_pages(target, current, &host) {
            let q = size_text(target);
            let param = if matches!(target, SizeTarget::Exact(_)) {
                "size"
            } else {
                "min_size"
            };
            if current == 0 && want != 0 {
                return Err(PlanError::CannotLimit {
                    param,
                    value: q.text.clone(),
                    path: d.path.clone(),
                });
            }
            if want != 0 && want < live.usage.used_pages {
                return Err(PlanError::BelowUsage {
                    param,
                    value: q.text.clone(),
                    used: human_pages(live.usage.used_pages, &host),
                });
            }
            data.push(format!("size={}", q.text));
            old_data.push(format!("size={}k", current * host.page_size / 1024));
            changes.push(format!(
                "size {} -> {}",
                human_pages(current, &host),
                human_pages(want, &host)
            ));
            next.size_pages = Some(want);
        }
    }
    if let (Some(q), Some(current)) = (&d.nr_inodes, live.nr_inodes) {
        let want = q.count(&host);
        if want != current {
            if current == 0 {
                return Err(PlanError::CannotLimit {
                    param: "nr_inodes",
                    value: q.text.clone(),
                    path: d.path.clone(),
                });
            }
            if let Some(used) = live.usage.used_inodes.filter(|u| want != 0 && want < *u) {
                return Err(PlanError::BelowUsage {
                    param: "nr_inodes",
                    value: q.text.clone(),
                    used: format!("{used} inodes"),
                });
            }
            data.push(format!("nr_inodes={}", inodes_text(q, &host)));
            old_data.push(format!("nr_inodes={current}"));
            changes.push(format!("nr_inodes {current} -> {want}"));
            next.nr_inodes = Some(want);
        }
    }
    // A read-only mount breaks every program that creates objects in it: unless `ro` is
    // asked for, read-write is part of the desired state (and so comes before any chmod,
    // which a read-only filesystem would refuse with EROFS).
    let wants_rw = d.flags.contains(&Flag::Rw) || (d.writable && !d.flags.contains(&Flag::Ro));
    let mut flags = d.flags.iter().fold(live.flags, |f, fl| f.with(*fl));
    if wants_rw {
        flags = flags.with(Flag::Rw);
    }
    if flags != live.flags {
        let (old, new) = (live.flags.words(), flags.words());
        let added: Vec<&String> = new.iter().filter(|w| !old.contains(w)).collect();
        let removed: Vec<&String> = old.iter().filter(|w| !new.contains(w)).collect();
        let join = |v: Vec<&String>| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        if !added.is_empty() {
            changes.push(format!("add {}", join(added)));
        }
        if !removed.is_empty() {
            changes.push(format!("drop {}", join(removed)));
        }
        next.flags = flags;
    }
    // `rw` on a read-only superblock (mountinfo's last field `ro`): the per-mount flag alone
    // leaves every write failing with EROFS.
    let superblock_rw = wants_rw && live.super_options.iter().any(|o| o == "ro");
    if superblock_rw {
        changes.push("make the filesystem (superblock) read-write".into());
        for o in next.super_options.iter_mut().filter(|o| *o == "ro") {
            *o = "rw".into();
        }
    }
    if !changes.is_empty() {
        let keep_super: Vec<String> = live
            .super_options
            .iter()
            .filter(|o| matches!(o.as_str(), "sync" | "dirsync" | "lazytime"))
            .cloned()
            .collect();
        // A superblock made read-write is not made read-only again: only the flags and sizes.
        let undo = Action::Remount {
            path: d.path.clone(),
            dev: live.dev,
            flags: live.flags,
            keep_super: keep_super.clone(),
            data: old_data.join(","),
            superblock_rw: false,
        };
        plan.steps.push(Step {
            action: Action::Remount {
                path: d.path.clone(),
                dev: live.dev,
                flags,
                keep_super,
                data: data.join(","),
                superblock_rw,
            },
            summary: format!("remount {}: {}", d.path, changes.join(", ")),
            undo: Some(undo),
        });
    }
    plan.expected.live = Some(next);
    if let Some(m) = d.mode.filter(|m| m.0 != live.mode) {
        push_chmod(d, Some(live.dev), live.mode, m.0, plan);
    }
    Ok(())
}

fn push_chmod(d: &Desired, dev: Option<(u32, u32)>, from: u32, to: u32, plan: &mut Plan) {
    plan.steps.push(Step {
        action: Action::Chmod {
            path: d.path.clone(),
            dev,
            mode: to,
        },
        summary: format!("chmod {} {:04o} -> {:04o}", d.path, from, to),
        undo: Some(Action::Chmod {
            path: d.path.clone(),
            dev,
            mode: from,
        }),
    });
    if let Some(live) = plan.expected.live.as_mut() {
        live.mode = to;
    }
}

fn plan_mqueue_limits(d: &Desired, plan: &mut Plan) -> Result<(), PlanError> {
    for (name, want) in d.mqueue.managed() {
        let current = plan.expected.mqueue_limits.get(name).copied();
        let Some(current) = current else {
            return Err(PlanError::NoMqueueSysctl { param: name });
        };
        if current != want {
            plan.steps.push(Step {
                action: Action::SetMqueueLimit {
                    name: name.to_string(),
                    value: want,
                },
                summary: format!("set fs.mqueue.{name} {current} -> {want}"),
                undo: Some(Action::SetMqueueLimit {
                    name: name.to_string(),
                    value: current,
                }),
            });
            plan.expected.mqueue_limits.insert(name.to_string(), want);
        }
    }
    Ok(())
}
