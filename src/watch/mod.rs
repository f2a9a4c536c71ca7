//! `shmguard watch`: the audit, again on every change the kernel reports, printing one line per
//! CHANGE of a target's verdict (initial, drift, compliant, error; with --apply repaired and
//! flapping) and blocking in the kernel between changes. A thin loop around the one audit
//! engine: observe -> audit verdict (frontend::audit_cli) -> decisions (watcher.rs, pure) ->
//! lines (event.rs) -> stdout; the waiting is wakeups.rs. This file is the shell.

pub mod event;
pub mod wakeups;
pub mod watcher;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;

use crate::audit::Target;
use crate::engine::{self, RunMode};
use crate::frontend::audit_cli::{self, AuditArgs};
use crate::spec::Desired;
use event::{Event, Kind, TargetView, Verdict};
use wakeups::{Wake, Wakeups};
use watcher::{Action, Repairs, Watcher};

/// Audit's arguments, with what a stream of lines can use: `--format json|text` (a choice
/// clap checks), and `--output` and the probe's flags hidden (refused when given).
#[derive(Debug, Args)]
#[command(
    mut_arg("format", |a| a
        .value_parser(["json", "text"])
        .help("json (one object per line) or text (one line per event) [default: text on a terminal, else json]")),
    mut_arg("output", |a| a.hide(true)),
    mut_arg("probe", |a| a.hide(true)),
    mut_arg("user", |a| a.hide(true)),
    mut_arg("bytes", |a| a.hide(true)),
)]
pub struct WatchArgs {
    #[command(flatten)]
    pub audit: AuditArgs,
    /// Re-check the mqueue sysctls (which the kernel does not notify) every SECONDS; the
    /// watch's only timer
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub sysctl_interval: u64,
    /// Also rewrite FILE (node_exporter's textfile collector) atomically on every change, with
    /// the audit's Prometheus series
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<String>,
    /// Repair drift as `shmguard apply` would (the policy's desired state, through the engine)
    /// and report `repaired`; a target that drifts again after --flap-limit repairs within a
    /// minute is reported as `flapping` and left alone until it is compliant again
    #[arg(long)]
    pub apply: bool,
    /// With --apply: repairs of one target within a minute before it is flapping
    #[arg(long, value_name = "N", default_value_t = 3, requires = "apply")]
    pub flap_limit: usize,
}

/// What watch refuses of audit's flags, as a message.
fn refuse(w: &WatchArgs) -> Result<(), String> {
    let a = &w.audit;
    let format = format(a);
    if !["json", "text"].contains(&format) {
        return Err(format!(
            "--format {format}: watch prints one line per change; expected json or text (the Prometheus series go to --prometheus FILE)"
        ));
    }
    if a.output.is_some() {
        return Err("--output: watch prints its lines to stdout; the Prometheus series go to --prometheus FILE".into());
    }
    if a.probe {
        return Err("--probe: watch does not run the probe (it would write to the watched mounts on every change)".into());
    }
    if w.apply && a.root.is_some() {
        return Err("--apply with --root: an image's files are audited, not repaired".into());
    }
    if w.sysctl_interval == 0 {
        return Err("--sysctl-interval 0: expected 1 or more seconds".into());
    }
    if w.flap_limit == 0 {
        return Err("--flap-limit 0: expected 1 or more".into());
    }
    Ok(())
}

/// json or text as asked; else as audit: text on a terminal, json otherwise.
fn format(a: &AuditArgs) -> &str {
    use std::io::IsTerminal;
    a.json.or(a.format.as_deref()).unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            "text"
        } else {
            "json"
        }
    })
}

/// The mount points and files the targets' audit reads.
fn watched(a: &AuditArgs, targets: &[Target]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut mounts, mut files) = (Vec::new(), Vec::new());
    let root = a.root.as_ref().map(PathBuf::from);
    let under = |p: &Path| match &root {
        Some(r) => r.join(p.strip_prefix("/").unwrap_or(p)),
        None => p.to_path_buf(),
    };
    for t in targets {
        let Ok(d) = Desired::from_params(&t.params) else {
            continue;
        };
        if root.is_none() {
            mounts.push(PathBuf::from(&d.path));
        }
        let fstab = a
            .fstab_path
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or(d.fstab_path);
        files.push(under(&fstab));
        files.push(under(&d.sysctl_path));
    }
    mounts.sort();
    mounts.dedup();
    files.sort();
    files.dedup();
    (mounts, files)
}

