//! Running the probe as another user: a forked child drops to that user's uid, gid and no
//! supplementary groups, probes, and sends its results back through a pipe as JSON. A child
//! killed by a signal (SIGBUS, ...) is reported, not fatal.

use std::io::{Read, Write};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Uid, User, fork, getuid, pipe, setgid, setgroups, setuid};

use crate::probe::{ProbeCheck, ProbeOptions, ProbeReport, probe};

fn report(user: String, uid: u32, checks: Vec<ProbeCheck>, error: Option<String>) -> ProbeReport {
    ProbeReport {
        user,
        uid,
        checks,
        error,
    }
}

/// Probes as `user` (a name or uid), or as the current user when None.
pub fn run_as(user: Option<&str>, opts: ProbeOptions) -> ProbeReport {
    let Some(name) = user else {
        let uid = getuid();
        let name = User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        return report(name, uid.as_raw(), probe(opts), None);
    };
    let found = match name.parse::<u32>() {
        Ok(n) => User::from_uid(Uid::from_raw(n)),
        Err(_) => User::from_name(name),
    };
    let Some(u) = found.ok().flatten() else {
        return report(
            name.into(),
            0,
            Vec::new(),
            Some(format!(
                "user: {name:?} is not a user on this system (see getent passwd)"
            )),
        );
    };
    let (reader, writer) = match pipe() {
        Ok(p) => p,
        Err(e) => {
            return report(
                u.name,
                u.uid.as_raw(),
                Vec::new(),
                Some(format!("pipe: {}", e.desc())),
            );
        }
    };
    // SAFETY: shmguard is single-threaded here; the child only drops privileges, probes,
    // writes to the pipe and exits.
    match unsafe { fork() } {
        Err(e) => report(
            u.name,
            u.uid.as_raw(),
            Vec::new(),
            Some(format!("fork: {}", e.desc())),
        ),
        Ok(ForkResult::Child) => {
            drop(reader);
            let dropped = setgroups(&[])
                .and_then(|()| setgid(Gid::from_raw(u.gid.as_raw())))
                .and_then(|()| setuid(u.uid));
            let out = match dropped {
                Ok(()) => report(u.name.clone(), u.uid.as_raw(), probe(opts), None),
                Err(e) => report(
                    u.name.clone(),
                    u.uid.as_raw(),
                    Vec::new(),
                    Some(format!(
                        "cannot become {}: {} (switching users needs root)",
                        u.name,
                        e.desc()
                    )),
                ),
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
            match (serde_json::from_slice::<ProbeReport>(&buf), status) {
                (Ok(r), _) => r,
                (Err(_), Ok(WaitStatus::Signaled(_, sig, _))) => report(
                    u.name,
                    u.uid.as_raw(),
                    Vec::new(),
                    Some(format!("the probe process was killed by {sig:?}")),
                ),
                (Err(_), s) => report(
                    u.name,
                    u.uid.as_raw(),
                    Vec::new(),
                    Some(format!("the probe process gave no result ({s:?})")),
                ),
            }
        }
    }
}
