//! strace as a fault injector: run shmguard once traced (`-y`: descriptors shown with their
//! paths) to learn which calls of a syscall touch a path, then run it again with
//! `-e inject=SYSCALL:error=E:when=N` (or `signal=KILL`) aimed at exactly one of them.

use std::process::Output;

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox};

/// The strace binary; the fault tests need it (.ci/run installs it).
pub fn require() {
    let ok = std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "strace is needed by the fault-injection tests: apt-get install strace"
    );
}

/// One traced call: its syscall name, its 1-based number among calls of that name, its text.
#[derive(Debug, Clone)]
pub struct Call {
    pub name: String,
    pub nth: usize,
    pub line: String,
}

/// Runs `shmguard ARGS` under strace with `strace_args`; returns shmguard's output.
pub fn run(sb: &Sandbox, strace_args: &[&str], args: &[&str]) -> Output {
    sb.command("strace")
        .args(["-qq", "-f"])
        .args(strace_args)
        .arg(BIN)
        .args(args)
        .output()
        .unwrap()
}

/// Every call of `syscalls` (all of them when empty) in one traced run, in order.
pub fn trace(sb: &Sandbox, syscalls: &[&str], args: &[&str]) -> Vec<Call> {
    let log = sb.path("strace.log");
    let filter = format!("trace={}", syscalls.join(","));
    let mut strace_args = vec!["-y", "-o", &log];
    if !syscalls.is_empty() {
        strace_args.extend(["-e", &filter]);
    }
    let out = run(sb, &strace_args, args);
    assert!(
        out.status.code().is_some(),
        "the traced run did not finish: {out:?}"
    );
    let text = String::from_utf8_lossy(&sb.read(&log)).into_owned();
    let mut seen = std::collections::HashMap::new();
    text.lines()
        .filter_map(|l| {
            let l = l.split_once(' ').map(|(_, rest)| rest.trim_start())?;
            let name = l.split('(').next()?.to_string();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            let nth = seen.entry(name.clone()).or_insert(0);
            *nth += 1;
            Some(Call {
                name,
                nth: *nth,
                line: l.to_string(),
            })
        })
        .collect()
}

/// shmguard's JSON result from an output.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