/// Writes one line and flushes it; false when stdout is gone (EPIPE: stop, exit 0).
fn line(out: &mut impl Write, text: &str) -> bool {
    writeln!(out, "{text}").and_then(|()| out.flush()).is_ok()
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

pub fn watch(w: &WatchArgs) -> i32 {
    let a = &w.audit;
    let setup = refuse(w)
        .and_then(|()| audit_cli::check_paths(a))
        .and_then(|()| audit_cli::targets(a, Vec::new()));
    let targets = match setup {
        Ok(t) => t,
        Err(e) => {
            eprintln!("shmguard watch: {e}");
            return 1;
        }
    };
    let text = format(a) == "text";
    let (mounts, files) = watched(a, &targets);
    let mut wake = match Wakeups::new(&mounts, &files, Duration::from_secs(w.sysctl_interval)) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("shmguard watch: {e}");
            return 1;
        }
    };
    let mut watcher = Watcher::new(Repairs {
        enabled: w.apply,
        limit: w.flap_limit,
        ..Repairs::default()
    });
    let start = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let host = nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().into_owned())
        .unwrap_or_default();
    // What the watched mounts were when the audit last looked (statmount); an event of the
    // mount table that leaves them as they were is someone else's mount.
    let mut seen = fingerprint(&mounts, &files);
    loop {
        let report = audit_cli::audit_targets(a, &targets);
        let (views, time) = match &report {
            Ok(r) => (event::views(r), r.time.clone()),
            Err(e) => (
                targets
                    .iter()
                    .map(|t| TargetView {
                        path: t
                            .params
                            .path
                            .clone()
                            .unwrap_or_else(|| crate::spec::params::DEFAULT_PATH.into()),
                        verdict: Verdict::Error(e.clone()),
                        remedy: None,
                        remedy_params: None,
                    })
                    .collect(),
                now_rfc3339(),
            ),
        };
        let actions = watcher.step(start.elapsed(), &views, &time, &host);
        let mut events = Vec::new();
        let mut repaired = false;
        for action in actions {
            let ev = match action {
                Action::Emit(e) => e,
                Action::Repair(i) => {
                    let Some((view, params)) = views
                        .get(i)
                        .and_then(|v| Some((v, v.remedy_params.as_ref()?)))
                    else {
                        continue;
                    };
                    let r = engine::run(
                        params,
                        RunMode {
                            check: false,
                            diff: false,
                        },
                    );
                    watcher.repaired(i, start.elapsed());
                    repaired = true;
                    let mut e = Event::about(Kind::Repaired, view, &now_rfc3339(), &host);
                    if r.failed {
                        e.event = Kind::Error;
                        e.error = Some(format!("repair failed: {}", r.msg));
                    }
                    e.actions = r.actions.iter().map(ToString::to_string).collect();
                    e
                }
            };
            events.push(ev);
        }
        // The textfile first: whoever reads a line finds the file already saying it.
        if let (false, Some(file), Ok(r)) = (events.is_empty(), &w.prometheus, &report) {
            // A failed write is said on stderr; the watch goes on (the next change retries).
            crate::frontend::output::emit(
                "watch",
                &Some(file.clone()),
                &crate::render::prometheus::audit(r),
            );
        }
        for ev in events {
            let l = if text { ev.text() } else { ev.json() };
            if !line(&mut out, &l) {
                return 0;
            }
        }
        // After a repair, audit again at once: not every repair wakes the loop (a live sysctl
        // does not). Bounded: a repair that does not help counts toward flapping.
        if repaired {
            seen = fingerprint(&mounts, &files);
            continue;
        }
        loop {
            match wake.wait() {
                Wake::Stop => return 0,
                Wake::Changed => {
                    seen = fingerprint(&mounts, &files);
                    break;
                }
                Wake::Mounts => {
                    let now = fingerprint(&mounts, &files);
                    let unrelated = now.is_some() && now == seen;
                    seen = now;
                    if !unrelated {
                        break;
                    }
                }
            }
        }
    }
}

