//! Generated documents match the parameter table: JSON Schemas, the Ansible sidecar doc and
//! the collection's module documentation, the README table, the Salt wrappers' generated
//! functions and version. `SHMGUARD_BLESS=1 cargo test docs_fresh` rewrites them.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(rel: &str, want: &str) {
    let path = root().join(rel);
    if std::env::var_os("SHMGUARD_BLESS").is_some() {
        std::fs::write(&path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{rel} is stale: run `SHMGUARD_BLESS=1 cargo test docs_fresh` and commit it"
    );
}

fn json(v: serde_json::Value) -> String {
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

#[test]
fn docs_fresh_schemas() {
    use shmguard::docs::*;
    let schemas = [
        ("params", params_schema()),
        ("result", result_schema()),
        ("policy", policy_schema()),
        ("audit", audit_schema()),
    ];
    for (name, schema) in schemas {
        check(&format!("schema/{name}.schema.json"), &json(schema));
    }
}

#[test]
fn docs_fresh_ansible_sidecar() {
    check("ansible/shmguard.yml", &shmguard::docs::ansible_sidecar());
}

#[test]
fn docs_fresh_ansible_collection_module() {
    check(
        "ansible/collection/plugins/modules/shmguard.py",
        &shmguard::docs::ansible_module_py(),
    );
}

#[test]
fn docs_fresh_ansible_collection_version_is_the_crate_version() {
    let galaxy = std::fs::read_to_string(root().join("ansible/collection/galaxy.yml")).unwrap();
    let want = format!("version: {}\n", env!("CARGO_PKG_VERSION"));
    assert!(
        galaxy.contains(&want),
        "ansible/collection/galaxy.yml must say `{}` (the version in Cargo.toml)",
        want.trim()
    );
}

#[test]
fn docs_fresh_readme_table() {
    check_table("README.md");
}

#[test]
fn docs_fresh_salt_readme_table() {
    check_table("salt/README.md");
}

/// The parameter table between the params markers of a Markdown file.
fn check_table(rel: &str) {
    let readme = std::fs::read_to_string(root().join(rel)).unwrap();
    let (start, end) = ("<!-- params:start -->\n", "<!-- params:end -->");
    let a = readme
        .find(start)
        .unwrap_or_else(|| panic!("{rel} has no <!-- params:start --> marker"))
        + start.len();
    let b = readme
        .find(end)
        .unwrap_or_else(|| panic!("{rel} has no <!-- params:end --> marker"));
    let want = format!(
        "{}{}{}",
        &readme[..a],
        shmguard::docs::readme_table(),
        &readme[b..]
    );
    check(rel, &want);
}

#[test]
fn docs_fresh_names_match_the_schema() {
    let schema = shmguard::docs::params_schema();
    let mut props: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    props.sort();
    let mut names: Vec<&str> = shmguard::spec::params::NAMES
        .iter()
        .map(|(n, _)| *n)
        .collect();
    names.sort();
    assert_eq!(
        props, names,
        "NAMES and the Params struct list different parameters"
    );
    for (name, aliases) in shmguard::spec::params::NAMES {
        let declared: Vec<&str> = schema["properties"][name]["x-aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(&declared, aliases, "aliases of {name}");
    }
}

/// Replaces the generated block (between the markers) of a committed file.
fn check_block(rel: &str, block: &str) {
    use shmguard::docs::{SALT_BEGIN, SALT_END};
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    let a = text
        .find(SALT_BEGIN)
        .unwrap_or_else(|| panic!("{rel} has no generated-code start marker"));
    let b = text
        .find(SALT_END)
        .unwrap_or_else(|| panic!("{rel} has no generated-code end marker"))
        + SALT_END.len();
    check(rel, &format!("{}{block}{}", &text[..a], &text[b..]));
}

#[test]
fn docs_fresh_salt_wrappers() {
    check_block(
        "salt/formula/_states/shmguard.py",
        &shmguard::docs::salt_state_block(),
    );
    check_block(
        "salt/formula/_modules/shmguard.py",
        &shmguard::docs::salt_module_block(),
    );
}
