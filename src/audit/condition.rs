//! Conditions: audit checks that are not a desired value of the planner but a property
//! programs need — the mount is writable (per-mount flag AND superblock), its root lets every
//! user create and no one delete another's objects (1777 or 1733; 0777 is a security problem),
//! there are free inodes and space for the program (`room::judge`, the probe's own verdict:
//! fail when it cannot be made, warn below the recommended headroom beyond it), an mqueue limit is at least what the
//! programs' queue asks for (an unmounted /dev/mqueue is the kernel's internal mount, rw and
//! 1777). Each is a key, a judgement and a remedy; adding one is one variant here and one
//! entry in a profile. Pure: no I/O.

use crate::audit::audit_report::Status;
use crate::observe::{LiveMount, Observed};
use crate::probe::facts::Space;
use crate::probe::needs::{Program, TYPICAL_MSGS, TYPICAL_MSGSIZE};
use crate::probe::{ProbeStatus, room};

/// What the audited programs use, beyond the profile: the multiprocessing objects they make
/// (`--program`), the bytes they share (`audit --probe --bytes`) and the queue they open
/// (`--mq-maxmsg`, `--mq-msgsize`, or a policy target's `mq_maxmsg`/`mq_msgsize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// the multiprocessing objects they make (default: a Pool, the most)
    pub program: Program,
    /// data bytes shared through /dev/shm (a header page and the program's semaphores are
    /// reserved beside them)
    pub bytes: Option<u64>,
    /// (messages, bytes each) of the queue programs open
    pub queue: (u64, u64),
}

impl Default for Needs {
    fn default() -> Needs {
        Needs {
            program: Program::default(),
            bytes: None,
            queue: (TYPICAL_MSGS, TYPICAL_MSGSIZE),
        }
    }
}

impl Needs {
    /// The program whose room /dev/shm is judged for (as `probe` judges it).
    pub fn shape(&self) -> room::Shape {
        room::Shape {
            program: self.program,
            bytes: self.bytes,
        }
    }
}

/// One property a target's programs need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// writable: neither the mount (mountinfo field 6) nor its superblock (last field) is `ro`
    Writable,
    /// the root is world-writable and sticky: every user can create; no one can delete
    /// another's objects
    SharedSticky,
    /// free inodes: fail when the program (`Needs::program` and, with `bytes`, its data)
    /// cannot be made, warn below the recommended headroom beyond it; an unlimited tmpfs
    /// passes. Judged by `room::judge`, as the probe judges it.
    FreeInodes,
    /// free bytes, judged like FreeInodes
    FreeSpace,
    /// fs.mqueue.msg_max is at least the messages of the programs' queue
    MsgMax,
    /// fs.mqueue.msgsize_max is at least the message size of the programs' queue
    MsgsizeMax,
    /// /proc/sys/fs/mqueue/NAME is at least this
    MinLimit(&'static str, u64),
}

/// The space and inodes of a live mount, as statvfs would give them.
fn space_of(live: &LiveMount, page: u64) -> Space {
    let size = live.size_pages.unwrap_or(0) * page;
    let used = live.usage.used_pages * page;
    let inodes = live.nr_inodes.unwrap_or(0);
    Space {
        size_bytes: size,
        used_bytes: used,
        free_bytes: size.saturating_sub(used),
        inodes,
        free_inodes: inodes.saturating_sub(live.usage.used_inodes.unwrap_or(0)),
    }
}

/// A room verdict as an audit status and detail (the detail and what to do; empty on pass).
fn audit_verdict(v: room::Verdict) -> (Status, String) {
    let status = match v.status {
        ProbeStatus::Fail => Status::Fail,
        ProbeStatus::Warn => Status::Warn,
        ProbeStatus::Pass | ProbeStatus::Info => return (Status::Pass, String::new()),
    };
    let fix = v.remedy.map(|r| format!(": {r}")).unwrap_or_default();
    (status, format!("{}{fix}", v.detail))
}

