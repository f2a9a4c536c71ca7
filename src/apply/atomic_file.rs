//! Atomic file replacement: a unique temporary file in the same directory, written, given the
//! old file's owner and mode, fsynced, renamed over the old one, and the directory fsynced.
//! Readers see the old bytes or the new bytes, never a mix; on any error the temporary file is
//! removed and the old file is untouched.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

#[derive(Debug)]
pub struct WriteError {
    pub doing: String,
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}; the file was left as it was",
            self.doing,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for WriteError {}

fn ctx(doing: &str, path: &Path) -> impl FnOnce(std::io::Error) -> WriteError {
    let doing = doing.to_string();
    let path = path.to_path_buf();
    move |source| WriteError {
        doing,
        path,
        source,
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Replaces `path` with `after`, provided it still holds `before` (None: does not exist).
/// With `backup`, first keeps a copy as `PATH.PID.TIMESTAMP~` and returns its path.
pub fn write_atomically(
    path: &Path,
    before: Option<&[u8]>,
    after: &[u8],
    backup: bool,
) -> Result<Option<PathBuf>, WriteError> {
    let current = match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(ctx("read", path)(e)),
    };
    if current.as_deref() != before {
        return Err(ctx("replace", path)(std::io::Error::other(
            "it changed since shmguard read it (another writer?); nothing was written, run again",
        )));
    }
    let meta = std::fs::metadata(path).ok();
    let (mode, owner) = match &meta {
        Some(m) => (m.mode() & 0o7777, Some((m.uid(), m.gid()))),
        None => (0o644, None),
    };
    let backup_path = match (&current, backup) {
        (Some(old), true) => {
            let stamp = humantime::format_rfc3339_seconds(SystemTime::now());
            let b = PathBuf::from(format!(
                "{}.{}.{stamp}~",
                path.display(),
                std::process::id()
            ));
            write_new(&b, old, mode, owner)?;
            Some(b)
        }
        _ => None,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.shmguard.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_new(&tmp, after, mode, owner)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(ctx("rename the new file over", path)));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(backup_path)
}

/// Creates `path` (which must not exist) with `bytes`, owner and mode, and fsyncs it.
fn write_new(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), WriteError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_CLOEXEC | nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(ctx("create", path))?;
    let r = (|| {
        f.write_all(bytes).map_err(ctx("write", path))?;
        if let Some((uid, gid)) = owner {
            let same =
                nix::unistd::geteuid().as_raw() == uid && nix::unistd::getegid().as_raw() == gid;
            if !same {
                nix::unistd::fchown(f.as_fd(), Some(uid.into()), Some(gid.into()))
                    .map_err(|e| ctx("set the owner of", path)(e.into()))?;
            }
        }
        nix::sys::stat::fchmod(f.as_fd(), nix::sys::stat::Mode::from_bits_truncate(mode))
            .map_err(|e| ctx("set the mode of", path)(e.into()))?;
        f.sync_all().map_err(ctx("fsync", path))
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(path);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("shmguard-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn replaces_keeping_mode_and_leaves_no_temp_file() {
        let d = scratch("replace");
        let p = d.join("fstab");
        std::fs::write(&p, b"old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&p, Some(b"old"), b"new", false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    }

    #[test]
    fn refuses_when_the_file_changed_since_it_was_read() {
        let d = scratch("changed");
        let p = d.join("fstab");
        std::fs::write(&p, b"someone else").unwrap();
        let e = write_atomically(&p, Some(b"old"), b"new", false).unwrap_err();
        assert!(e.to_string().contains("changed since"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"someone else");
    }

    #[test]
    fn backup_keeps_the_old_bytes() {
        let d = scratch("backup");
        let p = d.join("fstab");
        std::fs::write(&p, b"old").unwrap();
        let b = write_atomically(&p, Some(b"old"), b"new", true)
            .unwrap()
            .unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
        assert!(b.to_string_lossy().ends_with('~'));
    }

    #[test]
    fn creates_a_missing_file_with_mode_0644() {
        let d = scratch("create");
        let p = d.join("sysctl.conf");
        write_atomically(&p, None, b"x = 1\n", false).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
    }
}
