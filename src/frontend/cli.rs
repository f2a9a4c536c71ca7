//! The human CLI: `shmguard apply ...` and `shmguard status [PATH...]`, flags mapped one to one
//! onto Params; readable output, or the same JSON as the Ansible module with --format json.
//! Every command speaks one vocabulary: the parameter table's names (`--fstab-path`,
//! `--options`, `--state` with every word the table accepts) and `--format`, with the older
//! spellings (`--fstab`, `--option`, `--json`) kept as hidden aliases.

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::engine::{self, RunMode};
use crate::frontend::args::{JsonAlias, words};
use crate::frontend::{audit_cli, report_cli, salt};
use crate::render::text_diff;
use crate::report::Report;
use crate::spec::{FsType, Init, Params, State};

#[derive(Debug, Parser)]
#[command(
    name = "shmguard",
    version,
    about = "Declare and enforce /dev/shm and /dev/mqueue: live mount, fstab entry and mqueue limits, in one idempotent run",
    after_help = "As an Ansible module: shmguard ARGS_FILE (the binary-module protocol).\n\
                  With no arguments: shmguard status /dev/shm /dev/mqueue (read-only).\n\
                  \n\
                  Exit codes:\n  \
                    0  done; compliant (audit), passed (probe); stopped (watch: SIGTERM, SIGINT, stdout closed)\n  \
                    2  drift found: audit not compliant, probe failed; report: a host drifted, errored or was unreachable (audit, probe and report only)\n  \
                    1  every error: a usage mistake, a bad value, a file or mount it cannot read or change"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make the live mount and fstab match the desired state (--check: only say what would change)
    Apply(Box<ApplyArgs>),
    /// Show the current state of mount points (read-only)
    Status(StatusArgs),
    /// Salt state: read one JSON object of parameters (plus `test`) on stdin, print a state return.
    /// The Salt formula's back end (salt/README.md), not a command for people: hidden.
    #[command(hide = true)]
    Salt,
    /// Judge policies against this system without changing anything (exit 0 compliant, 2 drift, 1 error)
    Audit(audit_cli::AuditArgs),
    /// Do what real programs do with /dev/shm and /dev/mqueue, as this or another user (exit 0 pass, 2 fail, 1 error)
    Probe(audit_cli::ProbeArgs),
    /// Merge audit JSON from many hosts into one fleet report: html, text, json, junit, prometheus; every host in it, also those whose audit failed or that were unreachable (exit 0 every host compliant, 2 drift, errors, unreachable or no hosts, 1 the report could not be made)
    Report(report_cli::ReportArgs),
    /// Audit again on every change the kernel reports (mount, remount, umount, chmod, fstab replaced; mqueue limits on a timer) and print one line per change of verdict: initial, drift, compliant, error (--apply: repaired, flapping); runs until SIGTERM, SIGINT or stdout closes (exit 0; 1 a bad argument)
    Watch(Box<crate::watch::WatchArgs>),
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Mount point to manage
    #[arg(long, default_value = crate::spec::params::DEFAULT_PATH)]
    pub path: String,
    /// tmpfs or mqueue [default: mqueue for /dev/mqueue, else tmpfs]
    #[arg(long, value_parser = words(FsType::WORDS))]
    pub fstype: Option<String>,
    /// mounted, present (fstab only), ephemeral (live only) or absent (remove the fstab entry;
    /// absent_from_fstab is the same) [default: mounted]
    #[arg(long, value_parser = words(State::WORDS))]
    pub state: Option<String>,
    /// Octal mode of the mount root, e.g. 1777 (unmanaged when omitted)
    #[arg(long)]
    pub mode: Option<String>,
    /// tmpfs size: bytes, k/m/g/t/p/e suffix, N% of RAM, 0 = unlimited (unmanaged when omitted)
    #[arg(long, conflicts_with = "min_size")]
    pub size: Option<String>,
    /// Grow the tmpfs to at least this size, never shrink (unmanaged when omitted)
    #[arg(long)]
    pub min_size: Option<String>,
    /// tmpfs inode limit: count, k/m/g/t/p/e suffix, N% of RAM pages, 0 = unlimited (unmanaged when
    /// omitted)
    #[arg(long)]
    pub nr_inodes: Option<String>,
    /// Mount flags that must hold live and in fstab (repeat, or comma-separate): nodev, nosuid,
    /// noexec, ...
    #[arg(long = "options", short = 'o', alias = "option", value_delimiter = ',')]
    pub options: Vec<String>,
    /// mqueue: /proc/sys/fs/mqueue/queues_max (unmanaged when omitted)
    #[arg(long)]
    pub queues_max: Option<i64>,
    /// mqueue: /proc/sys/fs/mqueue/msg_max (unmanaged when omitted)
    #[arg(long)]
    pub msg_max: Option<i64>,
    /// mqueue: /proc/sys/fs/mqueue/msgsize_max (unmanaged when omitted)
    #[arg(long)]
    pub msgsize_max: Option<i64>,
    /// fstab file to manage [default: /etc/fstab]
    #[arg(long, alias = "fstab", value_name = "FILE")]
    pub fstab_path: Option<String>,
    /// sysctl.d file for the mqueue limits [default: /etc/sysctl.d/90-shmguard-mqueue.conf]
    #[arg(long, value_name = "FILE")]
    pub sysctl_path: Option<String>,
    /// Keep a timestamped copy of a file before changing it
    #[arg(long)]
    pub backup: bool,
    /// With --backup: how many of shmguard's copies of each file to keep, the newest (0: all)
    /// [default: 5]
    #[arg(long, value_name = "N")]
    pub backup_keep: Option<i64>,
    /// The init system that boots this host: auto, systemd or other (decides what the fstab
    /// line does at boot) [default: auto]
    #[arg(long, value_parser = words(Init::WORDS))]
    pub init: Option<String>,
    /// Change nothing; report what a real run would do
    #[arg(long)]
    pub check: bool,
    /// Show the live state and changed files before and after
    #[arg(long)]
    pub diff: bool,
    /// text, json (the Ansible module's result) or salt-stateful (the object Salt's cmd.run
    /// reads with `stateful: True`)
    #[arg(long, value_parser = ["text", "json", "salt-stateful"], default_value = "text")]
    pub format: String,
    #[command(flatten)]
    pub json: JsonAlias,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Mount points [default: /dev/shm /dev/mqueue]
    pub paths: Vec<String>,
    /// fstab file to read [default: /etc/fstab]
    #[arg(long, alias = "fstab", value_name = "FILE")]
    pub fstab_path: Option<String>,
    /// The init system that boots this host: auto, systemd or other (decides what the fstab
    /// line does at boot) [default: auto]
    #[arg(long, value_parser = words(Init::WORDS))]
    pub init: Option<String>,
    /// text or json
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    pub format: String,
    #[command(flatten)]
    pub json: JsonAlias,
    /// Hidden, for the tests: print what was observed of each path (live mount, whether the
    /// files are mount points) as JSON, to compare statmount(2) with mountinfo
    #[arg(long, hide = true)]
    pub observed: bool,
}

