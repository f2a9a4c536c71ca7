//! Issue 25: shmguard observes the watched mounts one at a time through statx(2) and
//! statmount(2), never reading the whole /proc/self/mountinfo. The judges are the kernel's
//! own table (shmguard's mountinfo path, forced with SHMGUARD_OBSERVE=mountinfo) and
//! util-linux's findmnt, on varied fresh mounts in a private namespace; strace shows that
//! status, audit and apply --check open no mountinfo.

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox};

/// `shmguard status --observed PATHS` (the hidden test output: the live mount as the planner
/// gets it, and whether the fstab file is a mount point), statmount's or mountinfo's.
fn observed(sb: &Sandbox, fstab: &str, paths: &[&str], mountinfo: bool) -> Value {
    let mut c = sb.command(BIN);
    c.args(["status", "--observed", "--fstab-path", fstab])
        .args(paths);
    if mountinfo {
        c.env("SHMGUARD_OBSERVE", "mountinfo");
    } else {
        c.env_remove("SHMGUARD_OBSERVE");
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// findmnt's columns for the mount listed last at `path` (the top of a stack), as mountinfo
/// has them: ID, MAJ:MIN, FSTYPE, SOURCE, VFS-OPTIONS (field 6), FS-OPTIONS (the last).
fn findmnt(sb: &Sandbox, path: &str) -> Option<Vec<String>> {
    let out = sb
        .command("findmnt")
        .args([
            "-n",
            "-r",
            "-o",
            "ID,MAJ:MIN,FSTYPE,SOURCE,VFS-OPTIONS,FS-OPTIONS",
            "-M",
            path,
        ])
        .output()
        .unwrap_or_else(|e| panic!("findmnt ({e}): install util-linux"));
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.lines().last()?;
    Some(last.split(' ').map(String::from).collect())
}

#[test]
fn statmount_observes_what_mountinfo_and_findmnt_see() {
    let sb = Sandbox::new();
    let sized = sb.tmpfs("sized", "size=2m,nr_inodes=100,mode=1770");
    let ro = sb.tmpfs("ro", "ro,size=1m");
    let flags = sb.tmpfs("flags", "noexec,nosuid,nodev,noatime,size=1m");
    let strict = sb.tmpfs("strict", "strictatime,nodiratime,size=1m,mode=700");
    let mq = sb.mqueue("mq", "nodev,nosuid,noexec");
    // two mounts stacked on one path: the top one is judged
    let stacked = sb.tmpfs("stacked", "size=1m");
    sb.sh(&format!(
        "mount -n -t tmpfs -o size=3m,nosuid top {stacked}"
    ));
    // a mount covered by a later mount over its parent: the path reaches the parent's
    let covered = sb.path("parent/shm");
    sb.sh(&format!(
        "mkdir -p {covered} && mount -n -t tmpfs -o size=1m hidden {covered} && \
         mount -n -t tmpfs -o size=2m over {parent} && mkdir {covered}",
        parent = sb.path("parent")
    ));
    let gone = sb.tmpfs("gone", "size=1m");
    sb.sh(&format!("umount -n {gone}"));
    let plain = sb.path("plain");
    sb.sh(&format!("mkdir {plain}"));
    // fstab files: a plain one and one with a file bind-mounted on it
    let fstab = sb.file("fstab", b"tmpfs /dev/shm tmpfs defaults 0 0\n");
    let bound = sb.file("bound-fstab", b"# to be covered\n");
    sb.sh(&format!("mount -n --bind {fstab} {bound}"));

    let paths = [
        sized.as_str(),
        &ro,
        &flags,
        &strict,
        &mq,
        &stacked,
        &covered,
        &gone,
        &plain,
    ];
    for file in [&fstab, &bound] {
        let fast = observed(&sb, file, &paths, false);
        let slow = observed(&sb, file, &paths, true);
        assert_eq!(fast, slow, "statmount and mountinfo disagree");
        let is_mp = file == &bound;
        assert!(findmnt(&sb, file).is_some() == is_mp, "findmnt on {file}");
        for p in paths {
            assert_eq!(fast[p]["fstab_is_mount_point"], is_mp, "{file}: {fast}");
        }
    }

    let v = observed(&sb, &fstab, &paths, false);
    for p in [&sized, &ro, &flags, &strict, &mq, &stacked] {
        let live = &v[p.as_str()]["live"];
        let f = findmnt(&sb, p).unwrap_or_else(|| panic!("findmnt lists no mount at {p}"));
        let words = |x: &Value| {
            x.as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(live["mount_id"].to_string(), f[0], "{p}: {live}");
        assert_eq!(live["dev"], f[1], "{p}: {live}");
        assert_eq!(live["fstype"], f[2], "{p}: {live}");
        assert_eq!(live["source"], f[3], "{p}: {live}");
        assert_eq!(words(&live["super_options"]), f[5], "{p}: {live}");
        // field 6 as MountFlags reads it: the words present in findmnt's VFS-OPTIONS
        let vfs: Vec<&str> = f[4].split(',').collect();
        let flags_debug = live["flags_debug"].as_str().unwrap();
        for (word, field) in [
            ("ro", "read_only: true"),
            ("nosuid", "nosuid: true"),
            ("nodev", "nodev: true"),
            ("noexec", "noexec: true"),
            ("noatime", "atime: Noatime"),
            ("relatime", "atime: Relatime"),
            ("nodiratime", "nodiratime: true"),
        ] {
            assert_eq!(
                vfs.contains(&word),
                flags_debug.contains(field),
                "{p}: {word} in {vfs:?} vs {flags_debug}"
            );
        }
    }
    let at = |p: &str| &v[p]["live"];
    assert_eq!(at(&sized)["size_pages"], 2 << 20 >> 12, "{v}");
    assert_eq!(at(&sized)["nr_inodes"], 100, "{v}");
    assert_eq!(at(&sized)["mode"], "1770", "{v}");
    assert!(
        at(&strict)["flags_debug"]
            .as_str()
            .unwrap()
            .contains("Strictatime")
    );
    assert_eq!(at(&strict)["mode"], "700", "{v}");
    assert_eq!(at(&mq)["fstype"], "mqueue", "{v}");
    assert_eq!(at(&mq)["size_pages"], Value::Null, "{v}");
    assert_eq!(at(&stacked)["source"], "top", "the top of the stack: {v}");
    // findmnt still lists the covered mount; the path reaches the parent's, so nothing is
    // mounted there for shmguard (as stat's device says)
    assert_eq!(findmnt(&sb, &covered).unwrap()[3], "hidden");
    for p in [&covered, &gone, &plain] {
        assert_eq!(at(p), &Value::Null, "{p}: {v}");
        assert_eq!(v[p.as_str()]["path_kind"], "Directory", "{v}");
    }
}

/// The mountinfo opens of one traced run of `shmguard ARGS`.
fn mountinfo_opens(sb: &Sandbox, args: &[&str], mountinfo: bool) -> Vec<String> {
    let log = sb.path("strace-observe.log");
    let mut c = sb.command("strace");
    c.args([
        "-qq",
        "-f",
        "-e",
        "trace=open,openat,openat2",
        "-o",
        &log,
        BIN,
    ])
    .args(args);
    if mountinfo {
        c.env("SHMGUARD_OBSERVE", "mountinfo");
    } else {
        c.env_remove("SHMGUARD_OBSERVE");
    }
    let out = c.output().unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
    let text = String::from_utf8_lossy(&sb.read(&log)).into_owned();
    assert!(
        text.contains("openat("),
        "strace saw no open at all: {text}"
    );
    text.lines()
        .filter(|l| l.contains("/mountinfo"))
        .map(String::from)
        .collect()
}

#[test]
fn status_audit_and_apply_check_read_no_mountinfo() {
    crate::strace::require();
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "nodev,nosuid,noexec,mode=1777,size=16m");
    sb.sh("mount -n -t mqueue -o nodev,nosuid,noexec mqueue /dev/mqueue");
    let fstab = sb.file(
        "fstab",
        b"tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n",
    );
    let sysctl = sb.path("99-mqueue.conf");
    let runs: [&[&str]; 4] = [
        &["status", "--fstab-path", &fstab, "/dev/shm", "/dev/mqueue"],
        &[
            "audit",
            "--profile",
            "cis",
            "--fstab",
            &fstab,
            "--format",
            "json",
        ],
        &[
            "apply",
            "--json",
            "--check",
            "--path",
            "/dev/shm",
            "--size",
            "32m",
            "--fstab-path",
            &fstab,
        ],
        &[
            "apply",
            "--json",
            "--check",
            "--path",
            "/dev/mqueue",
            "--msg-max",
            "20",
            "--fstab-path",
            &fstab,
            "--sysctl-path",
            &sysctl,
        ],
    ];
    for args in runs {
        let opens = mountinfo_opens(&sb, args, false);
        assert!(opens.is_empty(), "{args:?} read mountinfo: {opens:?}");
        // the same run made to use mountinfo does open it: the trace would see it
        let opens = mountinfo_opens(&sb, args, true);
        assert!(
            !opens.is_empty(),
            "{args:?}: no mountinfo open even when forced"
        );
    }
}

/// Container detection looks at the mount roots of the files runtimes bind-mount (statmount),
/// not the whole mountinfo: a file from a kubelet pod directory bind-mounted on /etc/hosts (in
/// the sandbox's own mount namespace) marks a Kubernetes pod, and the lever the audit names is
/// the pod spec's, through statmount and through mountinfo alike.
#[test]
fn a_kubelet_file_bind_mounted_on_etc_hosts_marks_a_pod_through_statmount() {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=64m");
    let pod = sb.path("var/lib/kubelet/pods/0f1e2d3c/etc-hosts");
    sb.sh(&format!(
        "mkdir -p $(dirname {pod}) && echo '127.0.0.1 localhost' > {pod} && mount -n --bind {pod} /etc/hosts"
    ));
    let policy = sb.file(
        "policy.json",
        br#"{"path": "/dev/shm", "state": "ephemeral", "min_size": "128m"}"#,
    );
    for forced in [false, true] {
        let mut c = sb.command(BIN);
        c.args(["audit", "--policy", &policy, "--format", "json"])
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("SHMGUARD_CONTAINER_ROOT");
        if forced {
            c.env("SHMGUARD_OBSERVE", "mountinfo");
        } else {
            c.env_remove("SHMGUARD_OBSERVE");
        }
        let out = c.output().unwrap();
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        let detail = v["targets"][0]["checks"][1]["detail"].as_str().unwrap();
        assert!(
            detail.contains("inside a Kubernetes container")
                && detail.contains("emptyDir: {medium: Memory, sizeLimit: 128Mi}"),
            "forced mountinfo {forced}: {detail}"
        );
    }
}

/// Where the kernel cannot answer, mountinfo does, with the same observation: qemu-user does
/// not know statmount(2) (ENOSYS), so the aarch64 build under it takes the fallback on these
/// very mounts, and says what the native build says through statmount.
#[test]
fn without_statmount_the_fallback_gives_the_same_observation() {
    use crate::ansible_aarch64::{QEMU, aarch64_build};
    let bin = aarch64_build();
    let sb = Sandbox::new();
    let sized = sb.tmpfs("sized", "size=2m,nr_inodes=100,mode=1770,noexec");
    let stacked = sb.tmpfs("stacked", "size=1m");
    sb.sh(&format!(
        "mount -n -t tmpfs -o size=3m,nosuid,noatime top {stacked}"
    ));
    let mq = sb.mqueue("mq", "nodev");
    let fstab = sb.file("fstab", b"# none\n");
    let bound = sb.file("bound-fstab", b"");
    sb.sh(&format!("mount -n --bind {fstab} {bound}"));
    let paths = [sized.as_str(), &stacked, &mq];
    let native = observed(&sb, &bound, &paths, false);
    let log = sb.path("qemu-strace.log");
    let out = sb
        .command(QEMU)
        .args([
            "-strace",
            "-D",
            &log,
            &bin,
            "status",
            "--observed",
            "--fstab-path",
            &bound,
        ])
        .args(paths)
        .env_remove("SHMGUARD_OBSERVE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {QEMU} ({e}): apt-get install qemu-user"));
    assert!(out.status.success(), "{out:?}");
    let emulated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(emulated, native, "the fallback's observation differs");
    assert_eq!(
        native[sized.as_str()]["fstab_is_mount_point"],
        true,
        "{native}"
    );
    let trace = String::from_utf8_lossy(&sb.read(&log)).into_owned();
    assert!(
        trace.contains("Unknown syscall 457") && trace.contains("/proc/self/mountinfo"),
        "{QEMU} now runs statmount(2), so this test no longer exercises the fallback: {trace}"
    );
}
