//! Ansible binary-module protocol: argv[1] is a JSON args file (task parameters plus
//! `_ansible_*` keys), or `-` for the args on stdin (how the collection's action plugin runs
//! the cached build: one remote command, nothing written to the target); stdout is exactly
//! one JSON object. Rejects unknown parameters with AnsibleModule's own wording; honours
//! `_ansible_check_mode` and `_ansible_diff`.

use serde_json::{Map, Value, json};

use crate::engine::{self, RunMode};
use crate::spec::json_args;

/// `shmguard -`: reads the module arguments from stdin, prints the result; the exit code.
pub fn run_stdin() -> i32 {
    let mut bytes = Vec::new();
    let out = match std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes) {
        Ok(_) => run_args(&bytes),
        Err(e) => fail(&format!(
            "shmguard: cannot read the module arguments from stdin: {e}"
        )),
    };
    println!("{out}");
    i32::from(out["failed"] == true)
}

/// Runs the module on the args file's bytes and returns the result object.
pub fn run_args(bytes: &[u8]) -> Value {
    let args: Map<String, Value> = match serde_json::from_slice(bytes) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return fail("shmguard: the module arguments are not a JSON object"),
        Err(e) => {
            return fail(&format!(
                "shmguard: cannot parse the module arguments as JSON: {e}"
            ));
        }
    };
    let flag = |k: &str| args.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mode = RunMode {
        check: flag("_ansible_check_mode"),
        diff: flag("_ansible_diff"),
    };
    let module = args
        .get("_ansible_module_name")
        .and_then(Value::as_str)
        .unwrap_or("shmguard")
        .to_string();
    // The collection's audit module (its action plugin adds this key): another entry.
    if args.get("_shmguard_entry").and_then(Value::as_str) == Some("audit") {
        return crate::frontend::ansible_audit::run(&args, &module);
    }

    let (params, warnings) = match json_args::parse(&args, &module, |k| k.starts_with("_ansible_"))
    {
        Ok(p) => p,
        Err(msg) => return fail(&msg),
    };
    let report = engine::run(&params, mode);
    let mut out = serde_json::to_value(&report)
        .unwrap_or_else(|e| json!({"failed": true, "msg": e.to_string()}));
    if let Value::Object(m) = &mut out {
        if let Some(Value::Array(w)) = m.get_mut("warnings") {
            w.extend(warnings.into_iter().map(Value::String));
        }
        m.insert("invocation".into(), json!({ "module_args": params }));
    }
    out
}

fn fail(msg: &str) -> Value {
    json!({ "failed": true, "changed": false, "msg": msg })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: Value) -> Value {
        run_args(v.to_string().as_bytes())
    }

    #[test]
    fn unknown_parameters_use_ansibles_wording() {
        let out =
            run(json!({"zzz": 1, "bogus": 2, "_ansible_check_mode": true, "_ansible_new_key": 1}));
        assert_eq!(out["failed"], true);
        assert_eq!(
            out["msg"],
            "Unsupported parameters for (shmguard) module: bogus, zzz. Supported parameters include: backup, fstab_path (fstab), fstype, init, min_size, mode, msg_max, msgsize_max, nr_inodes, options, path (name), queues_max, size, state, sysctl_path."
        );
    }

    #[test]
    fn choice_errors_come_before_unsupported_ones() {
        let out = run(json!({"state": "bogus", "zzz": 1}));
        assert_eq!(
            out["msg"],
            "value of state must be one of: absent, absent_from_fstab, ephemeral, mounted, present, got: bogus"
        );
    }

    #[test]
    fn the_module_name_comes_from_the_fqcn() {
        let out = run(json!({"bogus": 1, "_ansible_module_name": "acme.shm.shmguard"}));
        assert!(
            out["msg"]
                .as_str()
                .unwrap()
                .starts_with("Unsupported parameters for (acme.shm.shmguard) module: bogus.")
        );
    }

    #[test]
    fn a_bad_value_without_path_reports_the_default_path() {
        let out = run(json!({"size": "huge"}));
        assert_eq!(out["failed"], true);
        assert_eq!(out["path"], "/dev/shm");
    }

    #[test]
    fn args_that_are_not_json_fail_cleanly() {
        assert_eq!(run_args(b"path=/dev/shm")["failed"], true);
    }
}
