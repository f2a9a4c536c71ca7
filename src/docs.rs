//! Documents generated from the parameter table: the JSON Schemas, the Ansible module's
//! documentation (the collection's plugins/modules/shmguard.py with its argument_spec, and the
//! sidecar for a playbook's library/), the README's parameter table and the Salt wrappers'
//! signatures, argument docs and version. A test compares them with the committed files
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
                .chain(
                    p["x-choice-aliases"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(alias, _)| alias.clone()),
                )
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

/// Folds YAML lines longer than 150 columns whose value is one double-quoted scalar: breaks at
/// spaces inside the quotes (YAML folds a line break plus indentation back into one space), so
/// the module source stays within pep8's line length.
fn fold_long_lines(yaml: &str) -> String {
    const WIDTH: usize = 150;
    let mut out = String::new();
    for line in yaml.lines() {
        let open = line.find('"');
        if line.len() <= WIDTH || open.is_none() || !line.ends_with('"') {
            out += line;
            out.push('\n');
            continue;
        }
        let pad = " ".repeat(line.len() - line.trim_start().len() + 4);
        let (mut rest, mut first) = (line, true);
        while rest.len() > WIDTH - if first { 0 } else { pad.len() } {
            let limit = WIDTH - if first { 0 } else { pad.len() };
            let from = if first { open.unwrap_or(0) + 1 } else { 0 };
            match rest[..limit].rfind(' ').filter(|&i| i > from) {
                Some(i) => {
                    out += if first { "" } else { &pad };
                    out += &rest[..i];
                    out.push('\n');
                    rest = &rest[i + 1..];
                    first = false;
                }
                None => break,
            }
        }
        out += if first { "" } else { &pad };
        out += rest;
        out.push('\n');
    }
    out
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

/// The collection's fully qualified module name.
pub const FQCN: &str = "shmguard.shm.shmguard";

/// The examples, with `module` as the name tasks call.
fn examples(module: &str) -> String {
    format!(
        r#"- name: /dev/shm usable by every user, 4G, CIS flags, persisted in fstab
  {module}:
    path: /dev/shm
    mode: "1777"
    size: 4G
    options: [nodev, nosuid, noexec]
    backup: true

- name: Make sure /dev/shm is at least 8G for the training job, never shrink it
  {module}:
    min_size: 8G
    state: ephemeral

- name: /dev/mqueue with room for more queues
  {module}:
    path: /dev/mqueue
    mode: "1777"
    options: [nodev, nosuid, noexec]
    queues_max: 512

- name: Drop the /dev/shm line from fstab, as ansible.posix.mount state=absent_from_fstab would
  {module}:
    path: /dev/shm
    state: absent_from_fstab
    fstab: /etc/fstab

- name: Audit only (check mode), see the would-be diff
  {module}:
    mode: "1777"
    options: [nodev, nosuid, noexec]
  check_mode: true
  diff: true
"#
    )
}

/// Which documentation: the collection's module (FQCN examples, an action plugin that picks
/// the build) or the binary in a playbook's library/.
#[derive(Clone, Copy, PartialEq)]
enum Flavour {
    Collection,
    Library,
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{by}{l}\n")
            }
        })
        .collect()
}

