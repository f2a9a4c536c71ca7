//! The collection's SBOM (ansible/sbom, shipped as docs/sbom.spdx.json by
//! ansible/build-collection): an SPDX 2.3 document of exactly the crates linked into the
//! binary — the normal-dependency closure of Cargo.lock for the musl target, without
//! dev-dependencies and proc-macro crates — each with Cargo.lock's SHA-256 and a purl; the
//! same bytes on every run of one commit. No network (cargo metadata --offline).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn sbom() -> Vec<u8> {
    let out = Command::new(format!("{ROOT}/ansible/sbom"))
        .output()
        .expect("ansible/sbom runs (python3 and cargo on PATH)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// name@version -> checksum, from Cargo.lock's [[package]] tables.
fn lock_checksums() -> BTreeMap<String, String> {
    let lock = std::fs::read_to_string(format!("{ROOT}/Cargo.lock")).unwrap();
    let mut out = BTreeMap::new();
    for table in lock.split("[[package]]").skip(1) {
        let field = |k: &str| {
            table
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                .map(|v| v.trim_end_matches('"').to_string())
        };
        if let (Some(n), Some(v), Some(c)) = (field("name"), field("version"), field("checksum")) {
            out.insert(format!("{n}@{v}"), c);
        }
    }
    out
}

#[test]
fn sbom_lists_the_binarys_crates_with_their_checksums_and_nothing_else() {
    let bytes = sbom();
    assert_eq!(bytes, sbom(), "two runs on one commit give the same bytes");
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["spdxVersion"], "SPDX-2.3");
    assert_eq!(v["dataLicense"], "CC0-1.0");
    let packages = v["packages"].as_array().unwrap();
    let names: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for linked in [
        "shmguard",
        "serde",
        "serde_json",
        "nix",
        "clap",
        "memchr",
        "schemars",
        "humantime",
        "libc",
    ] {
        assert!(names.contains(linked), "{linked} is linked in: {names:?}");
    }
    for not_linked in [
        "proptest",
        "tempfile",
        "serde_derive",
        "clap_derive",
        "syn",
        "quote",
    ] {
        assert!(
            !names.contains(not_linked),
            "{not_linked} is a dev-dependency or proc-macro, not in the binary: {names:?}"
        );
    }
    let root = &packages[0];
    assert_eq!(root["name"], "shmguard");
    assert_eq!(root["versionInfo"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["relationships"][0]["relationshipType"], "DESCRIBES");
    assert_eq!(v["relationships"][0]["relatedSpdxElement"], root["SPDXID"]);
    let sums = lock_checksums();
    for p in &packages[1..] {
        let key = format!(
            "{}@{}",
            p["name"].as_str().unwrap(),
            p["versionInfo"].as_str().unwrap()
        );
        assert_eq!(
            p["checksums"][0]["checksumValue"].as_str(),
            sums.get(&key).map(String::as_str),
            "{key}: Cargo.lock's checksum"
        );
        assert_eq!(
            p["externalRefs"][0]["referenceLocator"],
            format!("pkg:cargo/{key}"),
            "{p}"
        );
        // every crate is reached from the binary by a DEPENDS_ON edge
        assert!(
            v["relationships"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["relationshipType"] == "DEPENDS_ON"
                    && r["relatedSpdxElement"] == p["SPDXID"]),
            "{key} hangs from nothing"
        );
    }
}
