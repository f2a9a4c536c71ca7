//! A target's remedy in the words of what ran the audit: an Ansible task for hosts audited by
//! the Ansible module, a Salt state for Salt minions, the `shmguard apply` command otherwise.
//! Read from the audit document's `remedy_params` (the parameter table's names) and `remedy`
//! (the command). Pure: no I/O.

use serde_json::{Map, Value};

use crate::audit::Via;
use crate::spec::params::NAMES;

/// The remedy text: `params` (a `remedy_params` object) as an Ansible task or Salt state, or
/// `command` (for the command line, or a document from before `remedy_params`).
pub fn text(via: Via, params: Option<&Map<String, Value>>, command: &str) -> String {
    match (via, params) {
        (Via::Ansible, Some(p)) => ansible_task(p),
        (Via::Salt, Some(p)) => salt_state(p),
        _ => command.to_string(),
    }
}

/// The parameters in the table's order, each once (an alias given counts as its name).
fn ordered(p: &Map<String, Value>) -> Vec<(&'static str, &Value)> {
    NAMES
        .iter()
        .filter_map(|(name, aliases)| {
            let v = p
                .get(*name)
                .or_else(|| aliases.iter().find_map(|a| p.get(*a)))?;
            let empty =
                v.is_null() || v.as_array().is_some_and(Vec::is_empty) || v == &Value::Bool(false);
            (!empty).then_some((*name, v))
        })
        .collect()
}

fn path_of(p: &Map<String, Value>) -> String {
    p.get("path")
        .or_else(|| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or(crate::spec::params::DEFAULT_PATH)
        .to_string()
}

/// An Ansible task with the collection's module (FQCN) and the arguments as YAML.
pub fn ansible_task(p: &Map<String, Value>) -> String {
    let mut out = format!(
        "- name: {}\n  shmguard.shm.shmguard:\n",
        scalar(&Value::String(format!("shmguard {}", path_of(p))))
    );
    for (k, v) in ordered(p) {
        out += &format!("    {k}: {}\n", yaml(v));
    }
    out
}

/// A Salt state of the formula's modules: the state for the target's `state` (managed for
/// mounted, the default), the formula's namespaced ID and the path as `name`.
pub fn salt_state(p: &Map<String, Value>) -> String {
    let path = path_of(p);
    let function = match p.get("state").and_then(Value::as_str) {
        Some("present") => "present",
        Some("ephemeral") => "ephemeral",
        Some("absent" | "absent_from_fstab") => "absent",
        _ => "managed",
    };
    let mut out = format!(
        "{}:\n  shmguard.{function}:\n    - name: {}\n",
        scalar(&Value::String(format!("shmguard-{path}"))),
        scalar(&Value::String(path.clone()))
    );
    for (k, v) in ordered(p) {
        if k != "path" && k != "state" {
            out += &format!("    - {k}: {}\n", yaml(v));
        }
    }
    out
}

/// A value as YAML, in flow style for lists.
fn yaml(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(scalar).collect::<Vec<_>>().join(", ")
        ),
        other => scalar(other),
    }
}

/// Whether `s` is in the grammar `str::parse::<f64>` accepts (sign, digits with at most one
/// point and at least one digit, exponent; inf, infinity, nan in any case), without the
/// parsing: the float parser (core::num::dec2flt and its table of powers of five) was 14 KB
/// of the shipped build, gzipped or not (issue 25, docs/performance.md "Binary size").
fn is_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if ["inf", "infinity", "nan"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
    {
        return true;
    }
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac) && exponent_ok
}

