//! The Ansible entry of `shmguard audit` (the collection's `shmguard.shm.audit`, whose action
//! plugin sends `_shmguard_entry: audit` with the task's arguments): arguments in, the audit
//! JSON document out with Ansible's keys (`changed` is always false: an audit changes
//! nothing). Drift is not a task failure — the playbook gathers every host's document for the
//! fleet report; only arguments that cannot be audited fail the task.

use serde_json::{Map, Value, json};

use crate::audit::policy;
use clap::Parser;

use crate::frontend::audit_cli::{AuditArgs, build_report};

/// The parameters and what each accepts, in AnsibleModule's wording.
const PARAMS: [&str; 10] = [
    "bytes",
    "fstab",
    "fstab_path",
    "init",
    "mq_maxmsg",
    "mq_msgsize",
    "policy",
    "probe",
    "profile",
    "user",
];

fn strings(k: &str, v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s
            .split(',')
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect()),
        Value::Array(a) => a
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| format!("{k}: {i} is not accepted; expected a list of strings"))
            })
            .collect(),
        other => Err(format!(
            "{k}: {other} is not accepted; expected a string or a list of strings"
        )),
    }
}

fn string(k: &str, v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("{k}: {other} is not accepted; expected a string")),
    }
}

fn choice(k: &str, v: &str, accepted: &[&str]) -> Result<(), String> {
    if accepted.contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "value of {k} must be one of: {}, got: {v}",
            accepted.join(", ")
        ))
    }
}

fn args_of(
    args: &Map<String, Value>,
    module: &str,
) -> Result<(AuditArgs, Vec<policy::Target>), String> {
    let mut unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with("_ansible_") && !k.starts_with("_shmguard_"))
        .filter(|k| !PARAMS.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        return Err(format!(
            "Unsupported parameters for ({module}) module: {}. Supported parameters include: {}.",
            unknown.join(", "),
            PARAMS.join(", ")
        ));
    }
    let profile = strings("profile", args.get("profile").unwrap_or(&Value::Null))?;
    for p in &profile {
        choice("profile", p, &policy::PROFILES)?;
    }
    if let Some(i) = string("init", args.get("init"))? {
        choice("init", &i, &["auto", "systemd", "other"])?;
    }
    let probe = crate::spec::params::boolean("probe", args.get("probe").unwrap_or(&Value::Null))?;
    let given = |k: &str| args.get(k).is_some_and(|v| !v.is_null());
    if !probe
        && ["user", "bytes", "mq_maxmsg", "mq_msgsize"]
            .iter()
            .any(|k| given(k))
    {
        return Err("user, bytes, mq_maxmsg and mq_msgsize need probe: true".into());
    }
    if given("fstab") && given("fstab_path") {
        return Err(
            "parameters are mutually exclusive: fstab_path|fstab (fstab is its alias)".into(),
        );
    }
    let inline = match args.get("policy") {
        None | Some(Value::Null) => Vec::new(),
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            policy::parse_policy("(task policy)", v.to_string().as_bytes())?
        }
        Some(other) => {
            return Err(format!(
                "policy: {other} is not accepted; expected a target (a dict of the shmguard module's parameters) or a list of them"
            ));
        }
    };
    // Through the command line's own parser: the entry takes `shmguard audit`'s options as
    // they are spelled there, whatever the fields behind them are called.
    let mut argv = vec!["shmguard".to_string(), "audit".to_string()];
    argv.extend(profile.iter().map(|p| format!("--profile={p}")));
    for (flag, key) in [
        ("--fstab-path", "fstab_path"),
        ("--fstab-path", "fstab"),
        ("--init", "init"),
        ("--user", "user"),
        ("--bytes", "bytes"),
        ("--mq-maxmsg", "mq_maxmsg"),
        ("--mq-msgsize", "mq_msgsize"),
    ] {
        if let Some(v) = string(key, args.get(key))? {
            // --flag=VALUE: a value that starts with `-` is still the value
            argv.push(format!("{flag}={v}"));
        }
    }
    if probe {
        argv.push("--probe".into());
    }
    let a = match crate::frontend::cli::Cli::try_parse_from(&argv) {
        Ok(crate::frontend::cli::Cli {
            command: crate::frontend::cli::Command::Audit(a),
        }) => a,
        Ok(_) => return Err("not an audit".into()),
        Err(e) => return Err(e.render().to_string().trim().to_string()),
    };
    Ok((a, inline))
}

