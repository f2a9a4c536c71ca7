//! Fleet: many hosts' audits as one view — hosts sorted worst first, every check with its
//! count per verdict, each failing check with its remedies and the hosts they apply to — and
//! its machine formats: JSON, JUnit (a testsuite per host) and Prometheus (a series per host
//! and check). The HTML page is html_report's. Pure: no I/O.

use serde::Serialize;
use serde_json::json;

use crate::render::audit_doc::{AuditDoc, Verdict};
use crate::render::audit_output::{self, label, x};

/// One check across the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct FleetCheck {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub references: Vec<String>,
    /// per host, in the fleet's host order: the worst verdict of this check there (None:
    /// the host has no such check)
    pub cells: Vec<Option<Verdict>>,
    /// each distinct remedy of the hosts where it fails, with those hosts
    pub remedies: Vec<(String, Vec<String>)>,
}

impl FleetCheck {
    pub fn count(&self, v: Verdict) -> usize {
        self.cells.iter().filter(|c| **c == Some(v)).count()
    }
}

pub struct Fleet {
    /// worst first: errors, then failures (most first), then warnings, then by name
    pub hosts: Vec<AuditDoc>,
    /// in the order the checks first appear
    pub checks: Vec<FleetCheck>,
}

impl Fleet {
    pub fn new(mut hosts: Vec<AuditDoc>) -> Fleet {
        hosts.sort_by(|a, b| {
            let rank = |d: &AuditDoc| {
                (
                    std::cmp::Reverse(d.worst()),
                    std::cmp::Reverse(d.count(Verdict::Error)),
                    std::cmp::Reverse(d.count(Verdict::Fail)),
                    std::cmp::Reverse(d.count(Verdict::Warn)),
                )
            };
            rank(a).cmp(&rank(b)).then_with(|| a.host.cmp(&b.host))
        });
        let mut checks: Vec<FleetCheck> = Vec::new();
        for (h, d) in hosts.iter().enumerate() {
            for r in &d.rows {
                let i = match checks.iter().position(|c| c.id == r.id) {
                    Some(i) => i,
                    None => {
                        checks.push(FleetCheck {
                            id: r.id.clone(),
                            name: r.name.clone(),
                            scope: r.scope.clone(),
                            references: r.references.clone(),
                            cells: vec![None; hosts.len()],
                            remedies: Vec::new(),
                        });
                        checks.len() - 1
                    }
                };
                let c = &mut checks[i];
                c.cells[h] = c.cells[h].max(Some(r.status));
                if !r.status.ok() {
                    let fix = if r.remedy.is_empty() {
                        &r.found
                    } else {
                        &r.remedy
                    };
                    match c.remedies.iter_mut().find(|(f, _)| f == fix) {
                        Some((_, hs)) if hs.last() != Some(&d.host) => hs.push(d.host.clone()),
                        Some(_) => {}
                        None => c.remedies.push((fix.clone(), vec![d.host.clone()])),
                    }
                }
            }
        }
        Fleet { hosts, checks }
    }

    /// 0 every host compliant, 2 drift somewhere, 1 an error somewhere.
    pub fn exit_code(&self) -> i32 {
        self.hosts
            .iter()
            .map(AuditDoc::exit_code)
            .fold(0, |a, b| match (a, b) {
                (1, _) | (_, 1) => 1,
                (2, _) | (_, 2) => 2,
                _ => 0,
            })
    }

    pub fn compliant_hosts(&self) -> usize {
        self.hosts.iter().filter(|d| d.worst().ok()).count()
    }
}

const VERDICTS: [Verdict; 5] = [
    Verdict::Pass,
    Verdict::Warn,
    Verdict::Fail,
    Verdict::Error,
    Verdict::Info,
];

fn counts(f: impl Fn(Verdict) -> usize) -> serde_json::Value {
    VERDICTS
        .iter()
        .map(|v| (v.word().to_string(), json!(f(*v))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The fleet as one JSON document: hosts worst first with their per-check status, and each
/// check with its counts, remedies and failing hosts.
pub fn json(f: &Fleet) -> String {
    let hosts: Vec<_> = f
        .hosts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let checks: serde_json::Map<_, _> = f
                .checks
                .iter()
                .filter_map(|c| Some((c.id.clone(), json!(c.cells[i]?.word()))))
                .collect();
            json!({"host": d.host, "time": d.time, "status": d.worst().word(),
                   "counts": counts(|v| d.count(v)), "checks": checks})
        })
        .collect();
    let checks: Vec<_> = f
        .checks
        .iter()
        .map(|c| {
            json!({"id": c.id, "name": c.name, "scope": c.scope, "references": c.references,
                   "counts": counts(|v| c.count(v)),
                   "remedies": c.remedies.iter().map(|(r, h)| json!({"remedy": r, "hosts": h})).collect::<Vec<_>>()})
        })
        .collect();
    let v = json!({
        "compliant": f.exit_code() == 0,
        "summary": {"hosts": f.hosts.len(), "compliant_hosts": f.compliant_hosts(), "checks": f.checks.len()},
        "hosts": hosts,
        "checks": checks,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// JUnit XML: a testsuite per host (worst first), a testcase per check.
pub fn junit(f: &Fleet) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for d in &f.hosts {
        let (fl, er) = (d.count(Verdict::Fail), d.count(Verdict::Error));
        tests += d.rows.len();
        failures += fl;
        errors += er;
        suites += &format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fl}\" errors=\"{er}\" timestamp=\"{}\">\n",
            x(&d.host),
            d.rows.len(),
            x(d.time.trim_end_matches('Z'))
        );
        for r in &d.rows {
            suites += &format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                x(&format!("{}.{}", d.host, r.scope)),
                x(&r.id)
            );
            let msg = if r.remedy.is_empty() {
                r.found.clone()
            } else {
                format!("{} — fix: {}", r.found, r.remedy)
            };
            suites += &match r.status {
                Verdict::Fail => format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    x(&r.found),
                    x(&msg)
                ),
                Verdict::Error => format!(
                    ">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
                    x(&r.found),
                    x(&msg)
                ),
                // A warning passes (exit 0) and says why in system-out, as audit's JUnit does.
                Verdict::Warn => audit_output::warning(&r.found),
                _ => "/>\n".to_string(),
            };
        }
        suites += "  </testsuite>\n";
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"shmguard fleet\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n"
    )
}

