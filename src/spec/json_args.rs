//! Parameters as a JSON object (Ansible's args file, Salt's state kwargs) -> Params, with
//! AnsibleModule's rules: type and choice errors first, unsupported names last, in its wording.

use serde_json::{Map, Value};

use crate::spec::params::{NAMES, Params};

/// Parses the parameter keys of `args`; keys `skip` accepts are ignored. Returns the params
/// and warnings, or the message of the first error.
pub fn parse(
    args: &Map<String, Value>,
    module: &str,
    skip: impl Fn(&str) -> bool,
) -> Result<(Params, Vec<String>), String> {
    let mut known = Map::new();
    let mut unknown = Vec::new();
    for (k, v) in args {
        if skip(k) {
            continue;
        }
        if NAMES
            .iter()
            .any(|(n, aliases)| n == k || aliases.contains(&k.as_str()))
        {
            known.insert(k.clone(), v.clone());
        } else {
            unknown.push(k.clone());
        }
    }
    let mut warnings = Vec::new();
    for (name, aliases) in NAMES {
        for alias in aliases.iter() {
            if known.contains_key(*name) && known.contains_key(*alias) {
                warnings.push(format!("Both option {name} and its alias {alias} are set."));
                known.remove(*alias);
            }
        }
    }
    let params: Params = serde_json::from_value(Value::Object(known)).map_err(|e| e.to_string())?;
    if !unknown.is_empty() {
        unknown.sort();
        return Err(format!(
            "Unsupported parameters for ({module}) module: {}. Supported parameters include: {}.",
            unknown.join(", "),
            supported_list()
        ));
    }
    Ok((params, warnings))
}

/// `backup, fstab_path, ..., path (name), ...`: sorted, aliases in parentheses.
pub fn supported_list() -> String {
    let mut names: Vec<String> = NAMES
        .iter()
        .map(|(n, aliases)| {
            if aliases.is_empty() {
                n.to_string()
            } else {
                format!("{n} ({})", aliases.join(", "))
            }
        })
        .collect();
    names.sort();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_alias_given_beside_its_parameter_is_dropped_with_a_warning() {
        let args = json!({"fstab_path": "/a/fstab", "fstab": "/b/fstab"});
        let (p, warnings) = parse(args.as_object().unwrap(), "shmguard", |_| false).unwrap();
        assert_eq!(p.fstab_path.as_deref(), Some("/a/fstab"));
        assert_eq!(
            warnings,
            ["Both option fstab_path and its alias fstab are set."]
        );
    }
}