/// The DOCUMENTATION mapping, as YAML lines at column 0.
fn documentation(flavour: Flavour) -> String {
    let mut y = String::from("module: shmguard\n");
    y += &format!("short_description: {}\n", q(SHORT));
    y += "version_added: \"0.1.0\"\ndescription:\n";
    for d in DESCRIPTION {
        y += &format!("  - {}\n", q(d));
    }
    if flavour == Flavour::Collection {
        y += &format!(
            "  - {}\n",
            q(
                "Runs through the collection's action plugin: the static build for the target's CPU (x86_64 or aarch64) is kept on the target in a content-addressed cache and run with the arguments on stdin, one remote command per task; it is uploaded (compressed) only when missing or changed. Python is not needed on the target. Before running a build the plugin checks the cache directory and every directory above it, the build's owner, mode, ELF CPU and SHA-256, and runs only the file it checked."
            )
        );
    }
    y += "author:\n  - shmguard maintainers (@shmguard)\n";
    if flavour == Flavour::Collection {
        y += "requirements:\n";
        y += "  - \"On the target: Linux on x86_64 or aarch64; a POSIX sh, id, ls, uname, od, mkdir, mktemp, mv, chmod, rm and gzip; sha256sum or openssl (coreutils or busybox provide all but openssl). No Python.\"\n";
        y += "  - \"On the controller: ansible-core 2.16 or later.\"\n";
    }
    y += "options:\n";
    for p in param_docs() {
        y += &format!(
            "  {}:\n    description:\n      - {}\n    type: {}\n",
            p.name,
            q(&p.description),
            p.kind
        );
        if p.kind == "list" {
            y += "    elements: str\n";
        }
        if !p.aliases.is_empty() {
            y += &format!("    aliases: [{}]\n", p.aliases.join(", "));
        }
        if !p.choices.is_empty() {
            y += &format!("    choices: [{}]\n", p.choices.join(", "));
        }
        if let Some(d) = &p.default {
            y += &format!("    default: {d}\n");
        }
    }
    y += "attributes:\n";
    y += "  check_mode:\n    description: Can run in check_mode and return changed status prediction without modifying target.\n    support: full\n";
    y += "  diff_mode:\n    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.\n    support: full\n";
    y += "  platform:\n    description: Target OS/families that can be operated against.\n    support: full\n    platforms: linux\n";
    y += if flavour == Flavour::Collection {
        "    details: Linux on x86_64 or aarch64 (the collection ships static builds for these two CPUs).\n"
    } else {
        "    details: Linux; the binary must match the target's CPU.\n"
    };
    if flavour == Flavour::Collection {
        y += "  action:\n    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.\n    support: full\n";
        y += "  async:\n    description: Supports being used with the C(async) keyword.\n    support: none\n    details: A run takes milliseconds; a task with async fails with a message saying so.\n";
        y +=
            "  become:\n    description: Is usable alongside become keywords.\n    support: full\n";
    }
    y += "notes:\n";
    if flavour == Flavour::Collection {
        for note in COLLECTION_NOTES {
            y += &format!("  - {}\n", q(note));
        }
    } else {
        y += "  - \"The binary must match the target's CPU; the static musl build runs on any x86_64 Linux.\"\n";
    }
    y += "  - \"state=absent (alias absent_from_fstab) removes the fstab entry and never unmounts.\"\n";
    y += "seealso:\n  - module: ansible.posix.mount\n  - module: ansible.builtin.file\n";
    fold_long_lines(&y)
}

/// The collection's notes: the action plugin's behaviour and its two host variables.
const COLLECTION_NOTES: [&str; 5] = [
    "Host variable shmguard_arch (x86_64, amd64, aarch64 or arm64): the CPU whose build runs on the host. Default: ansible_facts.architecture when facts were gathered, else uname -m in the same remote command. Any other CPU fails the task before anything runs; a value that does not match the host's uname -m fails it before any upload, naming both CPUs.",
    "Host variable shmguard_cache_dir (an absolute path on the target): the cache directory. Default: /var/cache/shmguard when the task runs as root, else ~/.cache/shmguard of the user the task runs as (the become_user with become, else the connection user); the cache belongs to that user. The directory must be that user's own with mode 0700, and every directory from / down to it owned by root or that user and writable by no one else (OpenSSH's StrictModes rule; a root-owned sticky directory such as /tmp is accepted), with no symbolic link on the way. Otherwise the task fails before anything is uploaded, naming the directory and why.",
    "A user without a usable home (such as nobody, or a home the user cannot write) and no shmguard_cache_dir gets a private temporary directory for the run, removed when it ends: the build is uploaded on every such run, with a warning saying so.",
    "Each build is named by its SHA-256 and checked (owner, mode, ELF CPU, SHA-256) before every run; the cache holds the build of this collection version only. Clean it with ansible.builtin.file state=absent on that directory. ansible-lint does not check the arguments of modules that have an action plugin, such as this one.",
    "Output a login shell prints before the plugin's own (a banner from ~/.bashrc, a MOTD) is ignored.",
];

