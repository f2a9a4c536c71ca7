//! XCCDF 1.2 results (`audit --format xccdf`): a Benchmark with one Rule per check — its CIS
//! and STIG references as `reference`s, the SCAP Security Guide rule it is the same as as an
//! `ident` (so results line up with OpenSCAP's), the remedy as `fixtext` and `fix` — and one
//! TestResult with the host's name and the audit's time. `oscap xccdf validate` accepts it and
//! `oscap xccdf generate report` renders it. Pure: no I/O.

use std::collections::BTreeSet;

use crate::render::audit_doc::{AuditDoc, Row, Verdict};
use crate::render::escape::x;

/// The reverse-DNS part of every id (`xccdf_<namespace>_rule_<name>`, XCCDF 1.2 §6.2.4; no `_`).
const NS: &str = "io.github.shmguard";
const CHECK_SYSTEM: &str = "urn:shmguard:audit";
const SSG: &str = "xccdf_org.ssgproject.content_rule_";
/// The system URI of an SSG rule id used as an ident (what SSG's own content uses for them).
const SSG_SYSTEM: &str = "https://github.com/ComplianceAsCode/content";

/// The SCAP Security Guide rule a check is, when it is one: SSG's /dev/shm rules check the
/// running mount and the fstab entry, so the live, fstab and boot checks all carry it.
fn ssg_rule(r: &Row) -> Option<String> {
    if r.path != "/dev/shm" || !matches!(r.scope.as_str(), "live" | "fstab" | "boot") {
        return None;
    }
    match r.key.as_str() {
        "nodev" | "nosuid" | "noexec" => Some(format!("{SSG}mount_option_dev_shm_{}", r.key)),
        "mounted" | "fstab" => Some(format!("{SSG}partition_for_dev_shm")),
        _ => None,
    }
}

/// An id's name part: NCName characters only.
fn ncname(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The rule ids, unique: a check two sources both make gets its source in the id.
fn rule_ids(rows: &[Row]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    rows.iter()
        .map(|r| {
            let mut id = format!("xccdf_{NS}_rule_{}", ncname(&r.id));
            if !seen.insert(id.clone()) {
                id = format!("{id}.{}", ncname(&r.source));
                let base = id.clone();
                let mut n = 2;
                while !seen.insert(id.clone()) {
                    id = format!("{base}.{n}");
                    n += 1;
                }
            }
            id
        })
        .collect()
}

/// XCCDF's result for a verdict. `warn` is `pass` with a warning message: the programs work
/// (shmguard's exit code is 0), and XCCDF 1.2 (§6.6.4.2, Table 26) defines `informational`
/// as "not a compliance category" — it would drop a judged, compliant check from the score
/// and from a pass/fail count; the message carries the headroom warning instead.
fn result(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Pass => ("pass", "info"),
        Verdict::Warn => ("pass", "warning"),
        Verdict::Info => ("informational", "info"),
        Verdict::Fail => ("fail", "error"),
        Verdict::Error => ("error", "error"),
    }
}

/// The checking system: shmguard's own judgement, named by the check id.
fn check(r: &Row) -> String {
    format!(
        "    <check system=\"{CHECK_SYSTEM}\"><check-content-ref href=\"shmguard\" name=\"{}\"/></check>\n",
        x(&r.id)
    )
}

fn rule(r: &Row, id: &str) -> String {
    let mut out = format!(
        "  <Rule id=\"{id}\" selected=\"true\" severity=\"{}\">\n    <title>{}</title>\n    <description>{} wanted: {} (scope {}, from {}).</description>\n",
        if r.references.is_empty() {
            "low"
        } else {
            "medium"
        },
        x(&r.name),
        x(&r.path),
        x(&r.wanted),
        x(&r.scope),
        x(&r.source)
    );
    for reference in &r.references {
        out += &format!("    <reference>{}</reference>\n", x(reference));
    }
    if let Some(ssg) = ssg_rule(r) {
        out += &format!("    <ident system=\"{SSG_SYSTEM}\">{ssg}</ident>\n");
    }
    if !r.remedy.is_empty() {
        out += &format!(
            "    <fixtext>{}</fixtext>\n    <fix system=\"urn:xccdf:fix:script:sh\">{}</fix>\n",
            x(&format!("Run as root: {}", r.remedy)),
            x(&r.remedy)
        );
    }
    out + &check(r) + "  </Rule>\n"
}

fn rule_result(r: &Row, id: &str, time: &str) -> String {
    let (result, severity) = result(r.status);
    let mut out = format!(
        "    <rule-result idref=\"{id}\" time=\"{time}\">\n      <result>{result}</result>\n"
    );
    if let Some(ssg) = ssg_rule(r) {
        out += &format!("      <ident system=\"{SSG_SYSTEM}\">{ssg}</ident>\n");
    }
    let message = match r.status {
        Verdict::Pass => String::new(),
        Verdict::Warn => format!("warning: {}", r.found),
        _ => r.found.clone(),
    };
    if !message.is_empty() {
        out += &format!(
            "      <message severity=\"{severity}\">{}</message>\n",
            x(&message)
        );
    }
    if !r.remedy.is_empty() && !r.status.ok() {
        out += &format!(
            "      <fix system=\"urn:xccdf:fix:script:sh\">{}</fix>\n",
            x(&r.remedy)
        );
    }
    out + "  " + &check(r) + "    </rule-result>\n"
}

