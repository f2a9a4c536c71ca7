//! `shmguard probe`: the functional check — as the current user or another one (and, for root,
//! as an unprivileged user too), do what real programs do (shared memory, named semaphores,
//! a message queue of the program's shape and one of the default shape, reserving space with
//! the program's semaphores beside it, executable mappings), judge the room in /dev/shm for the
//! program (`room::judge`, as the multiprocessing profile does), and report each as pass, warn
//! or fail with errno and a remedy that fixes it.
//! Creates only uniquely named objects and removes them again, also on failure.

mod as_user;
pub mod facts;
pub mod needs;
mod posix_ipc;
pub mod remedy;
pub mod room;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::HumanBytes;

pub use as_user::run_as;
pub use facts::{Facts, Space};
pub use needs::{TYPICAL_MSGS, TYPICAL_MSGSIZE};

pub use needs::Program;
use nix::errno::Errno;
use remedy::Need;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProbeStatus {
    Pass,
    /// works now, with less headroom than the documented recommendation: the remedy names
    /// what to raise and by how much; exits 0
    Warn,
    Fail,
    /// a fact, not a verdict (executable mappings allowed, denied or not tested)
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeCheck {
    /// shared_memory, semaphore, free_inodes, container (inside one), free_space, reserve,
    /// message_queue, message_queue_default, exec_mapping
    pub name: String,
    /// the user it ran as
    pub user: String,
    pub status: ProbeStatus,
    /// the failing call and errno, e.g. `sem_open: EACCES`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeReport {
    /// who the probe ran as (the first of `users`)
    pub user: String,
    pub uid: u32,
    /// every user the checks ran as: root also probes as `nobody`, which root's privileges
    /// would otherwise hide (permission bits, mqueue limits, queues_max)
    #[serde(default)]
    pub users: Vec<String>,
    pub checks: Vec<ProbeCheck>,
    /// the probe itself could not run (unknown user, fork failed, child killed)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ProbeReport {
    /// No check failed (warnings pass: the programs work).
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.status != ProbeStatus::Fail)
    }
}

/// What to try.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ProbeOptions {
    /// bytes to reserve in /dev/shm (None: skip); one page more is reserved, as real
    /// programs (numpy via SharedArray, multiprocessing.shared_memory) map a header page too,
    /// and beside it the semaphores `program` holds
    pub bytes: Option<u64>,
    /// the multiprocessing objects the program makes (`--program`): the room in /dev/shm is
    /// judged for them
    #[serde(default)]
    pub program: Program,
    /// the message queue the program opens: messages (mq_maxmsg)
    pub mq_maxmsg: u64,
    /// ... and bytes per message (mq_msgsize)
    pub mq_msgsize: u64,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            bytes: None,
            program: Program::default(),
            mq_maxmsg: TYPICAL_MSGS,
            mq_msgsize: TYPICAL_MSGSIZE,
        }
    }
}

/// Builds the checks of one user's probe.
struct Checks<'a> {
    user: &'a str,
    facts: &'a Facts,
    out: Vec<ProbeCheck>,
}

