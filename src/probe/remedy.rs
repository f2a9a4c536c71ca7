//! Remedies: for a failed probe step, the one thing that fixes it — chosen from the errno AND
//! the facts (a full /dev/shm is out of space or out of inodes; EINVAL from mq_open is msg_max
//! or msgsize_max; EMFILE is RLIMIT_MSGQUEUE), with the `shmguard apply` line where shmguard
//! can do it, and never a size the host cannot give. Pure: no I/O.

use nix::errno::Errno;

use crate::probe::facts::Facts;
use crate::probe::needs::{TYPICAL_MSGS, TYPICAL_MSGSIZE, queue_bytes};
use crate::spec::HumanBytes;

/// What the failed step needed: bytes and inodes in /dev/shm, or a message queue's shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Need {
    pub bytes: u64,
    pub inodes: u64,
    /// (messages, bytes each) of the queue it opened
    pub queue: (u64, u64),
    /// when mq_open refused that shape with EINVAL: the errno a 1 x 1 queue then got, what
    /// would stop the queue next (ENOSPC: queues_max all in use; EMFILE: RLIMIT_MSGQUEUE used
    /// up by the user's queues)
    pub queue_next: Option<Errno>,
}

/// A byte count where 0 means none (HumanBytes shows 0 as "unlimited").
pub(crate) fn amount(b: u64) -> String {
    if b == 0 {
        "0B".into()
    } else {
        HumanBytes(b).to_string()
    }
}

/// `b` rounded up to whole MiB.
pub(crate) fn mib_ceil(b: u64) -> u64 {
    b.div_ceil(1 << 20) << 20
}

/// Out of space: `need` more bytes do not fit. Accounts for what others use, and never asks
/// for more than the host has.
pub fn space(f: &Facts, need: u64) -> String {
    let Some(s) = f.shm else {
        return "/dev/shm cannot be read: mount a tmpfs there (shmguard apply --path /dev/shm --mode 1777)".into();
    };
    if s.size_bytes == 0 {
        return format!(
            "/dev/shm has no size limit, so the host itself is out of memory for {}: free memory or run the job on a bigger host",
            HumanBytes(need)
        );
    }
    let usage = format!(
        "{} free of {}, {} used",
        amount(s.free_bytes),
        HumanBytes(s.size_bytes),
        amount(s.used_bytes)
    );
    let grow = mib_ceil(s.used_bytes + need).max(s.size_bytes + (1 << 20));
    let container = f.container.map_or(String::new(), |rt| {
        format!(
            "; {}",
            crate::observe::container::advice(rt, Some(s.size_bytes), grow)
        )
    });
    if f.ram_bytes > 0 && grow > f.ram_bytes {
        return format!(
            "{usage}: free space in /dev/shm; growing it to the {} this needs is more than this host's {} of RAM, so run the job on a bigger host or use smaller segments",
            HumanBytes(grow),
            HumanBytes(f.ram_bytes)
        );
    }
    format!(
        "{usage}: free space in /dev/shm or grow it to at least {g} (shmguard apply --path /dev/shm --min-size {g}){container}",
        g = HumanBytes(grow)
    )
}

/// Out of inodes: more space fixes nothing, nr_inodes does; `need` more must fit.
pub fn inodes(f: &Facts, need: u64) -> String {
    let s = f.shm.unwrap_or_default();
    let used = s.inodes.saturating_sub(s.free_inodes);
    let want = (used + need + 1024).max(s.inodes * 2);
    format!(
        "/dev/shm has {} of {} inodes free (every shared-memory object and named semaphore is one; growing the size does not help): raise nr_inodes (shmguard apply --path /dev/shm --nr-inodes {want})",
        s.free_inodes, s.inodes
    )
}

