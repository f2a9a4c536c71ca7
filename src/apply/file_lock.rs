//! FileLock: an exclusive flock(2) that serialises the runs changing one managed file (fstab,
//! the sysctl file) or one mount point, and leaves nothing beside the files it protects.
//!
//! A managed file's lock is `/run/lock/shmguard/NAME` (`lock_name`: `/etc/fstab` ->
//! `etc-fstab.lock`), in a directory that is root's (the caller's) and mode 0700, so no other
//! user can hold, plant or remove a lock there; /run is a tmpfs, emptied at boot. Not a file
//! beside the managed one (libmount's `FILE.lock` convention): file integrity monitors (AIDE,
//! Tripwire) report new files in /etc, and a leftover `.lock` reads as a stuck process. Not a
//! lock on the file itself either: shmguard replaces it by rename, and a lock on the old
//! inode would not exclude a writer that opened the new one. The key is the path with its
//! directory resolved (`/etc/../etc/fstab` and a linked directory give the same lock).
//! Other tools can join: `flock /run/lock/shmguard/etc-fstab.lock CMD`.
//!
//! Fallback: when /run/lock/shmguard cannot be made or is not the caller's own 0700 directory
//! (no /run/lock in a minimal container, a read-only /run, root of a user namespace, who sees
//! the host's /run/lock as another user's, a directory someone else made first), the lock is
//! a flock on the managed file's directory itself, opened without following links. That
//! still serialises every shmguard run on the file (more coarsely: every file in that
//! directory) and creates nothing. Runs on one file take one or the other the same way, as
//! they see the same /run; and the writer still compares the file with the bytes it planned
//! from just before its rename, so a run that finds it changed fails rather than overwrite.
//!
//! The lock belongs to the open file description: it is released when the descriptor is
//! closed, also when the process is killed, so a crashed run never leaves it held. Lock files
//! under /run/lock/shmguard stay (removing one while another run waits on it would let a
//! third run lock a new file beside it).

use std::fmt;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FlockArg, OFlag, open, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat};

pub use super::lock_name::lock_name;

/// How long a run waits for another writer before it gives up and changes nothing.
pub const WAIT: Duration = Duration::from_secs(30);

/// Where the locks of managed files live.
pub const LOCK_DIR: &str = "/run/lock/shmguard";

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct FileLock {
    /// the lock file, or the directory locked
    pub path: PathBuf,
    /// device and inode of what is locked
    id: (u64, u64),
    _file: File,
}

#[derive(Debug)]
pub struct LockError {
    pub path: PathBuf,
    pub cause: String,
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot lock {}: {}", self.path.display(), self.cause)
    }
}

impl std::error::Error for LockError {}

fn error(path: &Path, e: Errno) -> LockError {
    LockError {
        path: path.to_path_buf(),
        cause: format!("{} ({e:?})", e.desc()),
    }
}

/// The path that keys the lock: `file` with its directory resolved, when it exists.
fn key(file: &Path) -> PathBuf {
    match (file.parent(), file.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| file.to_path_buf()),
        _ => file.to_path_buf(),
    }
}

/// Takes the lock of the managed file `file` (see the module doc), waiting up to `wait` for
/// another holder. None when `held` already holds it (two files that share a lock).
pub fn lock(file: &Path, wait: Duration, held: &[FileLock]) -> Result<Option<FileLock>, LockError> {
    lock_in(Path::new(LOCK_DIR), file, wait, held)
}

/// `lock` with the lock directory `dir` (tests use a scratch one).
fn lock_in(
    dir: &Path,
    file: &Path,
    wait: Duration,
    held: &[FileLock],
) -> Result<Option<FileLock>, LockError> {
    let key = key(file);
    let Some(dir_fd) = own_private_dir(dir) else {
        return match key.parent() {
            Some(parent) => lock_dir(parent, wait, held),
            None => Ok(None),
        };
    };
    let name = lock_name(&key);
    let path = dir.join(&name);
    // O_NOFOLLOW: a planted link cannot make root create or lock a file elsewhere;
    // O_NONBLOCK: a planted FIFO cannot hang the open.
    let fd: OwnedFd = openat(
        &dir_fd,
        name.as_str(),
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| error(&path, e))?;
    let st = fstat(&fd).map_err(|e| error(&path, e))?;
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFREG {
        return Err(LockError {
            path,
            cause: "it is not a regular file; remove it".into(),
        });
    }
    hold(fd, &st, path, wait, held)
}