impl Checks<'_> {
    fn push(&mut self, name: &str, status: ProbeStatus, detail: String, remedy: Option<String>) {
        self.out.push(ProbeCheck {
            name: name.into(),
            user: self.user.into(),
            status,
            errno: None,
            detail,
            remedy,
        });
    }

    /// Runs `f` on a unique object name; a failure gets its remedy from the errno and facts.
    fn run(
        &mut self,
        name: &str,
        what: String,
        need: Need,
        f: &dyn Fn(&str) -> Result<(), posix_ipc::Failure>,
    ) {
        let object = format!("/shmguard-probe-{}-{name}", std::process::id());
        match f(&object) {
            Ok(()) => self.push(name, ProbeStatus::Pass, what, None),
            Err(e) => {
                let mut need = need;
                if name.starts_with("message_queue")
                    && e.call == "mq_open"
                    && e.errno == Errno::EINVAL
                {
                    // the kernel refused the shape before looking at RLIMIT_MSGQUEUE; whether
                    // the user's queues have used it up shows on a 1 x 1 queue, which no shape
                    // limit refuses: the remedy names that too
                    let small = format!("{object}-small");
                    need.queue_next = posix_ipc::message_queue(&small, Some((1, 1)))
                        .err()
                        .map(|e| e.errno);
                }
                self.out.push(ProbeCheck {
                    name: name.into(),
                    user: self.user.into(),
                    status: ProbeStatus::Fail,
                    errno: Some(format!("{}: {:?}", e.call, e.errno)),
                    detail: format!("{what}: {} failed: {}", e.call, e.errno.desc()),
                    remedy: Some(remedy::remedy(name, e.call, e.errno, self.facts, need)),
                })
            }
        }
    }

    fn verdict(&mut self, name: &str, v: room::Verdict) {
        self.push(name, v.status, v.detail, v.remedy);
    }

    /// A space remedy inside a container also names the runtime's lever, for the size the
    /// program needs beside what is used (as the audit's free_space detail does).
    fn in_container(&self, remedy: String, s: &Space, shape: &room::Shape) -> String {
        let f = self.facts;
        match f.container {
            Some(rt) => {
                let want =
                    s.used_bytes + shape.space(f.page_size.max(1)) + needs::RECOMMENDED_BYTES;
                let size = Some(s.size_bytes).filter(|b| *b > 0);
                format!(
                    "{remedy}; {}",
                    crate::observe::container::advice(rt, size, want)
                )
            }
            None => remedy,
        }
    }

    /// Free inodes and space of /dev/shm, judged for the program (`room::judge`, as the
    /// multiprocessing profile judges them): fail when it cannot be made, warn below the
    /// recommended headroom beyond it.
    fn room(&mut self, shape: &room::Shape) {
        let f = self.facts;
        let page = f.page_size.max(1);
        let Some(s) = f.shm else {
            let why = "cannot statvfs /dev/shm (missing?)".to_string();
            let fix = remedy::remedy(
                "free_space",
                "statvfs",
                nix::errno::Errno::ENOENT,
                f,
                Need::default(),
            );
            self.push(
                "free_inodes",
                ProbeStatus::Fail,
                why.clone(),
                Some(fix.clone()),
            );
            self.push("free_space", ProbeStatus::Fail, why, Some(fix));
            return;
        };
        let verdict = room::judge(&s, f.ram_bytes, page, shape);
        self.verdict("free_inodes", verdict.inodes);
        if let Some(rt) = f.container {
            let size = s.size_bytes;
            let default = size == crate::observe::container::DOCKER_DEFAULT_SHM;
            self.push(
                "container",
                ProbeStatus::Info,
                if default {
                    format!(
                        "inside a {} container whose /dev/shm is {}, the runtime's default, too small for jobs that share large arrays (PyTorch DataLoader workers, NCCL): {}",
                        rt.name(),
                        HumanBytes(size),
                        rt.shm_lever(1 << 30)
                    )
                } else {
                    format!(
                        "inside a {} container: /dev/shm is set by the runtime when the container starts; {}",
                        rt.name(),
                        rt.shm_lever(size.max(1 << 20))
                    )
                },
                None,
            );
        }
        let mut space = verdict.space;
        space.remedy = space.remedy.map(|r| self.in_container(r, &s, shape));
        self.verdict("free_space", space);
    }

    /// Does what the program does: reserves `bytes` plus a header page of real pages and,
    /// beside them, the named semaphores of `shape.program`, then frees them. Fails when any
    /// of it does not fit (the program cannot be made); the remedy is the room verdict's (the
    /// same as free_space's or free_inodes'), so probe and audit name one fix. Whether the
    /// headroom left is enough is free_space's and free_inodes' verdict.
    fn reserve(&mut self, shape: &room::Shape, bytes: u64) {
        let f = self.facts;
        let page = f.page_size.max(1);
        let total = bytes.saturating_add(page);
        let sems = shape.program.semaphores();
        let what = format!(
            "allocate {} plus a {} header page of real pages in /dev/shm, as a program sharing {} does, and beside them the {sems} named semaphores of {}",
            HumanBytes(bytes),
            HumanBytes(page),
            HumanBytes(bytes),
            shape.program.describe()
        );
        let object = format!("/shmguard-probe-{}-reserve", std::process::id());
        let failure = match posix_ipc::reserve(&object, total, sems) {
            Ok(None) => None,
            Ok(Some(e)) => Some((
                e,
                format!(
                    "{what}: the {} fit, but the semaphores beside them do not ({} failed: {}), so the program cannot be made",
                    HumanBytes(total),
                    e.call,
                    e.errno.desc()
                ),
            )),
            Err(e) => Some((e, format!("{what}: {} failed: {}", e.call, e.errno.desc()))),
        };
        let check = match failure {
            None => ProbeCheck {
                name: "reserve".into(),
                user: self.user.into(),
                status: ProbeStatus::Pass,
                errno: None,
                detail: what,
                remedy: None,
            },
            Some((e, detail)) => {
                // the room verdict's remedy when it saw this coming; else by the errno
                let judged = f.shm.and_then(|s| {
                    let v = room::judge(&s, f.ram_bytes, page, shape);
                    if v.inodes.status == ProbeStatus::Fail {
                        v.inodes.remedy
                    } else if v.space.status == ProbeStatus::Fail {
                        v.space.remedy.map(|r| self.in_container(r, &s, shape))
                    } else {
                        None
                    }
                });
                let need = Need {
                    bytes: shape.space(page) + needs::RECOMMENDED_BYTES,
                    inodes: shape.inodes(),
                    ..Need::default()
                };
                ProbeCheck {
                    name: "reserve".into(),
                    user: self.user.into(),
                    status: ProbeStatus::Fail,
                    errno: Some(format!("{}: {:?}", e.call, e.errno)),
                    detail,
                    remedy: Some(
                        judged
                            .unwrap_or_else(|| remedy::remedy("reserve", e.call, e.errno, f, need)),
                    ),
                }
            }
        };
        self.out.push(check);
    }

    fn exec_mapping(&mut self) {
        let object = format!("/shmguard-probe-{}-exec", std::process::id());
        let (errno, detail) = match posix_ipc::exec_mapping(&object) {
            Ok(()) => (
                None,
                "executable mappings of /dev/shm objects are allowed (/dev/shm is not noexec)"
                    .to_string(),
            ),
            Err(e) if e.call == "mmap PROT_EXEC" && e.errno == nix::errno::Errno::EPERM => (
                Some(e),
                "executable mappings of /dev/shm objects are denied (EPERM): /dev/shm is noexec, as CIS wants; JITs that map code from it will fail".to_string(),
            ),
            Err(e) if e.call == "mmap PROT_EXEC" => (
                Some(e),
                format!(
                    "not tested: mmap PROT_EXEC failed with {:?} ({}), which noexec does not cause",
                    e.errno,
                    e.errno.desc()
                ),
            ),
            Err(e) => (
                Some(e),
                format!(
                    "not tested: could not create an object to map ({}: {:?})",
                    e.call, e.errno
                ),
            ),
        };
        self.out.push(ProbeCheck {
            name: "exec_mapping".into(),
            user: self.user.into(),
            status: ProbeStatus::Info,
            errno: errno.map(|e| format!("{}: {:?}", e.call, e.errno)),
            detail,
            remedy: None,
        });
    }
}