/// One watched path as statx and statmount see it: for a mount point, the mount it reaches
/// (unique id and everything statmount says of it); for a file, the mount it reaches (a mount
/// over its directory hides it from inotify) and whether one sits on the file itself,
/// following its link and not; or the errno statx gave (gone, not permitted).
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Mount(u64, crate::observe::statmount::Raw),
    File(crate::observe::statmount::Reach),
    Error(Option<i32>),
}

/// The watched mount points and files as the audit would find them now, a few syscalls each
/// whatever the size of the mount table; None where only mountinfo could say (an older
/// kernel, or `SHMGUARD_OBSERVE=mountinfo`): then every mount event is audited.
fn fingerprint(mounts: &[PathBuf], files: &[PathBuf]) -> Option<Vec<Seen>> {
    use crate::observe::statmount;
    if !statmount::Mounts::new().fast() {
        return None;
    }
    let mounts = mounts.iter().map(|p| match statmount::reach(p, true) {
        Err(e) => Some(Seen::Error(e.raw_os_error())),
        Ok(None) => None,
        Ok(Some(r)) => Some(Seen::Mount(r.unique_id, statmount::statmount(r.unique_id)?)),
    });
    let files = files.iter().flat_map(|f| {
        [true, false].map(|follow| match statmount::reach(f, follow) {
            Err(e) => Some(Seen::Error(e.raw_os_error())),
            Ok(r) => r.map(Seen::File),
        })
    });
    mounts.chain(files).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(words: &[&str]) -> WatchArgs {
        let mut all = vec!["shmguard", "watch"];
        all.extend_from_slice(words);
        match crate::frontend::cli::Cli::try_parse_from(all)
            .unwrap()
            .command
        {
            crate::frontend::cli::Command::Watch(w) => *w,
            _ => panic!("not watch"),
        }
    }

    #[test]
    fn watch_refuses_what_has_no_meaning_for_a_stream_of_lines() {
        for (words, want) in [
            (&["--output", "x"][..], "--output"),
            (&["--probe"], "--probe"),
            (&["--apply", "--root", "/img"], "--apply with --root"),
            (&["--sysctl-interval", "0"], "--sysctl-interval 0"),
            (&["--apply", "--flap-limit", "0"], "--flap-limit 0"),
        ] {
            let e = refuse(&args(words)).unwrap_err();
            assert!(e.starts_with(want), "{words:?}: {e}");
        }
        refuse(&args(&["--format", "text", "--profile", "cis"])).unwrap();
        refuse(&args(&["--json", "--apply", "--flap-limit", "5"])).unwrap();
        let parse = |w: &[&str]| crate::frontend::cli::Cli::try_parse_from(w).map(|_| ());
        parse(&["shmguard", "watch", "--flap-limit", "2"])
            .expect_err("--flap-limit without --apply");
        let e = parse(&["shmguard", "watch", "--format", "junit"]).unwrap_err();
        assert!(
            e.to_string().contains("[possible values: json, text]"),
            "{e}"
        );
        parse(&["shmguard", "audit", "--format", "junit"]).unwrap();
    }

    #[test]
    fn watch_watches_each_mount_point_and_the_files_the_audit_reads() {
        let a = args(&["--profile", "cis", "--fstab-path", "/tmp/f/fstab"]);
        let targets = audit_cli::targets(&a.audit, Vec::new()).unwrap();
        let (mounts, files) = watched(&a.audit, &targets);
        assert!(mounts.contains(&PathBuf::from("/dev/shm")), "{mounts:?}");
        assert!(files.contains(&PathBuf::from("/tmp/f/fstab")), "{files:?}");
        assert!(!files.contains(&PathBuf::from("/etc/fstab")), "{files:?}");
        let a = args(&["--profile", "cis", "--root", "/img"]);
        let (mounts, files) = watched(&a.audit, &targets);
        assert!(mounts.is_empty(), "an image has no live mounts: {mounts:?}");
        assert!(
            files.contains(&PathBuf::from("/img/etc/fstab")),
            "{files:?}"
        );
    }
}
