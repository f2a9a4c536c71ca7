//! PlanError: a request that cannot be carried out on this system as it is. Found before
//! anything changes; each message names the parameter, the value and what would be accepted.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    PathIsSymlink {
        path: String,
        why: Option<String>,
    },
    PathNotDirectory {
        path: String,
    },
    WrongFstype {
        path: String,
        found: String,
        wanted: &'static str,
    },
    BelowUsage {
        param: &'static str,
        value: String,
        used: String,
    },
    CannotLimit {
        param: &'static str,
        value: String,
        path: String,
    },
    FileIsSymlink {
        param: &'static str,
        path: String,
    },
    FileIsMountPoint {
        param: &'static str,
        path: String,
    },
    FileHasNul {
        param: &'static str,
        path: String,
        line: usize,
    },
    NoMqueueSysctl {
        param: &'static str,
    },
    FileMissing {
        param: &'static str,
        path: String,
        what: &'static str,
    },
    /// A line for the mount point whose meaning is unclear: `why` says what boot makes of it.
    FstabLineUnclear {
        path: String,
        line: usize,
        why: String,
    },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::PathIsSymlink { path, why } => write!(
                f,
                "path: {path} is a symbolic link{}; shmguard follows a link only when it and every directory on the way are root's and not writable by group or others. Give the real mount point (the link's target), so that nothing is changed through a link",
                why.as_deref()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            ),
            PlanError::PathNotDirectory { path } => {
                write!(
                    f,
                    "path: {path} exists but is not a directory; a mount point must be a directory"
                )
            }
            PlanError::WrongFstype {
                path,
                found,
                wanted,
            } => write!(
                f,
                "path: {path} is mounted as {found}, not {wanted}; shmguard changes only tmpfs and mqueue mounts and left it untouched (set fstype to match, or choose another path)"
            ),
            PlanError::BelowUsage { param, value, used } => write!(
                f,
                "{param}: {value:?} is below what is in use ({used}); the kernel refuses to shrink a tmpfs under its contents. Accepted: a value of at least {used}, or free space first"
            ),
            PlanError::CannotLimit { param, value, path } => write!(
                f,
                "{param}: {value:?} cannot be set on {path} because it is mounted unlimited ({param}=0) and the kernel cannot retroactively limit it; accepted here: 0 (unlimited), or unmount and mount it again"
            ),
            PlanError::FileIsSymlink { param, path } => write!(
                f,
                "{param}: {path} is a symbolic link; replacing it atomically would replace the link, not its target. Point {param} at the real file"
            ),
            PlanError::FileIsMountPoint { param, path } => write!(
                f,
                "{param}: {path} is a mount point (a file bind-mounted over it), so it cannot be replaced atomically: rename(2) onto it fails with EBUSY, and shmguard never rewrites it in place, because a crash in the middle would leave it truncated. Edit the file that is mounted there, or point {param} at it"
            ),
            PlanError::FileHasNul { param, path, line } => write!(
                f,
                "{param}: {path} contains a NUL byte on line {line}; the tools that read it at boot stop a line at the NUL, so shmguard cannot know what the file means there and changes nothing. Remove the NUL bytes first"
            ),
            PlanError::NoMqueueSysctl { param } => write!(
                f,
                "{param}: this kernel has no /proc/sys/fs/mqueue/{param} (POSIX message queues not built in?); leave {param} unset"
            ),
            PlanError::FileMissing { param, path, what } => write!(
                f,
                "{param}: {path} does not exist{what}; shmguard creates no {param} where none is: check the path (a typo?), or create it first. Nothing was changed"
            ),
            PlanError::FstabLineUnclear { path, line, why } => write!(
                f,
                "fstab_path: {path} line {line} names this mount point, but {why}, and shmguard cannot tell what it was meant to say; fix or remove that line (fields 5 and 6 must be numbers; a comment goes after field 6 or on its own line; quotes in options must be closed), then run again. Nothing was changed"
            ),
        }
    }
}

impl std::error::Error for PlanError {}