/// Runs every probe as the current process's user, naming it `user`; `room` adds the free
/// inode and space checks (the same for every user, so done once).
pub fn probe(opts: ProbeOptions, user: &str, room: bool) -> Vec<ProbeCheck> {
    let facts = Facts::read();
    let page = facts.page_size.max(1);
    let mut c = Checks {
        user,
        facts: &facts,
        out: Vec::new(),
    };
    let one = |inodes| Need {
        bytes: page,
        inodes,
        ..Need::default()
    };
    c.run(
        "shared_memory",
        "create, map, write and unlink a POSIX shared-memory object".into(),
        one(1),
        &posix_ipc::shared_memory,
    );
    c.run(
        "semaphore",
        "open, post, wait and unlink a named semaphore (Python multiprocessing's SemLock)".into(),
        one(Program::Lock.inodes()),
        &posix_ipc::semaphore,
    );
    let shape = room::Shape {
        program: opts.program,
        bytes: opts.bytes,
    };
    if room {
        c.room(&shape);
    }
    if let Some(bytes) = opts.bytes {
        c.reserve(&shape, bytes);
    }
    let (msgs, size) = (opts.mq_maxmsg, opts.mq_msgsize);
    let typical = (msgs, size) == (TYPICAL_MSGS, TYPICAL_MSGSIZE);
    c.run(
        "message_queue",
        format!(
            "open, send, receive and unlink a POSIX message queue of {msgs} messages of {size} bytes ({})",
            if typical {
                "what posix_ipc and most programs ask for"
            } else {
                "the program's shape: --mq-maxmsg, --mq-msgsize"
            }
        ),
        Need {
            queue: (msgs, size),
            ..Need::default()
        },
        &|n| posix_ipc::message_queue(n, Some((msgs as i64, size as i64))),
    );
    c.run(
        "message_queue_default",
        "open, send, receive and unlink a POSIX message queue with the default attributes".into(),
        Need {
            queue: (TYPICAL_MSGS, TYPICAL_MSGSIZE),
            ..Need::default()
        },
        &|n| posix_ipc::message_queue(n, None),
    );
    c.exec_mapping();
    c.out
}
