//! Text: the audit and probe reports as tables for people, one line per check, failures with
//! what would fix them. Pure: no I/O.

use crate::audit::{AuditReport, Status};
use crate::probe::{ProbeReport, ProbeStatus};

pub fn probe(p: &ProbeReport) -> String {
    let mut out = if p.users.is_empty() {
        // the user could not be found: there is no uid to show
        format!("probe as {}", p.user)
    } else {
        format!("probe as {} (uid {})", p.user, p.uid)
    };
    for u in p.users.iter().skip(1) {
        out += &format!(" and as {u}");
    }
    out += "\n";
    if let Some(e) = &p.error {
        out += &format!("  ERROR  {e}\n");
    }
    let width = p.checks.iter().map(|c| c.user.len()).max().unwrap_or(0);
    for c in &p.checks {
        let status = match c.status {
            ProbeStatus::Pass => "pass",
            ProbeStatus::Warn => "WARN",
            ProbeStatus::Fail => "FAIL",
            ProbeStatus::Info => "info",
        };
        out += &format!(
            "  {status:<5}  {:<width$}  {:<21} {}\n",
            c.user, c.name, c.detail
        );
        if let Some(r) = &c.remedy {
            out += &format!("  {:<5}  {:<width$}  {:<21} fix: {r}\n", "", "", "");
        }
    }
    out
}

/// A readable table: one line per check, failures with what would fix them.
pub fn audit(r: &AuditReport) -> String {
    let s = &r.summary;
    let verdict = if r.compliant {
        "compliant"
    } else {
        "NOT compliant"
    };
    let mut out = format!(
        "shmguard audit: {verdict} — {} checks, {} passed, {} warned, {} failed, {} errors\n",
        s.checks, s.passed, s.warned, s.failed, s.errors
    );
    for t in &r.targets {
        out += &format!("\n{} ({}, {})\n", t.path, t.fstype, t.source);
        if let Some(e) = &t.error {
            out += &format!("  ERROR  {e}\n");
        }
        let width = t.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &t.checks {
            let status = match c.status {
                Status::Pass => "pass",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            let refs = if c.references.is_empty() {
                String::new()
            } else {
                format!("  [{}]", c.references.join(", "))
            };
            out += &format!("  {status}  {:<width$}  {}{refs}\n", c.name, c.detail);
        }
    }
    if let Some(p) = &r.probe {
        out += "\n";
        out += &probe(p);
    }
    out
}
