//! apply(&Plan): carries the steps out, in order — the only code that changes the system.
//! Stops at the first failure and says what was done before it.

mod atomic_file;
mod chmod;
mod file_lock;
mod mount;
mod mount_root;

use std::fmt;
use std::path::PathBuf;

use crate::plan::{Action, Plan};

pub use atomic_file::{WriteError, remove_stale_temp_files, write_atomically};
pub use file_lock::{FileLock, LockError, WAIT as LOCK_WAIT, lock, lock_dir};

/// What a finished apply did.
#[derive(Debug, Default)]
pub struct Applied {
    /// summaries of the steps carried out
    pub done: Vec<String>,
    /// copies kept before files were replaced
    pub backups: Vec<PathBuf>,
}

/// A step that failed; the steps before it were done.
#[derive(Debug)]
pub struct ApplyError {
    pub step: String,
    pub cause: String,
    pub applied: Applied,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to {}: {}", self.step, self.cause)?;
        if self.applied.done.is_empty() {
            write!(f, "; nothing was changed")
        } else {
            write!(f, "; already done: {}", self.applied.done.join("; "))
        }
    }
}

impl std::error::Error for ApplyError {}

pub fn apply(plan: &Plan) -> Result<Applied, ApplyError> {
    let mut applied = Applied::default();
    for step in &plan.steps {
        let result = match &step.action {
            Action::CreateDir { path } => std::fs::create_dir_all(path).map_err(|e| e.to_string()),
            Action::Mount {
                path,
                source,
                fstype,
                flags,
                data,
            } => mount::mount(path, source, fstype.word(), *flags, data),
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
            Action::WriteFile {
                param,
                path,
                before,
                after,
                backup,
            } => match write_atomically(path, before.as_deref().map(Vec::as_slice), after, *backup)
            {
                Ok(b) => {
                    applied.backups.extend(b);
                    Ok(())
                }
                Err(e) => {
                    if e.replaced {
                        applied.done.push(step.summary.clone());
                    }
                    Err(format!("{param}: {e}"))
                }
            },
        };
        match result {
            Ok(()) => applied.done.push(step.summary.clone()),
            Err(cause) => {
                return Err(ApplyError {
                    step: step.summary.clone(),
                    cause,
                    applied,
                });
            }
        }
    }
    Ok(applied)
}
