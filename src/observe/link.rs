//! A managed path that is a symbolic link (older Debian and Ubuntu: /dev/shm -> /run/shm, where
//! the mount and the fstab line are): followed to the real mount point when nobody but root
//! could have planted or redirected it — the link and every directory on the way to it and to
//! its target are owned by root and not writable by group or others. Also the other side:
//! fstab lines whose mount point reaches the managed path through links (libmount
//! canonicalises every target, so for boot `tmpfs /run/shm ...` IS the /dev/shm entry where
//! /run/shm links to /dev/shm).

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

/// The mount points of `fstype` lines in `doc` that are spelled differently from `path` but
/// resolve to the same directory (realpath, as libmount canonicalises targets), normalised.
/// Only lines of the managed type whose last component is that of `path` or of its real path
/// are resolved (`/run/shm`, `/var/run/shm` for /dev/shm: the links distributions make keep
/// the name): a large fstab costs a search, not a realpath per line.
pub fn fstab_aliases(doc: &crate::observe::Fstab, path: &str, fstype: &str) -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(real) = std::fs::canonicalize(path) else {
        return Vec::new();
    };
    let last = |p: &[u8]| -> Vec<u8> { p.rsplit(|b| *b == b'/').next().unwrap_or(p).to_vec() };
    let names = [last(path.as_bytes()), last(real.as_os_str().as_bytes())];
    let finder = memchr::memmem::Finder::new(fstype.as_bytes());
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for i in 0..doc.file.len() {
        if finder.find(doc.file.text(i)).is_none() {
            continue;
        }
        let Some(e) = doc.entry(i).filter(|e| e.vfstype == fstype) else {
            continue;
        };
        let mp = crate::observe::fstab::normal_mount_point(&e.file).into_owned();
        if mp == path.as_bytes() || !names.contains(&last(&mp)) || !seen.insert(mp.clone()) {
            continue;
        }
        let resolved = std::fs::canonicalize(std::ffi::OsStr::from_bytes(&mp));
        if resolved.is_ok_and(|r| r == real) {
            out.push(mp);
        }
    }
    out
}
