//! AuditReport: the result of `shmguard audit` — one verdict per check, with references, and
//! the probe's results when asked for. Rendered as text, JSON or JUnit by the front end.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::probe::{ProbeReport, ProbeStatus};
use crate::spec::Params;

/// A check's verdict. `warn`: the programs the check describes work now, but the headroom
/// (free inodes, free bytes after the reservation) is below the documented recommendation and
/// some programs of that kind would fail; it names what to raise and by how much. A warning
/// keeps a report compliant (exit 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

/// One property of one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    /// stable id: `dev-shm.nodev.fstab`
    pub id: String,
    /// readable name: `/dev/shm nodev (fstab)`
    pub name: String,
    /// live (the running mount), fstab, sysctl (sysctl_path), or boot (what the next boot
    /// gives, predicted from the fstab line and the init system)
    pub scope: String,
    pub status: Status,
    /// what differs and what a run of `shmguard apply` would do about it
    pub detail: String,
    /// compliance references (CIS, STIG ids)
    pub references: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetResult {
    /// `profile cis`, `policy site.json`
    pub source: String,
    pub path: String,
    pub fstype: String,
    pub checks: Vec<CheckResult>,
    /// the target could not be audited (unreadable file, bad parameter)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// how full the live mount is (statvfs), for monitoring
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<PathUsage>,
    /// what the target asks for, by check key (`mode` -> `mode 1777`), for reports
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wanted: BTreeMap<String, String>,
    /// the `shmguard apply` command that makes every check of the target pass
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// the same remedy as the parameters of the shmguard module and Salt state (the
    /// parameter table's names; `path` always given): what the fleet report writes as an
    /// Ansible task or a Salt state for the hosts audited through those
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy_params: Option<Params>,
}

/// What ran the audit: the command line (also when absent), the Ansible audit module, or
/// the Salt execution module. The fleet report writes each host's remedies in its words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    #[default]
    Cli,
    Ansible,
    Salt,
}

/// Size, use and free inodes of a live mount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PathUsage {
    /// the tmpfs size limit; absent when unlimited or not a tmpfs
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    pub used_bytes: u64,
    /// absent when the filesystem does not count inodes
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_inodes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// every check: the targets' and the probe's (an info check counts as passed); checks =
    /// passed + warned + failed
    pub checks: usize,
    pub passed: usize,
    /// checks that pass with too little headroom (counted apart from `passed`)
    #[serde(default)]
    pub warned: usize,
    pub failed: usize,
    pub errors: usize,
}

/// The result of `shmguard audit`. Exit code: 0 compliant (warnings included), 2 drift
/// found, 1 error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditReport {
    /// the audited host's name (uname nodename); the fleet report's key
    #[serde(default)]
    pub host: String,
    /// when the audit ran (RFC 3339, UTC)
    #[serde(default)]
    pub time: String,
    /// what ran the audit: cli, ansible or salt (absent: cli)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    pub compliant: bool,
    pub summary: Summary,
    pub targets: Vec<TargetResult>,
    /// the functional probe, with `--probe`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeReport>,
}

impl AuditReport {
    pub fn new(targets: Vec<TargetResult>, probe: Option<ProbeReport>) -> AuditReport {
        let mut s = Summary::default();
        for t in &targets {
            s.errors += usize::from(t.error.is_some());
            for c in &t.checks {
                s.checks += 1;
                match c.status {
                    Status::Pass => s.passed += 1,
                    Status::Warn => s.warned += 1,
                    Status::Fail => s.failed += 1,
                }
            }
        }
        // The probe's checks count like any other: a summary never says "0 failed" while
        // the report is not compliant.
        if let Some(p) = &probe {
            s.errors += usize::from(p.error.is_some());
            for c in &p.checks {
                s.checks += 1;
                match c.status {
                    ProbeStatus::Pass | ProbeStatus::Info => s.passed += 1,
                    ProbeStatus::Warn => s.warned += 1,
                    ProbeStatus::Fail => s.failed += 1,
                }
            }
        }
        AuditReport {
            host: String::new(),
            time: String::new(),
            via: None,
            compliant: s.failed == 0 && s.errors == 0,
            summary: s,
            targets,
            probe,
        }
    }

    /// 0 compliant, 2 drift found, 1 error.
    pub fn exit_code(&self) -> i32 {
        if self.summary.errors > 0 {
            1
        } else if self.compliant {
            0
        } else {
            2
        }
    }
}
