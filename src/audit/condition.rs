//! Conditions: audit checks that are not a desired value of the planner but a property
//! programs need — the mount is writable (per-mount flag AND superblock), its root lets every
//! user create and no one delete another's objects (1777 or 1733; 0777 is a security problem),
//! there are free inodes and space for a small program, an mqueue limit is at least what
//! programs ask for. Each is a key, a judgement and a remedy; adding one is one variant here
//! and one entry in a profile. Pure: no I/O.

use crate::audit::audit_report::Status;
use crate::observe::Observed;
use crate::spec::HumanBytes;

/// One property a target's programs need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// writable: neither the mount (mountinfo field 6) nor its superblock (last field) is `ro`
    Writable,
    /// the root is world-writable and sticky: every user can create; no one can delete
    /// another's objects
    SharedSticky,
    /// at least this many free inodes (an unlimited tmpfs passes)
    FreeInodes(u64),
    /// at least this many free bytes (an unlimited tmpfs passes)
    FreeSpace(u64),
    /// /proc/sys/fs/mqueue/NAME is at least this
    MinLimit(&'static str, u64),
}

impl Condition {
    /// The check key, as in ids (`dev-shm.free_inodes.live`) and `references`.
    pub fn key(self) -> &'static str {
        match self {
            Condition::Writable => "rw",
            Condition::SharedSticky => "mode",
            Condition::FreeInodes(_) => "free_inodes",
            Condition::FreeSpace(_) => "free_space",
            Condition::MinLimit(name, _) => name,
        }
    }

    /// Pass or fail, and for a failure what is wrong and what fixes it.
    pub fn judge(self, path: &str, o: &Observed) -> (Status, String) {
        let Some(live) = &o.live else {
            if let Condition::MinLimit(name, want) = self {
                return limit(name, want, path, o);
            }
            return (
                Status::Fail,
                format!(
                    "nothing is mounted at {path} (shmguard apply --path {path} --state ephemeral)"
                ),
            );
        };
        let fail = |s: String| (Status::Fail, s);
        match self {
            Condition::Writable => {
                let mount_ro = live.flags.read_only;
                let super_ro = live.super_options.iter().any(|o| o == "ro");
                if !mount_ro && !super_ro {
                    return (Status::Pass, String::new());
                }
                let which = match (mount_ro, super_ro) {
                    (true, true) => "the mount and its filesystem are",
                    (true, false) => "the mount is",
                    _ => "the filesystem (superblock) is",
                };
                fail(format!(
                    "{which} read-only, so every program's create fails with EROFS (shmguard apply --path {path} -o rw)"
                ))
            }
            Condition::SharedSticky => {
                let m = live.mode;
                let others_create = m & 0o003 == 0o003;
                let sticky = m & 0o1000 != 0;
                match (others_create, sticky) {
                    (true, true) => (Status::Pass, String::new()),
                    (true, false) => fail(format!(
                        "mode {m:04o} is world-writable without the sticky bit: any user can delete or replace another user's shared memory and semaphores (a security problem); chmod 1777 (shmguard apply --path {path} --mode 1777)"
                    )),
                    (false, _) => fail(format!(
                        "mode {m:04o} does not let every user create: programs of other users fail with EACCES (Python multiprocessing's SemLock raises PermissionError); chmod 1777, which lets every user create and, being sticky, keeps users from deleting each other's (shmguard apply --path {path} --mode 1777)"
                    )),
                }
            }
            Condition::FreeInodes(want) => {
                let Some(total) = live.nr_inodes.filter(|n| *n > 0) else {
                    return (Status::Pass, String::new());
                };
                let used = live.usage.used_inodes.unwrap_or(0);
                let free = total.saturating_sub(used);
                if free >= want {
                    return (Status::Pass, String::new());
                }
                let suggest = (used + 1024).max(total * 2);
                fail(format!(
                    "{free} of {total} inodes free, a small program needs {want} (every shared-memory object and named semaphore is one; Pool(2) creates about 7): raise nr_inodes, more size does not help (shmguard apply --path {path} --nr-inodes {suggest})"
                ))
            }
            Condition::FreeSpace(want) => {
                let page = o.host.page_size.max(1);
                let Some(size) = live.size_pages.filter(|p| *p > 0).map(|p| p * page) else {
                    return (Status::Pass, String::new());
                };
                let used = live.usage.used_pages * page;
                let free = size.saturating_sub(used);
                if free >= want {
                    return (Status::Pass, String::new());
                }
                let grow = (used + want)
                    .div_ceil(1 << 20)
                    .max(size.div_ceil(1 << 20) + 1)
                    << 20;
                let free_text = if free == 0 {
                    "0B".into()
                } else {
                    HumanBytes(free).to_string()
                };
                fail(format!(
                    "{free_text} free of {}, {} used, a small program needs {}: free space or grow it to at least {g} (shmguard apply --path {path} --min-size {g})",
                    HumanBytes(size),
                    HumanBytes(used.max(1)),
                    HumanBytes(want),
                    g = HumanBytes(grow)
                ))
            }
            Condition::MinLimit(name, want) => limit(name, want, path, o),
        }
    }
}

