//! AuditDoc: an audit report as the report renderers read it — the JSON document of
//! `schema/audit.schema.json` (statuses as strings: pass, warn, fail, error), flattened into
//! rows per target and scope. `audit --format html|xccdf` renders the in-memory report through
//! it, `shmguard report` the files it reads, so one host and a fleet look the same.
//!
//! A fleet's input is a map of host -> value, and every host in it is in the report: besides an
//! audit document (or Salt's `shmguard.audit` return), a value may say why there is none — an
//! Ansible task that failed (`{"failed": true, "msg": ...}`), a host Ansible could not reach
//! (`{"unreachable": true, "msg": ...}`), a minion that did not return (Salt's string
//! "Minion did not return. [No response]") or Salt's error string or dict. Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audit::Via;
use crate::render::remedy;

/// A check's verdict. `warn` works now with little headroom (compliant, exit 0); `error` could
/// not be judged; `info` is a probe fact, not a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Info,
    Warn,
    Fail,
    Error,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Info => "info",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }

    /// Compliant: pass, warn and info.
    pub fn ok(self) -> bool {
        self <= Verdict::Warn
    }
}

/// One row: a check of a target, a probe check, or a target that could not be audited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `dev-shm.nodev.live`, `probe.semaphore.nobody`, `dev-shm.error`
    pub id: String,
    pub name: String,
    /// live, fstab, boot, sysctl, probe
    pub scope: String,
    /// the check key: nodev, mode, mounted, free_inodes, ...
    pub key: String,
    pub path: String,
    /// `profile cis`, `probe`
    pub source: String,
    pub status: Verdict,
    /// what was found (the check's detail)
    pub found: String,
    pub wanted: String,
    /// a command or action that fixes it (failing rows)
    pub remedy: String,
    pub references: Vec<String>,
}

/// Whether a host's audit came back, and if not, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "message", rename_all = "lowercase")]
pub enum Outcome {
    /// an audit document came back (it may still hold errors)
    Audited,
    /// the host was reached but gave no audit: the task or minion failed; the message says why
    Error(String),
    /// the host could not be reached (Ansible's unreachable, Salt's "did not return")
    Unreachable(String),
}

/// A host's place in the fleet summary. Ordered best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostStatus {
    /// every check passes (warnings included)
    Compliant,
    /// audited, and a check fails
    Drifted,
    /// not audited (the task or minion failed), or audited with a check or target that could
    /// not be judged
    Error,
    /// not reached
    Unreachable,
}

impl HostStatus {
    pub fn word(self) -> &'static str {
        match self {
            HostStatus::Compliant => "compliant",
            HostStatus::Drifted => "drifted",
            HostStatus::Error => "error",
            HostStatus::Unreachable => "unreachable",
        }
    }
}

/// One host's audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditDoc {
    pub host: String,
    pub time: String,
    pub rows: Vec<Row>,
    /// what ran the audit: the remedies are written in its words
    pub via: Via,
    pub outcome: Outcome,
}

impl AuditDoc {
    /// A host with no audit, and why.
    pub fn unaudited(host: &str, outcome: Outcome) -> AuditDoc {
        AuditDoc {
            host: host.to_string(),
            time: String::new(),
            rows: Vec::new(),
            via: Via::Cli,
            outcome,
        }
    }

    /// The worst verdict (pass for a report with nothing in it; error for a host that gave
    /// no audit).
    pub fn worst(&self) -> Verdict {
        if self.outcome != Outcome::Audited {
            return Verdict::Error;
        }
        self.rows
            .iter()
            .map(|r| r.status)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    pub fn status(&self) -> HostStatus {
        match (&self.outcome, self.worst()) {
            (Outcome::Unreachable(_), _) => HostStatus::Unreachable,
            (Outcome::Error(_), _) | (_, Verdict::Error) => HostStatus::Error,
            (_, Verdict::Fail) => HostStatus::Drifted,
            _ => HostStatus::Compliant,
        }
    }

    /// Why the host has no verdict: the task's or Salt's message, or the first error of its
    /// audit; empty for a judged host.
    pub fn message(&self) -> String {
        match &self.outcome {
            Outcome::Error(m) | Outcome::Unreachable(m) => m.clone(),
            Outcome::Audited => self
                .rows
                .iter()
                .find(|r| r.status == Verdict::Error)
                .map(|r| format!("{}: {}", r.name, r.found))
                .unwrap_or_default(),
        }
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.status == v).count()
    }