/// A scalar as YAML reads it back the same: a string plain only when YAML would not read it
/// as a number, boolean or null, nor as syntax; else double-quoted (JSON's escapes are YAML's).
fn scalar(v: &Value) -> String {
    let Value::String(s) = v else {
        return v.to_string();
    };
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-%+= ".contains(&b))
        && !s.starts_with(['-', '.', '+', ' '])
        && !s.ends_with(' ')
        && !is_float(s)
        && !s.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !s.starts_with("0x")
        && !s.starts_with("0o")
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "nan" | "inf"
        );
    if safe {
        s.clone()
    } else {
        Value::String(s.clone()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// is_float agrees with the float parser it stands in for, on strings made of what
        /// floats are made of (and scalar's other characters).
        #[test]
        fn is_float_is_what_the_float_parser_accepts(s in "[0-9eE.+\\-_a-zA-Z%/= ]{0,8}") {
            prop_assert_eq!(is_float(&s), s.parse::<f64>().is_ok(), "{:?}", s);
        }

        #[test]
        fn is_float_on_number_shaped_strings(s in "[+-]?[0-9]{0,3}[.]?[0-9]{0,3}([eE][+-]?[0-9]{0,3})?") {
            prop_assert_eq!(is_float(&s), s.parse::<f64>().is_ok(), "{:?}", s);
        }
    }

    #[test]
    fn is_float_on_the_edges_of_the_grammar() {
        for s in [
            "",
            ".",
            "1.",
            ".5",
            "1e5",
            "1E+5",
            "1e-5",
            "1e",
            "e5",
            ".e5",
            "1.e5",
            ".5e5",
            "1..2",
            "1.2.3",
            "1e5e3",
            "1_0",
            "+",
            "-",
            "+.",
            "inf",
            "INF",
            "Infinity",
            "infinit",
            "nan",
            "NaN",
            "-nan",
            "+inf",
            "infinityx",
            "0x10",
            "1f",
            "٣",
            "1 ",
            " 1",
            "99999e99999",
        ] {
            assert_eq!(is_float(s), s.parse::<f64>().is_ok(), "{s:?}");
        }
    }

    fn params() -> Map<String, Value> {
        json!({"path": "/dev/shm", "mode": "1777", "size": "4G", "options": ["nodev", "nosuid"],
               "fstab_path": "/etc/fstab", "queues_max": 256})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn ansible_remedy_is_a_task_of_the_collections_module() {
        assert_eq!(
            text(Via::Ansible, Some(&params()), "shmguard apply"),
            "- name: shmguard /dev/shm\n  shmguard.shm.shmguard:\n    path: /dev/shm\n    mode: \"1777\"\n    size: 4G\n    options: [nodev, nosuid]\n    queues_max: 256\n    fstab_path: /etc/fstab\n"
        );
    }

    #[test]
    fn salt_remedy_is_a_state_of_the_formula() {
        let mut p = params();
        p.insert("state".into(), json!("present"));
        assert_eq!(
            text(Via::Salt, Some(&p), "shmguard apply"),
            "shmguard-/dev/shm:\n  shmguard.present:\n    - name: /dev/shm\n    - mode: \"1777\"\n    - size: 4G\n    - options: [nodev, nosuid]\n    - queues_max: 256\n    - fstab_path: /etc/fstab\n"
        );
    }

    #[test]
    fn the_command_line_and_old_documents_get_the_command() {
        assert_eq!(
            text(Via::Cli, Some(&params()), "shmguard apply x"),
            "shmguard apply x"
        );
        assert_eq!(
            text(Via::Ansible, None, "shmguard apply x"),
            "shmguard apply x"
        );
    }

    #[test]
    fn yaml_scalars_read_back_as_strings() {
        for (s, want) in [
            ("1777", "\"1777\""),
            ("01777", "\"01777\""),
            ("yes", "\"yes\""),
            ("On", "\"On\""),
            ("1e3", "\"1e3\""),
            ("50%", "50%"),
            ("/my fstab", "/my fstab"),
            (" x", "\" x\""),
            ("a: b", "\"a: b\""),
            ("4G", "4G"),
            ("", "\"\""),
        ] {
            assert_eq!(scalar(&json!(s)), want, "{s}");
        }
    }
}
