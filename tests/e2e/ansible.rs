//! The real ansible-playbook running shmguard from a playbook's library/ as a binary module,
//! inside the sandbox's namespaces: changed, then changed=0; --check --diff; a bad parameter.

use std::path::PathBuf;
use std::process::Output;

use crate::sandbox::{BIN, Sandbox};

fn tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("SHMGUARD_ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/venv/ansible"));
    let p = dir.join("bin").join(name);
    assert!(
        p.exists(),
        "{} not found: run ./tests/run (it installs ansible-core into target/venv/ansible), or point SHMGUARD_ANSIBLE_VENV at a venv with ansible-core",
        p.display()
    );
    p
}

fn playbook(sb: &Sandbox, task: &str) -> String {
    sb.sh(&format!(
        "mkdir -p {0}/pb/library && cp {BIN} {0}/pb/library/shmguard",
        sb.path("")
    ));
    let text = format!(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: enforce\n      shmguard:\n{task}"
    );
    sb.file("pb/site.yml", text.as_bytes())
}

fn ansible_playbook(sb: &Sandbox, pb: &str, extra: &[&str]) -> (Output, String) {
    run_playbook(sb, pb, extra, &[])
}

fn run_playbook(sb: &Sandbox, pb: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let tmp = sb.path("ansible-tmp");
    let mut c = sb.command(tool("ansible-playbook").to_str().unwrap());
    c.args(["-i", "localhost,", "-c", "local", pb])
        .args(extra)
        .env("ANSIBLE_HOME", &tmp)
        .env("ANSIBLE_LOCAL_TEMP", format!("{tmp}/local"))
        .env("ANSIBLE_REMOTE_TEMP", format!("{tmp}/remote"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORCE_COLOR", "0")
        .env("ANSIBLE_PYTHON_INTERPRETER", "auto_silent")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "0")
        .envs(env.iter().copied());
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn ansible_playbook_converges_then_reports_no_change() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# site\n");
    let pb = playbook(
        &sb,
        &format!(
            "        path: {shm}\n        mode: \"1777\"\n        size: 128m\n        options: [nodev, nosuid, noexec]\n        fstab_path: {fstab}\n"
        ),
    );

    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let (out, text) = ansible_playbook(&sb, &pb, &["--check", "--diff"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("changed=1"), "{text}");
    assert!(
        text.contains("-mode: 0755") && text.contains("+mode: 1777"),
        "no live diff shown:\n{text}"
    );
    assert!(
        text.contains(&format!(
            "+tmpfs {shm} tmpfs nodev,nosuid,noexec,size=128m 0 0"
        )),
        "no fstab diff shown:\n{text}"
    );
    assert_eq!(
        sb.snapshot(&[&shm], &[&fstab]),
        snap,
        "--check changed something"
    );

    let (out, text) = ansible_playbook(&sb, &pb, &[]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("changed=1"), "{text}");
    assert_eq!(sb.mode(&shm), "1777");
    assert!(
        sb.mountinfo(&shm).contains("rw,nosuid,nodev,noexec")
            && sb.mountinfo(&shm).contains("size=131072k")
    );

    let (out, text) = ansible_playbook(&sb, &pb, &[]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("changed=0") && text.contains("failed=0"),
        "second run must change nothing:\n{text}"
    );
}

#[test]
fn ansible_playbook_fails_the_task_on_a_bad_parameter() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"# site\n");
    let pb = playbook(
        &sb,
        &format!("        path: {shm}\n        size: huge\n        fstab_path: {fstab}\n"),
    );
    let snap = sb.snapshot(&[&shm], &[&fstab]);
    let (out, text) = ansible_playbook(&sb, &pb, &[]);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("failed=1"), "{text}");
    assert!(text.contains(r#"size: \"huge\" is not accepted"#), "{text}");
    assert_eq!(sb.snapshot(&[&shm], &[&fstab]), snap);

    let pb = playbook(&sb, &format!("        path: {shm}\n        sizee: 1G\n"));
    let (_, text) = ansible_playbook(&sb, &pb, &[]);
    assert!(
        text.contains(
            "Unsupported parameters for (shmguard) module: sizee. Supported parameters include:"
        ),
        "{text}"
    );
}

#[test]
fn ansible_doc_reads_the_sidecar_documentation() {
    let sb = Sandbox::new();
    let dir = sb.path("doc");
    let sidecar = format!("{}/ansible/shmguard.yml", env!("CARGO_MANIFEST_DIR"));
    sb.sh(&format!(
        "mkdir -p {dir} && cp {BIN} {dir}/shmguard && cp {sidecar} {dir}/shmguard.yml"
    ));
    let tmp = sb.path("ansible-tmp");
    let out = sb
        .command(tool("ansible-doc").to_str().unwrap())
        .args(["-M", &dir, "shmguard"])
        .env("ANSIBLE_HOME", &tmp)
        .env("ANSIBLE_LOCAL_TEMP", &tmp)
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ansible-core 2.19+ heads the page "MODULE shmguard", 2.16 to 2.18 "> SHMGUARD".
    assert!(
        text.contains("MODULE shmguard") || text.contains("> SHMGUARD "),
        "{text}"
    );
    for want in [
        "Declares the state of a tmpfs",
        "- min_size",
        "aliases: [name]",
        "choices: [mounted, present, ephemeral, absent, absent_from_fstab]",
    ] {
        assert!(
            text.contains(want),
            "ansible-doc output lacks {want:?}:\n{text}"
        );
    }
}

#[test]
fn ansible_collection_built_by_install_sh_runs_by_fqcn() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=755");
    let fstab = sb.file("fstab", b"");
    let colls = sb.path("collections");
    let install = format!("{}/ansible/install.sh", env!("CARGO_MANIFEST_DIR"));
    sb.sh(&format!(
        "SHMGUARD_BIN={BIN} {install} --collection {colls} >/dev/null"
    ));
    let text = format!(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - shmguard.shm.shmguard:\n        path: {shm}\n        mode: \"1777\"\n        fstab_path: {fstab}\n        bogus: 1\n"
    );
    let pb = sb.file("fqcn.yml", text.as_bytes());
    // The action plugin's cache goes to the scratch directory, not the host's /var/cache.
    let cache = format!("shmguard_cache_dir={}", sb.path("cache"));
    let extra = ["-e", cache.as_str()];
    let env = [("ANSIBLE_COLLECTIONS_PATH", colls.as_str())];
    let (out, text) = run_playbook(&sb, &pb, &extra, &env);
    assert!(!out.status.success());
    assert!(
        text.contains("Unsupported parameters for (shmguard.shm.shmguard) module: bogus."),
        "{text}"
    );
    let fixed = String::from_utf8(sb.read(&pb))
        .unwrap()
        .replace("        bogus: 1\n", "");
    let pb = sb.file("fqcn.yml", fixed.as_bytes());
    let (out, text) = run_playbook(&sb, &pb, &extra, &env);
    assert!(out.status.success() && text.contains("changed=1"), "{text}");
    assert_eq!(sb.mode(&shm), "1777");
    assert_eq!(
        sb.sh(&format!("ls {}", sb.path("cache"))).lines().count(),
        1
    );
}

