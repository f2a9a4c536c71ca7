//! The fleet as one JSON document: hosts worst first with their per-check status, and each
//! check with its counts, remedies and failing hosts. (One host's audit JSON is the
//! AuditReport itself, serialized.) Pure: no I/O.

use serde_json::json;

use crate::render::audit_doc::Verdict;
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
