//! Atomic file replacement: a unique temporary file in the same directory, written, given the
//! old file's owner and mode, fsynced, renamed over the old one, and the directory fsynced.
//! Readers see the old bytes or the new bytes, never a mix; on any error the temporary file is
//! removed and the old file is untouched. The caller holds the file's lock (`file_lock`), so the
//! check that the file still holds the planned-from bytes and the rename are one step for every
//! writer that locks; the check still catches writers that do not (an editor).
//!
//! A file that is itself a mount point (bind-mounted over) cannot be renamed onto (EBUSY):
//! that is an error, never a fallback to writing in place, which a crash could truncate.

use std::fmt;
use std::fs::File;

use crate::observe::line_file::LineFile;
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
    /// the new file is already in place (only its directory could not be synced)
    pub replaced: bool,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.doing,
            self.path.display(),
            self.source
        )?;
        if self.source.raw_os_error() == Some(nix::libc::EBUSY) {
            write!(
                f,
                " (it is a mount point, e.g. a bind-mounted file: it cannot be replaced atomically, and shmguard does not write it in place)"
            )?;
        }
        if self.replaced {
            write!(
                f,
                "; the new file is in place, but a crash before the disk catches up may bring the old one back"
            )
        } else {
            write!(f, "; the file was left as it was")
        }
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
        replaced: false,
    }
}

/// `.NAME.shmguard.PID.N`: the temporary file for `NAME`, unique per process and call.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.shmguard.")
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Removes temporary files a killed run left beside `path`. Only call it holding the file's
/// lock: every live writer holds the lock while its temporary file exists, so any found then
/// belongs to a dead one. Regular files matching the exact name pattern only; links are not
/// followed (unlink removes the link itself).
pub fn remove_stale_temp_files(path: &Path) -> Vec<PathBuf> {
    let prefix = temp_prefix(path);
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir_of(path)) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let ours = rest
            .split_once('.')
            .is_some_and(|(pid, n)| is_digits(pid) && is_digits(n));
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if ours && regular && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// When `name` is one of shmguard's backups of the file named `file`,
/// `FILE.PID.TIMESTAMP~` (TIMESTAMP as RFC 3339 in UTC), its time.
fn backup_time(file: &str, name: &str) -> Option<SystemTime> {
    let rest = name
        .strip_prefix(file)?
        .strip_prefix('.')?
        .strip_suffix('~')?;
    let (pid, stamp) = rest.split_once('.')?;
    if !is_digits(pid) {
        return None;
    }
    humantime::parse_rfc3339(stamp).ok()
}

/// Keeps `keep` of shmguard's backups of `path` (0: all): `new`, just made, and the newest
/// others; removes the older ones, oldest first, and syncs the directory. Only regular files
/// whose names match the exact pattern shmguard writes are considered; links are never
/// followed, and other files (an admin's `fstab.orig`, `fstab.bak~`) are never touched.
/// Ordered by the time in the name, then by modification time (two in one second), then name.
/// Returns what was removed, and what could not be (the run still succeeded).
pub fn prune_backups(path: &Path, new: &Path, keep: u32) -> (Vec<PathBuf>, Vec<String>) {
    let (mut removed, mut problems) = (Vec::new(), Vec::new());
    let Some(file) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return (removed, problems);
    };
    if keep == 0 {
        return (removed, problems);
    }
    let dir = dir_of(path);
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!(
                "cannot list {} to remove old backups: {e}",
                dir.display()
            ));
            return (removed, problems);
        }
    };
    let mut found: Vec<(SystemTime, SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let at = backup_time(&file, &name)?;
            let mtime = e.metadata().and_then(|m| m.modified()).ok()?;
            Some((at, mtime, e.path()))
        })
        .filter(|(_, _, p)| p.file_name() != new.file_name())
        .collect();
    found.sort();
    let excess = found.len().saturating_sub(keep as usize - 1);
    for (_, _, old) in found.into_iter().take(excess) {
        match std::fs::remove_file(&old) {
            Ok(()) => removed.push(old),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!(
                "cannot remove the old backup {}: {e}",
                old.display()
            )),
        }
    }
    if !removed.is_empty() {
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            problems.push(format!(
                "removed old backups, but cannot sync {}: {e}",
                dir.display()
            ));
        }
    }
    (removed, problems)
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Replaces `path` with `after` (streamed, line by line), provided it still holds `before`
/// (None: does not exist). With `backup`, first keeps a copy as `PATH.PID.TIMESTAMP~` and
/// returns its path.
pub fn write_atomically(
    path: &Path,
    before: Option<&[u8]>,
    after: &LineFile,
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
            write_new(&b, &|w| w.write_all(old), mode, owner)?;
            Some(b)
        }
        _ => None,
    };
    let dir = dir_of(path);
    let tmp = dir.join(format!(
        "{}{}.{}",
        temp_prefix(path),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result =
        write_new(&tmp, &|w| after.write_to(w), mode, owner).and_then(|()| match current {
            Some(_) => std::fs::rename(&tmp, path).map_err(ctx("rename the new file over", path)),
            None => create_from(&tmp, path),
        });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        if let Some(b) = &backup_path {
            let _ = std::fs::remove_file(b);
        }
        return Err(e);
    }
    // The rename is done: the new bytes are what every reader sees. Syncing the directory
    // makes the rename itself durable; if that fails, say so rather than claim success.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| WriteError {
            replaced: true,
            ..ctx("sync the directory of", path)(source)
        })?;
    Ok(backup_path)
}