#[test]
fn ansible_module_returns_every_backup_in_backup_files() {
    let sb = Sandbox::new();
    let mq = sb.mqueue("mqueue", "rw");
    let fstab = sb.file("fstab", b"# site\n");
    let sysctl = sb.file("mq.conf", b"# site\nfs.mqueue.queues_max = 256\n");
    // `fstab` as ansible.posix.mount calls it.
    let out = sb.module(&serde_json::json!({
        "path": mq, "fstype": "mqueue", "options": ["nodev"], "queues_max": 512,
        "fstab": fstab, "sysctl_path": sysctl, "backup": true,
    }));
    assert_eq!(out["failed"], false, "{out}");
    let files: Vec<String> = out["backup_files"]
        .as_array()
        .unwrap_or_else(|| panic!("no backup_files: {out}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(files.len(), 2, "{out}");
    assert_eq!(out["backup_file"], files[0].as_str());
    let kept: Vec<Vec<u8>> = files.iter().map(|f| sb.read(f)).collect();
    assert!(kept.contains(&b"# site\n".to_vec()), "{out}");
    assert!(
        kept.contains(&b"# site\nfs.mqueue.queues_max = 256\n".to_vec()),
        "{out}"
    );
}

#[test]
fn ansible_module_state_absent_from_fstab_removes_the_entry_only() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=1777");
    let fstab = sb.file(
        "fstab",
        format!("# site\ntmpfs {shm} tmpfs nodev 0 0\n").as_bytes(),
    );
    let out =
        sb.module(&serde_json::json!({"path": shm, "state": "absent_from_fstab", "fstab": fstab}));
    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(sb.read(&fstab), b"# site\n");
    assert!(!sb.mountinfo(&shm).is_empty(), "never unmounts");
}

#[test]
fn ansible_module_warns_about_noexec_only_on_the_run_that_adds_it() {
    let sb = Sandbox::new();
    let shm = sb.tmpfs("shm", "size=64m,mode=1777");
    let fstab = sb.file("fstab", b"");
    let args = serde_json::json!({"path": shm, "options": ["nodev", "noexec"], "fstab": fstab});
    let warns = |out: &serde_json::Value| {
        out["warnings"].as_array().unwrap().iter().any(|w| {
            w.as_str()
                .unwrap()
                .starts_with("noexec on a shared-memory mount")
        })
    };
    let mut check = args.clone();
    check["_ansible_check_mode"] = true.into();
    assert!(
        warns(&sb.module(&check)),
        "check mode of a run that would add it warns"
    );
    let first = sb.module(&args);
    assert!(first["changed"] == true && warns(&first), "{first}");
    let again = sb.module(&args);
    assert!(again["changed"] == false && !warns(&again), "{again}");
    assert!(!warns(&sb.module(&check)), "nothing to add: no warning");
    // Live only (fstab already has it) still adds it: a fresh mount without noexec.
    sb.sh(&format!("mount -t tmpfs -o size=64m,mode=1777 tmpfs {shm}"));
    let live = sb.module(&args);
    assert!(live["changed"] == true && warns(&live), "{live}");
}

#[test]
fn ansible_doc_lists_and_documents_the_collection_module() {
    let sb = Sandbox::new();
    let colls = sb.path("collections");
    let install = format!("{}/ansible/install.sh", env!("CARGO_MANIFEST_DIR"));
    sb.sh(&format!(
        "SHMGUARD_BIN={BIN} {install} --collection {colls} >/dev/null"
    ));
    let tmp = sb.path("ansible-tmp");
    let doc = |args: &[&str]| {
        let out = sb
            .command(tool("ansible-doc").to_str().unwrap())
            .args(args)
            .env("ANSIBLE_HOME", &tmp)
            .env("ANSIBLE_LOCAL_TEMP", &tmp)
            .env("ANSIBLE_COLLECTIONS_PATH", &colls)
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        text
    };
    let list = doc(&["-l", "shmguard.shm"]);
    assert!(
        list.contains("shmguard.shm.shmguard") && list.contains("Enforce /dev/shm"),
        "{list}"
    );
    let text = doc(&["shmguard.shm.shmguard"]);
    for want in [
        "absent_from_fstab",
        "aliases: [fstab]",
        "shmguard.shm.shmguard:",
        "backup_files",
        "uploaded_bytes",
    ] {
        assert!(text.contains(want), "ansible-doc lacks {want:?}:\n{text}");
    }
}
