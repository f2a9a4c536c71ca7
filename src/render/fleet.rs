//! Fleet: many hosts' audits as one view — hosts sorted worst first, every check with its
//! count per verdict, each failing check with its remedies and the hosts they apply to. Each
//! format renders it in its own file (json.rs, junit.rs, prometheus.rs, html.rs). Pure: no I/O.

use serde::Serialize;

use crate::render::audit_doc::{AuditDoc, HostStatus, Outcome, Verdict};

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
    /// per host, as `cells`: what was found where the check does not pass (empty else)
    pub found: Vec<String>,
    /// each distinct remedy of the hosts where it fails, with those hosts
    pub remedies: Vec<(String, Vec<String>)>,
}

impl FleetCheck {
    pub fn count(&self, v: Verdict) -> usize {
        self.cells.iter().filter(|c| **c == Some(v)).count()
    }
}

pub struct Fleet {
    /// worst first: unreachable, errors, then failures (most first), then warnings, then by
    /// name
    pub hosts: Vec<AuditDoc>,
    /// in the order the checks first appear
    pub checks: Vec<FleetCheck>,
}

impl Fleet {
    pub fn new(mut hosts: Vec<AuditDoc>) -> Fleet {
        hosts.sort_by(|a, b| {
            let rank = |d: &AuditDoc| {
                (
                    std::cmp::Reverse(d.status()),
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
                            found: vec![String::new(); hosts.len()],
                            remedies: Vec::new(),
                        });
                        checks.len() - 1
                    }
                };
                let c = &mut checks[i];
                if Some(r.status) > c.cells[h] {
                    c.cells[h] = Some(r.status);
                    if !r.status.ok() {
                        c.found[h] = r.found.clone();
                    }
                }
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

    /// `shmguard report`'s exit code: 0 when there are hosts and every one is compliant
    /// (warnings included); 2 when any drifted, could not be audited or reached — or there is
    /// no host at all. (1, the report's own failure, is the front end's.)
    pub fn exit_code(&self) -> i32 {
        let t = self.tally();
        if t.hosts > 0 && t.compliant == t.hosts {
            0
        } else {
            2
        }
    }

    pub fn compliant_hosts(&self) -> usize {
        self.tally().compliant
    }

    pub fn tally(&self) -> Tally {
        let mut t = Tally {
            hosts: self.hosts.len(),
            ..Tally::default()
        };
        for d in &self.hosts {
            t.audited += usize::from(d.outcome == Outcome::Audited);
            match d.status() {
                HostStatus::Compliant => {
                    t.compliant += 1;
                    t.warned += usize::from(d.worst() == Verdict::Warn);
                }
                HostStatus::Drifted => t.drifted += 1,
                HostStatus::Error => t.errors += 1,
                HostStatus::Unreachable => t.unreachable += 1,
            }
        }
        t
    }

    /// The fleet in one line: `4 of 5 hosts audited: 1 compliant, 2 drifted, 1 error,
    /// 1 unreachable`; with no host, that nothing was audited.
    pub fn summary(&self) -> String {
        let t = self.tally();
        if t.hosts == 0 {
            return "no hosts: the input names none, so nothing was audited".into();
        }
        let warned = if t.warned > 0 {
            format!(" ({} with warnings)", t.warned)
        } else {
            String::new()
        };
        format!(
            "{} of {} host{} audited: {} compliant{warned}, {} drifted, {} error{}, {} unreachable",
            t.audited,
            t.hosts,
            if t.hosts == 1 { "" } else { "s" },
            t.compliant,
            t.drifted,
            t.errors,
            if t.errors == 1 { "" } else { "s" },
            t.unreachable
        )
    }

    /// The verdict in words: compliant, NOT compliant, or that nothing was audited.
    pub fn verdict(&self) -> &'static str {
        match (self.hosts.is_empty(), self.exit_code()) {
            (true, _) => "NOTHING audited",
            (false, 0) => "compliant",
            _ => "NOT compliant",
        }
    }
}

