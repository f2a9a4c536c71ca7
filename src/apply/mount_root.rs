//! Opens the root of the managed mount as a descriptor, never following a link, and checks
//! it is what the plan was made for: a directory on a tmpfs or mqueue filesystem, at the root of
//! its mount, on the observed device. chmod and remount then act on that descriptor, so a path
//! swapped for a link or another directory between observing and changing is refused.

use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{OFlag, open, openat};
use nix::sys::stat::{Mode, SFlag, fstat};
use nix::sys::statfs::{FsType, TMPFS_MAGIC, fstatfs};

/// include/uapi/linux/magic.h (the libc crate does not export it)
const MQUEUE_MAGIC: FsType = FsType(0x1980_0202);

fn errno_text(doing: &str, path: &str, e: nix::Error) -> String {
    format!("{doing} {path}: {} ({e:?})", e.desc())
}

fn dev_of(st: &nix::sys::stat::FileStat) -> (u32, u32) {
    (
        nix::sys::stat::major(st.st_dev) as u32,
        nix::sys::stat::minor(st.st_dev) as u32,
    )
}

/// The verified mount root at `path`; `dev` is the observed device, when one was observed.
pub fn open_mount_root(path: &str, dev: Option<(u32, u32)>) -> Result<OwnedFd, String> {
    let fd = open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno_text("open without following links", path, e))?;
    let st = fstat(&fd).map_err(|e| errno_text("stat", path, e))?;
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFDIR {
        return Err(format!("{path} is not a directory"));
    }
    let found = dev_of(&st);
    if let Some((major, minor)) = dev {
        if found != (major, minor) {
            return Err(format!(
                "{path} is now device {}:{}, not the {major}:{minor} that was observed; it changed while shmguard ran, nothing was done to it",
                found.0, found.1
            ));
        }
    }
    let fs = fstatfs(fd.as_fd()).map_err(|e| errno_text("statfs", path, e))?;
    if fs.filesystem_type() != TMPFS_MAGIC && fs.filesystem_type() != MQUEUE_MAGIC {
        return Err(format!(
            "{path} is not on a tmpfs or mqueue filesystem (magic {:#x}); shmguard changes nothing else",
            fs.filesystem_type().0
        ));
    }
    let parent = openat(
        fd.as_fd(),
        "..",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno_text("open the parent of", path, e))?;
    let parent_st = fstat(&parent).map_err(|e| errno_text("stat the parent of", path, e))?;
    if dev_of(&parent_st) == found {
        return Err(format!(
            "{path} is a directory inside a {}:{} filesystem, not the root of a mount; shmguard changes only mount roots",
            found.0, found.1
        ));
    }
    Ok(fd)
}

/// The path under which the kernel resolves `fd` itself (for syscalls that take only a path).
pub fn fd_path(fd: &OwnedFd) -> String {
    use std::os::fd::AsRawFd;
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}
