//! The read-only commands for people and CI: `shmguard audit` (policies and profiles judged
//! against the system) and `shmguard probe` (does /dev/shm work for a program?). Flags in,
//! text, JSON, JUnit or Prometheus out (stdout, or a file replaced atomically), exit 0 / 2 / 1.

use clap::Args;

use crate::audit::{AuditOptions, policy};
use crate::frontend::args::{JsonAlias, words};
use crate::frontend::output::emit;
use crate::probe::ProbeOptions;
use crate::render::{self, junit, prometheus, text};
use crate::spec::size::Amount;
use crate::spec::{Init, Quantity};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// JSON policy file: one target or a list, with the module's parameters (`-` reads stdin; repeatable)
    #[arg(long)]
    pub policy: Vec<String>,
    /// Built-in profile: cis, multiprocessing (/dev/shm for programs), mqueue, or default (repeatable; default when no policy or profile is given)
    #[arg(long, value_parser = ["cis", "multiprocessing", "mqueue", "default"])]
    pub profile: Vec<String>,
    /// text (a table), json, junit, prometheus (for node_exporter's textfile collector),
    /// xccdf (XCCDF 1.2 results, for OpenSCAP tools) or html (one self-contained page)
    /// [default: text on a terminal, else json]
    #[arg(long, value_parser = ["text", "json", "junit", "prometheus", "xccdf", "html"])]
    pub format: Option<String>,
    #[command(flatten)]
    pub json: JsonAlias,
    /// Write the report to FILE instead of stdout, replacing it atomically (a temporary file
    /// renamed over it, as node_exporter's textfile collector requires)
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
    /// Audit this fstab instead of each target's fstab_path [default: each target's
    /// fstab_path, /etc/fstab when it has none]
    #[arg(long, alias = "fstab", value_name = "FILE")]
    pub fstab_path: Option<String>,
    /// Audit the files of an image or chroot at DIR (DIR/etc/fstab, DIR/<sysctl_path>); no live checks
    #[arg(long)]
    pub root: Option<String>,
    /// The init system that boots the host (or image): auto, systemd or other; decides what
    /// the boot checks predict (auto: this host's PID 1, or for --root whether the image has
    /// systemd) [default: auto]
    #[arg(long, value_parser = words(Init::WORDS))]
    pub init: Option<String>,
    /// Also run the functional probe and fold it into the report
    #[arg(long)]
    pub probe: bool,
    /// With --probe: run it as this user (name or uid)
    #[arg(long, requires = "probe")]
    pub user: Option<String>,
    /// With --probe: bytes to reserve in /dev/shm, e.g. 1G; the multiprocessing profile then
    /// judges the room left after them (and a ProcessPoolExecutor(4)'s semaphores)
    #[arg(long, requires = "probe")]
    pub bytes: Option<String>,
    #[command(flatten)]
    pub queue: QueueArgs,
}

/// The message queue a program opens (probe, and the mqueue profile's limits).
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Messages in the queue the program opens (mq_maxmsg), 1 to 65536
    #[arg(long, value_name = "N", default_value_t = crate::probe::TYPICAL_MSGS)]
    pub mq_maxmsg: u64,
    /// Bytes per message of the queue the program opens (mq_msgsize), 1 to 16777216
    #[arg(long, value_name = "BYTES", default_value_t = crate::probe::TYPICAL_MSGSIZE)]
    pub mq_msgsize: u64,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Run as this user (name or uid); needs root [default: the calling user]
    #[arg(long)]
    pub user: Option<String>,
    /// Reserve this many bytes of real pages in /dev/shm, e.g. 1G, plus a header page and a
    /// ProcessPoolExecutor(4)'s semaphores beside them [default: none, no reservation]
    #[arg(long)]
    pub bytes: Option<String>,
    #[command(flatten)]
    pub queue: QueueArgs,
    /// text or json [default: text on a terminal, else json]
    #[arg(long, value_parser = ["text", "json"])]
    pub format: Option<String>,
    #[command(flatten)]
    pub json: JsonAlias,
    /// Write the report to FILE instead of stdout, replacing it atomically
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
}

fn default_format(given: Option<&str>, output: &Option<String>) -> String {
    use std::io::IsTerminal;
    given.map(String::from).unwrap_or_else(|| {
        if output.is_none() && std::io::stdout().is_terminal() {
            "text"
        } else {
            "json"
        }
        .to_string()
    })
}