/// Hosts by status. compliant + drifted + errors + unreachable = hosts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub hosts: usize,
    /// hosts whose audit document came back
    pub audited: usize,
    pub compliant: usize,
    /// compliant hosts with a warning
    pub warned: usize,
    pub drifted: usize,
    pub errors: usize,
    pub unreachable: usize,
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

    /// compliant, drifted, an error document, a failed task and an unreachable host.
    fn five() -> Fleet {
        let doc = |host: &str, nodev: &str| {
            serde_json::json!({"host": host, "time": "2026-12-02T07:00:00Z", "targets": [
                {"source": "profile cis", "path": "/dev/shm", "remedy": "shmguard apply --path /dev/shm -o nodev",
                 "checks": [{"id": "dev-shm.nodev.live", "name": "nodev", "scope": "live", "status": nodev, "detail": "d"}]}]})
        };
        let map = serde_json::json!({
            "ok": doc("x", "pass"),
            "drift": doc("x", "fail"),
            "broken": {"host": "x", "targets": [{"source": "policy p", "path": "/dev/shm", "checks": [],
                       "error": "fstab_path: /etc/fstab is not a regular file"}]},
            "failed": {"failed": true, "msg": "the task <failed> & \"said\" so"},
            "gone": {"unreachable": true, "msg": "Failed to connect to the host via ssh"},
        });
        Fleet::new(parse(map.to_string().as_bytes()).unwrap())
    }

    #[test]
    fn every_host_is_counted_and_listed_in_every_format() {
        let f = five();
        let order: Vec<&str> = f.hosts.iter().map(|d| d.host.as_str()).collect();
        assert_eq!(order, ["gone", "broken", "failed", "drift", "ok"]);
        assert_eq!(
            f.tally(),
            Tally {
                hosts: 5,
                audited: 3,
                compliant: 1,
                warned: 0,
                drifted: 1,
                errors: 2,
                unreachable: 1
            }
        );
        assert_eq!(
            f.summary(),
            "3 of 5 hosts audited: 1 compliant, 1 drifted, 2 errors, 1 unreachable"
        );
        assert_eq!(f.exit_code(), 2);

        let t = crate::render::text::fleet(&f);
        for (status, host) in [
            ("UNREACHABLE", "gone"),
            ("ERROR", "broken"),
            ("ERROR", "failed"),
            ("DRIFTED", "drift"),
            ("COMPLIANT", "ok"),
        ] {
            assert!(
                t.lines()
                    .any(|l| l.trim_start().starts_with(status) && l.contains(host)),
                "{host}: {t}"
            );
        }
        assert!(t.contains("Failed to connect to the host via ssh"), "{t}");

        let v: serde_json::Value = serde_json::from_str(&json::fleet(&f)).unwrap();
        assert_eq!(
            v["summary"],
            serde_json::json!({"hosts": 5, "audited": 3, "compliant_hosts": 1, "warned_hosts": 0,
                "drifted_hosts": 1, "error_hosts": 2, "unreachable_hosts": 1, "checks": 2})
        );
        assert_eq!(v["hosts"][0]["verdict"], "unreachable");
        assert_eq!(
            v["hosts"][0]["message"],
            "Failed to connect to the host via ssh"
        );
        assert_eq!(v["hosts"][2]["message"], "the task <failed> & \"said\" so");
        assert_eq!(v["hosts"][4]["verdict"], "compliant");

        let j = junit::fleet(&f);
        assert_eq!(j.matches("<testsuite ").count(), 5, "{j}");
        assert!(
            j.contains(
                "<testsuites name=\"shmguard fleet\" tests=\"5\" failures=\"1\" errors=\"3\">"
            ),
            "{j}"
        );
        assert!(
            j.contains("<testsuite name=\"gone\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase classname=\"gone.host\" name=\"audit\">\n      <error message=\"unreachable: Failed to connect to the host via ssh\" type=\"unreachable\">"),
            "{j}"
        );
        assert!(
            j.contains("message=\"error: the task &lt;failed&gt; &amp; &quot;said&quot; so\" type=\"error\""),
            "{j}"
        );

        let p = prometheus::fleet(&f);
        for line in [
            "shmguard_host_up{host=\"gone\"} 0\n",
            "shmguard_host_up{host=\"failed\"} 1\n",
            "shmguard_host_error{host=\"failed\"} 1\n",
            "shmguard_host_error{host=\"broken\"} 1\n",
            "shmguard_host_error{host=\"drift\"} 0\n",
            "shmguard_fleet_host_compliant{host=\"ok\"} 1\n",
            "shmguard_fleet_host_compliant{host=\"gone\"} 0\n",
            "shmguard_fleet_hosts{status=\"unreachable\"} 1\n",
            "shmguard_fleet_hosts{status=\"error\"} 2\n",
            "shmguard_fleet_compliant 0\n",
        ] {
            assert!(p.contains(line), "{line}: {p}");
        }

        let h = crate::render::html::fleet(&f);
        for host in ["gone", "broken", "failed", "drift", "ok"] {
            assert!(
                h.contains(&format!("id=\"host-{host}\"><th>{host}</th>")),
                "{host}"
            );
        }
        assert!(
            h.contains("fix the policy (policy p) or the file named: /etc/fstab"),
            "{h}"
        );
        assert!(h.contains("the task &lt;failed&gt;"), "{h}");
    }

    #[test]
    fn a_fleet_where_no_host_was_audited_still_renders_and_says_so() {
        let f = Fleet::new(
            parse(
                br#"{"a": {"failed": true, "msg": "x"}, "b": {"failed": true, "msg": "y"},
                       "c": "ERROR: no such function", "d": {"unreachable": true, "msg": "z"}}"#,
            )
            .unwrap(),
        );
        assert_eq!(
            f.summary(),
            "0 of 4 hosts audited: 0 compliant, 0 drifted, 3 errors, 1 unreachable"
        );
        assert_eq!(f.exit_code(), 2);
        assert!(crate::render::text::fleet(&f).contains("0 of 4 hosts audited"));
        assert!(crate::render::html::fleet(&f).contains("0 of 4 hosts audited"));
        assert!(junit::fleet(&f).contains("tests=\"4\" failures=\"0\" errors=\"4\""));
        let empty = Fleet::new(Vec::new());
        assert_eq!(empty.exit_code(), 2, "nothing audited is not compliant");
        assert!(crate::render::text::fleet(&empty).contains("no hosts"));
        assert!(crate::render::html::fleet(&empty).contains("no hosts"));
    }
}
