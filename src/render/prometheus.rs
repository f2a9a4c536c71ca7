//! Prometheus text exposition format, for monitoring (node_exporter's textfile collector):
//! one host's audit (a gauge per check, the probe's checks, each path's size, use and free
//! inodes) and the fleet's (a series per host and check, and per host). Pure: no I/O.

use crate::audit::{AuditReport, Status};
use crate::probe::ProbeStatus;
use crate::render::audit_doc::{HostStatus, Verdict};
use crate::render::escape::label;
use crate::render::fleet::{Fleet, VERDICTS};

/// Prometheus text exposition format: one gauge per check (1 pass, 0 fail) labelled with its
/// id, path, scope, source and references; the probe's checks; and each path's size, used
/// bytes and free inodes. A series that would repeat (the same check from two profiles with
/// the same source) is written once, as the format requires.
pub fn audit(r: &AuditReport) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = String::new();
    let mut gauge = |out: &mut String, name: &str, help: &str, series: Vec<(String, String)>| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (labels, value) in series {
            if seen.insert(format!("{name}{{{labels}}}")) {
                out.push_str(&format!("{name}{{{labels}}} {value}\n"));
            }
        }
    };
    let checks = || {
        r.targets
            .iter()
            .flat_map(|t| t.checks.iter().map(move |c| (t, c)))
            .map(|(t, c)| {
                let labels = format!(
                    "id=\"{}\",path=\"{}\",scope=\"{}\",source=\"{}\",references=\"{}\"",
                    label(&c.id),
                    label(&t.path),
                    label(&c.scope),
                    label(&t.source),
                    label(&c.references.join(", "))
                );
                (labels, c.status)
            })
    };
    gauge(
        &mut out,
        "shmguard_audit_check",
        "Whether an audit check passes (1, also with a warning) or fails (0).",
        checks()
            .map(|(l, s)| (l, u8::from(s != Status::Fail).to_string()))
            .collect(),
    );
    gauge(
        &mut out,
        "shmguard_audit_check_warning",
        "Whether an audit check passes with too little headroom (1) or not (0).",
        checks()
            .map(|(l, s)| (l, u8::from(s == Status::Warn).to_string()))
            .collect(),
    );
    if let Some(p) = &r.probe {
        let series = |value: &dyn Fn(ProbeStatus) -> bool| {
            p.checks
                .iter()
                .filter(|c| c.status != ProbeStatus::Info)
                .map(|c| {
                    (
                        format!("check=\"{}\",user=\"{}\"", label(&c.name), label(&c.user)),
                        u8::from(value(c.status)).to_string(),
                    )
                })
                .collect()
        };
        gauge(
            &mut out,
            "shmguard_probe_check",
            "Whether what real programs do works (1, also with a warning) or fails (0), by check and user.",
            series(&|s| s != ProbeStatus::Fail),
        );
        gauge(
            &mut out,
            "shmguard_probe_check_warning",
            "Whether a probe check works with too little headroom (1) or not (0), by check and user.",
            series(&|s| s == ProbeStatus::Warn),
        );
    }
    let targets = || {
        r.targets
            .iter()
            .filter_map(|t| Some((t, t.usage.as_ref()?)))
    };
    let path = |p: &str| format!("path=\"{}\"", label(p));
    gauge(
        &mut out,
        "shmguard_size_bytes",
        "The tmpfs size limit of the path (absent when unlimited).",
        targets()
            .filter_map(|(t, u)| Some((path(&t.path), u.size_bytes?.to_string())))
            .collect(),
    );
    gauge(
        &mut out,
        "shmguard_used_bytes",
        "Bytes in use on the path's filesystem.",
        targets()
            .map(|(t, u)| (path(&t.path), u.used_bytes.to_string()))
            .collect(),
    );
    gauge(
        &mut out,
        "shmguard_free_inodes",
        "Free inodes on the path's filesystem (absent when not limited).",
        targets()
            .filter_map(|(t, u)| Some((path(&t.path), u.free_inodes?.to_string())))
            .collect(),
    );
    let s = &r.summary;
    out.push_str(&format!(
        "# HELP shmguard_audit_compliant Whether every check passed (1) or not (0).\n# TYPE shmguard_audit_compliant gauge\nshmguard_audit_compliant {}\n# HELP shmguard_audit_errors Targets or probes that could not be judged.\n# TYPE shmguard_audit_errors gauge\nshmguard_audit_errors {}\n# HELP shmguard_audit_warnings Checks that pass with too little headroom.\n# TYPE shmguard_audit_warnings gauge\nshmguard_audit_warnings {}\n",
        u8::from(r.compliant),
        s.errors,
        s.warned
    ));
    out
}

/// Prometheus text format: one series per host and check (1 compliant: pass or warn; 0 not),
/// one per host (compliant, up, error), the hosts by status, and the fleet's counts per check
/// and verdict.
pub fn fleet(f: &Fleet) -> String {
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
    out += "# HELP shmguard_host_up Whether the host answered (1: an audit, or its task's or minion's failure, came back) or could not be reached (0: unreachable).\n# TYPE shmguard_host_up gauge\n";
    for d in &f.hosts {
        out += &format!(
            "shmguard_host_up{{host=\"{}\"}} {}\n",
            label(&d.host),
            u8::from(d.status() != HostStatus::Unreachable)
        );
    }
    out += "# HELP shmguard_host_error Whether the host could not be audited or judged (1: its task or minion failed, or a target or the probe could not be judged) or not (0).\n# TYPE shmguard_host_error gauge\n";
    for d in &f.hosts {
        out += &format!(
            "shmguard_host_error{{host=\"{}\"}} {}\n",
            label(&d.host),
            u8::from(d.status() == HostStatus::Error)
        );
    }
    let t = f.tally();
    out += "# HELP shmguard_fleet_hosts Hosts by status: compliant (warnings included), drifted, error, unreachable.\n# TYPE shmguard_fleet_hosts gauge\n";
    for (status, n) in [
        ("compliant", t.compliant),
        ("drifted", t.drifted),
        ("error", t.errors),
        ("unreachable", t.unreachable),
    ] {
        out += &format!("shmguard_fleet_hosts{{status=\"{status}\"}} {n}\n");
    }
    out += &format!(
        "# HELP shmguard_fleet_compliant Whether there are hosts and every one is compliant (1) or not (0).\n# TYPE shmguard_fleet_compliant gauge\nshmguard_fleet_compliant {}\n",
        u8::from(f.exit_code() == 0)
    );
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

    #[test]
    fn prometheus_has_one_series_per_label_set() {
        use crate::audit::{CheckResult, TargetResult};
        let target = TargetResult {
            source: "profile cis".into(),
            path: "/dev/shm".into(),
            fstype: "tmpfs".into(),
            checks: vec![CheckResult {
                id: "dev-shm.nodev.live".into(),
                name: "/dev/shm nodev (live)".into(),
                scope: "live".into(),
                status: Status::Fail,
                detail: "would remount".into(),
                references: vec!["CIS 1".into(), "STIG \"2\"".into()],
            }],
            error: None,
            usage: None,
            wanted: Default::default(),
            remedy: None,
            remedy_params: None,
        };
        let r = AuditReport::new(vec![target.clone(), target], None);
        let text = audit(&r);
        assert_eq!(
            text.matches("shmguard_audit_check{").count(),
            1,
            "the same profile twice is one series: {text}"
        );
        assert!(
            text.contains("references=\"CIS 1, STIG \\\"2\\\"\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("shmguard_audit_compliant 0\n"), "{text}");
    }
}