/// Samples for RETURN keys (top level and nested), by name.
fn sample(name: &str) -> Option<&'static str> {
    Some(match name {
        "actions" => {
            r#"["remount /dev/shm: size 64M -> 4G, add nodev, nosuid, noexec", "chmod /dev/shm 0755 -> 1777"]"#
        }
        "backup_file" => r#""/etc/fstab.4127.2026-11-27T10:00:00Z~""#,
        "backup_files" => {
            r#"["/etc/fstab.4127.2026-11-27T10:00:00Z~", "/etc/sysctl.d/90-shmguard-mqueue.conf.4127.2026-11-27T10:00:00Z~"]"#
        }
        "check_mode" => "false",
        "msg" => r#""/dev/shm: 2 changes made""#,
        "path" => r#""/dev/shm""#,
        "mounted" => "true",
        "fstype" => r#""tmpfs""#,
        "source" => r#""tmpfs""#,
        "mode" => r#""1777""#,
        "bytes" => "4294967296",
        "human" => r#""4G""#,
        "nr_inodes" => "1048576",
        "options" => r#"["rw", "nosuid", "nodev", "noexec", "relatime"]"#,
        "line" => "3",
        "spec" => r#""tmpfs""#,
        "vfstype" => r#""tmpfs""#,
        "text" => r#""tmpfs /dev/shm tmpfs nodev,nosuid,noexec,size=4G 0 0""#,
        "mqueue" | "sysctl" => r#"{"msg_max": 10, "msgsize_max": 8192, "queues_max": 256}"#,
        _ => return None,
    })
}

/// Descriptions for result fields whose type has no doc comment.
fn fallback_description(name: &str) -> &str {
    match name {
        "mounted" => "Whether a filesystem is mounted at the path.",
        "fstype" => "Filesystem type of the live mount.",
        "source" => "Source (device) field of the live mount.",
        "bytes" => "The limit in bytes.",
        "size" => "tmpfs size limit (0: unlimited).",
        "nr_inodes" => "tmpfs inode limit (0: unlimited).",
        "spec" => "fstab field 1: the device or source.",
        "vfstype" => "fstab field 3: the filesystem type.",
        "options" => "The options.",
        "before" | "after" => "The content, before or after.",
        "before_header" | "after_header" => {
            "What the content is: the live mount or the file's path."
        }
        "warnings" => "Warnings.",
        other => other,
    }
}

/// The schema of `v` with a `$ref` (direct, in anyOf, or in items) resolved: (type word,
/// referenced object schema).
fn resolve<'a>(root: &'a Value, v: &'a Value) -> (&'static str, Option<&'a Value>) {
    let deref = |r: &Value| {
        r.as_str()
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .map(|d| &root["$defs"][d])
    };
    let types = v["type"].to_string();
    if types.contains("array") {
        return ("list", deref(&v["items"]["$ref"]));
    }
    let via_any = v["anyOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|a| deref(&a["$ref"]));
    if let Some(def) = deref(&v["$ref"]).or(via_any) {
        return ("dict", Some(def));
    }
    let kind = if types.contains("boolean") {
        "bool"
    } else if types.contains("integer") {
        "int"
    } else if types.contains("string") {
        "str"
    } else {
        "dict"
    };
    (kind, None)
}