impl ApplyArgs {
    /// Nothing asked of the target: no value to hold and no explicit --state. A bare `apply`
    /// would otherwise converge the defaults (a new fstab line) on the real host.
    fn enforces_nothing(&self) -> bool {
        self.state.is_none()
            && self.mode.is_none()
            && self.size.is_none()
            && self.min_size.is_none()
            && self.nr_inodes.is_none()
            && self.options.iter().all(|o| o.trim().is_empty())
            && self.queues_max.is_none()
            && self.msg_max.is_none()
            && self.msgsize_max.is_none()
    }

    fn params(&self) -> Result<Params, String> {
        Ok(Params {
            path: Some(self.path.clone()),
            fstype: self.fstype.as_deref().map(FsType::parse).transpose()?,
            state: self.state.as_deref().map(State::parse).transpose()?,
            mode: self.mode.clone(),
            size: self.size.clone(),
            min_size: self.min_size.clone(),
            nr_inodes: self.nr_inodes.clone(),
            options: self
                .options
                .iter()
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .collect(),
            queues_max: self.queues_max,
            msg_max: self.msg_max,
            msgsize_max: self.msgsize_max,
            sysctl_path: self.sysctl_path.clone(),
            fstab_path: self.fstab_path.clone(),
            backup: self.backup,
            backup_keep: self.backup_keep,
            init: self.init.as_deref().map(Init::parse).transpose()?,
        })
    }
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Apply(a) => apply(&a),
        Command::Status(s) => status(&s),
        Command::Audit(a) => audit_cli::audit(&a),
        Command::Probe(p) => audit_cli::probe(&p),
        Command::Report(r) => report_cli::report(&r),
        Command::Salt => salt::run_stdin(),
        Command::Watch(w) => crate::watch::watch(&w),
    }
}

