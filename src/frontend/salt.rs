//! Salt: `shmguard salt` reads one JSON object on stdin (the module's parameters, `name` for
//! `path`, plus `test`) and prints one state return {name, result, changes, comment, warnings};
//! and the `changed`/`comment` object Salt's `cmd.run` reads with `stateful: True`.
//! Input that does not come from the wrapper (salt/formula/_states/shmguard.py always sends `name` and
//! `test`) is refused before anything is observed, so a stray `echo '{}' | shmguard salt` or a
//! terminal never applies defaults to the host.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::engine::{self, RunMode};
use crate::frontend::json_args;
use crate::report::{Report, StateView};

/// Keys the Salt modules add beside the parameters (Salt itself strips fun, state, __id__...).
const SALT_KEYS: &[&str] = &["test", "binary"];

/// Keys the wrapper always sends; input without them did not come from it.
const REQUIRED_KEYS: &[&str] = &["name", "test"];

/// How `shmguard salt` is meant to be called, for the refusals.
const HOW: &str = "it is the back end of the Salt state module salt/formula/_states/shmguard.py, which sends one JSON object with the state's name, test and parameters on stdin; to change this host by hand use `shmguard apply` (see `shmguard apply --help`)";

/// `shmguard salt`: refuses a terminal, reads stdin, prints the state return; the exit code.
pub fn run_stdin() -> i32 {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("shmguard salt: stdin is a terminal, not input from Salt: {HOW}");
        return 1;
    }
    let mut input = Vec::new();
    if let Err(e) = stdin.lock().read_to_end(&mut input) {
        eprintln!("shmguard salt: cannot read stdin: {e}");
        return 1;
    }
    match state(&input) {
        Ok(ret) => {
            println!("{}", serde_json::to_string(&ret).unwrap_or_default());
            i32::from(ret.result == Some(false))
        }
        Err(msg) => {
            eprintln!("shmguard salt: {msg}");
            1
        }
    }
}

/// Why the input is not from the wrapper (nothing was looked at or changed), or its arguments.
fn wrapper_input(input: &[u8]) -> Result<Map<String, Value>, String> {
    let args = match serde_json::from_slice(input) {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            return Err(format!(
                "stdin must be one JSON object of state parameters, got {}; {HOW}",
                kind(&other)
            ));
        }
        Err(e) if input.iter().all(u8::is_ascii_whitespace) => {
            return Err(format!("stdin is empty ({e}); {HOW}"));
        }
        Err(e) => return Err(format!("stdin is not JSON ({e}); {HOW}")),
    };
    let missing: Vec<&str> = REQUIRED_KEYS
        .iter()
        .copied()
        .filter(|k| !args.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the input has no {}: nothing was changed; {HOW}",
            missing.join(" and no ")
        ));
    }
    Ok(args)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

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

/// The comment: the one-sentence message, then one line per action. The state return carries
/// warnings in `warnings` (highstate shows them in a block of their own); cmd.run's stateful
/// object has no such key, so there they follow the actions.
fn comment(r: &Report, with_warnings: bool) -> String {
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
    if with_warnings {
        lines.extend(r.warnings.iter().map(|w| format!("Warning: {w}")));
    }
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
    /// Salt's own key for warnings: highstate prints them in a block of their own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The copy of fstab (or of sysctl_path) kept before changing it, with `backup`; the wrapper
    /// moves it into `changes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_file: Option<String>,
    /// This binary's version; the wrapper compares it with its own and pops it.
    pub shmguard_version: &'static str,
}

/// One state run from the wrapper's JSON object; Err (nothing looked at or changed) when the
/// input did not come from the wrapper.
pub fn state(input: &[u8]) -> Result<StateReturn, String> {
    let mut args = wrapper_input(input)?;
    let name = match args.get("name") {
        Some(Value::String(s)) => s.clone(),
        other => other.map(Value::to_string).unwrap_or_default(),
    };
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
        Err(msg) => return Ok(failed(&name, salt_words(&msg, &args))),
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
    Ok(StateReturn {
        name,
        result,
        changes,
        comment: if report.failed {
            salt_words(&comment(&report, false), &args)
        } else {
            comment(&report, false)
        },
        warnings: report.warnings,
        backup_file: report.backup_file.clone(),
        shmguard_version: VERSION,
    })
}

