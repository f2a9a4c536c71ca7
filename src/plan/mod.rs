//! plan(&Desired, &Observed) -> Plan: the steps that bring the system to the desired state,
//! each with a readable summary, and the state expected once they are done. Validates every
//! step before any is taken. Pure: no I/O, clock or environment.

pub mod boot;
mod fstab_entry;
mod live;
mod noexec_warning;
mod plan_error;
mod sysctl;

use std::path::PathBuf;

use crate::observe::line_file::{LineFile, Shared};
use crate::observe::{FileState, Observed};
use crate::spec::{Desired, FsType, MountFlags};

pub use live::wanted_pages;
pub use plan_error::PlanError;

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// mkdir -p the mount point
    CreateDir { path: String },
    /// mount(2) a new filesystem
    Mount {
        path: String,
        source: Vec<u8>,
        fstype: FsType,
        flags: MountFlags,
        /// filesystem options (`size=4G,nr_inodes=1024,mode=1777`)
        data: String,
    },
    /// mount(2) with MS_REMOUNT, passing every per-mount flag the mount keeps
    Remount {
        path: String,
        /// the mount's st_dev, checked before changing it
        dev: (u32, u32),
        flags: MountFlags,
        /// superblock flags to keep (`sync`, `dirsync`, `lazytime`)
        keep_super: Vec<String>,
        /// filesystem options to change; empty: per-mount flags only (MS_BIND)
        data: String,
        /// the superblock is read-only and `rw` was asked for: remount it too (no MS_BIND),
        /// or the mount is rw while every write still fails with EROFS
        superblock_rw: bool,
    },
    /// fchmod the mount root, opened without following links
    Chmod {
        path: String,
        dev: Option<(u32, u32)>,
        mode: u32,
    },
    /// write /proc/sys/fs/mqueue/NAME
    SetMqueueLimit { name: String, value: u64 },
    /// umount(2) what a Mount step mounted (its undo)
    Unmount { path: String },
    /// rmdir what a CreateDir step created (its undo)
    RemoveDir { path: String },
    /// remove a file a WriteFile step created, provided it still holds `written` (its undo)
    RemoveCreatedFile {
        param: &'static str,
        path: PathBuf,
        written: Vec<u8>,
    },
    /// replace a file atomically, provided it still holds `before` (None: create it, which
    /// must not exist)
    WriteFile {
        param: &'static str,
        path: PathBuf,
        before: Option<Shared>,
        /// the new content, rendered only as it is written
        after: LineFile,
        /// keep a copy of the old file first, and of shmguard's copies at most this many, the
        /// newest (0: all); None: no copy
        backup: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub action: Action,
    /// one line for people: what changes, from what to what
    pub summary: String,
    /// the action that puts the live system back as it was, when a later step fails (a file
    /// write is undone by apply, which holds both contents)
    pub undo: Option<Action>,
}

/// What to do, and what the system will look like afterwards. Empty when nothing is to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
    /// the observed state with every step applied
    pub expected: Observed,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// The step that replaces a config file with `doc` (whose lines are `after`), after which
/// `file` holds it. Nothing is rendered here: apply streams the lines into the new file.
/// Refuses what an atomic rename cannot replace (see `check_replaceable`).
fn replace_file<T>(
    file: &mut FileState<T>,
    param: &'static str,
    doc: T,
    after: LineFile,
    backup: Option<u32>,
    summary: String,
) -> Result<Step, PlanError> {
    check_replaceable(param, file)?;
    let step = Step {
        action: Action::WriteFile {
            param,
            path: file.path.clone(),
            before: file.bytes.clone(),
            after,
            backup,
        },
        summary,
        undo: None,
    };
    file.doc = doc;
    file.replaced = true;
    Ok(step)
}

pub fn plan(desired: &Desired, observed: &Observed) -> Result<Plan, PlanError> {
    let mut plan = Plan {
        steps: Vec::new(),
        warnings: desired.warnings.clone(),
        expected: observed.clone(),
    };
    if desired.state.live() {
        live::plan(desired, &mut plan)?;
    }
    fstab_entry::plan(desired, &mut plan)?;
    if desired.fstype == FsType::Mqueue {
        sysctl::plan(desired, &mut plan)?;
    }
    let path = desired.path.as_bytes();
    noexec_warning::keep_only_when_added(&mut plan.warnings, observed, &plan.expected, path);
    Ok(plan)
}

/// Refuses a file whose meaning shmguard cannot be sure of: a NUL byte ends a line early for
/// libmount and systemd, so the entries they see are not the ones parsed here.
fn check_readable<T>(param: &'static str, file: &FileState<T>) -> Result<(), PlanError> {
    let bytes = file.content();
    match memchr::memchr(0, bytes) {
        Some(at) => Err(PlanError::FileHasNul {
            param,
            path: file.path.display().to_string(),
            line: 1 + bytes[..at].iter().filter(|b| **b == b'\n').count(),
        }),
        None => Ok(()),
    }
}

/// Refuses to plan a write that cannot be an atomic replacement of the file itself.
fn check_replaceable<T>(param: &'static str, file: &FileState<T>) -> Result<(), PlanError> {
    let path = file.path.display().to_string();
    if file.is_symlink {
        return Err(PlanError::FileIsSymlink { param, path });
    }
    if file.is_mount_point {
        return Err(PlanError::FileIsMountPoint { param, path });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
