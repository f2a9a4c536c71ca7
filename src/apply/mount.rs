//! mount(2) and remount through nix. A remount passes every per-mount flag the mount is to
//! keep, because MS_REMOUNT replaces them (a bare `size=` remount would drop nosuid,nodev,noexec).
//! It acts on the verified mount root descriptor (`mount_root`), not on the path again.

use nix::mount::MsFlags;

use crate::apply::mount_root::{fd_path, open_mount_root};
use crate::spec::MountFlags;
use crate::spec::flags::Atime;

fn ms_flags(f: MountFlags) -> MsFlags {
    let mut ms = MsFlags::empty();
    for (on, bit) in [
        (f.read_only, MsFlags::MS_RDONLY),
        (f.nosuid, MsFlags::MS_NOSUID),
        (f.nodev, MsFlags::MS_NODEV),
        (f.noexec, MsFlags::MS_NOEXEC),
        (f.nodiratime, MsFlags::MS_NODIRATIME),
    ] {
        if on {
            ms |= bit;
        }
    }
    ms | match f.atime {
        Atime::Relatime => MsFlags::MS_RELATIME,
        Atime::Noatime => MsFlags::MS_NOATIME,
        Atime::Strictatime => MsFlags::MS_STRICTATIME,
    }
}

fn errno_text(e: nix::Error) -> String {
    format!("{} ({e:?})", e.desc())
}

pub fn mount(
    path: &str,
    source: &[u8],
    fstype: &str,
    flags: MountFlags,
    data: &str,
) -> Result<(), String> {
    nix::mount::mount(
        Some(source),
        path,
        Some(fstype),
        ms_flags(flags),
        Some(data),
    )
    .map_err(errno_text)
}

pub fn remount(
    path: &str,
    dev: (u32, u32),
    flags: MountFlags,
    keep_super: &[String],
    data: &str,
    superblock_rw: bool,
) -> Result<(), String> {
    let root = open_mount_root(path, Some(dev))?;
    let mut ms = ms_flags(flags) | MsFlags::MS_REMOUNT;
    // A superblock remount (no MS_BIND) without MS_RDONLY is what clears the superblock's ro.
    if data.is_empty() && !superblock_rw {
        // Per-mount flags only: leave the superblock (size, inodes, sync) alone.
        ms |= MsFlags::MS_BIND;
    } else {
        for o in keep_super {
            ms |= match o.as_str() {
                "sync" => MsFlags::MS_SYNCHRONOUS,
                "dirsync" => MsFlags::MS_DIRSYNC,
                "lazytime" => MsFlags::MS_LAZYTIME,
                _ => MsFlags::empty(),
            };
        }
    }
    nix::mount::mount(
        None::<&str>,
        fd_path(&root).as_str(),
        None::<&str>,
        ms,
        Some(data),
    )
    .map_err(errno_text)
}

/// Unmounts what a Mount step mounted (its undo).
pub fn unmount(path: &str) -> Result<(), String> {
    nix::mount::umount2(path, nix::mount::MntFlags::empty()).map_err(errno_text)
}
