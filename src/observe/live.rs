//! LiveMount: the mount at the managed path as the kernel reports it — statmount (or
//! mountinfo) for type, flags and limits, stat for the real mode, statvfs for what is in use.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::sys::statvfs::statvfs;

use crate::observe::ObserveError;
use crate::observe::mountinfo::MountInfoEntry;
use crate::observe::statmount::Mounts;
use crate::spec::{Host, MountFlags};

/// What lstat says the managed path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Missing,
    Directory,
    Symlink,
    Other,
}

/// Space and inodes in use (statvfs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub used_pages: u64,
    /// None when the filesystem does not count inodes (unlimited tmpfs, mqueue)
    pub used_inodes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveMount {
    /// mountinfo field 1
    pub mount_id: u64,
    /// mountinfo field 3
    pub dev: (u32, u32),
    /// mountinfo: filesystem type
    pub fstype: String,
    /// mountinfo: mount source
    pub source: Vec<u8>,
    /// mountinfo field 6
    pub flags: MountFlags,
    /// mountinfo last field, as listed
    pub super_options: Vec<String>,
    /// tmpfs size in pages, the default filled in when mountinfo omits it; 0 is unlimited
    pub size_pages: Option<u64>,
    /// tmpfs inode limit, the default filled in when mountinfo omits it; 0 is unlimited
    pub nr_inodes: Option<u64>,
    /// stat st_mode & 07777: the real mode (mountinfo's mode= is only the mount-time one)
    pub mode: u32,
    pub usage: Usage,
}

/// The host's page size and RAM, as mm/shmem.c sees them.
pub fn host() -> Host {
    let page_size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    let ram = nix::sys::sysinfo::sysinfo()
        .map(|s| s.ram_total())
        .unwrap_or(0);
    Host {
        page_size,
        total_ram_pages: ram / page_size,
    }
}

pub fn observe(
    path: &str,
    host: &Host,
    mounts: &Mounts,
) -> Result<(PathKind, Option<LiveMount>), ObserveError> {
    let err = |what: &str, source| ObserveError {
        what: what.to_string(),
        path: path.into(),
        source,
    };
    let kind = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => PathKind::Symlink,
        Ok(m) if m.is_dir() => PathKind::Directory,
        Ok(_) => PathKind::Other,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => PathKind::Missing,
        Err(e) => return Err(err("path", e)),
    };
    if kind != PathKind::Directory {
        return Ok((kind, None));
    }
    // The mount the path reaches: matched by the device stat(path) gives, so a mount covered
    // by a later one over a parent, or under another one stacked on the path, is not judged.
    let meta = std::fs::metadata(path).map_err(|e| err("path", e))?;
    let dev = (
        nix::sys::stat::major(meta.dev()) as u32,
        nix::sys::stat::minor(meta.dev()) as u32,
    );
    let Some(entry) = mounts.reached(Path::new(path).as_os_str().as_bytes(), dev)? else {
        return Ok((kind, None));
    };
    let vfs = statvfs(path).map_err(|e| err("statvfs of", e.into()))?;
    let frsize = vfs.fragment_size().max(1);
    let used_pages = (vfs.blocks() as u64).saturating_sub(vfs.blocks_free() as u64) * frsize
        / host.page_size.max(1);
    let files = vfs.files() as u64;
    let usage = Usage {
        used_pages,
        used_inodes: (files > 0).then(|| files.saturating_sub(vfs.files_free() as u64)),
    };
    Ok((
        kind,
        Some(from_entry(&entry, meta.mode() & 0o7777, usage, host)),
    ))
}

/// Interprets a mountinfo entry: absent size=/nr_inodes= are the kernel defaults.
pub fn from_entry(e: &MountInfoEntry, mode: u32, usage: Usage, host: &Host) -> LiveMount {
    let tmpfs = e.fstype == "tmpfs";
    let size_pages = tmpfs.then(|| {
        e.super_option("size")
            .and_then(|v| v.strip_suffix('k'))
            .and_then(|k| k.parse::<u64>().ok())
            .map(|k| k * 1024 / host.page_size)
            .unwrap_or_else(|| host.default_tmpfs_pages())
    });
    let nr_inodes = tmpfs.then(|| {
        e.super_option("nr_inodes")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| host.default_tmpfs_inodes())
    });
    LiveMount {
        mount_id: e.mount_id,
        dev: (e.major, e.minor),
        fstype: e.fstype.clone(),
        source: e.source.clone(),
        flags: MountFlags::from_mountinfo(&e.mount_options),
        super_options: e.super_options.clone(),
        size_pages,
        nr_inodes,
        mode,
        usage,
    }
}