/// A usage error of `apply`, printed as clap prints its own (error, usage, hint); exit 1.
fn apply_usage_error(msg: String) -> i32 {
    let mut cli = Cli::command();
    cli.build();
    let apply = cli
        .find_subcommand_mut("apply")
        .expect("apply is a subcommand");
    let _ = apply.error(ErrorKind::MissingRequiredArgument, msg).print();
    1
}

fn apply(a: &ApplyArgs) -> i32 {
    if a.enforces_nothing() {
        return apply_usage_error(format!(
            "nothing to enforce on {}: give at least one value it must hold (--mode 1777, \
             --size 2G, --min-size 1G, --nr-inodes 1M, -o nodev,nosuid; for mqueue --queues-max, \
             --msg-max, --msgsize-max) or an explicit --state (--state mounted: mounted, with an \
             fstab entry)",
            a.path
        ));
    }
    let report = match a.params() {
        Ok(p) => engine::run(
            &p,
            RunMode {
                check: a.check,
                diff: a.diff,
            },
        ),
        Err(msg) => Report {
            failed: true,
            msg,
            path: a.path.clone(),
            ..Report::default()
        },
    };
    match a.json.or(Some(&a.format)) {
        Some("json") => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Some("salt-stateful") => println!("{}", salt::stateful(&report)),
        _ => {
            // The error goes to stderr; what was done before it (if anything) to stdout.
            if report.failed {
                eprintln!("error: {}", report.msg);
            }
            print!("{}", render(&report));
        }
    }
    i32::from(report.failed)
}

/// The readable form of a report; a failed report's error itself is the caller's (stderr).
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let n = r.actions.len();
    if r.failed {
        // The error line is printed by the caller, on stderr; the steps done follow here.
    } else if n == 0 {
        out += &format!("{}\n", r.msg);
    } else {
        let verb = if r.check_mode { "would make" } else { "made" };
        out += &format!(
            "{}: {verb} {n} change{}\n",
            r.path,
            if n == 1 { "" } else { "s" }
        );
    }
    let mark = if r.check_mode { "would" } else { "done" };
    for a in &r.actions {
        out += &format!("  {mark}: {a}\n");
    }
    for item in r.diff.iter().flatten() {
        out += &text_diff::unified(&item.before_header, &item.before, &item.after);
    }
    for w in &r.warnings {
        out += &format!("warning: {w}\n");
    }
    out
}

