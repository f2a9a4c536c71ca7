//! Audit and probe reports for people (a table), for CI (JUnit XML: one testcase per
//! check, usable as a GitLab or Jenkins test report) and for monitoring (Prometheus text
//! format, for node_exporter's textfile collector). Each shows the three verdicts: pass,
//! warn (works, too little headroom) and fail. Pure: no I/O.

use crate::audit::{AuditReport, Status};
use crate::probe::{ProbeReport, ProbeStatus};

/// XML (and HTML) text and attribute escaping.
pub(crate) fn x(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn probe_text(p: &ProbeReport) -> String {
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

pub fn probe_report_text(p: &ProbeReport) -> String {
    probe_text(p)
}

/// A readable table: one line per check, failures with what would fix them.
pub fn text(r: &AuditReport) -> String {
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
        out += &probe_text(p);
    }
    out
}

/// The end of a JUnit testcase that passed with a warning: a PASSED case whose system-out
/// starts with `WARNING:`. Not `<skipped>`: GitLab, Jenkins and GitHub reporters show a skipped
/// case as "not run", which a warned check is not (it ran, and the programs work); and a
/// failure would fail the pipeline for a host where every program works. Passed cases show
/// their system-out in GitLab's test report and Jenkins' case page. The fleet report's
/// JUnit uses it too, so one CI system sees one spelling.
pub(crate) fn warning(text: &str) -> String {
    format!(
        ">\n      <system-out>WARNING: {}</system-out>\n    </testcase>\n",
        x(text)
    )
}

/// JUnit XML: a testsuite per target (and one for the probe), a testcase per check.
pub fn junit(r: &AuditReport) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for t in &r.targets {
        let f = t.checks.iter().filter(|c| c.status == Status::Fail).count();
        let e = usize::from(t.error.is_some());
        tests += t.checks.len() + e;
        failures += f;
        errors += e;
        suites += &format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\">\n",
            x(&format!("{}: {}", t.source, t.path)),
            t.checks.len() + e
        );
        if let Some(err) = &t.error {
            suites += &format!(
                "    <testcase classname=\"shmguard.audit\" name=\"{}\">\n      <error message=\"{}\"/>\n    </testcase>\n",
                x(&t.path),
                x(err)
            );
        }
        for c in &t.checks {
            let name = if c.references.is_empty() {
                c.name.clone()
            } else {
                format!("{} [{}]", c.name, c.references.join(", "))
            };
            suites += &format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                x(&format!("shmguard.{}", t.source.replace(' ', "."))),
                x(&name)
            );
            match c.status {
                Status::Fail => {
                    suites += &format!(
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        x(&c.detail),
                        x(&c.detail)
                    );
                }
                Status::Warn => suites += &warning(&c.detail),
                Status::Pass => suites += "/>\n",
            }
        }
        suites += "  </testsuite>\n";
    }
    if let Some(p) = &r.probe {
        let f = p
            .checks
            .iter()
            .filter(|c| c.status == ProbeStatus::Fail)
            .count();
        let e = usize::from(p.error.is_some());
        tests += p.checks.len() + e;
        failures += f;
        errors += e;
        suites += &format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\">\n",
            x(&format!(
                "probe as {}",
                if p.users.is_empty() {
                    p.user.clone()
                } else {
                    p.users.join(" and ")
                }
            )),
            p.checks.len() + e
        );
        if let Some(err) = &p.error {
            suites += &format!(
                "    <testcase classname=\"shmguard.probe\" name=\"probe\">\n      <error message=\"{}\"/>\n    </testcase>\n",
                x(err)
            );
        }
        for c in &p.checks {
            suites += &format!(
                "    <testcase classname=\"shmguard.probe\" name=\"{} (as {})\"",
                x(&c.name),
                x(&c.user)
            );
            let msg = format!("{} — fix: {}", c.detail, c.remedy.as_deref().unwrap_or(""));
            if c.status == ProbeStatus::Fail {
                suites += &format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    x(&msg),
                    x(&msg)
                );
            } else if c.status == ProbeStatus::Warn {
                suites += &warning(&msg);
            } else {
                suites += &format!(
                    ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    x(&c.detail)
                );
            }
        }
        suites += "  </testsuite>\n";
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"shmguard audit\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n"
    )
}

/// A Prometheus label value: backslash, double quote and newline escaped.
pub(crate) fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus text exposition format: one gauge per check (1 pass, 0 fail) labelled with its
/// id, path, scope, source and references; the probe's checks; and each path's size, used
/// bytes and free inodes. A series that would repeat (the same check from two profiles with
/// the same source) is written once, as the format requires.
pub fn prometheus(r: &AuditReport) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(x("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}");
    }

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
        };
        let r = AuditReport::new(vec![target.clone(), target], None);
        let text = prometheus(&r);
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

    #[test]
    fn prometheus_label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
