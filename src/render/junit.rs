//! JUnit XML, for CI (GitLab, Jenkins, GitHub test reports): one host's audit (a testsuite per
//! target and one for the probe, a testcase per check) and the fleet's (a testsuite per host).
//! Pure: no I/O.

use crate::audit::{AuditReport, Status};
use crate::probe::ProbeStatus;
use crate::render::audit_doc::{Outcome, Verdict};
use crate::render::escape::x;
use crate::render::fleet::Fleet;

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
pub fn audit(r: &AuditReport) -> String {
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

/// JUnit XML: a testsuite per host (worst first), a testcase per check. A host with no audit
/// (its task failed, it was unreachable) is an errored testsuite of one testcase, `audit`,
/// whose `<error>` says why (`type` error or unreachable), so CI counts it and shows it.
pub fn fleet(f: &Fleet) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for d in &f.hosts {
        let stamp = if d.time.is_empty() {
            String::new()
        } else {
            format!(" timestamp=\"{}\"", x(d.time.trim_end_matches('Z')))
        };
        if d.outcome != Outcome::Audited {
            let status = d.status().word();
            tests += 1;
            errors += 1;
            suites += &format!(
                "  <testsuite name=\"{h}\" tests=\"1\" failures=\"0\" errors=\"1\"{stamp}>\n    <testcase classname=\"{h}.host\" name=\"audit\">\n      <error message=\"{m}\" type=\"{status}\">{m}</error>\n    </testcase>\n  </testsuite>\n",
                h = x(&d.host),
                m = x(&format!("{status}: {}", d.message())),
            );
            continue;
        }
        let (fl, er) = (d.count(Verdict::Fail), d.count(Verdict::Error));
        tests += d.rows.len();
        failures += fl;
        errors += er;
        suites += &format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fl}\" errors=\"{er}\"{stamp}>\n",
            x(&d.host),
            d.rows.len(),
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
                Verdict::Warn => warning(&r.found),
                _ => "/>\n".to_string(),
            };
        }
        suites += "  </testsuite>\n";
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"shmguard fleet\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n"
    )
}
