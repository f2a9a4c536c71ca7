//! Text: the audit and probe reports as tables for people, one line per check, failures with
//! what would fix them; and the fleet, a line per host. Pure: no I/O.

use crate::audit::{AuditReport, Status};
use crate::probe::{ProbeReport, ProbeStatus};
use crate::render::audit_doc::{HostStatus, Outcome, Verdict};
use crate::render::fleet::Fleet;

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

/// The fleet as text: the verdict and summary, a line per host (worst first) with its status
/// and counts or, for a host not audited or judged, why; then each failing check with its
/// remedies (in the words of what audited the hosts) and the hosts they apply to.
pub fn fleet(f: &Fleet) -> String {
    let mut out = format!("shmguard fleet report: {} — {}\n", f.verdict(), f.summary());
    if f.hosts.is_empty() {
        return out;
    }
    out += "\n";
    let width = f.hosts.iter().map(|d| d.host.len()).max().unwrap_or(0);
    for d in &f.hosts {
        let what = if d.outcome == Outcome::Audited && d.status() != HostStatus::Error {
            let (fail, warn) = (d.count(Verdict::Fail), d.count(Verdict::Warn));
            let mut t = format!("{} checks", d.rows.len());
            if fail > 0 {
                t += &format!(", {fail} failed");
            }
            if warn > 0 {
                t += &format!(", {warn} warned");
            }
            t
        } else {
            d.message()
        };
        let status = d.status().word().to_ascii_uppercase();
        let what = what.replace('\n', &format!("\n  {:<11}  {:<width$}  ", "", ""));
        out += &format!("  {status:<11}  {:<width$}  {what}\n", d.host);
    }
    let failing: Vec<_> = f.checks.iter().filter(|c| !c.remedies.is_empty()).collect();
    if !failing.is_empty() {
        out += "\nFailing checks: what to run, and where\n";
    }
    for c in failing {
        let hosts = c.count(Verdict::Fail) + c.count(Verdict::Error);
        out += &format!(
            "\n  {} ({}) — {hosts} of {} hosts\n",
            c.id,
            c.name,
            f.hosts.len()
        );
        for (remedy, hs) in &c.remedies {
            out += &format!("    on {}:\n", hs.join(", "));
            for line in remedy.lines() {
                out += &format!("      {line}\n");
            }
        }
    }
    out
}
