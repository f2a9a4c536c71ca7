//! FileState: a config file as it is on disk (bytes, metadata, parsed form), or its absence.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::observe::ObserveError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState<T> {
    pub path: PathBuf,
    /// the file's bytes; None when it does not exist
    pub bytes: Option<Vec<u8>>,
    /// lstat: the path is a symbolic link
    pub is_symlink: bool,
    /// the parsed bytes (empty when the file does not exist)
    pub doc: T,
}

impl<T> FileState<T> {
    pub fn exists(&self) -> bool {
        self.bytes.is_some()
    }
}

pub fn read<T>(
    what: &str,
    path: &Path,
    parse: fn(&[u8]) -> T,
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
    let doc = parse(bytes.as_deref().unwrap_or_default());
    Ok(FileState {
        path: path.to_path_buf(),
        bytes,
        is_symlink,
        doc,
    })
}