    /// 0 compliant, 2 drift, 1 error — as `shmguard audit`.
    pub fn exit_code(&self) -> i32 {
        match self.worst() {
            Verdict::Error => 1,
            Verdict::Fail => 2,
            _ => 0,
        }
    }
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn verdict(v: &Value) -> Result<Verdict, String> {
    serde_json::from_value(v.get("status").cloned().unwrap_or(Value::Null)).map_err(|_| {
        format!(
            "status {} of check {:?} is not one of pass, warn, fail, error, info",
            v.get("status").unwrap_or(&Value::Null),
            s(v, "id")
        )
    })
}

/// `dev-shm.nodev.live` -> `nodev`.
fn key_of(id: &str) -> String {
    let mut parts: Vec<&str> = id.split('.').collect();
    parts.pop();
    parts.last().copied().unwrap_or(id).to_string()
}

/// What to do about a target that could not be audited: fix the file its error names (the
/// first absolute path in it), or the policy.
fn error_remedy(source: &str, error: &str) -> String {
    let file = error
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .map(|w| w.trim_end_matches([':', ',', ';', '.', ')']))
        .find(|w| w.starts_with('/') && w.len() > 1);
    match file {
        Some(f) => format!("fix the policy ({source}) or the file named: {f}"),
        None => format!("fix the policy ({source})"),
    }
}

fn target_rows(t: &Value, via: Via, out: &mut Vec<Row>) -> Result<(), String> {
    let path = s(t, "path");
    let source = s(t, "source");
    let wanted = t.get("wanted").and_then(Value::as_object);
    let remedy = remedy::text(
        via,
        t.get("remedy_params").and_then(Value::as_object),
        &s(t, "remedy"),
    );
    if let Some(e) = t.get("error").and_then(Value::as_str) {
        let id = format!("{}.error", path.trim_start_matches('/').replace('/', "-"));
        out.push(Row {
            name: format!("{path} could not be audited"),
            scope: "target".into(),
            key: "error".into(),
            path: path.clone(),
            source: source.clone(),
            status: Verdict::Error,
            found: e.to_string(),
            wanted: "a target that can be judged".into(),
            remedy: error_remedy(&source, e),
            references: Vec::new(),
            id,
        });
    }
    let checks = t.get("checks").and_then(Value::as_array);
    for c in checks.into_iter().flatten() {
        let id = s(c, "id");
        let key = key_of(&id);
        let status = verdict(c)?;
        let wanted = wanted
            .and_then(|w| w.get(&key))
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| key.replace('_', " "));
        let found = s(c, "detail");
        out.push(Row {
            name: s(c, "name"),
            scope: s(c, "scope"),
            key,
            path: path.clone(),
            source: source.clone(),
            status,
            // A check whose detail says what to do has no separate command for itself.
            remedy: if status.ok() || (remedy.is_empty() && !found.is_empty()) {
                String::new()
            } else if remedy.is_empty() {
                found.clone()
            } else {
                remedy.clone()
            },
            found: if found.is_empty() && status == Verdict::Pass {
                "as wanted".into()
            } else {
                found
            },
            wanted,
            references: c
                .get("references")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(String::from))
                .collect(),
            id,
        });
    }
    Ok(())
}

fn probe_rows(p: &Value, out: &mut Vec<Row>) -> Result<(), String> {
    if let Some(e) = p.get("error").and_then(Value::as_str) {
        out.push(Row {
            id: "probe.error".into(),
            name: "probe could not run".into(),
            scope: "probe".into(),
            key: "error".into(),
            path: "/dev/shm".into(),
            source: "probe".into(),
            status: Verdict::Error,
            found: e.into(),
            wanted: "a probe that runs".into(),
            remedy: String::new(),
            references: Vec::new(),
        });
    }
    for c in p
        .get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (name, user) = (s(c, "name"), s(c, "user"));
        let status = verdict(c)?;
        out.push(Row {
            id: format!("probe.{name}.{user}"),
            name: format!("{name} (as {user})"),
            scope: "probe".into(),
            key: name.clone(),
            path: "/dev/shm".into(),
            source: "probe".into(),
            status,
            found: s(c, "detail"),
            wanted: format!("{} works for {user}", name.replace('_', " ")),
            remedy: s(c, "remedy"),
            references: Vec::new(),
        });
    }
    Ok(())
}

