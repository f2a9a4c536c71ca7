//! `shmguard probe`: the functional check — as the current user or another one, do what real
//! programs do (shared memory, named semaphores, message queues, reserving space, executable
//! mappings) and report each as pass/fail with errno and a one-line remedy. Creates only
//! uniquely named objects and removes them again, also on failure.

mod as_user;
mod posix_ipc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::HumanBytes;

pub use as_user::run_as;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProbeStatus {
    Pass,
    Fail,
    /// a fact, not a verdict (executable mappings allowed or denied)
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeCheck {
    /// shared_memory, semaphore, message_queue, reserve, exec_mapping
    pub name: String,
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
    /// who the probe ran as
    pub user: String,
    pub uid: u32,
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
#[derive(Debug, Clone, Copy, Default)]
pub struct ProbeOptions {
    /// bytes to reserve in /dev/shm (None: skip)
    pub bytes: Option<u64>,
}

fn remedy(name: &str, errno: nix::errno::Errno, bytes: Option<u64>) -> String {
    use nix::errno::Errno::*;
    match (name, errno) {
        ("message_queue", EACCES) => "chmod 1777 /dev/mqueue (shmguard apply --path /dev/mqueue --mode 1777)".into(),
        ("message_queue", EMFILE | ENOSPC) => "raise fs.mqueue.queues_max (shmguard apply --path /dev/mqueue --queues-max 512)".into(),
        ("message_queue", ENOSYS) => "the kernel has no POSIX message queues (CONFIG_POSIX_MQUEUE)".into(),
        ("reserve", ENOSPC) => format!(
            "/dev/shm cannot hold {}: grow it (shmguard apply --path /dev/shm --min-size {})",
            HumanBytes(bytes.unwrap_or(0)),
            HumanBytes(bytes.unwrap_or(0))
        ),
        (_, EACCES | EPERM) => "chmod 1777 /dev/shm (shmguard apply --path /dev/shm --mode 1777): without it only the owner can create shared memory and semaphores".into(),
        (_, ENOENT) => "/dev/shm is missing: mount a tmpfs there (shmguard apply --path /dev/shm --mode 1777)".into(),
        (_, ENOSPC) => "/dev/shm is full: grow it (shmguard apply --path /dev/shm --min-size ...) or free space".into(),
        _ => "see the errno; shmguard status shows the mount's state".into(),
    }
}

/// Runs every probe as the current user.
pub fn probe(opts: ProbeOptions) -> Vec<ProbeCheck> {
    let base = format!("/shmguard-probe-{}", std::process::id());
    let mut out = Vec::new();
    let mut run = |name: &str, what: String, f: &dyn Fn(&str) -> Result<(), posix_ipc::Failure>| {
        let object = format!("{base}-{name}");
        out.push(match f(&object) {
            Ok(()) => ProbeCheck {
                name: name.into(),
                status: ProbeStatus::Pass,
                errno: None,
                detail: what,
                remedy: None,
            },
            Err(e) => ProbeCheck {
                name: name.into(),
                status: ProbeStatus::Fail,
                errno: Some(format!("{}: {e:?}", e.call, e = e.errno)),
                detail: format!("{what}: {} failed: {}", e.call, e.errno.desc()),
                remedy: Some(remedy(name, e.errno, opts.bytes)),
            },
        });
    };
    run(
        "shared_memory",
        "create, map, write and unlink a POSIX shared-memory object".into(),
        &posix_ipc::shared_memory,
    );
    run(
        "semaphore",
        "open, post, wait and unlink a named semaphore (Python multiprocessing's SemLock)".into(),
        &posix_ipc::semaphore,
    );
    run(
        "message_queue",
        "open, send, receive and unlink a POSIX message queue".into(),
        &posix_ipc::message_queue,
    );
    if let Some(bytes) = opts.bytes {
        run(
            "reserve",
            format!("allocate {} of real pages in /dev/shm", HumanBytes(bytes)),
            &|n| posix_ipc::reserve(n, bytes),
        );
    }
    let exec = posix_ipc::exec_mapping(&format!("{base}-exec"));
    out.push(match exec {
        Ok(()) => ProbeCheck {
            name: "exec_mapping".into(),
            status: ProbeStatus::Info,
            errno: None,
            detail: "executable mappings of /dev/shm objects are allowed (/dev/shm is not noexec)".into(),
            remedy: None,
        },
        Err(e) => ProbeCheck {
            name: "exec_mapping".into(),
            status: ProbeStatus::Info,
            errno: Some(format!("{}: {:?}", e.call, e.errno)),
            detail: format!("executable mappings of /dev/shm objects are denied ({}): /dev/shm is noexec, as CIS wants; JITs that map code from it will fail", e.errno.desc()),
            remedy: None,
        },
    });
    out
}