/// ENOSPC in /dev/shm: out of inodes when fewer are free than the step needed, else space.
fn shm_full(f: &Facts, need: Need) -> String {
    match f.shm {
        Some(s) if s.inodes_limited() && s.free_inodes < need.inodes.max(1) => {
            inodes(f, need.inodes)
        }
        _ => space(f, need.bytes),
    }
}

fn mode(m: Option<u32>) -> String {
    m.map_or(String::new(), |m| format!(" (mode {m:04o})"))
}

/// The remedy for `check` failing at `call` with `errno`; `need` is what it wanted.
pub fn remedy(check: &str, call: &str, errno: Errno, f: &Facts, need: Need) -> String {
    use Errno::*;
    if check.starts_with("message_queue") {
        return mqueue(call, errno, f, need);
    }
    match errno {
        EACCES | EPERM => format!(
            "/dev/shm{} does not let this user create files: chmod 1777 /dev/shm (shmguard apply --path /dev/shm --mode 1777); 1777 lets every user create and the sticky bit keeps them from deleting each other's",
            mode(f.shm_mode)
        ),
        EROFS => {
            "/dev/shm is read-only: remount it read-write (shmguard apply --path /dev/shm -o rw)"
                .into()
        }
        ENOENT => {
            "/dev/shm is missing: mount a tmpfs there (shmguard apply --path /dev/shm --mode 1777)"
                .into()
        }
        ENOSPC => shm_full(f, need),
        // a mapped page the tmpfs could not supply
        EFAULT | EIO if call == "read back" => shm_full(f, need),
        e => format!(
            "{call} failed with {e:?}, which shmguard has no remedy for; `shmguard status /dev/shm` shows the mount"
        ),
    }
}

/// The kernel's default RLIMIT_MSGQUEUE (MQ_BYTES_MAX).
const DEFAULT_RLIMIT_MSGQUEUE: u64 = 819200;

/// What a queue of `msgs` x `size` needs of the sysctls, as `(limit, is, wanted)`, for each
/// that falls short: msg_max and msgsize_max below the shape, queues_max when mq_open said all
/// are in use (`full`: ENOSPC) or it is 0. Pure.
fn short_sysctls(
    full: bool,
    f: &Facts,
    (msgs, size): (u64, u64),
) -> Vec<(&'static str, Option<u64>, u64)> {
    let mut low = Vec::new();
    if full || f.queues_max == Some(0) {
        let want = f.queues_max.unwrap_or(0).saturating_mul(2).max(256);
        low.push(("queues_max", f.queues_max, want));
    }
    if f.msg_max.is_none_or(|v| v < msgs) {
        low.push(("msg_max", f.msg_max, msgs));
    }
    if f.msgsize_max.is_none_or(|v| v < size) {
        low.push(("msgsize_max", f.msgsize_max, size));
    }
    low
}

/// The RLIMIT_MSGQUEUE part of a queue's remedy, when the soft limit is below what the queue
/// counts against it or mq_open said so (`used`: EMFILE, the user's other queues count too).
/// Pure.
fn short_rlimit(used: bool, f: &Facts, (msgs, size): (u64, u64)) -> Option<String> {
    let limit = f.rlimit_msgqueue?;
    let need = queue_bytes(msgs, size);
    if !used && limit >= need {
        return None;
    }
    let want = need.max(DEFAULT_RLIMIT_MSGQUEUE);
    let head = format!(
        "RLIMIT_MSGQUEUE is {limit} bytes, and a queue of {msgs} x {size} needs {need} bytes by the kernel's accounting ({msgs} x {size} of messages plus {} of headers and tree nodes), with the user's other queues on top: it is a per-user process limit, not a sysctl",
        need - msgs * size
    );
    Some(match f.rlimit_msgqueue_hard.filter(|hard| *hard < want) {
        None => format!(
            "{head}; raise it where the program starts to {want} or more: `ulimit -q {want}` in its shell, `LimitMSGQUEUE={want}` in its systemd unit, or `USER - msgqueue {want}` in /etc/security/limits.conf"
        ),
        // ulimit -q cannot go past the hard limit without CAP_SYS_RESOURCE
        Some(hard) => format!(
            "{head}; its hard limit is {hard}, so `ulimit -q` alone cannot raise it: raise both where the program starts, to {want} or more: `LimitMSGQUEUE={want}` in its systemd unit, `USER - msgqueue {want}` in /etc/security/limits.conf (at the next login), or as root `prlimit --msgqueue={want}:{want}` around its start"
        ),
    })
}