fn probe_options(bytes: &Option<String>, q: &QueueArgs) -> Result<ProbeOptions, String> {
    use crate::probe::needs::{HARD_MSGMAX, HARD_MSGSIZEMAX};
    for (name, v, max) in [
        ("mq-maxmsg", q.mq_maxmsg, HARD_MSGMAX),
        ("mq-msgsize", q.mq_msgsize, HARD_MSGSIZEMAX),
    ] {
        if !(1..=max).contains(&v) {
            return Err(format!(
                "--{name}: {v} is not accepted; expected 1 to {max} (the kernel's hard limit: no sysctl can allow more)"
            ));
        }
    }
    let bytes = match bytes {
        None => None,
        Some(t) => match Quantity::parse("bytes", t, false)
            .map_err(|e| e.to_string())?
            .amount
        {
            Amount::Absolute(b) if b > 0 => Some(b),
            _ => {
                return Err(format!(
                    "bytes: {t:?} is not accepted; expected a size above 0, e.g. 1G"
                ));
            }
        },
    };
    Ok(ProbeOptions {
        bytes,
        mq_maxmsg: q.mq_maxmsg,
        mq_msgsize: q.mq_msgsize,
    })
}

/// A mistyped --fstab-path or --root is an error naming it, never an audit of nothing (which
/// would report every entry missing: drift).
fn check_paths(a: &AuditArgs) -> Result<(), String> {
    if let Some(f) = &a.fstab_path {
        std::fs::metadata(f).map_err(|e| format!("--fstab-path {f}: cannot read it: {e}"))?;
    }
    if let Some(d) = &a.root {
        match std::fs::metadata(d) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(format!(
                    "--root {d}: not a directory (give the image's root)"
                ));
            }
            Err(e) => return Err(format!("--root {d}: cannot read it: {e}")),
        }
    }
    Ok(())
}

pub fn audit(a: &AuditArgs) -> i32 {
    let report = match check_paths(a).and_then(|()| build_report(a, Vec::new())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("shmguard audit: {e}");
            return 1;
        }
    };
    let text = match default_format(a.json.or(a.format.as_deref()), &a.output).as_str() {
        "json" => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        "junit" => junit::audit(&report),
        "prometheus" => prometheus::audit(&report),
        f @ ("xccdf" | "html") => match render::render_one(&report, f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("shmguard audit: {e}");
                return 1;
            }
        },
        _ => text::audit(&report),
    };
    if !emit("audit", &a.output, &text) {
        return 1;
    }
    report.exit_code()
}

/// The audit `a` asks for, plus `inline` targets (the Ansible entry's policies); an error
/// (a bad policy, profile or probe option) is a message, never a report. The command line
/// checks its --fstab-path and --root first (a typo there is an error); the Ansible entry does
/// not: in a fleet, a host without the fstab it names is judged (its fstab checks fail with
/// "no fstab at PATH"), not left out.
pub fn build_report(
    a: &AuditArgs,
    inline: Vec<policy::Target>,
) -> Result<crate::audit::AuditReport, String> {
    let mut targets = inline;
    for p in &a.policy {
        let bytes = if p == "-" {
            let mut b = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map(|_| b)
        } else {
            std::fs::read(p)
        };
        let parsed = bytes
            .map_err(|e| format!("policy {p}: cannot read it: {e}"))
            .and_then(|b| policy::parse_policy(p, &b));
        targets.extend(parsed?);
    }
    let profiles = if a.profile.is_empty() && targets.is_empty() {
        vec!["default".to_string()]
    } else {
        a.profile.clone()
    };
    for p in &profiles {
        targets.extend(policy::profile(p)?);
    }
    let options = probe_options(&a.bytes, &a.queue)?;
    let probe = if a.probe {
        let r = crate::probe::run_as(a.user.as_deref(), options);
        // It could not start (an unknown --user): an error, not an audit.
        if r.checks.is_empty() && r.error.is_some() {
            return Err(r.error.unwrap_or_default());
        }
        Some(r)
    } else {
        None
    };
    let opts = AuditOptions {
        fstab: a.fstab_path.as_ref().map(Into::into),
        root: a.root.as_ref().map(Into::into),
        container: crate::observe::container::detect_here(),
        init: a.init.as_deref().and_then(|w| Init::parse(w).ok()),
        needs: crate::audit::Needs {
            bytes: options.bytes,
            queue: (options.mq_maxmsg, options.mq_msgsize),
        },
    };
    Ok(crate::audit::audit(&targets, &opts, probe))
}

pub fn probe(p: &ProbeArgs) -> i32 {
    let opts = match probe_options(&p.bytes, &p.queue) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("shmguard probe: {e}");
            return 1;
        }
    };
    let report = crate::probe::run_as(p.user.as_deref(), opts);
    let text = match default_format(p.json.or(p.format.as_deref()), &p.output).as_str() {
        "json" => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        // A probe that could not start (an unknown --user) is an error on stderr, not a report.
        _ if report.error.is_some() && report.checks.is_empty() => String::new(),
        _ => text::probe(&report),
    };
    if let Some(e) = &report.error {
        eprintln!("shmguard probe: {e}");
    }
    if !text.is_empty() && !emit("probe", &p.output, &text) {
        return 1;
    }
    match (&report.error, report.passed()) {
        (Some(_), _) => 1,
        (None, true) => 0,
        (None, false) => 2,
    }
}
