//! Facts: what the probe's remedies need to know beyond an errno — how full /dev/shm is
//! (statvfs: space and free inodes), the mqueue limits of this IPC namespace, the process's
//! RLIMIT_MSGQUEUE, the host's RAM and the container runtime, if any. Read once per probe; the
//! parsers are pure.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::observe::container::Runtime;

/// Space and inodes of a mounted filesystem, from statvfs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Space {
    /// f_blocks * f_frsize; 0 when the filesystem has no size limit
    pub size_bytes: u64,
    /// (f_blocks - f_bfree) * f_frsize
    pub used_bytes: u64,
    /// f_bavail * f_frsize
    pub free_bytes: u64,
    /// f_files; 0 when the filesystem does not count inodes (an unlimited tmpfs)
    pub inodes: u64,
    /// f_ffree
    pub free_inodes: u64,
}

impl Space {
    /// statvfs of `path`; None when it cannot be read (missing, not permitted).
    pub fn of(path: &str) -> Option<Space> {
        let v = nix::sys::statvfs::statvfs(path).ok()?;
        let fr = v.fragment_size().max(1);
        let blocks = v.blocks() as u64;
        Some(Space {
            size_bytes: blocks * fr,
            used_bytes: blocks.saturating_sub(v.blocks_free() as u64) * fr,
            free_bytes: v.blocks_available() as u64 * fr,
            inodes: v.files() as u64,
            free_inodes: v.files_free() as u64,
        })
    }

    pub fn inodes_limited(&self) -> bool {
        self.inodes > 0
    }
}

/// Everything the remedies are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub page_size: u64,
    pub ram_bytes: u64,
    /// statvfs of /dev/shm (None: not there)
    pub shm: Option<Space>,
    /// mode of /dev/shm (stat)
    pub shm_mode: Option<u32>,
    /// /proc/sys/fs/mqueue/{queues_max,msg_max,msgsize_max}
    pub queues_max: Option<u64>,
    pub msg_max: Option<u64>,
    pub msgsize_max: Option<u64>,
    /// the soft RLIMIT_MSGQUEUE in bytes (None: unlimited or unknown)
    pub rlimit_msgqueue: Option<u64>,
    /// the hard RLIMIT_MSGQUEUE: `ulimit -q` raises the soft one up to it without privilege
    /// (None: unlimited or unknown)
    pub rlimit_msgqueue_hard: Option<u64>,
    /// mode of /dev/mqueue, when it is mounted
    pub mqueue_mode: Option<u32>,
    pub container: Option<Runtime>,
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn mode_of(path: &str) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.mode() & 0o7777)
}

/// The soft "Max msgqueue size" of /proc/self/limits; None when unlimited or absent.
pub fn rlimit_msgqueue(limits: &str) -> Option<u64> {
    msgqueue_column(limits, 0)
}

/// The hard "Max msgqueue size" of /proc/self/limits; None when unlimited or absent.
pub fn rlimit_msgqueue_hard(limits: &str) -> Option<u64> {
    msgqueue_column(limits, 1)
}

fn msgqueue_column(limits: &str, n: usize) -> Option<u64> {
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max msgqueue size"))?;
    line["Max msgqueue size".len()..]
        .split_whitespace()
        .nth(n)?
        .parse()
        .ok()
}

impl Facts {
    pub fn read() -> Facts {
        let host = crate::observe::live::host();
        let limits = std::fs::read_to_string("/proc/self/limits").ok();
        let mqueue_mounted = crate::observe::statmount::Mounts::new()
            .at(b"/dev/mqueue")
            .ok()
            .flatten()
            .is_some_and(|e| e.fstype == "mqueue");
        Facts {
            page_size: host.page_size,
            ram_bytes: host.total_ram_pages * host.page_size,
            shm: Space::of("/dev/shm"),
            shm_mode: mode_of("/dev/shm"),
            queues_max: read_u64("/proc/sys/fs/mqueue/queues_max"),
            msg_max: read_u64("/proc/sys/fs/mqueue/msg_max"),
            msgsize_max: read_u64("/proc/sys/fs/mqueue/msgsize_max"),
            rlimit_msgqueue: limits.as_deref().and_then(rlimit_msgqueue),
            rlimit_msgqueue_hard: limits.as_deref().and_then(rlimit_msgqueue_hard),
            mqueue_mode: if mqueue_mounted {
                mode_of("/dev/mqueue")
            } else {
                None
            },
            container: crate::observe::container::detect_here(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_msgqueue_limit_is_read_from_proc_self_limits() {
        let l = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 1048576              files     \nMax msgqueue size         4096                 819200               bytes     \n";
        assert_eq!(rlimit_msgqueue(l), Some(4096));
        assert_eq!(rlimit_msgqueue_hard(l), Some(819200));
        let u = "Max msgqueue size         unlimited            unlimited            bytes     \n";
        assert_eq!(rlimit_msgqueue(u), None);
        assert_eq!(rlimit_msgqueue(""), None);
    }
}