/// A message queue that mq_open refused: every limit the queue falls short of, named at once
/// (the sysctls in one `shmguard apply` line, then RLIMIT_MSGQUEUE with its bytes), so that
/// following the remedy once makes the program work, whichever of them mq_open reported
/// first (measured: the kernel counts queues against queues_max first, ENOSPC, then checks the
/// shape against msg_max and msgsize_max, EINVAL, then RLIMIT_MSGQUEUE, EMFILE; after EINVAL,
/// `need.queue_next` says what a 1 x 1 queue met, as the rlimit may be used up by the user's
/// other queues, which the facts cannot show).
fn mqueue(call: &str, errno: Errno, f: &Facts, need: Need) -> String {
    use Errno::*;
    let (msgs, size) = need.queue;
    let said = |e: Errno| errno == e || need.queue_next == Some(e);
    let show = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
    match errno {
        EINVAL | EMFILE | ENOSPC if call == "mq_open" || errno != EINVAL => {
            let shape = if (msgs, size) == (TYPICAL_MSGS, TYPICAL_MSGSIZE) {
                format!(
                    "{msgs} messages of {size} bytes, posix_ipc's and the kernel's defaults"
                )
            } else {
                format!("{msgs} messages of {size} bytes")
            };
            let low = short_sysctls(said(ENOSPC), f, (msgs, size));
            let rlimit = short_rlimit(said(EMFILE), f, (msgs, size));
            let mut parts = Vec::new();
            if !low.is_empty() {
                let said: Vec<String> = low
                    .iter()
                    .map(|(name, is, _)| match *name {
                        "queues_max" => format!(
                            "fs.mqueue.queues_max is {}{}",
                            show(*is),
                            if said(ENOSPC) { " and all are in use" } else { "" }
                        ),
                        _ => format!("fs.mqueue.{name} is {}", show(*is)),
                    })
                    .collect();
                let raise: String = low
                    .iter()
                    .map(|(name, _, want)| format!(" --{} {want}", name.replace('_', "-")))
                    .collect();
                let below = if low.iter().any(|(n, ..)| *n != "queues_max") {
                    format!(", below the queue the program opens ({shape})")
                } else {
                    String::new()
                };
                parts.push(format!(
                    "{}{below}: raise {} (shmguard apply --path /dev/mqueue{raise})",
                    said.join(" and "),
                    if low.len() == 1 { "it" } else { "them" }
                ));
            }
            parts.extend(rlimit);
            match (parts.len(), errno) {
                (0, EINVAL) => format!(
                    "mq_open refused a queue of {shape} with EINVAL although msg_max ({}) and msgsize_max ({}) allow it; shmguard has no remedy for that",
                    show(f.msg_max),
                    show(f.msgsize_max)
                ),
                (0, EMFILE) => "the process has too many open files or queues: raise its open-files limit (`ulimit -n`, systemd LimitNOFILE=)".into(),
                (0, _) => format!("{call} failed with {errno:?}, which shmguard has no remedy for"),
                (1, _) => parts.remove(0),
                _ => format!("{} limits stop this queue, raise them all: {}", parts.len() + low.len() - 1, parts.join("; and ")),
            }
        }
        EROFS => "the mqueue filesystem is read-only: remount it read-write (shmguard apply --path /dev/mqueue -o rw)".into(),
        EACCES | EPERM => format!(
            "the mqueue filesystem{} does not let this user create queues: chmod 1777 /dev/mqueue (shmguard apply --path /dev/mqueue --mode 1777)",
            mode(f.mqueue_mode)
        ),
        ENOSYS => "the kernel has no POSIX message queues (CONFIG_POSIX_MQUEUE)".into(),
        ENOMEM => "the kernel is out of memory for message queues: free memory".into(),
        e => format!("{call} failed with {e:?}, which shmguard has no remedy for"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::container::Runtime;
    use crate::probe::facts::Space;

    fn facts(size: u64, used: u64) -> Facts {
        Facts {
            page_size: 4096,
            ram_bytes: 8 << 30,
            shm: Some(Space {
                size_bytes: size,
                used_bytes: used,
                free_bytes: size - used,
                inodes: 1000,
                free_inodes: 900,
            }),
            ..Facts::default()
        }
    }

    #[test]
    fn issue_10_space_remedy_accounts_for_what_others_use() {
        let r = remedy(
            "reserve",
            "posix_fallocate",
            Errno::ENOSPC,
            &facts(16 << 20, 10 << 20),
            Need {
                bytes: (8 << 20) + 4096,
                inodes: 1,
                ..Need::default()
            },
        );
        assert_eq!(
            r,
            "6M free of 16M, 10M used: free space in /dev/shm or grow it to at least 19M (shmguard apply --path /dev/shm --min-size 19M)"
        );
    }

    #[test]
    fn issue_10_never_more_than_the_host_can_give() {
        let r = space(&facts(16 << 20, 0), 64 << 30);
        assert!(r.contains("more than this host's 8G of RAM"), "{r}");
        assert!(!r.contains("--min-size"), "{r}");
    }

    #[test]
    fn issue_10_out_of_inodes_is_nr_inodes_not_size() {
        let mut f = facts(16 << 20, 1 << 20);
        f.shm.as_mut().unwrap().free_inodes = 0;
        let need = Need {
            bytes: 4096,
            inodes: 2,
            ..Need::default()
        };
        let r = remedy("semaphore", "sem_open", Errno::ENOSPC, &f, need);
        assert!(r.contains("--nr-inodes 2026"), "{r}");
        assert!(!r.contains("--min-size"), "{r}");
    }

    #[test]
    fn issue_10_mqueue_remedies_follow_the_errno() {
        let f = Facts {
            msg_max: Some(4),
            msgsize_max: Some(8192),
            queues_max: Some(0),
            rlimit_msgqueue: Some(4096),
            ..Facts::default()
        };
        let q = Need {
            queue: (10, 8192),
            ..Need::default()
        };
        // all three fall short: one remedy names them all, whatever mq_open reported first
        let r = remedy("message_queue", "mq_open", Errno::EINVAL, &f, q);
        assert!(
            r.contains("(shmguard apply --path /dev/mqueue --queues-max 256 --msg-max 10); and RLIMIT_MSGQUEUE is 4096 bytes")
                && r.starts_with("3 limits stop this queue"),
            "{r}"
        );
        // only the rlimit: EMFILE is not queues_max
        let rlimit_only = Facts {
            msg_max: Some(10),
            queues_max: Some(256),
            ..f
        };
        let r = remedy("message_queue", "mq_open", Errno::EMFILE, &rlimit_only, q);
        assert!(
            r.contains("ulimit -q") && r.contains("LimitMSGQUEUE=") && r.contains("msgqueue"),
            "{r}"
        );
        assert!(
            !r.contains("queues_max") && !r.contains("limits stop"),
            "{r}"
        );
        let queues_only = Facts {
            rlimit_msgqueue: Some(819200),
            ..rlimit_only
        };
        let r = remedy("message_queue", "mq_open", Errno::ENOSPC, &queues_only, q);
        assert_eq!(
            r,
            "fs.mqueue.queues_max is 256 and all are in use: raise it (shmguard apply --path /dev/mqueue --queues-max 512)"
        );
        let r = remedy("message_queue_default", "mq_open", Errno::EROFS, &f, q);
        assert!(r.contains("-o rw"), "{r}");
    }

    #[test]
    fn issue_18_a_queue_shape_names_the_limit_that_stops_it() {
        let f = Facts {
            msg_max: Some(10),
            msgsize_max: Some(8192),
            rlimit_msgqueue: Some(819200),
            ..Facts::default()
        };
        let big = Need {
            queue: (64, 65536),
            ..Need::default()
        };
        // issue 23: EINVAL comes first, but the rlimit stops it next: one remedy names all
        let r = remedy("message_queue", "mq_open", Errno::EINVAL, &f, big);
        assert!(
            r.starts_with("3 limits stop this queue, raise them all: fs.mqueue.msg_max is 10 and fs.mqueue.msgsize_max is 8192, below the queue the program opens (64 messages of 65536 bytes): raise them (shmguard apply --path /dev/mqueue --msg-max 64 --msgsize-max 65536); and RLIMIT_MSGQUEUE is 819200 bytes, and a queue of 64 x 65536 needs 4200448 bytes"),
            "{r}"
        );
        assert!(r.contains("`ulimit -q 4200448`"), "{r}");
        let full = Facts {
            queues_max: Some(4),
            ..f
        };
        let r = remedy("message_queue", "mq_open", Errno::ENOSPC, &full, big);
        assert!(
            r.starts_with("4 limits stop this queue, raise them all: fs.mqueue.queues_max is 4 and all are in use and fs.mqueue.msg_max is 10"),
            "{r}"
        );
        assert!(
            r.contains("--queues-max 256 --msg-max 64 --msgsize-max 65536)"),
            "{r}"
        );
        // EINVAL first; a 1 x 1 queue then met ENOSPC: queues_max is named too
        let next = Need {
            queue_next: Some(Errno::ENOSPC),
            ..big
        };
        let r = remedy("message_queue", "mq_open", Errno::EINVAL, &full, next);
        assert!(
            r.starts_with("4 limits stop this queue, raise them all: fs.mqueue.queues_max is 4 and all are in use and"),
            "{r}"
        );
        let ok = Facts {
            queues_max: Some(256),
            rlimit_msgqueue: Some(1 << 30),
            ..f
        };
        let r = remedy("message_queue", "mq_open", Errno::EINVAL, &ok, next);
        assert!(
            r.contains("queues_max is 256 and all are in use") && r.contains("--queues-max 512"),
            "{r}"
        );
        let used = Need {
            queue_next: Some(Errno::EMFILE),
            ..big
        };
        let r = remedy("message_queue", "mq_open", Errno::EINVAL, &ok, used);
        assert!(
            r.contains("RLIMIT_MSGQUEUE is 1073741824 bytes") && !r.contains("queues_max"),
            "{r}"
        );
        let r = remedy("message_queue", "mq_open", Errno::EMFILE, &f, big);
        assert!(
            r.contains("needs 4200448 bytes") && r.contains("`ulimit -q 4200448`"),
            "{r}"
        );
        let capped = Facts {
            rlimit_msgqueue_hard: Some(819200),
            ..f
        };
        let r = remedy("message_queue", "mq_open", Errno::EMFILE, &capped, big);
        assert!(
            r.contains("hard limit is 819200") && r.contains("prlimit --msgqueue=4200448:4200448"),
            "{r}"
        );
    }

    #[test]
    fn in_a_container_the_runtime_s_lever_is_named() {
        let mut f = facts(64 << 20, 0);
        f.container = Some(Runtime::Docker);
        let r = space(&f, 100 << 20);
        assert!(
            r.contains("--min-size 100M); inside a Docker container"),
            "{r}"
        );
        assert!(r.contains("docker run --shm-size=100m"), "{r}");
        assert!(r.contains("Docker's default"), "{r}");
    }
}
