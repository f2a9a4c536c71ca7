//! FileLock: an exclusive flock(2) on `FILE.lock`, the sibling of a file shmguard replaces.
//!
//! This is util-linux libmount's own convention (`mnt_new_lock()` locks `<datafile>.lock`,
//! opened `O_RDONLY|O_CREAT|O_CLOEXEC` with mode 0600, with `flock(LOCK_EX)`; mount(8) uses it
//! for /run/mount/utab.lock). libmount itself writes no fstab, and takes no lock when it
//! replaces one (`mnt_table_replace_file`), so there is no lock other tools already hold on
//! /etc/fstab; `/etc/fstab.lock` is the one a libmount user would pick, and a shell script can
//! join in with `flock /etc/fstab.lock CMD`. A sibling file, not the file itself, because
//! shmguard replaces the file by rename: a lock on the old inode would not exclude a writer
//! that opened the new one.
//!
//! The lock belongs to the open file description: it is released when the descriptor is
//! closed, also when the process is killed, so a crashed run never leaves it held. The lock
//! file itself stays, as libmount's do.

use std::fmt;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FlockArg, OFlag, open};
use nix::sys::stat::{Mode, SFlag, fstat};

/// How long a run waits for another writer before it gives up and changes nothing.
pub const WAIT: Duration = Duration::from_secs(30);

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct FileLock {
    pub path: PathBuf,
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

/// `FILE.lock` for `file`.
fn lock_path(file: &Path) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Takes the exclusive lock on `FILE.lock`, waiting up to `wait` for another holder.
pub fn lock(file: &Path, wait: Duration) -> Result<FileLock, LockError> {
    let path = lock_path(file);
    let err = |cause: String| LockError {
        path: path.clone(),
        cause,
    };
    // O_NOFOLLOW: a planted link cannot make root create or lock a file elsewhere;
    // O_NONBLOCK: a planted FIFO cannot hang the open.
    let fd: OwnedFd = open(
        &path,
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| err(format!("{} ({e:?})", e.desc())))?;
    let st = fstat(&fd).map_err(|e| err(e.desc().to_string()))?;
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFREG {
        return Err(err("it is not a regular file; remove it".into()));
    }
    hold(fd, path, wait)
}

/// Takes the exclusive lock on the directory `path` itself (a mount root), opened without
/// following links, waiting up to `wait`. Serialises live changes to one mount without
/// creating any file; None when there is no directory there yet.
pub fn lock_dir(path: &Path, wait: Duration) -> Result<Option<FileLock>, LockError> {
    let err = |cause: String| LockError {
        path: path.to_path_buf(),
        cause,
    };
    let fd: OwnedFd = match open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(err(format!("{} ({e:?})", e.desc()))),
    };
    hold(fd, path.to_path_buf(), wait).map(Some)
}

/// Waits for the exclusive flock on `fd`.
fn hold(fd: OwnedFd, path: PathBuf, wait: Duration) -> Result<FileLock, LockError> {
    let err = |cause: String| LockError {
        path: path.clone(),
        cause,
    };
    let start = Instant::now();
    loop {
        // The plain flock(2) call, not nix's Flock guard: the lock must end with the descriptor
        // (exit, kill -9), and the guard's unlock-on-drop panics (aborts) if LOCK_UN fails.
        #[allow(deprecated)]
        match nix::fcntl::flock(fd.as_raw_fd(), FlockArg::LockExclusiveNonblock) {
            Ok(()) => {
                return Ok(FileLock {
                    path,
                    _file: File::from(fd),
                });
            }
            Err(Errno::EWOULDBLOCK | Errno::EINTR) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(Errno::EWOULDBLOCK) => {
                return Err(err(format!(
                    "another process has held it for {}s (another shmguard run, or `flock {}`); nothing was changed, run again later",
                    wait.as_secs(),
                    path.display()
                )));
            }
            Err(e) => return Err(err(format!("{} ({e:?})", e.desc()))),
        }
    }
}

#[cfg(test)]
mod tests {
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
        let d = tmp.path();
        let f = d.join("fstab");
        let held = lock(&f, WAIT).unwrap();
        assert_eq!(held.path, d.join("fstab.lock"));
        let e = lock(&f, Duration::from_millis(30)).unwrap_err();
        assert!(e.to_string().contains("fstab.lock"), "{e}");
        drop(held);
        lock(&f, Duration::ZERO).unwrap();
    }

    #[test]
    fn a_planted_link_is_not_followed() {
        let tmp = scratch("link");
        let d = tmp.path();
        std::os::unix::fs::symlink(d.join("elsewhere"), d.join("fstab.lock")).unwrap();
        let e = lock(&d.join("fstab"), Duration::ZERO).unwrap_err();
        assert!(e.to_string().contains("ELOOP"), "{e}");
        assert!(!d.join("elsewhere").exists());
    }
}
