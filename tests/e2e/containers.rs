//! Containers: shmguard recognises Docker, Podman, containerd and Kubernetes from each
//! runtime's markers (fake roots through SHMGUARD_CONTAINER_ROOT) and, where /dev/shm is too
//! small, names that runtime's lever — in the probe's remedy, in the audit's detail, and
//! when `apply` is refused inside the container.

use serde_json::Value;

use crate::sandbox::{BIN, Sandbox};

/// A fake root holding one runtime's markers, inside the sandbox's scratch tmpfs.
fn fake_root(sb: &Sandbox, name: &str, script: &str) -> String {
    let root = sb.path(&format!("root-{name}"));
    sb.sh(&format!("mkdir -p {root} && cd {root} && {script}"));
    root
}

fn runtimes(sb: &Sandbox) -> Vec<(String, &'static str)> {
    vec![
        (
            fake_root(sb, "docker", "touch .dockerenv"),
            "docker run --shm-size=",
        ),
        (
            fake_root(
                sb,
                "podman",
                "mkdir run && echo 'engine=\"podman-4.9\"' > run/.containerenv",
            ),
            "podman run --shm-size=",
        ),
        (
            fake_root(
                sb,
                "containerd",
                "mkdir -p proc/1 && echo '0::/system.slice/containerd.service/ctr-1' > proc/1/cgroup",
            ),
            "nerdctl run --shm-size=",
        ),
        (
            fake_root(
                sb,
                "kubernetes",
                "mkdir -p var/run/secrets/kubernetes.io/serviceaccount",
            ),
            "emptyDir: {medium: Memory, sizeLimit: ",
        ),
    ]
}

fn json(out: std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn each_runtime_s_lever_is_named_where_dev_shm_is_too_small() {
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=64m");
    for (root, lever) in runtimes(&sb) {
        let out = sb
            .command(BIN)
            .args([
                "probe", "--user", "root", "--bytes", "100m", "--format", "json",
            ])
            .env("SHMGUARD_CONTAINER_ROOT", &root)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap();
        let v = json(out);
        let reserve = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "reserve")
            .unwrap()
            .clone();
        let remedy = reserve["remedy"].as_str().unwrap();
        assert!(remedy.contains(lever), "{root}: {remedy}");
        assert!(remedy.contains("101"), "the size it needs: {remedy}");

        let policy = sb.file(
            "policy.json",
            br#"{"path": "/dev/shm", "state": "ephemeral", "min_size": "128m"}"#,
        );
        let out = sb
            .command(BIN)
            .args(["audit", "--policy", &policy, "--format", "json"])
            .env("SHMGUARD_CONTAINER_ROOT", &root)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap();
        let v = json(out);
        let detail = v["targets"][0]["checks"][1]["detail"].as_str().unwrap();
        assert!(detail.contains(lever) && detail.contains("128"), "{detail}");
        if lever.starts_with("docker") {
            assert!(detail.contains("64M, Docker's default"), "{detail}");
            // the 64M default is pointed out even when the probe passes
            let out = sb
                .command(BIN)
                .args(["probe", "--user", "root", "--format", "json"])
                .env("SHMGUARD_CONTAINER_ROOT", &root)
                .env_remove("KUBERNETES_SERVICE_HOST")
                .output()
                .unwrap();
            let v = json(out);
            let info = v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "container")
                .unwrap()
                .clone();
            assert_eq!(info["status"], "info");
            assert!(
                info["detail"]
                    .as_str()
                    .unwrap()
                    .contains("64M, the runtime's default")
                    && info["detail"]
                        .as_str()
                        .unwrap()
                        .contains("--shm-size=1024m"),
                "{info}"
            );
        }
    }
    // KUBERNETES_SERVICE_HOST alone marks a pod
    let empty = fake_root(&sb, "empty", "true");
    let out = sb
        .command(BIN)
        .args([
            "probe", "--user", "root", "--bytes", "100m", "--format", "json",
        ])
        .env("SHMGUARD_CONTAINER_ROOT", &empty)
        .env("KUBERNETES_SERVICE_HOST", "10.0.0.1")
        .output()
        .unwrap();
    assert!(
        json(out).to_string().contains("sizeLimit: 101Mi"),
        "KUBERNETES_SERVICE_HOST"
    );
    // and no markers, no container advice
    let out = sb
        .command(BIN)
        .args([
            "probe", "--user", "root", "--bytes", "100m", "--format", "json",
        ])
        .env("SHMGUARD_CONTAINER_ROOT", &empty)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    let text = json(out).to_string();
    assert!(!text.contains("container"), "{text}");
    assert!(text.contains("--min-size 101M"), "{text}");
}

/// A rootless container: root of a user namespace cannot remount a tmpfs its parent
/// namespace mounted (EPERM). `apply` then says why and names the runtime's lever.
#[test]
fn apply_refused_inside_a_container_names_the_runtime_s_lever() {
    let sb = Sandbox::new();
    sb.tmpfs_over("/dev/shm", "mode=1777,size=64m");
    let docker = fake_root(&sb, "docker", "touch .dockerenv");
    let out = sb
        .command("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            BIN,
            "apply",
            "--json",
        ])
        .args([
            "--path",
            "/dev/shm",
            "--min-size",
            "256m",
            "--state",
            "ephemeral",
        ])
        .env("SHMGUARD_CONTAINER_ROOT", &docker)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(out);
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains("EPERM"), "{msg}");
    assert!(
        msg.contains("inside a Docker container /dev/shm (it is 64M, Docker's default)")
            && msg.contains("docker run --shm-size=256m"),
        "{msg}"
    );
    assert!(
        sb.mountinfo("/dev/shm").contains("size=65536k"),
        "unchanged"
    );
}