/// The lock directory, made if missing; None (use the fallback) when its parent is not
/// root's or the caller's, or it cannot be made, or it is not a directory of the caller's
/// that only the caller can enter.
fn own_private_dir(dir: &Path) -> Option<OwnedFd> {
    let me = nix::unistd::geteuid().as_raw();
    // Root of a user namespace sees the host's /run/lock as owned by the overflow uid: its
    // locks would be a directory of an unprivileged user on the host, so it falls back.
    let parent = nix::sys::stat::stat(dir.parent()?).ok()?;
    if parent.st_uid != 0 && parent.st_uid != me {
        return None;
    }
    match nix::unistd::mkdir(dir, Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(_) => return None,
    }
    let fd = open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )
    .ok()?;
    let st = fstat(&fd).ok()?;
    if st.st_uid != me {
        return None;
    }
    // Ours but opened up (a umask, a hand-made directory): close it again.
    if st.st_mode & 0o077 != 0 {
        fchmod(&fd, Mode::from_bits_truncate(0o700)).ok()?;
    }
    Some(fd)
}

/// Takes the exclusive lock on the directory `path` itself (a mount root, or a managed
/// file's directory), opened without following links, waiting up to `wait`. Creates no file;
/// None when there is no directory there yet, or when `held` already holds it.
pub fn lock_dir(
    path: &Path,
    wait: Duration,
    held: &[FileLock],
) -> Result<Option<FileLock>, LockError> {
    let fd: OwnedFd = match open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(error(path, e)),
    };
    let st = fstat(&fd).map_err(|e| error(path, e))?;
    hold(fd, &st, path.to_path_buf(), wait, held)
}

/// Waits for the exclusive flock on `fd`, unless `held` already holds the same file.
fn hold(
    fd: OwnedFd,
    st: &FileStat,
    path: PathBuf,
    wait: Duration,
    held: &[FileLock],
) -> Result<Option<FileLock>, LockError> {
    let id = (st.st_dev, st.st_ino);
    if held.iter().any(|l| l.id == id) {
        return Ok(None);
    }
    let start = Instant::now();
    loop {
        // The plain flock(2) call, not nix's Flock guard: the lock must end with the descriptor
        // (exit, kill -9), and the guard's unlock-on-drop panics (aborts) if LOCK_UN fails.
        #[allow(deprecated)]
        match nix::fcntl::flock(fd.as_raw_fd(), FlockArg::LockExclusiveNonblock) {
            Ok(()) => {
                return Ok(Some(FileLock {
                    path,
                    id,
                    _file: File::from(fd),
                }));
            }
            Err(Errno::EWOULDBLOCK | Errno::EINTR) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(Errno::EWOULDBLOCK) => {
                return Err(LockError {
                    cause: format!(
                        "another process has held it for {}s (another shmguard run, or `flock {}`); nothing was changed, run again later",
                        wait.as_secs(),
                        path.display()
                    ),
                    path,
                });
            }
            Err(e) => return Err(error(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A scratch directory, removed when the test ends (even when it fails).
    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("shmguard-lock-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn a_second_holder_waits_and_gives_up_with_the_lock_path() {
        let tmp = scratch("wait");
        let (locks, f) = (tmp.path().join("locks"), tmp.path().join("fstab"));
        let held = lock_in(&locks, &f, WAIT, &[]).unwrap().unwrap();
        assert_eq!(held.path, locks.join(lock_name(&key(&f))));
        let e = lock_in(&locks, &f, Duration::from_millis(30), &[]).unwrap_err();
        assert!(e.to_string().contains("-fstab.lock"), "{e}");
        drop(held);
        lock_in(&locks, &f, Duration::ZERO, &[]).unwrap();
        // Nothing beside the managed file; the lock directory is private.
        let beside: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(beside.len(), 1, "{beside:?}");
        let mode = std::fs::metadata(&locks).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_lock_already_held_is_not_taken_twice() {
        let tmp = scratch("twice");
        let f = tmp.path().join("fstab");
        let unusable = tmp.path().join("missing/locks");
        // Without a lock directory both files fall back to their one directory.
        let first = lock_in(&unusable, &f, WAIT, &[]).unwrap().unwrap();
        assert_eq!(first.path, tmp.path().canonicalize().unwrap());
        let second = tmp.path().join("sysctl.conf");
        assert!(
            lock_in(&unusable, &second, Duration::ZERO, &[first])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_planted_link_is_not_followed() {
        let tmp = scratch("link");
        let (locks, f) = (tmp.path().join("locks"), tmp.path().join("fstab"));
        std::fs::create_dir(&locks).unwrap();
        let planted = locks.join(lock_name(&key(&f)));
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), planted).unwrap();
        let e = lock_in(&locks, &f, Duration::ZERO, &[]).unwrap_err();
        assert!(e.to_string().contains("ELOOP"), "{e}");
        assert!(!tmp.path().join("elsewhere").exists());
    }

    #[test]
    fn an_opened_up_lock_directory_is_closed_again() {
        let tmp = scratch("mode");
        let (locks, f) = (tmp.path().join("locks"), tmp.path().join("fstab"));
        std::fs::create_dir(&locks).unwrap();
        std::fs::set_permissions(&locks, std::fs::Permissions::from_mode(0o777)).unwrap();
        let held = lock_in(&locks, &f, WAIT, &[]).unwrap().unwrap();
        assert!(held.path.starts_with(&locks));
        let mode = std::fs::metadata(&locks).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
