//! FileState: a config file as it is on disk (bytes, metadata, parsed form), or its absence.

use std::borrow::Cow;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use crate::observe::ObserveError;
use crate::observe::line_file::Shared;
use crate::observe::statmount::Mounts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState<T> {
    pub path: PathBuf,
    /// the bytes read from disk, shared with `doc`; None when the file did not exist
    pub bytes: Option<Shared>,
    /// lstat: the path is a symbolic link
    pub is_symlink: bool,
    /// statx (or mountinfo): something is mounted on the path itself (a bind-mounted file),
    /// so rename(2) onto it fails with EBUSY and it cannot be replaced atomically
    pub is_mount_point: bool,
    /// the content: as read (empty when the file does not exist), or as a plan leaves it
    pub doc: T,
    /// a plan replaced `doc`; `bytes` are still what was read
    pub replaced: bool,
    /// the directory the file is in exists (a missing file can be created there)
    pub dir_exists: bool,
}

/// A document that can be written back out.
pub trait Render {
    fn render(&self) -> Vec<u8>;
}

impl<T> FileState<T> {
    pub fn exists(&self) -> bool {
        self.bytes.is_some() || self.replaced
    }

    /// The bytes read from disk (empty when the file did not exist).
    pub fn content(&self) -> &[u8] {
        self.bytes.as_deref().map(Vec::as_slice).unwrap_or_default()
    }

    /// The content as it is now, or as a plan leaves it (None: no file).
    pub fn current(&self) -> Option<Cow<'_, [u8]>>
    where
        T: Render,
    {
        if self.replaced {
            Some(Cow::Owned(self.doc.render()))
        } else {
            self.bytes.as_deref().map(|b| Cow::Borrowed(b.as_slice()))
        }
    }

    /// A file with these bytes (None: absent) and nothing special about its path.
    pub fn from_bytes(path: &Path, bytes: Option<Vec<u8>>, parse: fn(Shared) -> T) -> FileState<T> {
        let bytes = bytes.map(Arc::new);
        FileState {
            path: path.to_path_buf(),
            doc: parse(bytes.clone().unwrap_or_default()),
            bytes,
            is_symlink: false,
            is_mount_point: false,
            replaced: false,
            dir_exists: true,
        }
    }
}

pub fn read<T>(
    what: &str,
    path: &Path,
    parse: fn(Shared) -> T,
    mounts: &Mounts,
) -> Result<FileState<T>, ObserveError> {
    let err = |source| ObserveError {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let (is_symlink, is_special) = match std::fs::symlink_metadata(path) {
        Ok(m) => (
            m.file_type().is_symlink(),
            !m.file_type().is_symlink() && !m.is_file(),
        ),
        Err(e) if e.kind() == ErrorKind::NotFound => (false, false),
        Err(e) => return Err(err(e)),
    };
    if is_special {
        let m = std::fs::symlink_metadata(path).map_err(err)?;
        return Err(err(std::io::Error::other(format!(
            "not a regular file (mode {:o})",
            m.mode()
        ))));
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == ErrorKind::NotFound && !is_symlink => None,
        Err(e) => return Err(err(e)),
    };
    let exists = bytes.is_some();
    Ok(FileState {
        is_mount_point: exists && !is_symlink && is_mount_point(path, mounts)?,
        is_symlink,
        dir_exists: exists || path.parent().is_some_and(Path::is_dir),
        ..FileState::from_bytes(path, bytes, parse)
    })
}

/// Whether a mount sits on `path` itself: the file (not a link to it) is a mount's root
/// (statx), or a mountinfo mount point once its directory is resolved the way the kernel
/// lists it.
fn is_mount_point(path: &Path, mounts: &Mounts) -> Result<bool, ObserveError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(false);
    };
    let Ok(real) = std::fs::canonicalize(dir).map(|d| d.join(name)) else {
        return Ok(false);
    };
    mounts.is_mount_point(&real)
}
