//! The HTML reports: one host's audit (`audit --format html`) and the fleet page
//! (`shmguard report`). One self-contained file each — inline CSS, no scripts, no external
//! resources, printable — with every piece of text escaped: an fstab line or a host name
//! cannot inject markup. Pure: no I/O.

use crate::render::audit_doc::{AuditDoc, HostStatus, Outcome, Row, Verdict};
use crate::render::escape::x;
use crate::render::fleet::Fleet;

const STYLE: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#1b1f23;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.4em 0 .3em}h3{font-size:1em;margin:1em 0 .2em;color:#444}
.verdict{padding:.8em 1em;border-radius:6px;font-size:1.15em;margin:.5em 0 1em}
.v-ok{background:#e6f4ea;border:1px solid #34a853}.v-bad{background:#fce8e6;border:1px solid #d93025}
.v-err{background:#fef7e0;border:1px solid #f29900}
table{border-collapse:collapse;margin:.3em 0 1em;width:100%}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.s{font-weight:bold;text-transform:uppercase;font-size:.85em;white-space:nowrap;text-align:center}
td.s[colspan]{text-transform:none;font-weight:normal;text-align:left;white-space:normal}
.pass{background:#e6f4ea;color:#137333}.warn{background:#fef7e0;color:#8a5300}
.fail{background:#fce8e6;color:#a50e0e}.error{background:#f3e8fd;color:#6b21a8}.info{background:#e8f0fe;color:#174ea6}
.none{background:#fafafa;color:#999}
pre{margin:0;white-space:pre-wrap;word-break:break-all;font:12px/1.3 ui-monospace,monospace;background:#f6f8fa;padding:.3em;border-radius:4px}
.refs{font-size:.85em;color:#555}.meta{color:#555}td.msg{white-space:pre-wrap}
table.grid td,table.grid th{padding:.2em .35em;font-size:.8em}
table.grid th.c{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}
@media print{body{margin:0;font-size:10pt}.verdict{border-width:2px}tr,pre{break-inside:avoid}
 .pass,.warn,.fail,.error,.info{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<p class=\"meta\">Made by shmguard {}.</p>\n</body>\n</html>\n",
        x(title),
        env!("CARGO_PKG_VERSION")
    )
}

fn status(v: Verdict) -> String {
    format!("<td class=\"s {0}\">{0}</td>", v.word())
}

fn counts_text(d: &AuditDoc) -> String {
    format!(
        "{} checks: {} pass, {} warn, {} fail, {} error",
        d.rows.len(),
        d.count(Verdict::Pass) + d.count(Verdict::Info),
        d.count(Verdict::Warn),
        d.count(Verdict::Fail),
        d.count(Verdict::Error)
    )
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Error => "v-err",
        Verdict::Fail => "v-bad",
        _ => "v-ok",
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Error => "ERROR: could not be judged",
        Verdict::Fail => "NOT compliant",
        Verdict::Warn => "compliant, with warnings",
        _ => "compliant",
    }
}

const SCOPES: [(&str, &str); 6] = [
    ("target", "Could not be audited"),
    ("live", "Live: the running mount"),
    ("fstab", "fstab: the entry on disk"),
    ("boot", "Next boot: what the fstab line and init give"),
    ("sysctl", "sysctl.d: the persisted limits"),
    ("probe", "Probe: what real programs can do"),
];

fn rows_table(rows: &[&Row]) -> String {
    let mut out = String::from(
        "<table>\n<tr><th>Status</th><th>Check</th><th>Found</th><th>Wanted</th><th>Remedy</th><th>References</th></tr>\n",
    );
    for r in rows {
        let remedy = if r.remedy.is_empty() {
            String::new()
        } else {
            format!("<pre><code>{}</code></pre>", x(&r.remedy))
        };
        out += &format!(
            "<tr id=\"{}\">{}<td>{}<br><span class=\"refs\">{}</span></td><td>{}</td><td>{}</td><td>{remedy}</td><td class=\"refs\">{}</td></tr>\n",
            x(&r.id),
            status(r.status),
            x(&r.name),
            x(&r.id),
            x(&r.found),
            x(&r.wanted),
            r.references
                .iter()
                .map(|s| x(s))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    out + "</table>\n"
}

/// One host's audit: the verdict, then each target's checks grouped by scope.
pub fn audit(d: &AuditDoc) -> String {
    let worst = d.worst();
    let mut body = format!(
        "<h1>shmguard audit of {}</h1>\n<div class=\"verdict {}\"><strong>{}</strong> — {}</div>\n<p class=\"meta\">Audited {}.</p>\n",
        x(&d.host),
        verdict_class(worst),
        verdict_word(worst),
        counts_text(d),
        x(&d.time)
    );
    let mut targets: Vec<(&str, &str)> = Vec::new();
    for r in &d.rows {
        let t = (r.source.as_str(), r.path.as_str());
        if r.scope != "probe" && !targets.contains(&t) {
            targets.push(t);
        }
    }
    for (source, path) in &targets {
        body += &format!(
            "<h2>{} <span class=\"meta\">({})</span></h2>\n",
            x(path),
            x(source)
        );
        for (scope, title) in SCOPES.iter().filter(|(s, _)| *s != "probe") {
            let rows: Vec<&Row> = d
                .rows
                .iter()
                .filter(|r| r.source == *source && r.path == *path && r.scope == *scope)
                .collect();
            if !rows.is_empty() {
                body += &format!("<h3>{title}</h3>\n{}", rows_table(&rows));
            }
        }
        // checks of scopes this page does not know yet, so that none is left out
        let other: Vec<&Row> = d
            .rows
            .iter()
            .filter(|r| r.source == *source && r.path == *path)
            .filter(|r| !SCOPES.iter().any(|(s, _)| *s == r.scope))
            .collect();
        if !other.is_empty() {
            body += &format!("<h3>Other</h3>\n{}", rows_table(&other));
        }
    }
    let probe: Vec<&Row> = d.rows.iter().filter(|r| r.scope == "probe").collect();
    if !probe.is_empty() {
        body += &format!("<h2>{}</h2>\n{}", SCOPES[5].1, rows_table(&probe));
    }
    page(&format!("shmguard audit of {}", d.host), &body)
}

/// The fleet: the verdict, the hosts × checks grid (worst hosts first, counts per check),
/// then each failing check with its remedy and the hosts it applies to.
pub fn fleet(f: &Fleet) -> String {
    let n = f.hosts.len();
    let worst = f
        .hosts
        .iter()
        .map(AuditDoc::worst)
        .max()
        .unwrap_or(Verdict::Error);
    let mut body = format!(
        "<h1>shmguard fleet report</h1>\n<div class=\"verdict {}\"><strong>{}</strong> — {}; {} checks</div>\n",
        if n == 0 {
            "v-err"
        } else {
            verdict_class(worst)
        },
        f.verdict(),
        x(&f.summary()),
        f.checks.len()
    );
    // Every host, with its status and, for one that was not audited or judged, why.
    body += "<h2>Hosts</h2>\n<table class=\"hosts\">\n<tr><th>Host</th><th>Status</th><th>Audited</th><th>Checks</th><th>Message</th></tr>\n";
    for d in &f.hosts {
        let status = d.status().word();
        let checks = if d.outcome == Outcome::Audited {
            counts_text(d)
        } else {
            String::new()
        };
        body += &format!(
            "<tr class=\"host-{status}\" id=\"host-{h}\"><th>{h}</th><td class=\"s {class}\">{status}</td><td>{}</td><td>{}</td><td class=\"msg\">{}</td></tr>\n",
            x(&d.time),
            x(&checks),
            x(&d.message()),
            h = x(&d.host),
            class = match d.status() {
                HostStatus::Compliant if d.worst() == Verdict::Warn => "warn",
                HostStatus::Compliant => "pass",
                HostStatus::Drifted => "fail",
                HostStatus::Error | HostStatus::Unreachable => "error",
            },
        );
    }
    body += "</table>\n";
    if n == 0 {
        return page("shmguard fleet report", &body);
    }
    body += "<h2>Hosts × checks</h2>\n<table class=\"grid\">\n<tr><th>Host</th><th>Fail</th>";
    for c in &f.checks {
        body += &format!("<th class=\"c\" title=\"{}\">{}</th>", x(&c.name), x(&c.id));
    }
    body += "</tr>\n";
    for (i, d) in f.hosts.iter().enumerate() {
        body += &format!(
            "<tr class=\"host\"><th title=\"audited {}\">{}</th><td>{}</td>",
            x(&d.time),
            x(&d.host),
            d.count(Verdict::Fail) + d.count(Verdict::Error)
        );
        if d.outcome != Outcome::Audited {
            body += &format!(
                "<td class=\"s error\" colspan=\"{}\">{}: {}</td></tr>\n",
                f.checks.len().max(1),
                d.status().word(),
                x(&d.message())
            );
            continue;
        }
        for c in &f.checks {
            body += &match c.cells[i] {
                Some(v) if c.found[i].is_empty() => format!(
                    "<td class=\"s {0}\" title=\"{1}\">{0}</td>",
                    v.word(),
                    x(&c.id)
                ),
                // what was found, on hover
                Some(v) => format!(
                    "<td class=\"s {0}\" title=\"{1}: {2}\">{0}</td>",
                    v.word(),
                    x(&c.id),
                    x(&c.found[i])
                ),
                None => "<td class=\"s none\">–</td>".to_string(),
            };
        }
        body += "</tr>\n";
    }
    for v in [Verdict::Fail, Verdict::Warn, Verdict::Error] {
        body += &format!("<tr class=\"count\"><th>{}</th><td></td>", v.word());
        for c in &f.checks {
            let k = c.count(v);
            let class = if k > 0 { v.word() } else { "none" };
            body += &format!("<td class=\"s {class}\">{k}</td>");
        }
        body += "</tr>\n";
    }
    body += "</table>\n";
    let failing: Vec<_> = f.checks.iter().filter(|c| !c.remedies.is_empty()).collect();
    if !failing.is_empty() {
        body += "<h2>Failing checks: what to run, and where</h2>\n";
    }
    for c in failing {
        let hosts = c.count(Verdict::Fail) + c.count(Verdict::Error);
        body += &format!(
            "<h3 id=\"fix-{}\">{} <span class=\"meta\">— {hosts} of {n} hosts</span></h3>\n<p class=\"refs\">{}</p>\n<table>\n<tr><th>Remedy</th><th>Hosts</th></tr>\n",
            x(&c.id),
            x(&c.name),
            x(&c.references.join(", "))
        );
        for (remedy, hs) in &c.remedies {
            body += &format!(
                "<tr><td><pre><code>{}</code></pre></td><td>{}</td></tr>\n",
                x(remedy),
                hs.iter().map(|h| x(h)).collect::<Vec<_>>().join(", ")
            );
        }
        body += "</table>\n";
    }
    page("shmguard fleet report", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::audit_doc::from_audit_json;

    #[test]
    fn hostile_text_is_escaped() {
        let v = serde_json::json!({"host": "<script>alert(1)</script>", "time": "t", "targets": [
            {"source": "policy <b>x</b>", "path": "/dev/shm", "remedy": "shmguard apply '</pre>'",
             "checks": [{"id": "dev-shm.fstab.fstab", "name": "n", "scope": "fstab", "status": "fail",
                         "detail": "line 3: tmpfs /dev/shm tmpfs \"><img src=x onerror=alert(1)> 0 0",
                         "references": ["<i>"]}]}]});
        let d = from_audit_json(&v, None).unwrap();
        for page in [audit(&d), fleet(&Fleet::new(vec![d]))] {
            assert!(
                !page.contains("<script>") && !page.contains("<img") && !page.contains("<b>x"),
                "{page}"
            );
            assert!(
                !page.contains("<i>") && !page.contains("'</pre>'"),
                "{page}"
            );
            assert!(
                page.contains("&lt;img src=x onerror=alert(1)&gt;")
                    || page.contains("&lt;script&gt;")
            );
        }
    }
}