impl Condition {
    /// The check key, as in ids (`dev-shm.free_inodes.live`) and `references`.
    pub fn key(self) -> &'static str {
        match self {
            Condition::Writable => "rw",
            Condition::SharedSticky => "mode",
            Condition::FreeInodes => "free_inodes",
            Condition::FreeSpace => "free_space",
            Condition::MsgMax => "msg_max",
            Condition::MsgsizeMax => "msgsize_max",
            Condition::MinLimit(name, _) => name,
        }
    }

    /// Pass, warn or fail, and unless it passes what is wrong and what fixes it.
    pub fn judge(self, path: &str, o: &Observed, needs: &Needs) -> (Status, String) {
        let (msgs, size) = needs.queue;
        match self {
            Condition::MsgMax => return limit("msg_max", msgs, path, o),
            Condition::MsgsizeMax => return limit("msgsize_max", size, path, o),
            Condition::MinLimit(name, want) => return limit(name, want, path, o),
            _ => {}
        }
        let Some(live) = &o.live else {
            // an mqueue target (observe reads its sysctl file, and only for mqueue): mq_open
            // uses the IPC namespace's internal mount, rw and 1777, mounted or not
            let mqueue = o.sysctl.is_some();
            if mqueue && matches!(self, Condition::Writable | Condition::SharedSticky) {
                return (Status::Pass, String::new());
            }
            return (
                Status::Fail,
                format!(
                    "nothing is mounted at {path} (shmguard apply --path {path} --state ephemeral)"
                ),
            );
        };
        let fail = |s: String| (Status::Fail, s);
        let page = o.host.page_size.max(1);
        let ram = o.host.total_ram_pages * page;
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
            Condition::FreeInodes | Condition::FreeSpace => {
                let room = room::judge(&space_of(live, page), ram, page, &needs.shape());
                audit_verdict(if self == Condition::FreeInodes {
                    room.inodes
                } else {
                    room.space
                })
            }
            Condition::MsgMax | Condition::MsgsizeMax | Condition::MinLimit(..) => {
                unreachable!("judged above")
            }
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
    use crate::observe::{PathKind, Usage};

    const N: Needs = Needs {
        program: Program::Pool,
        bytes: None,
        queue: (TYPICAL_MSGS, TYPICAL_MSGSIZE),
    };
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
        let j = |m| Condition::SharedSticky.judge("/dev/shm", &observed(m, false, 1, 0), &N);
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
        let (s, why) = Condition::Writable.judge("/dev/shm", &observed(0o1777, true, 1, 0), &N);
        assert_eq!(s, Status::Fail);
        assert!(
            why.starts_with("the filesystem (superblock) is read-only"),
            "{why}"
        );
        assert_eq!(
            Condition::Writable
                .judge("/dev/shm", &observed(0o1777, false, 1, 0), &N)
                .0,
            Status::Pass
        );
    }

    #[test]
    fn issue_23_room_fails_when_the_program_cannot_be_made() {
        let j = |c: Condition, inodes, pages, needs: &Needs| {
            c.judge("/dev/shm", &observed(0o1777, false, inodes, pages), needs)
        };
        // 100 inodes: 97 used leaves 3: a Lock works, the default program (a Pool) does not
        let (s, why) = j(Condition::FreeInodes, 97, 0, &N);
        assert_eq!(s, Status::Fail, "{why}");
        assert!(why.contains("--nr-inodes 1128"), "{why}");
        let lock = Needs {
            program: Program::Lock,
            ..N
        };
        let (s, why) = j(Condition::FreeInodes, 97, 0, &lock);
        assert_eq!(s, Status::Warn, "{why}");
        assert!(why.contains("raise nr_inodes by 15, to 115"), "{why}");
        assert_eq!(j(Condition::FreeInodes, 77, 0, &N).0, Status::Pass);
        let (s, why) = j(Condition::FreeSpace, 1, 4096, &N);
        assert_eq!(s, Status::Fail);
        assert!(why.starts_with("0B free of 16M"), "{why}");
        assert!(why.contains("--min-size 17M"), "{why}");
        assert_eq!(j(Condition::FreeSpace, 1, 4096 - 10, &N).0, Status::Warn);
    }

    /// The audit asks the probe's function: one state and one shape, one verdict.
    #[test]
    fn issue_23_the_audit_s_verdict_is_room_judge_s() {
        for (used_inodes, used_pages) in [(97, 0), (1, 4090), (1, 0), (90, 4000)] {
            for program in Program::WORDS.map(|w| Program::parse(w).unwrap()) {
                for bytes in [None, Some(1 << 20), Some((16 << 20) - 4096)] {
                    let needs = Needs {
                        program,
                        bytes,
                        ..N
                    };
                    let o = observed(0o1777, false, used_inodes, used_pages);
                    let room = room::judge(
                        &space_of(o.live.as_ref().unwrap(), 4096),
                        4 << 30,
                        4096,
                        &needs.shape(),
                    );
                    let st = |p: ProbeStatus| match p {
                        ProbeStatus::Fail => Status::Fail,
                        ProbeStatus::Warn => Status::Warn,
                        _ => Status::Pass,
                    };
                    let inodes = Condition::FreeInodes.judge("/dev/shm", &o, &needs).0;
                    let space = Condition::FreeSpace.judge("/dev/shm", &o, &needs).0;
                    assert_eq!(
                        (inodes, space),
                        (st(room.inodes.status), st(room.space.status))
                    );
                }
            }
        }
    }

    #[test]
    fn issue_18_free_space_is_judged_with_the_data() {
        // 16M, nothing used; the data fills all but 4 pages: a Pool's 6 do not fit
        let needs = Needs {
            bytes: Some((16 << 20) - 5 * 4096),
            ..N
        };
        let (s, why) =
            Condition::FreeSpace.judge("/dev/shm", &observed(0o1777, false, 1, 0), &needs);
        assert_eq!(s, Status::Fail, "{why}");
        let needs = Needs {
            bytes: Some(15 << 20),
            ..N
        };
        let (s, why) =
            Condition::FreeSpace.judge("/dev/shm", &observed(0o1777, false, 1, 0), &needs);
        assert_eq!(s, Status::Pass, "{why}");
        let needs = Needs {
            bytes: Some((16 << 20) - (64 << 10)),
            ..N
        };
        let (s, why) =
            Condition::FreeSpace.judge("/dev/shm", &observed(0o1777, false, 1, 0), &needs);
        assert_eq!(s, Status::Warn, "{why}");
    }

    #[test]
    fn issue_18_an_unmounted_mqueue_is_the_internal_mount() {
        let mut o = observed(0o1777, false, 1, 0);
        o.live = None;
        let shm = o.clone();
        o.sysctl = Some(crate::observe::FileState::from_bytes(
            std::path::Path::new("/etc/sysctl.d/x.conf"),
            None,
            crate::observe::SysctlConf::from_shared,
        ));
        assert_eq!(
            Condition::Writable.judge("/dev/mqueue", &o, &N).0,
            Status::Pass
        );
        assert_eq!(
            Condition::SharedSticky.judge("/dev/mqueue", &o, &N).0,
            Status::Pass
        );
        let big = Needs {
            queue: (64, 65536),
            ..N
        };
        let (s, why) = Condition::MsgsizeMax.judge("/dev/mqueue", &o, &big);
        assert_eq!(s, Status::Fail, "{why}");
        assert_eq!(
            Condition::Writable.judge("/dev/shm", &shm, &N).0,
            Status::Fail
        );
    }

    #[test]
    fn an_mqueue_limit_below_the_queue_fails() {
        let (s, why) = Condition::MsgMax.judge("/dev/mqueue", &observed(0o1777, false, 1, 0), &N);
        assert_eq!(s, Status::Fail);
        assert!(why.contains("--msg-max 10"), "{why}");
    }
}