/// RETURN entries for the properties of `obj`, nested with `contains`, at `pad`.
fn return_entries(root: &Value, obj: &Value, pad: &str, top: bool) -> String {
    let mut y = String::new();
    for (name, v) in obj["properties"].as_object().into_iter().flatten() {
        if top && ["changed", "failed", "warnings"].contains(&name.as_str()) {
            continue; // Ansible's common return values
        }
        if v["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("`status` only"))
        {
            continue; // the CLI's `status` command only: never in a module result
        }
        let (kind, def) = resolve(root, v);
        let desc = v["description"]
            .as_str()
            .map(one_line)
            .unwrap_or_else(|| fallback_description(name).to_string());
        let returned = if !top {
            "success"
        } else if ["diff", "backup_file", "backup_files", "before", "after"]
            .contains(&name.as_str())
        {
            "when available"
        } else {
            "always"
        };
        y += &format!(
            "{pad}{name}:\n{pad}  description: {}\n{pad}  type: {kind}\n{pad}  returned: {returned}\n",
            q(&desc)
        );
        if kind == "list" {
            let elements = match def {
                Some(_) => "dict",
                None => "str",
            };
            y += &format!("{pad}  elements: {elements}\n");
        }
        let fits = |s: &&str| match kind {
            "list" => s.starts_with('['),
            "str" => s.starts_with('"'),
            "dict" => s.starts_with('{'),
            "bool" => *s == "true" || *s == "false",
            _ => s.starts_with(|c: char| c.is_ascii_digit()),
        };
        if let Some(s) = sample(name).filter(fits).filter(|_| def.is_none()) {
            y += &format!("{pad}  sample: {s}\n");
        }
        if let Some(def) = def {
            y += &format!("{pad}  contains:\n");
            y += &return_entries(root, def, &format!("{pad}    "), false);
        }
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

/// The generated block of `salt/formula/_modules/shmguard.py`: the version and the built-in profiles
/// (checked before the binary runs, so a misspelt one is refused in Salt's words).
pub fn salt_module_block() -> String {
    let profiles: Vec<String> = crate::audit::policy::PROFILES
        .iter()
        .map(|p| q(p))
        .collect();
    format!(
        "{SALT_BEGIN}{}# The built-in audit profiles (shmguard audit --profile).\n__shmguard_profiles__ = ({},)\n{SALT_END}",
        salt_version(),
        profiles.join(", ")
    )
}

/// The generated block of `salt/formula/_states/shmguard.py`: the version and one function per
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
            "The shmguard executable's absolute path. Default: shmguard:binary from pillar or the minion config (config.get), else the build inside the saltext-shmguard package, else /usr/local/sbin/shmguard, where the formula's binary state (salt://shmguard/binary.sls) places the build for this minion's cpuarch. PATH is never searched.",
            "        ",
            96,
        );
        py +=
            "\n    Any other argument fails the state before anything runs, naming it and these.\n";
        py += "\n    Returns Salt's state return; warnings (such as a flag the kernel ignores) go to\n";
        py += "    ``warnings``. A ``watch`` requisite re-runs the state after the watched state changed.\n";
        py += "    \"\"\"\n";
        py += &format!("    return _run({}, locals())\n", q(state));
    }
    py += "\n\n";
    py += SALT_END;
    py
}

/// What the action plugin adds to the result: which build ran and whether it was uploaded.
const BUILD_RETURN: &str = r#"build:
  description: "Which build of shmguard ran on the target, added by the action plugin."
  type: dict
  returned: success
  contains:
    arch:
      description: "The build's CPU: x86_64 or aarch64."
      type: str
      returned: success
      sample: "x86_64"
    uploaded_bytes:
      description: "Bytes of compressed build sent to the target by this task; 0 when the cached build was run."
      type: int
      returned: success
      sample: 0
    reason:
      description: "cached (the build was in the cache and matched its SHA-256), or why it was uploaded: missing, mismatch (changed build or tampered file), unsafe (file writable by others, or not a regular file of the user), uncached (the user has no usable home: uploaded to a temporary directory removed after the run), or check (check mode and the build was not cached: run from a temporary directory removed after the run, the cache left as it was)."
      type: str
      returned: success
      sample: "cached"
"#;

/// The RETURN mapping, as YAML lines at column 0.
fn returns(flavour: Flavour) -> String {
    let result = result_schema();
    let mut y = return_entries(&result, &result, "", true);
    if flavour == Flavour::Collection {
        y += BUILD_RETURN;
    }
    fold_long_lines(&y)
}

