//! AuditDoc: an audit report as the report renderers read it — the JSON document of
//! `schema/audit.schema.json` (statuses as strings: pass, warn, fail, error), flattened into
//! rows per target and scope. `audit --format html|xccdf` renders the in-memory report through
//! it, `shmguard report` the files it reads, so one host and a fleet look the same. Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// One host's audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditDoc {
    pub host: String,
    pub time: String,
    pub rows: Vec<Row>,
}

impl AuditDoc {
    /// The worst verdict (pass for a report with nothing in it).
    pub fn worst(&self) -> Verdict {
        self.rows
            .iter()
            .map(|r| r.status)
            .max()
            .unwrap_or(Verdict::Pass)
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

fn target_rows(t: &Value, out: &mut Vec<Row>) -> Result<(), String> {
    let path = s(t, "path");
    let source = s(t, "source");
    let wanted = t.get("wanted").and_then(Value::as_object);
    let remedy = s(t, "remedy");
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
            remedy: "fix the policy or the file named".into(),
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
    let mut rows = Vec::new();
    for t in targets {
        target_rows(t, &mut rows)?;
    }
    if let Some(p) = v.get("probe").filter(|p| p.is_object()) {
        probe_rows(p, &mut rows)?;
    }
    doc(v, host, rows)
}

fn doc(v: &Value, host: Option<&str>, rows: Vec<Row>) -> Result<AuditDoc, String> {
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
    let mut rows = Vec::new();
    for t in order {
        let checks = targets.remove(&t).unwrap_or_default();
        let target = serde_json::json!({"source": t.0, "path": t.1, "checks": checks});
        target_rows(&target, &mut rows)?;
    }
    if let Some(p) = v.get("probe").filter(|p| p.is_object()) {
        probe_rows(p, &mut rows)?;
    }
    doc(v, Some(minion), rows)
}

/// Every host's audit in one JSON value: an audit document; or a map from host (minion id,
/// inventory name) to an audit document or a Salt `shmguard.audit` return.
pub fn from_json(v: &Value) -> Result<Vec<AuditDoc>, String> {
    if v.get("targets").is_some() {
        return Ok(vec![from_audit_json(v, None)?]);
    }
    let Some(map) = v.as_object().filter(|m| !m.is_empty()) else {
        return Err("not an audit document, nor a map of host names to audit documents".into());
    };
    map.iter()
        .map(|(host, d)| {
            if d.get("targets").is_some() {
                from_audit_json(d, Some(host))
            } else if d.get("checks").is_some_and(Value::is_object) {
                from_salt_return(d, host)
            } else {
                Err(format!(
                    "{host}: not an audit document nor a shmguard.audit return \
                     (the minion or host returned: {})",
                    short(d)
                ))
            }
        })
        .collect()
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    match t.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t,
    }
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
        assert!(
            parse(br#"{"m1": "Minion did not return"}"#)
                .unwrap_err()
                .starts_with("m1: ")
        );
    }

    #[test]
    fn a_target_error_is_an_error_row() {
        let v = serde_json::json!({"host": "h", "targets": [{"source": "policy p", "path": "/dev/shm",
            "checks": [], "error": "fstab: /x does not exist"}]});
        let d = from_audit_json(&v, None).unwrap();
        assert_eq!(d.rows[0].status, Verdict::Error);
        assert_eq!(d.exit_code(), 1);
    }
}
