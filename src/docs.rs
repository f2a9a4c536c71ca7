//! Documents generated from the parameter table: the JSON Schemas, the Ansible sidecar doc,
//! the README's parameter table and the Salt wrappers' signatures, argument docs and version. A test compares them with the committed files
//! (`SHMGUARD_BLESS=1 cargo test docs_fresh` rewrites them). Pure: no I/O.

use schemars::schema_for;
use serde_json::Value;

use crate::audit::AuditReport;
use crate::audit::policy::PolicyFile;
use crate::report::Report;
use crate::spec::params::{NAMES, Params};

pub fn params_schema() -> Value {
    serde_json::to_value(schema_for!(Params)).unwrap_or_default()
}

pub fn result_schema() -> Value {
    serde_json::to_value(schema_for!(Report)).unwrap_or_default()
}

pub fn policy_schema() -> Value {
    serde_json::to_value(schema_for!(PolicyFile)).unwrap_or_default()
}

pub fn audit_schema() -> Value {
    serde_json::to_value(schema_for!(AuditReport)).unwrap_or_default()
}

/// One row of the parameter table, read from the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDoc {
    pub name: String,
    pub aliases: Vec<String>,
    /// Ansible's type word: str, int, bool, list
    pub kind: &'static str,
    pub default: Option<Value>,
    /// a default that depends on other values, in words (`x-default` in the schema)
    pub default_text: Option<String>,
    pub choices: Vec<String>,
    pub description: String,
}