fn status(s: &StatusArgs) -> i32 {
    let paths = if s.paths.is_empty() {
        vec!["/dev/shm".to_string(), "/dev/mqueue".to_string()]
    } else {
        s.paths.clone()
    };
    let mut views = Vec::new();
    let mut observed = serde_json::Map::new();
    let mut code = 0;
    for path in &paths {
        let init = match s.init.as_deref().map(Init::parse).transpose() {
            Ok(i) => i,
            Err(e) => {
                eprintln!("shmguard: {e}");
                return 1;
            }
        };
        let params = Params {
            path: Some(path.clone()),
            fstab_path: s.fstab_path.clone(),
            init,
            ..Params::default()
        };
        if s.observed {
            match engine::observed_json(&params) {
                Ok(v) => observed.insert(path.clone(), v),
                Err(e) => {
                    eprintln!("shmguard: {path}: {e}");
                    code = 1;
                    continue;
                }
            };
            continue;
        }
        match engine::status(&params) {
            Ok(v) => views.push((path.clone(), v)),
            Err(e) => {
                eprintln!("shmguard: {path}: {e}");
                code = 1;
            }
        }
    }
    if s.observed {
        println!(
            "{}",
            serde_json::to_string_pretty(&observed).unwrap_or_default()
        );
    } else if s.json.or(Some(&s.format)) == Some("json") {
        let map: serde_json::Map<String, serde_json::Value> = views
            .into_iter()
            .map(|(p, v)| (p, serde_json::to_value(v).unwrap_or_default()))
            .collect();
        println!("{}", serde_json::to_string_pretty(&map).unwrap_or_default());
    } else {
        for (path, v) in views {
            println!("{path}");
            for line in v.live_text().lines() {
                println!("  {line}");
            }
            match (&v.fstab, &v.fstab_missing) {
                (Some(f), _) => println!("  fstab: line {}: {}", f.line, f.text),
                (None, Some(path)) => println!("  fstab: {path} does not exist"),
                (None, None) => println!("  fstab: no entry"),
            }
            for line in v.boot_text().lines() {
                println!("  {line}");
            }
            for (k, val) in v.sysctl.iter().flatten() {
                println!("  persisted fs.mqueue.{k}: {val}");
            }
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::params::{DEFAULT_FSTAB, DEFAULT_SYSCTL, NAMES};

    fn subcommand(name: &str) -> clap::Command {
        let mut cli = Cli::command();
        cli.build();
        cli.find_subcommand(name).expect("a subcommand").clone()
    }

    /// One vocabulary: `apply` has a flag for every parameter of the table, spelled as the
    /// table spells it (`_` as `-`), and each choice flag accepts every word the table does.
    #[test]
    fn apply_has_the_tables_name_and_choices_for_every_parameter() {
        let apply = subcommand("apply");
        for (name, _) in NAMES {
            let long = name.replace('_', "-");
            let arg = apply
                .get_arguments()
                .find(|a| a.get_long() == Some(long.as_str()))
                .unwrap_or_else(|| panic!("apply has no --{long} for the parameter {name}"));
            let want: &[&str] = match *name {
                "state" => State::WORDS,
                "fstype" => FsType::WORDS,
                "init" => Init::WORDS,
                _ => &[],
            };
            let have: Vec<String> = arg
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            assert_eq!(have, want, "--{long}");
        }
    }

    #[test]
    fn the_older_spellings_still_parse() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map_err(|e| e.to_string());
        for old in [
            &[
                "shmguard", "apply", "--option", "nodev", "--fstab", "/f", "--json",
            ][..],
            &["shmguard", "status", "--fstab", "/f", "--json"],
            &["shmguard", "audit", "--fstab", "/f", "--json"],
            &["shmguard", "probe", "--json"],
        ] {
            parse(old).unwrap();
        }
        for both in [
            &["shmguard", "apply", "--json", "--format", "text"][..],
            &["shmguard", "status", "--json", "--format", "json"],
            &["shmguard", "audit", "--format", "junit", "--json"],
        ] {
            let e = parse(both).unwrap_err();
            assert!(e.contains("cannot be used with"), "{both:?}: {e}");
        }
        let Command::Apply(a) = parse(&["shmguard", "apply", "--option", "nodev,nosuid"])
            .unwrap()
            .command
        else {
            panic!("not apply")
        };
        assert_eq!(a.options, ["nodev", "nosuid"]);
    }

    /// `--help` shows each default, the ones clap cannot show (Option fields whose default
    /// lives in the parameter table) in the same `[default: ...]` form.
    #[test]
    fn help_shows_the_file_defaults_of_the_table() {
        let help = subcommand("apply").render_long_help().to_string();
        for want in [DEFAULT_FSTAB, DEFAULT_SYSCTL] {
            assert!(help.contains(&format!("[default: {want}]")), "{help}");
        }
        let help = subcommand("status").render_long_help().to_string();
        assert!(
            help.contains(&format!("[default: {DEFAULT_FSTAB}]")),
            "{help}"
        );
    }
}
