//! Salt: `shmguard salt` reads one JSON object on stdin (the module's parameters, `name` for
//! `path`, plus `test`) and prints one state return {name, result, changes, comment}; and the
//! `changed`/`comment` object Salt's `cmd.run` reads with `stateful: True`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::engine::{self, RunMode};
use crate::frontend::json_args;
use crate::report::{Report, StateView};

/// Keys the Salt modules add beside the parameters (Salt itself strips fun, state, __id__...).
const SALT_KEYS: &[&str] = &["test", "binary"];

/// {key: {old, new}} for every part of the state that differs between before and after.
pub fn changes(r: &Report) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let (Some(b), Some(a)) = (&r.before, &r.after) else {
        return out;
    };
    let mut put = |key: &str, old: Value, new: Value| {
        if old != new {
            out.insert(key.to_string(), json!({"old": old, "new": new}));
        }
    };
    put("mounted", json!(b.mounted), json!(a.mounted));
    put("mode", json!(b.mode), json!(a.mode));
    put(
        "size",
        json!(b.size.as_ref().map(|s| &s.human)),
        json!(a.size.as_ref().map(|s| &s.human)),
    );
    put("nr_inodes", json!(b.nr_inodes), json!(a.nr_inodes));
    put(
        "options",
        json!(b.options.join(",")),
        json!(a.options.join(",")),
    );
    let line = |v: &StateView| json!(v.fstab.as_ref().map(|f| &f.text));
    put("fstab", line(b), line(a));
    for (key, old, new) in [
        ("mqueue", &b.mqueue, &a.mqueue),
        ("sysctl", &b.sysctl, &a.sysctl),
    ] {
        let names: Vec<&String> = old
            .iter()
            .chain(new.iter())
            .flat_map(|m| m.keys())
            .collect();
        for n in names {
            let get = |m: &Option<BTreeMap<String, u64>>| json!(m.as_ref().and_then(|m| m.get(n)));
            let label = if key == "mqueue" {
                format!("fs.mqueue.{n}")
            } else {
                format!("sysctl_path fs.mqueue.{n}")
            };
            put(&label, get(old), get(new));
        }
    }
    out
}

/// The comment: the one-sentence message, then one line per action and warning.
fn comment(r: &Report) -> String {
    let mut lines = vec![r.msg.clone()];
    if !r.actions.is_empty() && !r.failed {
        lines.truncate(0);
        lines.push(format!(
            "{}: {} {} change(s)",
            r.path,
            if r.check_mode { "would make" } else { "made" },
            r.actions.len()
        ));
        lines.extend(r.actions.iter().map(|a| format!("- {a}")));
    }
    lines.extend(r.warnings.iter().map(|w| format!("Warning: {w}")));
    if let Some(b) = &r.backup_file {
        lines.push(format!("Backup: {b}"));
    }
    lines.join("\n")
}

#[derive(Debug, Serialize)]
pub struct StateReturn {
    pub name: String,
    /// true: holds (or was made to hold); None: would change under test; false: failed
    pub result: Option<bool>,
    pub changes: BTreeMap<String, Value>,
    pub comment: String,
}

/// One state run from a JSON object of parameters.
pub fn state(input: &[u8]) -> StateReturn {
    let mut args: Map<String, Value> = match serde_json::from_slice(input) {
        Ok(Value::Object(m)) => m,
        _ => {
            return failed(
                "",
                "shmguard salt: stdin must be one JSON object of state parameters".into(),
            );
        }
    };
    let name = args
        .get("name")
        .or_else(|| args.get("path"))
        .and_then(Value::as_str)
        .unwrap_or("/dev/shm")
        .to_string();
    // Salt's YAML loader strips leading zeros from integers (0755 -> 755), so an unquoted mode
    // arrives as a number whose decimal digits are the octal digits, as file.managed reads it.
    if let Some(Value::Number(n)) = args.get("mode") {
        let digits = n.to_string();
        args.insert("mode".into(), Value::String(digits));
    }
    let test = args
        .get("test")
        .is_some_and(|t| t == true || t == "True" || t == "true");
    let (params, warnings) = match json_args::parse(&args, "shmguard", |k| {
        k.starts_with("__") || SALT_KEYS.contains(&k)
    }) {
        Ok(p) => p,
        Err(msg) => return failed(&name, msg),
    };
    let mut report = engine::run(
        &params,
        RunMode {
            check: test,
            diff: false,
        },
    );
    report.warnings.extend(warnings);
    let changes = if report.failed && !report.changed {
        BTreeMap::new()
    } else {
        changes(&report)
    };
    let result = match (report.failed, test && report.changed) {
        (true, _) => Some(false),
        (false, true) => None,
        (false, false) => Some(true),
    };
    StateReturn {
        name,
        result,
        changes,
        comment: comment(&report),
    }
}

fn failed(name: &str, comment: String) -> StateReturn {
    StateReturn {
        name: name.to_string(),
        result: Some(false),
        changes: BTreeMap::new(),
        comment,
    }
}

/// What `cmd.run` with `stateful: True` reads: `changed`, `comment`, and the changes.
pub fn stateful(r: &Report) -> Value {
    let mut m = Map::new();
    m.insert("changed".into(), json!(r.changed));
    m.insert("comment".into(), json!(comment(r)));
    for (k, v) in changes(r) {
        m.insert(k, v);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_parameter_is_result_false_with_the_message() {
        let r = state(br#"{"name": "/x", "size": "huge", "test": true}"#);
        assert_eq!(r.result, Some(false));
        assert!(
            r.comment.starts_with("size: \"huge\" is not accepted"),
            "{}",
            r.comment
        );
        assert!(r.changes.is_empty());
    }

    #[test]
    fn salt_internal_keys_are_not_parameters() {
        let r = state(
            br#"{"name": "relative", "__id__": "x", "__sls__": "y", "binary": "/x", "test": true}"#,
        );
        assert!(r.comment.starts_with("path: \"relative\""), "{}", r.comment);
    }

    #[test]
    fn an_unquoted_salt_mode_is_read_as_its_digits() {
        let r = state(br#"{"name": "relative", "mode": 1777, "test": true}"#);
        assert!(
            r.comment.starts_with("path:"),
            "the mode was accepted: {}",
            r.comment
        );
    }

    #[test]
    fn unknown_parameters_are_named() {
        let r = state(br#"{"name": "/dev/shm", "sizee": "1G"}"#);
        assert!(
            r.comment
                .starts_with("Unsupported parameters for (shmguard) module: sizee."),
            "{}",
            r.comment
        );
    }
}