/// The module's result for the task's arguments.
pub fn run(args: &Map<String, Value>, module: &str) -> Value {
    let report = args_of(args, module).and_then(|(a, inline)| build_report(&a, inline));
    match report.map(|r| (serde_json::to_value(&r), r)) {
        Ok((Ok(Value::Object(mut m)), r)) => {
            let s = &r.summary;
            m.insert("changed".into(), json!(false));
            m.insert("via".into(), json!(crate::audit::Via::Ansible));
            m.insert(
                "msg".into(),
                json!(format!(
                    "{}: {} checks, {} passed, {} warned, {} failed, {} errors",
                    if r.compliant {
                        "compliant"
                    } else {
                        "NOT compliant"
                    },
                    s.checks,
                    s.passed,
                    s.warned,
                    s.failed,
                    s.errors
                )),
            );
            Value::Object(m)
        }
        Ok((Ok(_), _)) => json!({"failed": true, "changed": false, "msg": "shmguard: no report"}),
        Ok((Err(e), _)) => json!({"failed": true, "changed": false, "msg": e.to_string()}),
        Err(e) => json!({"failed": true, "changed": false, "msg": e}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_json(v: Value) -> Value {
        run(v.as_object().unwrap(), "shmguard.shm.audit")
    }

    #[test]
    fn unknown_parameters_use_ansibles_wording() {
        let out =
            run_json(json!({"zzz": 1, "_ansible_check_mode": true, "_shmguard_entry": "audit"}));
        assert_eq!(out["failed"], true);
        assert_eq!(
            out["msg"],
            "Unsupported parameters for (shmguard.shm.audit) module: zzz. Supported parameters include: bytes, fstab, fstab_path, init, mq_maxmsg, mq_msgsize, policy, probe, profile, user."
        );
    }

    #[test]
    fn a_bad_profile_names_the_choices() {
        let out = run_json(json!({"profile": ["cis", "bogus"]}));
        assert_eq!(
            out["msg"],
            "value of profile must be one of: cis, multiprocessing, mqueue, default, got: bogus"
        );
    }

    #[test]
    fn a_policy_that_is_not_a_target_is_refused() {
        let out = run_json(json!({"policy": "site.json"}));
        assert_eq!(out["failed"], true);
        assert!(
            out["msg"]
                .as_str()
                .unwrap()
                .contains("policy: \"site.json\" is not accepted")
        );
    }

    /// The CLI's vocabulary: fstab_path (fstab its alias), and the probe's queue shape.
    #[test]
    fn fstab_path_and_the_queue_shape_reach_the_audit() {
        let fstab =
            std::env::temp_dir().join(format!("shmguard-ansible-audit-{}", std::process::id()));
        std::fs::write(&fstab, "tmpfs /dev/shm tmpfs nodev,nosuid,noexec 0 0\n").unwrap();
        let f = fstab.to_str().unwrap();
        for key in ["fstab_path", "fstab"] {
            let (a, _) = args_of(json!({key: f}).as_object().unwrap(), "m").unwrap();
            assert_eq!(a.fstab_path.as_deref(), Some(f), "{key}");
        }
        let both = run_json(json!({"fstab_path": f, "fstab": f}));
        assert!(
            both["msg"].as_str().unwrap().contains("mutually exclusive"),
            "{both}"
        );
        std::fs::remove_file(&fstab).unwrap();
        let (a, _) = args_of(
            json!({"probe": true, "mq_maxmsg": 64, "mq_msgsize": 65536})
                .as_object()
                .unwrap(),
            "m",
        )
        .unwrap();
        assert_eq!((a.queue.mq_maxmsg, a.queue.mq_msgsize), (64, 65536));
        let out = run_json(json!({"mq_maxmsg": 64}));
        assert_eq!(
            out["msg"],
            "user, bytes, mq_maxmsg and mq_msgsize need probe: true"
        );
    }

    /// probe takes Ansible's booleans, as strings, JSON bools or numbers, in any case.
    #[test]
    fn probe_takes_ansibles_boolean_spellings() {
        let probe = |v: Value| {
            args_of(json!({ "probe": v }).as_object().unwrap(), "m").map(|(a, _)| a.probe)
        };
        for yes in [
            json!(true),
            json!("yes"),
            json!("Yes"),
            json!("TRUE"),
            json!("on"),
            json!("1"),
            json!(1),
            json!("y"),
            json!("Y"),
        ] {
            assert_eq!(probe(yes.clone()), Ok(true), "{yes}");
        }
        for no in [
            json!(false),
            json!("no"),
            json!("False"),
            json!("off"),
            json!("0"),
            json!(0),
            json!("n"),
            json!(null),
        ] {
            assert_eq!(probe(no.clone()), Ok(false), "{no}");
        }
        let e = probe(json!("maybe")).unwrap_err();
        assert!(
            e.starts_with(
                "probe: the value \"maybe\" is not a valid boolean. Valid booleans include: 'yes'"
            ),
            "{e}"
        );
        assert!(
            probe(json!([true]))
                .unwrap_err()
                .starts_with("probe: the value [true]")
        );
        let out = run_json(json!({"probe": "maybe"}));
        assert_eq!(out["failed"], true, "{out}");
    }
}