/// An audit JSON document (`shmguard audit --format json`, or the Ansible module's result,
/// which is the same document with Ansible's keys added). `host` is used when the document
/// names none (the key of a Salt or Ansible map).
pub fn from_audit_json(v: &Value, host: Option<&str>) -> Result<AuditDoc, String> {
    let Some(targets) = v.get("targets").and_then(Value::as_array) else {
        return Err("not an audit document (no \"targets\" list)".into());
    };
    let via = via_of(v, Via::Cli);
    let mut rows = Vec::new();
    for t in targets {
        target_rows(t, via, &mut rows)?;
    }
    if let Some(p) = v.get("probe").filter(|p| p.is_object()) {
        probe_rows(p, &mut rows)?;
    }
    doc(v, host, rows, via)
}

/// The document's `via` (cli when absent or unknown).
fn via_of(v: &Value, absent: Via) -> Via {
    v.get("via")
        .and_then(|w| serde_json::from_value(w.clone()).ok())
        .unwrap_or(absent)
}

fn doc(v: &Value, host: Option<&str>, rows: Vec<Row>, via: Via) -> Result<AuditDoc, String> {
    let host = host.map(String::from).unwrap_or_else(|| s(v, "host"));
    if host.is_empty() {
        return Err(
            "the audit document names no host (made by a shmguard before 0.1.0's \
                    \"host\" field? audit again)"
                .into(),
        );
    }
    Ok(AuditDoc {
        host,
        time: s(v, "time"),
        rows,
        via,
        outcome: Outcome::Audited,
    })
}

/// What Salt's `shmguard.audit` returns for one minion: the audit document with its targets'
/// checks keyed by id in `checks` (each with `target` and `source`), probe checks as
/// `probe.<name>` there and the probe report under `probe`.
fn from_salt_return(v: &Value, minion: &str) -> Result<AuditDoc, String> {
    let Some(checks) = v.get("checks").and_then(Value::as_object) else {
        return Err(format!("minion {minion}: not a shmguard.audit return"));
    };
    let mut targets: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut order = Vec::new();
    for (key, c) in checks {
        if key.starts_with("probe.") && c.get("user").is_some() {
            continue; // the probe report itself is under "probe"
        }
        let mut c = c.clone();
        if c.get("id").is_none() {
            c["id"] = Value::String(key.split(" (").next().unwrap_or(key).to_string());
        }
        let t = (s(&c, "source"), s(&c, "target"));
        if !targets.contains_key(&t) {
            order.push(t.clone());
        }
        targets.entry(t).or_default().push(c);
    }
    let via = via_of(v, Via::Salt);
    let mut rows = Vec::new();
    for t in order {
        let checks = targets.remove(&t).unwrap_or_default();
        let target = serde_json::json!({"source": t.0, "path": t.1, "checks": checks});
        target_rows(&target, via, &mut rows)?;
    }
    if let Some(p) = v.get("probe").filter(|p| p.is_object()) {
        probe_rows(p, &mut rows)?;
    }
    doc(v, Some(minion), rows, via)
}

/// Every host's audit in one JSON value: an audit document; or a map from host (minion id,
/// inventory name) to its value (see `host_value`). A map whose values are not all objects or
/// strings is not a map of hosts (it is some other JSON document): an error. An empty map is
/// a fleet of no hosts.
pub fn from_json(v: &Value) -> Result<Vec<AuditDoc>, String> {
    if v.get("targets").is_some() {
        return Ok(vec![from_audit_json(v, None)?]);
    }
    let Some(map) = v
        .as_object()
        .filter(|m| m.values().all(|d| d.is_object() || d.is_string()))
    else {
        return Err(
            "not an audit document, nor a map of host names to audit documents \
                    (or to failed or unreachable results)"
                .into(),
        );
    };
    Ok(map.iter().map(|(host, d)| host_value(host, d)).collect())
}

/// Ansible's truth: a JSON true, or a string or number it reads as true.
fn truthy(v: Option<&Value>) -> bool {
    v.is_some_and(|v| crate::spec::params::boolean("", v) == Ok(true))
}