/// The XCCDF 1.2 document of one host's audit.
pub fn xccdf(d: &AuditDoc) -> String {
    let ids = rule_ids(&d.rows);
    // an audit without a time (hand-made input) still needs the required end-time
    let time = if d.time.is_empty() {
        "1970-01-01T00:00:00Z"
    } else {
        &d.time
    };
    let date = time.get(..10).unwrap_or("1970-01-01");
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Benchmark xmlns=\"http://checklists.nist.gov/xccdf/1.2\" id=\"xccdf_{NS}_benchmark_audit\" resolved=\"1\" xml:lang=\"en\" style=\"SCAP_1.2\">\n  <status date=\"{date}\">accepted</status>\n  <title>shmguard audit of /dev/shm and /dev/mqueue</title>\n  <description>The checks shmguard {} made: each property of each target live, in fstab, at the next boot and in sysctl.d, and what real programs can do.</description>\n  <platform idref=\"cpe:/o:linux:linux_kernel\"/>\n  <version>{}</version>\n  <metadata>\n    <dc:creator xmlns:dc=\"http://purl.org/dc/elements/1.1/\">shmguard</dc:creator>\n  </metadata>\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION")
    );
    for (r, id) in d.rows.iter().zip(&ids) {
        out += &rule(r, id);
    }
    out += &format!(
        "  <TestResult id=\"xccdf_{NS}_testresult_{}\" start-time=\"{time}\" end-time=\"{time}\" version=\"{}\" test-system=\"cpe:/a:shmguard:shmguard:{}\">\n    <benchmark href=\"#xccdf_{NS}_benchmark_audit\" id=\"xccdf_{NS}_benchmark_audit\"/>\n    <title>shmguard audit of {}</title>\n    <target>{}</target>\n    <target-facts>\n      <fact name=\"urn:xccdf:fact:asset:identifier:host_name\" type=\"string\">{}</fact>\n    </target-facts>\n",
        ncname(&d.host),
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION"),
        x(&d.host),
        x(&d.host),
        x(&d.host)
    );
    for (r, id) in d.rows.iter().zip(&ids) {
        out += &rule_result(r, id, time);
    }
    // The flat model: the maximum is the judged checks, the score those that passed.
    let judged = d.rows.iter().filter(|r| r.status != Verdict::Info).count();
    let passed = d
        .rows
        .iter()
        .filter(|r| matches!(r.status, Verdict::Pass | Verdict::Warn))
        .count();
    out += &format!(
        "    <score system=\"urn:xccdf:scoring:flat\" maximum=\"{judged}\">{passed}</score>\n  </TestResult>\n</Benchmark>\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::audit_doc::from_audit_json;

    fn doc() -> AuditDoc {
        let v = serde_json::json!({"host": "web<1>", "time": "2026-12-02T07:00:00Z", "targets": [
            {"source": "profile cis", "path": "/dev/shm", "remedy": "shmguard apply --path /dev/shm -o nodev",
             "checks": [
                {"id": "dev-shm.nodev.live", "name": "/dev/shm nodev (live)", "scope": "live",
                 "status": "fail", "detail": "would remount <nodev>", "references": ["CIS RHEL9 v2.0.0 1.1.2.2.2"]},
                {"id": "dev-shm.nosuid.live", "name": "/dev/shm nosuid (live)", "scope": "live",
                 "status": "warn", "detail": "low", "references": []}]},
            {"source": "profile default", "path": "/dev/shm", "checks": [
                {"id": "dev-shm.nodev.live", "name": "/dev/shm nodev (live)", "scope": "live",
                 "status": "pass", "detail": "", "references": []}]}]});
        from_audit_json(&v, None).unwrap()
    }

    #[test]
    fn a_failing_cis_check_carries_its_ssg_ident_and_fix() {
        let x = xccdf(&doc());
        assert!(x.contains("<ident system=\"https://github.com/ComplianceAsCode/content\">xccdf_org.ssgproject.content_rule_mount_option_dev_shm_nodev</ident>"), "{x}");
        assert!(x.contains("<result>fail</result>"), "{x}");
        assert!(x.contains("would remount &lt;nodev&gt;"), "{x}");
        assert!(x.contains("<target>web&lt;1&gt;</target>"), "{x}");
        assert_eq!(x.matches("<fix system").count(), 2, "{x}");
    }

    #[test]
    fn a_check_from_two_sources_gets_two_rule_ids() {
        let x = xccdf(&doc());
        assert!(x.contains("id=\"xccdf_io.github.shmguard_rule_dev-shm.nodev.live\""));
        assert!(
            x.contains("id=\"xccdf_io.github.shmguard_rule_dev-shm.nodev.live.profile-default\"")
        );
    }

    #[test]
    fn warn_is_a_pass_with_a_warning() {
        let x = xccdf(&doc());
        assert!(x.contains("<result>pass</result>\n      <ident system=\"https://github.com/ComplianceAsCode/content\">xccdf_org.ssgproject.content_rule_mount_option_dev_shm_nosuid</ident>\n      <message severity=\"warning\">warning: low</message>"), "{x}");
    }
}