/// Puts the complete temporary file `tmp` in place as `path`, which must not exist: link(2)
/// fails rather than replace a file another writer created meanwhile (rename would clobber
/// it), then the temporary name is dropped. Where the filesystem has no hard links (EPERM,
/// EOPNOTSUPP), rename; any other error is the error.
fn create_from(tmp: &Path, path: &Path) -> Result<(), WriteError> {
    match std::fs::hard_link(tmp, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(tmp);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(ctx("create", path)(std::io::Error::other(
                "it was created since shmguard found it missing (another writer?); nothing was written, run again",
            )))
        }
        Err(e)
            if [nix::libc::EPERM, nix::libc::EOPNOTSUPP]
                .contains(&e.raw_os_error().unwrap_or(0)) =>
        {
            std::fs::rename(tmp, path).map_err(ctx("rename the new file to", path))
        }
        Err(e) => Err(ctx("create", path)(e)),
    }
}

/// Creates `path` (which must not exist) with what `fill` writes, owner and mode, and fsyncs it.
fn write_new(
    path: &Path,
    fill: &dyn Fn(&mut dyn Write) -> std::io::Result<()>,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), WriteError> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_CLOEXEC | nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(ctx("create", path))?;
    let r = (|| {
        let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, &f);
        fill(&mut buffered)
            .and_then(|()| buffered.flush())
            .map_err(ctx("write", path))?;
        drop(buffered);
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

    /// A scratch directory, removed when the test ends (even when it fails).
    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("shmguard-unit-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn replaces_keeping_mode_and_leaves_no_temp_file() {
        let tmp = scratch("replace");
        let d = tmp.path();
        let p = d.join("fstab");
        std::fs::write(&p, b"old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&p, Some(b"old"), &LineFile::parse(b"new"), false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 1);
    }

    #[test]
    fn refuses_when_the_file_changed_since_it_was_read() {
        let tmp = scratch("changed");
        let d = tmp.path();
        let p = d.join("fstab");
        std::fs::write(&p, b"someone else").unwrap();
        let e = write_atomically(&p, Some(b"old"), &LineFile::parse(b"new"), false).unwrap_err();
        assert!(e.to_string().contains("changed since"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"someone else");
    }

    #[test]
    fn backup_keeps_the_old_bytes() {
        let tmp = scratch("backup");
        let d = tmp.path();
        let p = d.join("fstab");
        std::fs::write(&p, b"old").unwrap();
        let b = write_atomically(&p, Some(b"old"), &LineFile::parse(b"new"), true)
            .unwrap()
            .unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
        assert!(b.to_string_lossy().ends_with('~'));
    }

    #[test]
    fn only_shmguards_own_backup_names_are_recognised() {
        let t = |n: &str| backup_time("fstab", n).is_some();
        assert!(t("fstab.4127.2026-11-27T10:00:00Z~"));
        assert!(t("fstab.1.2026-11-27T10:00:00.123456Z~"));
        for foreign in [
            "fstab.bak~",
            "fstab.orig",
            "fstab.4127.2026-11-27T10:00:00Z",
            "fstab.x.2026-11-27T10:00:00Z~",
            "fstab..2026-11-27T10:00:00Z~",
            "fstab.4127.yesterday~",
            "fstab2.4127.2026-11-27T10:00:00Z~",
            "xfstab.4127.2026-11-27T10:00:00Z~",
            ".fstab.shmguard.1.0",
        ] {
            assert!(!t(foreign), "{foreign}");
        }
    }

    #[test]
    fn pruning_keeps_the_newest_and_touches_nothing_else() {
        let tmp = scratch("prune");
        let d = tmp.path();
        let p = d.join("fstab");
        std::fs::write(&p, b"x").unwrap();
        let names = [
            "fstab.9.2026-01-01T00:00:01Z~",
            "fstab.3.2026-01-01T00:00:02Z~",
            "fstab.7.2026-01-01T00:00:03Z~",
            "fstab.1.2026-01-01T00:00:04Z~",
        ];
        for n in names {
            std::fs::write(d.join(n), b"old").unwrap();
        }
        let foreign = ["fstab.bak~", "fstab.12.not-a-time~", "fstab.orig"];
        for n in foreign {
            std::fs::write(d.join(n), b"mine").unwrap();
        }
        std::os::unix::fs::symlink("fstab", d.join("fstab.5.2025-01-01T00:00:00Z~")).unwrap();
        // the new copy, though its clock says it is the oldest, is never removed
        let new = d.join("fstab.2.2020-01-01T00:00:00Z~");
        std::fs::write(&new, b"new").unwrap();
        let (removed, problems) = prune_backups(&p, &new, 3);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            removed,
            [d.join(names[0]), d.join(names[1])],
            "oldest first"
        );
        let mut left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want: Vec<&str> = vec![
            "fstab",
            names[2],
            names[3],
            "fstab.2.2020-01-01T00:00:00Z~",
            "fstab.5.2025-01-01T00:00:00Z~",
        ];
        want.extend(foreign);
        want.sort();
        assert_eq!(left, want);
        assert_eq!(prune_backups(&p, &new, 0).0.len(), 0, "0 keeps every copy");
        assert_eq!(prune_backups(&p, &new, 1).0.len(), 2);
    }

    #[test]
    fn stale_temporary_files_of_dead_runs_are_removed_and_nothing_else() {
        let tmp = scratch("stale");
        let d = tmp.path();
        let p = d.join("fstab");
        for name in [
            ".fstab.shmguard.123.0",
            ".fstab.shmguard.x.0",
            ".other.shmguard.1.0",
            "fstab",
        ] {
            std::fs::write(d.join(name), b"x").unwrap();
        }
        std::os::unix::fs::symlink("fstab", d.join(".fstab.shmguard.9.9")).unwrap();
        assert_eq!(
            remove_stale_temp_files(&p),
            [d.join(".fstab.shmguard.123.0")]
        );
        let mut left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".fstab.shmguard.9.9",
                ".fstab.shmguard.x.0",
                ".other.shmguard.1.0",
                "fstab"
            ]
        );
    }

    #[test]
    fn ebusy_says_why_there_is_no_in_place_fallback() {
        let e = WriteError {
            doing: "rename the new file over".into(),
            path: PathBuf::from("/etc/fstab"),
            source: std::io::Error::from_raw_os_error(nix::libc::EBUSY),
            replaced: false,
        };
        let text = e.to_string();
        assert!(text.contains("mount point"), "{text}");
        assert!(text.ends_with("the file was left as it was"), "{text}");
    }

    #[test]
    fn creates_a_missing_file_with_mode_0644() {
        let tmp = scratch("create");
        let d = tmp.path();
        let p = d.join("sysctl.conf");
        write_atomically(&p, None, &LineFile::parse(b"x = 1\n"), false).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
        assert_eq!(std::fs::read(&p).unwrap(), b"x = 1\n");
        assert_eq!(std::fs::metadata(&p).unwrap().nlink(), 1);
        assert_eq!(
            std::fs::read_dir(d).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_file_created_meanwhile_is_never_clobbered() {
        let tmp = scratch("created-meanwhile");
        let d = tmp.path();
        let p = d.join("fstab");
        std::fs::write(d.join("t"), b"mine").unwrap();
        std::fs::write(&p, b"theirs").unwrap();
        let e = create_from(&d.join("t"), &p).unwrap_err();
        assert!(e.to_string().contains("created since"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"theirs");
    }
}