/// Salt's words for a minion that did not answer (`salt --out=json` prints them as the
/// minion's value): the minion is unreachable, not in error.
const SALT_NO_RETURN: [&str; 3] = ["Minion did not return", "No response", "Not connected"];

/// One host's value in a fleet map, always a host of the report:
/// - an audit document (`targets`) or Salt's `shmguard.audit` return (`checks`): audited;
///   one that cannot be read is an error naming why;
/// - `{"unreachable": true, "msg": ...}` (Ansible): unreachable, with the message;
/// - `{"failed": true, "msg": ...}` (Ansible; `module_stderr`, `stderr`, `rc` may follow):
///   error, with the message (and the stderr when the message does not say it);
/// - `{"skipped": true, ...}`: error (the audit did not run);
/// - a string (Salt): unreachable when the minion did not return, else an error with it;
/// - Salt's error dicts (`{"_error": ...}`, salt-ssh's `{"retcode": 255, "stderr": ...}`:
///   unreachable when ssh could not connect, exit 255);
/// - anything else: an error naming what came back.
pub fn host_value(host: &str, v: &Value) -> AuditDoc {
    let no = |o: Outcome| AuditDoc::unaudited(host, o);
    let o = match v {
        Value::String(t) if SALT_NO_RETURN.iter().any(|w| t.contains(w)) => {
            return no(Outcome::Unreachable(t.trim().to_string()));
        }
        Value::String(t) => return no(Outcome::Error(t.trim().to_string())),
        Value::Object(o) => o,
        other => {
            return no(Outcome::Error(format!(
                "not a host's result: {}",
                short(other)
            )));
        }
    };
    if truthy(o.get("unreachable")) {
        return no(Outcome::Unreachable(message(o, "unreachable")));
    }
    let audited = if o.get("targets").is_some() {
        Some(from_audit_json(v, Some(host)))
    } else if o.get("checks").is_some_and(Value::is_object) {
        Some(from_salt_return(v, host))
    } else {
        None
    };
    match audited {
        Some(Ok(d)) => d,
        Some(Err(e)) => no(Outcome::Error(format!(
            "its audit document cannot be read: {e}"
        ))),
        None if truthy(o.get("failed")) => no(Outcome::Error(message(o, "the task failed"))),
        None if truthy(o.get("skipped")) => no(Outcome::Error(format!(
            "the audit was skipped: {}",
            message(o, "no reason given")
        ))),
        None if o.get("_error").is_some() => no(Outcome::Error(message(o, "salt error"))),
        None if o.get("retcode").and_then(Value::as_i64) == Some(255)
            && o.get("stderr").is_some() =>
        {
            no(Outcome::Unreachable(message(o, "ssh failed (exit 255)")))
        }
        None => no(Outcome::Error(format!(
            "not an audit document, nor a failed or unreachable result: {}",
            short(v)
        ))),
    }
}

/// The message of a failed or unreachable result: `msg` (or `_error`, `skip_reason`), with
/// `module_stderr` or `stderr` after it when the message does not contain them; `default`
/// when there is nothing.
fn message(o: &Map<String, Value>, default: &str) -> String {
    let text = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let msg = ["msg", "_error", "skip_reason"]
        .iter()
        .find_map(|k| text(k));
    let stderr = ["module_stderr", "stderr"].iter().find_map(|k| text(k));
    let mut out = match (msg, stderr) {
        (Some(m), Some(e)) if !m.contains(e) => format!("{m}: {}", clip(e, 600)),
        (Some(m), _) => m.to_string(),
        (None, Some(e)) => clip(e, 600),
        (None, None) => default.to_string(),
    };
    if let Some(rc) = o.get("rc").filter(|rc| rc.is_i64() && msg.is_none()) {
        out += &format!(" (rc {rc})");
    }
    out
}