/// Prometheus text format: one series per host and check (1 compliant: pass or warn; 0 not),
/// one per host, and the fleet's counts per check and verdict.
pub fn prometheus(f: &Fleet) -> String {
    let mut out = String::from(
        "# HELP shmguard_fleet_check Whether a check holds on a host (1: pass or warn) or not (0: fail or error).\n# TYPE shmguard_fleet_check gauge\n",
    );
    for c in &f.checks {
        for (d, cell) in f.hosts.iter().zip(&c.cells) {
            let Some(v) = cell.filter(|v| *v != Verdict::Info) else {
                continue;
            };
            out += &format!(
                "shmguard_fleet_check{{host=\"{}\",id=\"{}\",scope=\"{}\"}} {}\n",
                label(&d.host),
                label(&c.id),
                label(&c.scope),
                u8::from(v.ok())
            );
        }
    }
    out += "# HELP shmguard_fleet_host_compliant Whether every check of a host holds (1) or not (0).\n# TYPE shmguard_fleet_host_compliant gauge\n";
    for d in &f.hosts {
        out += &format!(
            "shmguard_fleet_host_compliant{{host=\"{}\"}} {}\n",
            label(&d.host),
            u8::from(d.worst().ok())
        );
    }
    out += "# HELP shmguard_fleet_check_hosts Hosts per check and verdict.\n# TYPE shmguard_fleet_check_hosts gauge\n";
    for c in &f.checks {
        for v in VERDICTS.iter().filter(|v| **v != Verdict::Info) {
            out += &format!(
                "shmguard_fleet_check_hosts{{id=\"{}\",status=\"{}\"}} {}\n",
                label(&c.id),
                v.word(),
                c.count(*v)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::audit_doc::parse;

    fn fleet() -> Fleet {
        let doc = |host: &str, nodev: &str, inodes: &str| {
            serde_json::json!({"host": host, "time": "2026-12-02T07:00:00Z", "targets": [
                {"source": "profile cis", "path": "/dev/shm", "remedy": "shmguard apply --path /dev/shm -o nodev",
                 "checks": [
                    {"id": "dev-shm.nodev.live", "name": "nodev", "scope": "live", "status": nodev, "detail": "d"},
                    {"id": "dev-shm.free_inodes.live", "name": "inodes", "scope": "live", "status": inodes, "detail": "9 free"}]}]})
        };
        let text = format!(
            "{}{}{}",
            doc("a", "pass", "warn"),
            doc("b", "fail", "pass"),
            doc("c", "pass", "pass")
        );
        Fleet::new(parse(text.as_bytes()).unwrap())
    }

    #[test]
    fn warn_is_compliant_in_every_format_but_still_counted() {
        let f = fleet();
        let order: Vec<&str> = f.hosts.iter().map(|d| d.host.as_str()).collect();
        assert_eq!(order, ["b", "a", "c"], "worst first: fail, then warn");
        assert_eq!(f.exit_code(), 2);
        assert_eq!(f.checks[1].count(Verdict::Warn), 1);
        assert_eq!(f.compliant_hosts(), 2);
        let p = prometheus(&f);
        assert!(p.contains("shmguard_fleet_check{host=\"a\",id=\"dev-shm.free_inodes.live\",scope=\"live\"} 1\n"), "{p}");
        assert!(
            p.contains(
                "shmguard_fleet_check{host=\"b\",id=\"dev-shm.nodev.live\",scope=\"live\"} 0\n"
            ),
            "{p}"
        );
        assert!(
            p.contains(
                "shmguard_fleet_check_hosts{id=\"dev-shm.free_inodes.live\",status=\"warn\"} 1\n"
            ),
            "{p}"
        );
        let j = junit(&f);
        assert!(
            j.contains("<system-out>WARNING: 9 free</system-out>"),
            "{j}"
        );
        assert_eq!(j.matches("<failure ").count(), 1, "{j}");
        assert_eq!(
            f.checks[0].remedies,
            [(
                "shmguard apply --path /dev/shm -o nodev".to_string(),
                vec!["b".to_string()]
            )]
        );
        let v: serde_json::Value = serde_json::from_str(&json(&f)).unwrap();
        assert_eq!(v["hosts"][1]["status"], "warn");
        assert_eq!(v["compliant"], false);
    }

    #[test]
    fn a_fleet_of_compliant_and_warning_hosts_exits_0() {
        let mut f = fleet();
        f.hosts.retain(|d| d.host != "b");
        let f = Fleet::new(f.hosts);
        assert_eq!(f.exit_code(), 0);
    }
}
