//! The fleet as one JSON document: the summary (hosts by status), hosts worst first with
//! their status, message and per-check status, and each check with its counts, remedies and
//! failing hosts. (One host's audit JSON is the AuditReport itself, serialized.) Pure: no I/O.

use serde_json::json;

use crate::render::audit_doc::{Outcome, Verdict};
use crate::render::fleet::{Fleet, VERDICTS};

fn counts(f: impl Fn(Verdict) -> usize) -> serde_json::Value {
    VERDICTS
        .iter()
        .map(|v| (v.word().to_string(), json!(f(*v))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The fleet as one JSON document: hosts worst first with their per-check status, and each
/// check with its counts, remedies and failing hosts.
pub fn fleet(f: &Fleet) -> String {
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
            // what was found, for each check that does not pass
            let found: serde_json::Map<_, _> = f
                .checks
                .iter()
                .filter(|c| !c.found[i].is_empty())
                .map(|c| (c.id.clone(), json!(c.found[i])))
                .collect();
            // status: the worst check verdict (error for a host with no audit); verdict: the
            // host's place in the summary; message: why it has no verdict (error, unreachable)
            json!({"host": d.host, "time": d.time, "status": d.worst().word(),
                   "verdict": d.status().word(), "message": d.message(),
                   "audited": d.outcome == Outcome::Audited, "via": d.via,
                   "counts": counts(|v| d.count(v)), "checks": checks, "found": found})
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
    let t = f.tally();
    let v = json!({
        "compliant": f.exit_code() == 0,
        "verdict": f.summary(),
        "summary": {"hosts": t.hosts, "audited": t.audited, "compliant_hosts": t.compliant,
                    "warned_hosts": t.warned, "drifted_hosts": t.drifted, "error_hosts": t.errors,
                    "unreachable_hosts": t.unreachable, "checks": f.checks.len()},
        "hosts": hosts,
        "checks": checks,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
