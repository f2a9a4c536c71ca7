//! The Salt extension saltext-shmguard: built as a wheel by salt/build-extension, installed
//! into a directory on the minion's Python path as `salt-pip install` would (pip from the salt
//! venv, --no-index), and used by a real salt-master and salt-minion on 127.0.0.1 (high ports,
//! private config directories, the sandbox's namespaces) with NO sync and no modules on the
//! master: the minion loads the states and the execution module through the package's
//! `salt.loader` entry points and runs the build inside the package. A dry run predicts the
//! changes, the run makes them, a second run changes nothing, the audit goes through
//! `shmguard report` with its remedies, and a stray `shmguard` on PATH never runs.

use std::time::Instant;

use serde_json::Value;

use crate::salt::{only_state, salt_venv_bin};
use crate::salt_fleet::{master_and_minion, salt};
use crate::sandbox::{BIN, Sandbox};

#[test]
fn salt_extension_wheel_works_with_a_master_and_no_sync() {
    let sb = Sandbox::new();
    let repo = env!("CARGO_MANIFEST_DIR");
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# site\n");

    // The wheel, with this build as the x86_64 binary; installed as salt-pip installs it.
    let wheels = sb.path("wheels");
    let built = sb.sh(&format!(
        "{repo}/salt/build-extension --build x86_64={BIN} --out {wheels}"
    ));
    let wheel = built.trim();
    // The wheel's version is the crate's (salt/build-extension reads Cargo.toml).
    let name = format!(
        "saltext_shmguard-{}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64.whl",
        env!("CARGO_PKG_VERSION")
    );
    assert!(wheel.ends_with(&name), "{built}");
    let site = sb.path("site");
    sb.sh(&format!(
        "{} install --quiet --disable-pip-version-check --no-index --no-deps --target {site} {wheel}",
        salt_venv_bin("pip")
    ));
    let ext_bin = format!("{site}/saltext/shmguard/bin/shmguard");
    assert_eq!(sb.sh(&format!("stat -c %a {ext_bin}")).trim(), "755");

    // A stray shmguard first on the minion's PATH, which leaves a mark when anything runs it.
    let mark = sb.path("stray-ran");
    let stray = sb.path("stray");
    sb.sh(&format!(
        "mkdir -p {stray} && printf '#!/bin/sh\\ntouch {mark}\\nexec {BIN} \"$@\"\\n' > {stray}/shmguard && chmod 755 {stray}/shmguard"
    ));

    // The master serves one SLS: no _states, no _modules, no formula.
    let srv = sb.path("srv");
    sb.sh(&format!("mkdir -p {srv}"));
    sb.file(
        "srv/shm.sls",
        format!(
            "{shm}:\n  shmguard.managed:\n    - mode: \"1777\"\n    - size: 128m\n    - options: [nodev, nosuid]\n    - backup: true\n    - fstab_path: {fstab}\n"
        )
        .as_bytes(),
    );
    let path = format!("{stray}:{}", std::env::var("PATH").unwrap_or_default());
    let started = Instant::now();
    let (mconf, _master, _minion) = master_and_minion(
        &sb,
        &format!("file_roots:\n  base:\n    - {srv}\n"),
        "",
        &[("PYTHONPATH", site.as_str()), ("PATH", path.as_str())],
    );

    // No sync: the extension's modules are there, and run the extension's build.
    let (found, _, text) = salt(&sb, &mconf, &["shmguard.locate"]);
    assert_eq!(found["binary"], ext_bin.as_str(), "{text}");
    assert_eq!(found["source"], "the saltext-shmguard package's build");
    // The beacon too, through the wheel's beacons_dirs entry point.
    let (beacons, _, text) = salt(
        &sb,
        &mconf,
        &["beacons.list_available", "return_yaml=False"],
    );
    assert!(
        beacons
            .as_array()
            .is_some_and(|b| b.contains(&Value::from("shmguard"))),
        "{text}"
    );

    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let (dry, rc, text) = salt(&sb, &mconf, &["state.apply", "shm", "test=True"]);
    assert_eq!(rc, 0, "{text}");
    let dry = only_state(&dry);
    assert_eq!(dry["result"], Value::Null, "{dry}");
    assert_eq!(dry["changes"]["mode"]["new"], "1777", "{dry}");
    assert_eq!(dry["shmguard"]["binary"], ext_bin.as_str(), "{dry}");
    assert_eq!(
        sb.snapshot(&[&shm], &[&fstab]),
        snap,
        "test=True changed something"
    );

    let (real, rc, text) = salt(&sb, &mconf, &["state.apply", "shm"]);
    assert_eq!(rc, 0, "{text}");
    let real = only_state(&real);
    assert_eq!(real["result"], true, "{real}");
    let backup = real["changes"]["backup_file"]
        .as_str()
        .unwrap_or_else(|| panic!("{real}"));
    assert_eq!(String::from_utf8(sb.read(backup)).unwrap(), "# site\n");
    let mut predicted = real["changes"].clone();
    predicted.as_object_mut().unwrap().remove("backup_file");
    assert_eq!(
        predicted, dry["changes"],
        "the dry run predicted the real changes"
    );
    assert_eq!(sb.mode(&shm), "1777");
    assert!(sb.mountinfo(&shm).contains("nosuid,nodev"));

    let (again, rc, text) = salt(&sb, &mconf, &["state.apply", "shm"]);
    assert_eq!(rc, 0, "{text}");
    let again = only_state(&again);
    assert_eq!(again["result"], true, "{again}");
    assert_eq!(again["changes"], serde_json::json!({}), "{again}");

    // The audit through the master, then the fleet report with its remedies.
    let policy = format!(
        r#"policy={{"path": "{shm}", "mode": "1777", "size": "128m", "options": [nodev, nosuid, noexec]}}"#
    );
    let out = sb
        .command(&salt_venv_bin("salt"))
        .args([
            "-c",
            &mconf,
            "--out=json",
            "--static",
            "-t",
            "60",
            "fleet-minion",
            "shmguard.audit",
        ])
        .arg(&policy)
        .arg(format!("fstab={fstab}"))
        .output()
        .unwrap();
    let audit: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(audit["fleet-minion"]["verdict"], "drift", "{audit}");
    assert_eq!(audit["fleet-minion"]["via"], "salt", "{audit}");
    let printed = sb.file("fleet.json", &out.stdout);
    let report = sb
        .command(BIN)
        .args(["report", "--format", "json", &printed])
        .output()
        .unwrap();
    assert_eq!(
        report.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let v: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(v["hosts"][0]["host"], "fleet-minion", "{v}");
    let remedies = v["checks"].to_string();
    assert!(
        remedies.contains("noexec") && remedies.contains("\"remedies\":[{"),
        "the remedies reached the report: {v}"
    );

    assert!(
        sb.sh(&format!("ls {mark} 2>/dev/null || true")).is_empty(),
        "the stray shmguard on PATH ran"
    );
    eprintln!(
        "extension master/minion test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The wheels' platform tags are ones pip accepts where they are meant to run: manylinux (glibc)
/// and musllinux systems, x86_64 and aarch64 (pip told the target platform, as for a download
/// for another host: with --platform pip takes the tag literally, while on a host it accepts
/// manylinux_2_17 on any glibc >= 2.17 and musllinux_1_1 on any musl >= 1.1, as the master
/// test's install here shows), and refuses elsewhere; a build of the wrong CPU is refused.
#[test]
fn salt_extension_wheel_tags_are_accepted_by_pip_on_each_target() {
    let sb = Sandbox::new();
    let repo = env!("CARGO_MANIFEST_DIR");
    let wheels = sb.path("wheels");
    // Stand-ins: an ELF header with each CPU's machine field is all the script reads.
    let fake = |arch: &str, machine: u16| {
        let mut head = b"\x7fELF\x02\x01\x01".to_vec();
        head.resize(18, 0);
        head.extend_from_slice(&machine.to_le_bytes());
        head.resize(64, 0);
        sb.file(&format!("fake-{arch}"), &head)
    };
    let (x86, arm) = (fake("x86_64", 62), fake("aarch64", 183));
    let built = sb.sh(&format!(
        "{repo}/salt/build-extension --build x86_64={x86} --build aarch64={arm} --out {wheels}"
    ));
    assert_eq!(built.lines().count(), 2, "{built}");
    let pip = salt_venv_bin("pip");
    for (arch, platform, ok) in [
        ("x86_64", "manylinux2014_x86_64", true),
        ("x86_64", "musllinux_1_1_x86_64", true),
        ("aarch64", "manylinux_2_17_aarch64", true),
        ("aarch64", "musllinux_1_1_aarch64", true),
        ("ppc64le", "manylinux2014_ppc64le", false),
    ] {
        let target = sb.path(&format!("t-{arch}-{platform}"));
        let out = sb
            .command(&pip)
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-index",
                "--no-deps",
            ])
            .args([
                "--only-binary=:all:",
                "--platform",
                platform,
                "--target",
                &target,
            ])
            .args(["--find-links", &wheels, "saltext-shmguard"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.success(),
            ok,
            "{arch} on {platform}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if ok {
            let placed = sb.read(&format!("{target}/saltext/shmguard/bin/shmguard"));
            let machine = u16::from_le_bytes([placed[18], placed[19]]);
            assert_eq!(
                machine,
                if arch == "x86_64" { 62 } else { 183 },
                "{platform}"
            );
        }
    }
    let out = sb
        .command(&format!("{repo}/salt/build-extension"))
        .args(["--build", &format!("aarch64={x86}"), "--out", &wheels])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not an aarch64 ELF executable"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
