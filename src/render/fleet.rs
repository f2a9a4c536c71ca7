//! Fleet: many hosts' audits as one view — hosts sorted worst first, every check with its
//! count per verdict, each failing check with its remedies and the hosts they apply to. Each
//! format renders it in its own file (json.rs, junit.rs, prometheus.rs, html.rs). Pure: no I/O.

use serde::Serialize;

use crate::render::audit_doc::{AuditDoc, Verdict};

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

pub(crate) const VERDICTS: [Verdict; 5] = [
    Verdict::Pass,
    Verdict::Warn,
    Verdict::Fail,
    Verdict::Error,
    Verdict::Info,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::audit_doc::parse;
    use crate::render::{json, junit, prometheus};

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
        let p = prometheus::fleet(&f);
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
        let j = junit::fleet(&f);
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
        let v: serde_json::Value = serde_json::from_str(&json::fleet(&f)).unwrap();
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