fn limit(name: &str, want: u64, path: &str, o: &Observed) -> (Status, String) {
    match o.mqueue_limits.get(name) {
        Some(v) if *v >= want => (Status::Pass, String::new()),
        Some(v) => {
            // raise to the kernel's default when that is more: room for more than one program
            let suggest = match name {
                "queues_max" => want.max(256),
                _ => want,
            };
            (
                Status::Fail,
                format!(
                    "fs.mqueue.{name} is {v}, below the {want} programs ask for (shmguard apply --path {path} --{} {suggest})",
                    name.replace('_', "-")
                ),
            )
        }
        None => (
            Status::Fail,
            format!("fs.mqueue.{name} cannot be read: the kernel has no POSIX message queues?"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{LiveMount, PathKind, Usage};
    use crate::spec::{Host, MountFlags};

    fn observed(mode: u32, super_ro: bool, used_inodes: u64, used_pages: u64) -> Observed {
        let host = Host {
            page_size: 4096,
            total_ram_pages: 1 << 20,
        };
        Observed {
            host,
            systemd: false,
            path_kind: PathKind::Directory,
            live: Some(LiveMount {
                mount_id: 1,
                dev: (0, 1),
                fstype: "tmpfs".into(),
                source: b"tmpfs".to_vec(),
                flags: MountFlags::default(),
                super_options: vec![if super_ro { "ro" } else { "rw" }.into()],
                size_pages: Some(4096),
                nr_inodes: Some(100),
                mode,
                usage: Usage {
                    used_pages,
                    used_inodes: Some(used_inodes),
                },
            }),
            fstab: crate::observe::FileState::from_bytes(
                std::path::Path::new("/etc/fstab"),
                None,
                crate::observe::Fstab::from_shared,
            ),
            sysctl: None,
            mqueue_limits: [("msg_max".to_string(), 4)].into(),
        }
    }

    #[test]
    fn issue_10_1733_passes_and_0777_fails_as_a_security_problem() {
        let j = |m| Condition::SharedSticky.judge("/dev/shm", &observed(m, false, 1, 0));
        assert_eq!(j(0o1777).0, Status::Pass);
        assert_eq!(j(0o1733).0, Status::Pass);
        let (s, why) = j(0o777);
        assert_eq!(s, Status::Fail);
        assert!(why.contains("security problem"), "{why}");
        let (s, why) = j(0o755);
        assert_eq!(s, Status::Fail);
        assert!(
            why.contains("EACCES") && why.contains("--mode 1777"),
            "{why}"
        );
    }

    #[test]
    fn issue_13_a_read_only_superblock_is_not_writable() {
        let (s, why) = Condition::Writable.judge("/dev/shm", &observed(0o1777, true, 1, 0));
        assert_eq!(s, Status::Fail);
        assert!(
            why.starts_with("the filesystem (superblock) is read-only"),
            "{why}"
        );
        assert_eq!(
            Condition::Writable
                .judge("/dev/shm", &observed(0o1777, false, 1, 0))
                .0,
            Status::Pass
        );
    }

    #[test]
    fn room_for_a_small_program() {
        let (s, why) = Condition::FreeInodes(16).judge("/dev/shm", &observed(0o1777, false, 97, 0));
        assert_eq!(s, Status::Fail);
        assert!(why.contains("--nr-inodes 1121"), "{why}");
        let (s, why) =
            Condition::FreeSpace(256 << 10).judge("/dev/shm", &observed(0o1777, false, 1, 4096));
        assert_eq!(s, Status::Fail);
        assert!(why.starts_with("0B free of 16M, 16M used"), "{why}");
        assert!(why.contains("--min-size 17M"), "{why}");
        let (s, why) =
            Condition::MinLimit("msg_max", 10).judge("/dev/mqueue", &observed(0o1777, false, 1, 0));
        assert_eq!(s, Status::Fail);
        assert!(why.contains("--msg-max 10"), "{why}");
    }
}