/// The parameter table in table order (NAMES), details from the schema.
pub fn param_docs() -> Vec<ParamDoc> {
    let schema = params_schema();
    let props = &schema["properties"];
    NAMES
        .iter()
        .map(|(name, _)| {
            let p = &props[*name];
            let types = p["type"].to_string();
            let kind = if types.contains("boolean") {
                "bool"
            } else if types.contains("integer") {
                "int"
            } else if types.contains("array") {
                "list"
            } else {
                "str"
            };
            let choices = p["anyOf"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["$ref"].as_str())
                .filter_map(|r| r.strip_prefix("#/$defs/"))
                .flat_map(|d| {
                    schema["$defs"][d]["enum"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            ParamDoc {
                name: name.to_string(),
                aliases: p["x-aliases"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                kind,
                default: p.get("default").cloned(),
                default_text: p.get("x-default").and_then(Value::as_str).map(String::from),
                choices,
                description: one_line(p["description"].as_str().unwrap_or_default()),
            }
        })
        .collect()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn q(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The Markdown table between `<!-- params:start -->` and `<!-- params:end -->` in README.md.
pub fn readme_table() -> String {
    let mut out = String::from("| name | type | default | meaning |\n|---|---|---|---|\n");
    for p in param_docs() {
        let name = if p.aliases.is_empty() {
            format!("`{}`", p.name)
        } else {
            format!("`{}` (alias `{}`)", p.name, p.aliases.join("`, `"))
        };
        let kind = if p.choices.is_empty() {
            p.kind.to_string()
        } else {
            p.choices.join(" \\| ")
        };
        let default = match &p.default {
            None => p
                .default_text
                .clone()
                .unwrap_or_else(|| "unmanaged".to_string()),
            Some(Value::String(s)) => format!("`{s}`"),
            Some(v) => format!("`{v}`"),
        };
        out += &format!(
            "| {name} | {kind} | {default} | {} |\n",
            p.description.replace('|', "\\|")
        );
    }
    out
}

const SHORT: &str =
    "Enforce /dev/shm and /dev/mqueue: mode, size, flags, fstab entry, mqueue limits";

const DESCRIPTION: [&str; 4] = [
    "Declares the state of a tmpfs (such as /dev/shm) or mqueue mount and makes both the live mount and its fstab entry match it, in one idempotent run.",
    "Compares desired, live (mountinfo, stat, statvfs) and fstab state by meaning: 4G, 4096m and 4194304k are the same size; no size= in mountinfo is the kernel default; the real mode comes from stat.",
    "A remount keeps every per-mount flag it is not asked to change. fstab is edited in place, one line, and replaced atomically.",
    "A static binary module: no Python is needed on the target.",
];

const EXAMPLES: &str = r#"- name: /dev/shm usable by every user, 4G, CIS flags, persisted in fstab
  shmguard:
    path: /dev/shm
    mode: "1777"
    size: 4G
    options: [nodev, nosuid, noexec]

- name: make sure /dev/shm is at least 8G for the training job, never shrink it
  shmguard:
    min_size: 8G
    state: ephemeral

- name: /dev/mqueue with room for more queues
  shmguard:
    path: /dev/mqueue
    mode: "1777"
    options: [nodev, nosuid, noexec]
    queues_max: 512

- name: audit only (check mode), see the would-be diff
  shmguard:
    mode: "1777"
    options: [nodev, nosuid, noexec]
  check_mode: true
  diff: true
"#;

/// The Ansible sidecar documentation `ansible/shmguard.yml`.
pub fn ansible_sidecar() -> String {
    let mut y = String::new();
    y += "# Copyright: shmguard contributors\n# MIT License (see LICENSE)\n";
    y += "# Generated from src/spec/params.rs and src/report.rs: SHMGUARD_BLESS=1 cargo test docs_fresh\n";
    y += "DOCUMENTATION:\n  module: shmguard\n";
    y += &format!("  short_description: {}\n", q(SHORT));
    y += "  version_added: \"0.1.0\"\n  description:\n";
    for d in DESCRIPTION {
        y += &format!("    - {}\n", q(d));
    }
    y += "  author:\n    - shmguard contributors\n  options:\n";
    for p in param_docs() {
        y += &format!(
            "    {}:\n      description:\n        - {}\n      type: {}\n",
            p.name,
            q(&p.description),
            p.kind
        );
        if p.kind == "list" {
            y += "      elements: str\n";
        }
        if !p.aliases.is_empty() {
            y += &format!("      aliases: [{}]\n", p.aliases.join(", "));
        }
        if !p.choices.is_empty() {
            y += &format!("      choices: [{}]\n", p.choices.join(", "));
        }
        if let Some(d) = &p.default {
            y += &format!("      default: {d}\n");
        }
    }
    y += "  attributes:\n";
    y += "    check_mode:\n      description: Can run in check_mode and return changed status prediction without modifying target.\n      support: full\n";
    y += "    diff_mode:\n      description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.\n      support: full\n";
    y += "    platform:\n      description: Target OS/families that can be operated against.\n      support: full\n      platforms: posix\n";
    y += "  notes:\n    - \"The binary must match the target's CPU; the static musl build runs on any x86_64 Linux.\"\n";
    y += "    - \"state=absent removes the fstab entry and never unmounts.\"\n";
    y += "EXAMPLES: |\n";
    for l in EXAMPLES.lines() {
        y += &if l.is_empty() {
            "\n".to_string()
        } else {
            format!("  {l}\n")
        };
    }
    y += "RETURN:\n";
    let result = result_schema();
    for (name, v) in result["properties"].as_object().into_iter().flatten() {
        let kind = match v["type"].as_str().or_else(|| v["type"][0].as_str()) {
            Some("boolean") => "bool",
            Some("array") => "list",
            Some("string") => "str",
            _ => "dict",
        };
        let returned = if ["diff", "backup_file", "before", "after"].contains(&name.as_str()) {
            "when available"
        } else {
            "always"
        };
        let desc = one_line(v["description"].as_str().unwrap_or(name));
        y += &format!(
            "  {name}:\n    description: {}\n    type: {kind}\n    returned: {returned}\n",
            q(&desc)
        );
    }
    y
}

/// Salt state functions: (function, shmguard state, what it enforces). Salt reserves the
/// `state` keyword, so each shmguard state is a function of its own.
const SALT_FUNCTIONS: [(&str, &str, &str); 4] = [
    (
        "managed",
        "mounted",
        "The live mount and its fstab entry (and, for mqueue, the limits live and in sysctl_path) match the arguments.",
    ),
    (
        "present",
        "present",
        "The fstab entry (and the mqueue limits in sysctl_path) match the arguments; the live mount is left alone.",
    ),
    (
        "ephemeral",
        "ephemeral",
        "The live mount (and the live mqueue limits) match the arguments; fstab is left alone.",
    ),
    (
        "absent",
        "absent",
        "No fstab entry for the mount point; the live mount is never unmounted.",
    ),
];

/// Where the Salt wrappers' generated blocks start and end.
pub const SALT_BEGIN: &str = "# --- generated by src/docs.rs from src/spec/params.rs (SHMGUARD_BLESS=1 cargo test docs_fresh); do not edit ---\n";
pub const SALT_END: &str = "# --- end of generated code ---\n";

/// The version the Salt wrappers compare with the binary's (`shmguard --version`).
fn salt_version() -> String {
    format!(
        "# The shmguard release this module belongs to; a binary reporting another version gets a warning.\n__shmguard_version__ = {}\n",
        q(env!("CARGO_PKG_VERSION"))
    )
}

/// Words of `text` wrapped at `width` columns, each line indented by `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            out += &format!("{indent}{line}\n");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line += word;
    }
    if !line.is_empty() {
        out += &format!("{indent}{line}\n");
    }
    out
}

/// One argument's paragraph of a Salt docstring: what it means, its choices and default.
fn salt_arg_doc(p: &ParamDoc) -> String {
    let mut text = p.description.clone();
    if !p.choices.is_empty() {
        text += &format!(" One of: {}.", p.choices.join(", "));
    }
    match &p.default {
        Some(Value::String(s)) => text += &format!(" Default: {s}."),
        Some(Value::Array(a)) if a.is_empty() => text += " Default: [] (no flag managed).",
        Some(Value::Bool(b)) => {
            text += if *b {
                " Default: True."
            } else {
                " Default: False."
            }
        }
        Some(v) => text += &format!(" Default: {v}."),
        None => {}
    }
    if p.name == "mode" {
        text += " In Salt an unquoted mode is read as its digits (1777 as \"1777\").";
    }
    text
}

/// The generated block of `salt/_modules/shmguard.py`: the version only.
pub fn salt_module_block() -> String {
    format!("{SALT_BEGIN}{}{SALT_END}", salt_version())
}

/// The generated block of `salt/_states/shmguard.py`: the version and one function per
/// shmguard state whose signature names every parameter of the table (so `sys.state_argspec`
/// lists them and Salt refuses a misspelt one) and whose docstring documents each argument
/// (so `sys.state_doc` needs no file that is not on the minion).
pub fn salt_state_block() -> String {
    let docs = param_docs();
    let args: Vec<&ParamDoc> = docs
        .iter()
        .filter(|p| p.name != "path" && p.name != "state")
        .collect();
    let path = docs.iter().find(|p| p.name == "path");
    let mut py = String::from(SALT_BEGIN);
    py += &salt_version();
    for (fun, state, what) in SALT_FUNCTIONS {
        py += &format!("\n\ndef {fun}(\n    name,\n");
        for p in &args {
            let default = if p.kind == "bool" { "False" } else { "None" };
            py += &format!("    {}={default},\n", p.name);
        }
        py += "    binary=None,\n    **kwargs\n):\n    \"\"\"\n";
        py += &wrap(
            &format!("{} (shmguard's state={state}).", what.trim_end_matches('.')),
            "    ",
            96,
        );
        py += "\n    .. code-block:: yaml\n\n";
        py += &format!("        /dev/shm:\n          shmguard.{fun}:\n");
        py += if fun == "absent" {
            "            - backup: true\n\n"
        } else {
            "            - mode: \"1777\"\n            - size: 4G\n            - options: [nodev, nosuid, noexec]\n\n"
        };
        let name_doc = path.map(|p| p.description.clone()).unwrap_or_default();
        py += "    name\n";
        py += &wrap(
            &format!("{name_doc} The state's ID when not given."),
            "        ",
            96,
        );
        for p in &args {
            py += &format!("\n    {}\n", p.name);
            py += &wrap(&salt_arg_doc(p), "        ", 96);
        }
        py += "\n    binary\n";
        py += &wrap(
            "The shmguard executable. Default: shmguard:binary from the minion config or pillar (config.get), else shmguard on PATH, else /usr/local/sbin/shmguard, where the formula's binary state (salt://shmguard/binary.sls) places the build for this minion's cpuarch.",
            "        ",
            96,
        );
        py += "\n    Any other argument fails the state, naming it and the accepted ones.\n";
        py += "\n    Returns Salt's state return; warnings (such as a flag the kernel ignores) go to\n";
        py += "    ``warnings``. A ``watch`` requisite re-runs the state after the watched state changed.\n";
        py += "    \"\"\"\n";
        py += &format!("    return _run({}, locals())\n", q(state));
    }
    py += "\n\n";
    py += SALT_END;
    py
}