/// The state function Salt users call for a shmguard state (state=mounted is shmguard.managed).
fn salt_function(args: &Map<String, Value>) -> String {
    match args.get("state").and_then(Value::as_str) {
        None | Some("mounted") => "managed".into(),
        Some(s) => s.to_string(),
    }
}

/// A parameter error in the state's words: its argument `name` for shmguard's `path`, and
/// unknown arguments named as Salt users write them (the Python side refuses those first).
fn salt_words(msg: &str, args: &Map<String, Value>) -> String {
    if let Some(rest) = msg.strip_prefix("Unsupported parameters for (shmguard) module: ") {
        let unknown = rest.split(". Supported").next().unwrap_or(rest);
        let mut accepted: Vec<&str> = crate::spec::params::NAMES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| *n != "path" && *n != "state")
            .collect();
        accepted.insert(0, "name");
        accepted.push("binary");
        return format!(
            "shmguard.{}: unknown argument(s) {unknown}; its arguments are {}",
            salt_function(args),
            accepted.join(", ")
        );
    }
    match msg.strip_prefix("path: ") {
        Some(rest) => format!("name: {rest}"),
        None => msg.to_string(),
    }
}

/// The binary's version, which the Salt wrapper compares with the one generated into it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn failed(name: &str, comment: String) -> StateReturn {
    StateReturn {
        name: name.to_string(),
        result: Some(false),
        changes: BTreeMap::new(),
        comment,
        warnings: Vec::new(),
        backup_file: None,
        shmguard_version: VERSION,
    }
}

/// What `cmd.run` with `stateful: True` reads: `changed`, `comment`, and the changes.
pub fn stateful(r: &Report) -> Value {
    let mut m = Map::new();
    m.insert("changed".into(), json!(r.changed));
    m.insert("comment".into(), json!(comment(r, true)));
    for (k, v) in changes(r) {
        m.insert(k, v);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret(input: &[u8]) -> StateReturn {
        state(input).unwrap_or_else(|e| panic!("refused: {e}"))
    }

    #[test]
    fn a_bad_parameter_is_result_false_with_the_message() {
        let r = ret(br#"{"name": "/x", "size": "huge", "test": true}"#);
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
        let r = ret(
            br#"{"name": "relative", "__id__": "x", "__sls__": "y", "binary": "/x", "test": true}"#,
        );
        assert!(r.comment.starts_with("name: \"relative\""), "{}", r.comment);
    }

    #[test]
    fn an_unquoted_salt_mode_is_read_as_its_digits() {
        let r = ret(br#"{"name": "relative", "mode": 1777, "test": true}"#);
        assert!(
            r.comment.starts_with("name:"),
            "the mode was accepted: {}",
            r.comment
        );
    }

    #[test]
    fn unknown_parameters_are_named() {
        let r = ret(br#"{"name": "/dev/shm", "sizee": "1G", "test": true}"#);
        assert!(
            r.comment.starts_with(
                "shmguard.managed: unknown argument(s) sizee; its arguments are name, "
            ),
            "{}",
            r.comment
        );
    }

    #[test]
    fn the_return_carries_the_version_and_no_empty_warnings() {
        let r = ret(br#"{"name": "relative", "test": true}"#);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["shmguard_version"], env!("CARGO_PKG_VERSION"));
        assert!(v.get("warnings").is_none(), "{v}");
    }

    #[test]
    fn input_without_name_and_test_is_refused_naming_both() {
        let e = state(b"{}").unwrap_err();
        assert!(
            e.starts_with("the input has no name and no test: nothing was changed;"),
            "{e}"
        );
        let e = state(br#"{"name": "/dev/shm"}"#).unwrap_err();
        assert!(e.starts_with("the input has no test:"), "{e}");
        let e = state(br#"{"test": false, "mode": "1777"}"#).unwrap_err();
        assert!(e.starts_with("the input has no name:"), "{e}");
    }

    #[test]
    fn input_that_is_not_one_object_is_refused_saying_how_to_call_it() {
        for (input, start) in [
            (&b""[..], "stdin is empty"),
            (b"  \n", "stdin is empty"),
            (
                b"[]",
                "stdin must be one JSON object of state parameters, got a list",
            ),
            (b"mode=1777", "stdin is not JSON"),
        ] {
            let e = state(input).unwrap_err();
            assert!(e.starts_with(start), "{e}");
            assert!(e.contains("shmguard apply"), "{e}");
        }
    }
}
