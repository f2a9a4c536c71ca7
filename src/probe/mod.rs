//! `shmguard probe`: the functional check — as the current user or another one (and, for root,
//! as an unprivileged user too), do what real programs do (shared memory, named semaphores,
//! message queues of the usual size and of the default one, reserving space, executable
//! mappings), look at the room left (free space and inodes), and report each as pass/fail with
//! errno and a remedy that fixes it. Creates only uniquely named objects and removes them
//! again, also on failure.

mod as_user;
pub mod facts;
mod posix_ipc;
pub mod remedy;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::HumanBytes;

pub use as_user::run_as;
pub use facts::{Facts, Space};
pub use remedy::{SMALL_PROGRAM_BYTES, SMALL_PROGRAM_INODES, TYPICAL_MSGS, TYPICAL_MSGSIZE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProbeStatus {
    Pass,
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
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.status != ProbeStatus::Fail)
    }
}

/// What to try.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ProbeOptions {
    /// bytes to reserve in /dev/shm (None: skip); one page more is reserved, as real
    /// programs (numpy via SharedArray, multiprocessing.shared_memory) map a header page too
    pub bytes: Option<u64>,
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
        need: u64,
        f: &dyn Fn(&str) -> Result<(), posix_ipc::Failure>,
    ) {
        let object = format!("/shmguard-probe-{}-{name}", std::process::id());
        match f(&object) {
            Ok(()) => self.push(name, ProbeStatus::Pass, what, None),
            Err(e) => self.out.push(ProbeCheck {
                name: name.into(),
                user: self.user.into(),
                status: ProbeStatus::Fail,
                errno: Some(format!("{}: {:?}", e.call, e.errno)),
                detail: format!("{what}: {} failed: {}", e.call, e.errno.desc()),
                remedy: Some(remedy::remedy(name, e.call, e.errno, self.facts, need)),
            }),
        }
    }

    /// Free inodes and space of /dev/shm: room for a small multiprocessing program.
    fn room(&mut self) {
        let f = self.facts;
        let Some(s) = f.shm else {
            let why = "cannot statvfs /dev/shm (missing?)".to_string();
            let fix = remedy::remedy("free_space", "statvfs", nix::errno::Errno::ENOENT, f, 0);
            self.push(
                "free_inodes",
                ProbeStatus::Fail,
                why.clone(),
                Some(fix.clone()),
            );
            self.push("free_space", ProbeStatus::Fail, why, Some(fix));
            return;
        };
        if !s.inodes_limited() {
            self.push(
                "free_inodes",
                ProbeStatus::Pass,
                "/dev/shm has no inode limit".into(),
                None,
            );
        } else {
            let ok = s.free_inodes >= SMALL_PROGRAM_INODES;
            self.push(
                "free_inodes",
                if ok { ProbeStatus::Pass } else { ProbeStatus::Fail },
                format!(
                    "{} of {} inodes free in /dev/shm; a small multiprocessing program needs {SMALL_PROGRAM_INODES} (one per semaphore and segment: Pool(2) alone creates about 7)",
                    s.free_inodes, s.inodes
                ),
                (!ok).then(|| remedy::inodes(f)),
            );
        }
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
        if s.size_bytes == 0 {
            self.push(
                "free_space",
                ProbeStatus::Pass,
                "/dev/shm has no size limit".into(),
                None,
            );
        } else {
            let ok = s.free_bytes >= SMALL_PROGRAM_BYTES;
            self.push(
                "free_space",
                if ok {
                    ProbeStatus::Pass
                } else {
                    ProbeStatus::Fail
                },
                format!(
                    "{} free of {} in /dev/shm; a small multiprocessing program needs {}",
                    if s.free_bytes == 0 {
                        "0B".to_string()
                    } else {
                        HumanBytes(s.free_bytes).to_string()
                    },
                    HumanBytes(s.size_bytes),
                    HumanBytes(SMALL_PROGRAM_BYTES)
                ),
                (!ok).then(|| remedy::space(f, SMALL_PROGRAM_BYTES)),
            );
        }
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
    c.run(
        "shared_memory",
        "create, map, write and unlink a POSIX shared-memory object".into(),
        page,
        &posix_ipc::shared_memory,
    );
    c.run(
        "semaphore",
        "open, post, wait and unlink a named semaphore (Python multiprocessing's SemLock)".into(),
        page,
        &posix_ipc::semaphore,
    );
    if room {
        c.room();
    }
    if let Some(bytes) = opts.bytes {
        let total = bytes.saturating_add(page);
        c.run(
            "reserve",
            format!(
                "allocate {} plus a {} header page of real pages in /dev/shm, as a program sharing {} does",
                HumanBytes(bytes),
                HumanBytes(page),
                HumanBytes(bytes)
            ),
            total,
            &|n| posix_ipc::reserve(n, total),
        );
    }
    c.run(
        "message_queue",
        format!(
            "open, send, receive and unlink a POSIX message queue of {TYPICAL_MSGS} messages of {TYPICAL_MSGSIZE} bytes (what posix_ipc and most programs ask for)"
        ),
        0,
        &|n| posix_ipc::message_queue(n, Some((TYPICAL_MSGS as i64, TYPICAL_MSGSIZE as i64))),
    );
    c.run(
        "message_queue_default",
        "open, send, receive and unlink a POSIX message queue with the default attributes".into(),
        0,
        &|n| posix_ipc::message_queue(n, None),
    );
    c.exec_mapping();
    c.out
}
