//! apply(&Plan): carries the steps out, in order — the only code that changes the system.
//! Stops at the first failure and says what was done before it.

mod atomic_file;
mod chmod;
mod file_lock;
mod lock_name;
mod mount;
mod mount_root;

use std::fmt;
use std::path::PathBuf;

use crate::observe::line_file::LineFile;
use crate::plan::{Action, Plan, Step};

pub use atomic_file::{WriteError, prune_backups, remove_stale_temp_files, write_atomically};
pub use file_lock::{FileLock, LOCK_DIR, LockError, WAIT as LOCK_WAIT, lock, lock_dir, lock_name};

/// What a finished apply did.
#[derive(Debug, Default)]
pub struct Applied {
    /// summaries of the steps carried out
    pub done: Vec<String>,
    /// copies kept before files were replaced
    pub backups: Vec<PathBuf>,
    /// what went wrong without failing the run (an old copy that could not be removed)
    pub warnings: Vec<String>,
}

/// A step that failed; the steps before it were done, then undone where they could be.
#[derive(Debug)]
pub struct ApplyError {
    pub step: String,
    pub cause: String,
    pub applied: Applied,
    /// steps done and then undone (all or nothing), in the order they were undone
    pub undone: Vec<String>,
    /// steps done whose undo failed: still changed, with why
    pub left: Vec<String>,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to {}: {}", self.step, self.cause)?;
        if self.applied.done.is_empty() {
            return write!(f, "; nothing was changed");
        }
        if !self.undone.is_empty() {
            write!(f, "; undone: {}", self.undone.join("; "))?;
        }
        if self.left.is_empty() {
            write!(f, "; nothing is left changed")
        } else {
            write!(f, "; STILL CHANGED: {}", self.left.join("; "))
        }
    }
}

impl std::error::Error for ApplyError {}

/// Carries out one action; a replaced file's backups go to `applied`.
fn run(action: &Action, summary: &str, applied: &mut Applied) -> Result<(), String> {
    match action {
        Action::CreateDir { path } => std::fs::create_dir_all(path).map_err(|e| e.to_string()),
        Action::RemoveDir { path } => std::fs::remove_dir(path).map_err(|e| e.to_string()),
        Action::Mount {
            path,
            source,
            fstype,
            flags,
            data,
        } => mount::mount(path, source, fstype.word(), *flags, data),
        Action::Unmount { path } => mount::unmount(path),
        Action::Remount {
            path,
            dev,
            flags,
            keep_super,
            data,
            superblock_rw,
        } => mount::remount(path, *dev, *flags, keep_super, data, *superblock_rw),
        Action::Chmod { path, dev, mode } => chmod::chmod_mount_root(path, *dev, *mode),
        Action::SetMqueueLimit { name, value } => {
            std::fs::write(format!("/proc/sys/fs/mqueue/{name}"), format!("{value}\n"))
                .map_err(|e| e.to_string())
        }
        Action::RemoveCreatedFile {
            param,
            path,
            written,
        } => remove_created_file(path, written).map_err(|e| format!("{param}: {e}")),
        Action::WriteFile {
            param,
            path,
            before,
            after,
            backup,
        } => match write_atomically(
            path,
            before.as_deref().map(Vec::as_slice),
            after,
            backup.is_some(),
        ) {
            Ok(b) => {
                // Only once the new copy and the new file are on disk: the old copies go.
                if let (Some(new), Some(keep)) = (&b, backup) {
                    let (_removed, problems) = prune_backups(path, new, *keep);
                    applied
                        .warnings
                        .extend(problems.into_iter().map(|p| format!("{param}: {p}")));
                }
                applied.backups.extend(b);
                Ok(())
            }
            Err(e) => {
                if e.replaced {
                    applied.done.push(summary.to_string());
                }
                Err(format!("{param}: {e}"))
            }
        },
    }
}

/// Removes a file this run created, provided it still holds what was written, and makes
/// the removal durable.
fn remove_created_file(path: &std::path::Path, written: &[u8]) -> Result<(), String> {
    let now = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if now != written {
        return Err(format!(
            "{} changed since shmguard created it (another writer?); left as it is",
            path.display()
        ));
    }
    std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", dir.display()))
}

/// The action that undoes a step just done: the planner's, or for a replaced file, writing
/// back what it held (only if it still holds what was written), and for a created file,
/// removing it (likewise).
fn undo_of(step: &Step) -> Option<Action> {
    match &step.action {
        Action::WriteFile {
            param,
            path,
            before: None,
            after,
            ..
        } => Some(Action::RemoveCreatedFile {
            param,
            path: path.clone(),
            written: after.render(),
        }),
        Action::WriteFile {
            param,
            path,
            before: Some(before),
            after,
            ..
        } => Some(Action::WriteFile {
            param,
            path: path.clone(),
            before: Some(std::sync::Arc::new(after.render())),
            after: LineFile::from_shared(before.clone()),
            backup: None,
        }),
        _ => step.undo.clone(),
    }
}

/// Carries the steps out in order. All or nothing: when a step fails, the steps already done
/// are undone in reverse order, and the error says what was undone and what could not be.
pub fn apply(plan: &Plan) -> Result<Applied, Box<ApplyError>> {
    let mut applied = Applied::default();
    let mut undo: Vec<(String, Option<Action>)> = Vec::new();
    for step in &plan.steps {
        match run(&step.action, &step.summary, &mut applied) {
            Ok(()) => {
                applied.done.push(step.summary.clone());
                undo.push((step.summary.clone(), undo_of(step)));
            }
            Err(cause) => {
                let (mut undone, mut left) = (Vec::new(), Vec::new());
                for (summary, action) in undo.into_iter().rev() {
                    let mut scratch = Applied::default();
                    match action.map(|a| run(&a, &summary, &mut scratch)) {
                        Some(Ok(())) => undone.push(summary),
                        Some(Err(e)) => left.push(format!("{summary} (undoing it failed: {e})")),
                        None => left.push(format!("{summary} (it cannot be undone)")),
                    }
                }
                return Err(Box::new(ApplyError {
                    step: step.summary.clone(),
                    cause,
                    applied,
                    undone,
                    left,
                }));
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_file_is_undone_by_removing_it_only_while_it_holds_what_was_written() {
        let tmp = tempfile::Builder::new()
            .prefix("shmguard-unit-undo-")
            .tempdir()
            .unwrap();
        let path = tmp.path().join("fstab");
        let step = Step {
            action: Action::WriteFile {
                param: "fstab_path",
                path: path.clone(),
                before: None,
                after: LineFile::parse(b"tmpfs /dev/shm tmpfs nodev 0 0\n"),
                backup: Some(5),
            },
            summary: "create".into(),
            undo: None,
        };
        let mut applied = Applied::default();
        run(&step.action, "create", &mut applied).unwrap();
        assert!(applied.backups.is_empty(), "nothing to back up");
        let undo = undo_of(&step).unwrap();
        std::fs::write(&path, b"an editor's\n").unwrap();
        let e = run(&undo, "undo", &mut Applied::default()).unwrap_err();
        assert!(
            e.starts_with("fstab_path: ") && e.contains("changed since"),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"an editor's\n");
        std::fs::write(&path, b"tmpfs /dev/shm tmpfs nodev 0 0\n").unwrap();
        run(&undo, "undo", &mut Applied::default()).unwrap();
        assert!(!path.exists());
    }
}
