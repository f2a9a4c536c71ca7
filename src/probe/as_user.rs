//! Running the probe as another user: a forked child drops to that user's uid, gid and no
//! supplementary groups, probes, and sends its results back through a pipe as JSON. A child
//! killed by a signal (SIGBUS, ...) is reported, not fatal. Root probes as itself and then as
//! an unprivileged user (`nobody`) by default: root bypasses the permission bits, the mqueue
//! limits and queues_max that break every other user's programs.

use std::io::{Read, Write};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Uid, User, fork, geteuid, pipe, setgid, setgroups, setuid};

use crate::probe::{ProbeCheck, ProbeOptions, ProbeReport, probe};

/// Who a probe runs as.
#[derive(Debug, Clone)]
struct Who {
    name: String,
    uid: u32,
    gid: u32,
}

impl Who {
    fn of(u: User) -> Who {
        Who {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        }
    }

    /// The unprivileged user root also probes as: `nobody`, or uid/gid 65534 without one.
    fn unprivileged() -> Who {
        User::from_name("nobody")
            .ok()
            .flatten()
            .map(Who::of)
            .unwrap_or(Who {
                name: "nobody".into(),
                uid: 65534,
                gid: 65534,
            })
    }
}

/// Probes as `user` (a name or uid), or as the current user when None — and then, for root,
/// as an unprivileged user too.
pub fn run_as(user: Option<&str>, opts: ProbeOptions) -> ProbeReport {
    let Some(name) = user else {
        let uid = geteuid();
        let me = User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        let mut report = ProbeReport {
            user: me.clone(),
            uid: uid.as_raw(),
            users: vec![me.clone()],
            checks: probe(opts, &me, true),
            error: None,
        };
        if uid.is_root() {
            let other = Who::unprivileged();
            let (checks, error) = in_child(&other, opts, false);
            report.users.push(other.name);
            report.checks.extend(checks);
            report.error = error;
        }
        return report;
    };
    let found = match name.parse::<u32>() {
        Ok(n) => User::from_uid(Uid::from_raw(n)),
        Err(_) => User::from_name(name),
    };
    let Some(who) = found.ok().flatten().map(Who::of) else {
        return ProbeReport {
            user: name.into(),
            uid: 0,
            users: Vec::new(),
            checks: Vec::new(),
            error: Some(format!(
                "user: {name:?} is not a user on this system (see getent passwd)"
            )),
        };
    };
    let (checks, error) = in_child(&who, opts, true);
    ProbeReport {
        user: who.name.clone(),
        uid: who.uid,
        users: vec![who.name],
        checks,
        error,
    }
}

/// The child's answer on the pipe.
#[derive(serde::Serialize, serde::Deserialize)]
struct Answer {
    checks: Vec<ProbeCheck>,
    error: Option<String>,
}

/// Forks, becomes `who` in the child, probes there; the checks, or why there are none.
fn in_child(who: &Who, opts: ProbeOptions, space: bool) -> (Vec<ProbeCheck>, Option<String>) {
    let (reader, writer) = match pipe() {
        Ok(p) => p,
        Err(e) => return (Vec::new(), Some(format!("pipe: {}", e.desc()))),
    };
    // SAFETY: shmguard is single-threaded here; the child only drops privileges, probes,
    // writes to the pipe and exits.
    match unsafe { fork() } {
        Err(e) => (Vec::new(), Some(format!("fork: {}", e.desc()))),
        Ok(ForkResult::Child) => {
            drop(reader);
            let dropped = setgroups(&[])
                .and_then(|()| setgid(Gid::from_raw(who.gid)))
                .and_then(|()| setuid(Uid::from_raw(who.uid)));
            let out = match dropped {
                Ok(()) => Answer {
                    checks: probe(opts, &who.name, space),
                    error: None,
                },
                Err(e) => Answer {
                    checks: Vec::new(),
                    error: Some(format!(
                        "cannot become {}: {} (switching users needs root)",
                        who.name,
                        e.desc()
                    )),
                },
            };
            let mut w = std::fs::File::from(writer);
            let _ = w.write_all(serde_json::to_string(&out).unwrap_or_default().as_bytes());
            drop(w);
            // SAFETY: exit the child without running the parent's destructors or atexit hooks.
            unsafe { nix::libc::_exit(0) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(writer);
            let mut buf = Vec::new();
            let _ = std::fs::File::from(reader).read_to_end(&mut buf);
            let status = waitpid(child, None);
            match (serde_json::from_slice::<Answer>(&buf), status) {
                (Ok(a), _) => (a.checks, a.error),
                (Err(_), Ok(WaitStatus::Signaled(_, sig, _))) => (
                    Vec::new(),
                    Some(format!(
                        "the probe process (as {}) was killed by {sig:?}",
                        who.name
                    )),
                ),
                (Err(_), s) => (
                    Vec::new(),
                    Some(format!(
                        "the probe process (as {}) gave no result ({s:?})",
                        who.name
                    )),
                ),
            }
        }
    }
}