fn clip(t: &str, n: usize) -> String {
    match t.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

fn short(v: &Value) -> String {
    clip(&v.to_string(), 120)
}

/// A file's bytes: one JSON value or several in a row (Salt's `--out=json` prints one object
/// per minion unless `--static` is given).
pub fn parse(bytes: &[u8]) -> Result<Vec<AuditDoc>, String> {
    let mut docs = Vec::new();
    let mut n = 0;
    for v in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        let v = v.map_err(|e| format!("not JSON: {e}"))?;
        docs.extend(from_json(&v)?);
        n += 1;
    }
    if n == 0 {
        return Err("empty: no audit document".into());
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn concatenated_salt_returns_are_one_host_each() {
        let one = |id: &str, status: &str| {
            serde_json::json!({id: {"verdict": "drift", "checks": {
                "dev-shm.nodev.live": {"target": "/dev/shm", "source": "profile cis", "name": "n",
                    "scope": "live", "status": status, "detail": "d", "references": []},
                "dev-shm.nodev.live (profile default)": {"target": "/dev/shm", "source": "profile default",
                    "name": "n", "scope": "live", "status": "pass", "detail": "", "references": []},
                "probe.semaphore": {"name": "semaphore", "user": "nobody", "status": "pass", "detail": ""}},
                "probe": {"user": "root", "uid": 0, "checks": [
                    {"name": "semaphore", "user": "nobody", "status": "warn", "detail": "few inodes"}]}}})
        };
        let text = format!("{}\n{}", one("m1", "fail"), one("m2", "pass"));
        let docs = parse(text.as_bytes()).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].host, "m1");
        let ids: Vec<&str> = docs[0].rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "dev-shm.nodev.live",
                "dev-shm.nodev.live",
                "probe.semaphore.nobody"
            ]
        );
        assert_eq!(docs[0].rows[1].source, "profile default");
        assert_eq!(docs[0].worst(), Verdict::Fail);
        assert_eq!(docs[1].worst(), Verdict::Warn);
        assert_eq!(docs[1].exit_code(), 0, "warn is compliant");
    }

    #[test]
    fn an_unknown_status_or_shape_is_an_error() {
        let bad = br#"{"host": "h", "targets": [{"path": "/dev/shm", "checks": [{"id": "x.y.live", "status": "maybe"}]}]}"#;
        assert!(parse(bad).unwrap_err().contains("\"maybe\""));
        assert!(
            parse(b"[1, 2]")
                .unwrap_err()
                .starts_with("not an audit document")
        );
        assert!(parse(b"").unwrap_err().starts_with("empty"));
        // a module result is not a map of hosts: its values are not all objects or strings
        assert!(
            parse(br#"{"changed": false, "failed": true, "msg": "x"}"#)
                .unwrap_err()
                .starts_with("not an audit document")
        );
    }

    fn one(v: Value) -> AuditDoc {
        host_value("h", &v)
    }

    /// The values the Ansible playbook and Salt give for a host without an audit.
    #[test]
    fn failed_and_unreachable_hosts_are_hosts_with_their_message() {
        let cases = [
            (
                json!({"failed": true, "msg": "value of profile must be one of: cis", "changed": false}),
                HostStatus::Error,
                "value of profile must be one of: cis",
            ),
            (
                json!({"failed": true, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error",
                       "module_stderr": "sh: 1: /root/.ansible/shmguard: not found", "rc": 127}),
                HostStatus::Error,
                "MODULE FAILURE\nSee stdout/stderr for the exact error: sh: 1: /root/.ansible/shmguard: not found",
            ),
            (
                json!({"failed": true, "stderr": "permission denied", "rc": 1}),
                HostStatus::Error,
                "permission denied (rc 1)",
            ),
            (
                json!({"unreachable": true, "msg": "Failed to connect to the host via ssh: Connection refused", "changed": false}),
                HostStatus::Unreachable,
                "Failed to connect to the host via ssh: Connection refused",
            ),
            (
                json!({"unreachable": "yes"}),
                HostStatus::Unreachable,
                "unreachable",
            ),
            (
                json!("Minion did not return. [No response]"),
                HostStatus::Unreachable,
                "Minion did not return. [No response]",
            ),
            (
                json!("Minion did not return. [Not connected]"),
                HostStatus::Unreachable,
                "Minion did not return. [Not connected]",
            ),
            (
                json!("'shmguard.audit' is not available."),
                HostStatus::Error,
                "'shmguard.audit' is not available.",
            ),
            (
                json!({"_error": "Failed to return clean data", "retcode": 1}),
                HostStatus::Error,
                "Failed to return clean data",
            ),
            (
                json!({"retcode": 255, "stderr": "ssh: connect to host m1 port 22: Connection refused"}),
                HostStatus::Unreachable,
                "ssh: connect to host m1 port 22: Connection refused",
            ),
            (
                json!({"skipped": true, "skip_reason": "Conditional result was False"}),
                HostStatus::Error,
                "the audit was skipped: Conditional result was False",
            ),
            (
                json!({"changed": false, "path": "/dev/shm"}),
                HostStatus::Error,
                "not an audit document, nor a failed or unreachable result: {\"changed\":false,\"path\":\"/dev/shm\"}",
            ),
            (
                json!({"targets": [{"path": "/dev/shm", "checks": [{"id": "a.b.live", "status": "maybe"}]}]}),
                HostStatus::Error,
                "its audit document cannot be read: status \"maybe\" of check \"a.b.live\" is not one of pass, warn, fail, error, info",
            ),
        ];
        for (v, status, msg) in cases {
            let d = one(v.clone());
            assert_eq!((d.status(), d.message().as_str()), (status, msg), "{v}");
            assert_eq!(d.host, "h");
            assert!(d.rows.is_empty(), "{v}");
            assert_eq!(d.worst(), Verdict::Error, "not compliant: {v}");
        }
    }

    #[test]
    fn a_map_holds_every_kind_of_host_and_an_empty_map_none() {
        let docs = parse(
            br#"{"a": {"targets": []}, "b": {"failed": true, "msg": "m"},
                 "c": {"unreachable": true, "msg": "u"}, "d": "Minion did not return. [No response]"}"#,
        )
        .unwrap();
        let got: Vec<(&str, HostStatus)> =
            docs.iter().map(|d| (d.host.as_str(), d.status())).collect();
        assert_eq!(
            got,
            [
                ("a", HostStatus::Compliant),
                ("b", HostStatus::Error),
                ("c", HostStatus::Unreachable),
                ("d", HostStatus::Unreachable)
            ]
        );
        assert_eq!(parse(b"{}").unwrap(), []);
    }

    #[test]
    fn via_comes_from_the_document_and_salt_returns_are_salts() {
        let d =
            from_audit_json(&json!({"host": "h", "via": "ansible", "targets": []}), None).unwrap();
        assert_eq!(d.via, Via::Ansible);
        let d = from_audit_json(&json!({"host": "h", "targets": []}), None).unwrap();
        assert_eq!(d.via, Via::Cli);
        let d = host_value("m", &json!({"checks": {}}));
        assert_eq!((d.via, d.status()), (Via::Salt, HostStatus::Compliant));
    }

    #[test]
    fn a_failing_checks_remedy_is_in_the_words_of_what_audited() {
        let doc = |via: &str| {
            json!({"host": "h", "via": via, "targets": [{"source": "profile cis", "path": "/dev/shm",
                "remedy": "shmguard apply --path /dev/shm -o nodev",
                "remedy_params": {"path": "/dev/shm", "mode": "1777", "options": ["nodev"]},
                "checks": [{"id": "dev-shm.nodev.live", "name": "n", "scope": "live", "status": "fail", "detail": "would add nodev"}]}]})
        };
        let remedy = |via| {
            from_audit_json(&doc(via), None).unwrap().rows[0]
                .remedy
                .clone()
        };
        assert_eq!(remedy("cli"), "shmguard apply --path /dev/shm -o nodev");
        assert!(
            remedy("ansible").contains("  shmguard.shm.shmguard:\n    path: /dev/shm\n    mode: \"1777\"\n    options: [nodev]\n"),
            "{}",
            remedy("ansible")
        );
        assert!(
            remedy("salt").starts_with("shmguard-/dev/shm:\n  shmguard.managed:\n    - name: /dev/shm\n    - mode: \"1777\"\n"),
            "{}",
            remedy("salt")
        );
    }

    #[test]
    fn a_target_error_is_an_error_row() {
        let v = serde_json::json!({"host": "h", "targets": [{"source": "policy p", "path": "/dev/shm",
            "checks": [], "error": "fstab: /x does not exist"}]});
        let d = from_audit_json(&v, None).unwrap();
        assert_eq!(d.rows[0].status, Verdict::Error);
        assert_eq!(d.exit_code(), 1);
        assert_eq!(d.status(), HostStatus::Error);
        assert_eq!(
            d.rows[0].remedy,
            "fix the policy (policy p) or the file named: /x"
        );
        assert_eq!(
            d.message(),
            "/dev/shm could not be audited: fstab: /x does not exist"
        );
    }
}