/// The Ansible sidecar documentation `ansible/shmguard.yml` (the binary in a playbook's library/).
pub fn ansible_sidecar() -> String {
    let mut y = String::new();
    y += "# Copyright: shmguard contributors\n# MIT License (see LICENSE)\n";
    y += "# Generated from src/spec/params.rs and src/report.rs: SHMGUARD_BLESS=1 cargo test docs_fresh\n";
    y += "DOCUMENTATION:\n";
    y += &indent(&documentation(Flavour::Library), "  ");
    y += "EXAMPLES: |\n";
    y += &indent(&examples("shmguard"), "  ");
    y += "RETURN:\n";
    y += &indent(&returns(Flavour::Library), "  ");
    y
}

/// The argument_spec as a Python dict literal, from the same table as the docs.
fn argument_spec() -> String {
    let mut y = String::from("dict(\n");
    for p in param_docs() {
        let mut parts = vec![format!("type=\"{}\"", p.kind)];
        if p.kind == "list" {
            parts.push("elements=\"str\"".into());
        }
        if !p.aliases.is_empty() {
            let a: Vec<String> = p.aliases.iter().map(|a| format!("\"{a}\"")).collect();
            parts.push(format!("aliases=[{}]", a.join(", ")));
        }
        if !p.choices.is_empty() {
            let c: Vec<String> = p.choices.iter().map(|c| format!("\"{c}\"")).collect();
            parts.push(format!("choices=[{}]", c.join(", ")));
        }
        if let Some(d) = &p.default {
            let d = match d {
                Value::Bool(true) => "True".to_string(),
                Value::Bool(false) => "False".to_string(),
                other => other.to_string(),
            };
            parts.push(format!("default={d}"));
        }
        let one_line = format!("    {}=dict({}),\n", p.name, parts.join(", "));
        y += &if one_line.len() <= 120 {
            one_line
        } else {
            format!(
                "    {}=dict(\n        {},\n    ),\n",
                p.name,
                parts.join(",\n        ")
            )
        };
    }
    y += ")";
    y
}

/// The collection's `plugins/modules/shmguard.py`: the documentation and argument_spec every
/// Ansible tool reads. The work is done by the action plugin (plugins/action/shmguard.py),
/// which runs the static build on the target; this file only runs if that plugin is bypassed.
pub fn ansible_module_py() -> String {
    let mut y = String::new();
    y += "#!/usr/bin/python\n# -*- coding: utf-8 -*-\n";
    y += "# Copyright: (c) shmguard contributors\n";
    y += "# MIT License (see LICENSE or https://opensource.org/licenses/MIT)\n";
    y += "# SPDX-License-Identifier: MIT\n";
    y += "# Generated from src/spec/params.rs and src/report.rs by src/docs.rs:\n";
    y += "#   SHMGUARD_BLESS=1 cargo test docs_fresh\n\n";
    y += "from __future__ import absolute_import, division, print_function\n__metaclass__ = type\n\n";
    y += "DOCUMENTATION = r\"\"\"\n";
    y += &documentation(Flavour::Collection);
    y += "\"\"\"\n\nEXAMPLES = r\"\"\"\n";
    y += &examples(FQCN);
    y += "\"\"\"\n\nRETURN = r\"\"\"\n";
    y += &returns(Flavour::Collection);
    y += "\"\"\"\n\nfrom ansible.module_utils.basic import AnsibleModule\n\n";
    y += "ARGUMENT_SPEC = ";
    y += &argument_spec();
    y += "\n\n\ndef main():\n";
    y += "    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)\n";
    y += "    module.fail_json(msg=\"shmguard.shm.shmguard runs through its action plugin (plugins/action/shmguard.py), \"\n";
    y += "                         \"which was bypassed: call the module by its FQCN from a playbook or ad-hoc command\")\n\n\n";
    y += "if __name__ == \"__main__\":\n    main()\n";
    y
}
