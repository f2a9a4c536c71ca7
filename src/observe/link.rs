//! A managed path that is a symbolic link (older Debian and Ubuntu: /dev/shm -> /run/shm, where
//! the mount and the fstab line are): followed to the real mount point when nobody but root
//! could have planted or redirected it — the link and every directory on the way to it and to
//! its target are owned by root and not writable by group or others.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::observe::ObserveError;

/// A link that was followed, or why it was not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// the path is not a symbolic link
    None,
    /// followed: the real mount point
    Followed { target: String },
    /// not followed, and why (names what is not root's or is writable)
    Unsafe { target: String, why: String },
}

/// Why a file is not safe to trust, if it is not: owned by someone other than root, or
/// writable by group or others (a link's own mode does not count).
fn untrusted(p: &Path, is_link: bool) -> Option<String> {
    let m = match std::fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) => return Some(format!("{}: {e}", p.display())),
    };
    if m.uid() != 0 {
        return Some(format!(
            "{} is owned by uid {}, not root",
            p.display(),
            m.uid()
        ));
    }
    if !is_link && m.mode() & 0o022 != 0 {
        return Some(format!(
            "{} is writable by group or others (mode {:04o})",
            p.display(),
            m.mode() & 0o7777
        ));
    }
    None
}

/// Every directory above `p`, from / down.
fn ancestors(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = p.ancestors().skip(1).map(Path::to_path_buf).collect();
    v.reverse();
    v
}

/// Resolves `path` when it is a symbolic link.
pub fn resolve(path: &str) -> Result<Link, ObserveError> {
    let p = Path::new(path);
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => {}
        _ => return Ok(Link::None),
    }
    let target = std::fs::canonicalize(p).map_err(|source| ObserveError {
        what: "the target of the symbolic link".into(),
        path: p.to_path_buf(),
        source,
    })?;
    let shown = target.display().to_string();
    let mut why = untrusted(p, true);
    for dir in ancestors(p).iter().chain(ancestors(&target).iter()) {
        if why.is_some() {
            break;
        }
        why = untrusted(dir, false);
    }
    if why.is_none() && !target.is_dir() {
        why = Some(format!("{shown} is not a directory"));
    }
    Ok(match why {
        None => Link::Followed { target: shown },
        Some(why) => Link::Unsafe { target: shown, why },
    })
}
