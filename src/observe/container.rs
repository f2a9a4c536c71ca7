//! Runtime: whether shmguard runs inside a Docker, Podman, containerd or Kubernetes container,
//! from the markers each runtime leaves (/.dockerenv, /run/.containerenv, the service-account
//! directory or KUBERNETES_SERVICE_HOST, cgroup paths in /proc/1/cgroup, the sources of the
//! files it bind-mounts, through statmount(2), or in /proc/self/mountinfo). Inside one,
//! /dev/shm belongs to the runtime: its size is set when the container starts, and remounting
//! it from inside fails with EPERM. `detect` reads below a root directory that tests point at
//! a fake tree; `advice` is pure.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::HumanBytes;

/// A container runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Docker,
    Podman,
    Containerd,
    Kubernetes,
}

/// Docker's (and Podman's) /dev/shm when the container was started without --shm-size.
pub const DOCKER_DEFAULT_SHM: u64 = 64 << 20;

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "Docker",
            Runtime::Podman => "Podman",
            Runtime::Containerd => "containerd",
            Runtime::Kubernetes => "Kubernetes",
        }
    }

    /// How to give the container a /dev/shm of at least `bytes` (rounded up to a MiB).
    pub fn shm_lever(self, bytes: u64) -> String {
        let mib = bytes.div_ceil(1 << 20).max(1);
        match self {
            Runtime::Docker => format!(
                "restart the container with `docker run --shm-size={mib}m ...` (or `--ipc=host` to share the host's /dev/shm); with Compose, set `shm_size: {mib}m` on the service"
            ),
            Runtime::Podman => format!(
                "restart the container with `podman run --shm-size={mib}m ...` (or `--ipc=host`)"
            ),
            Runtime::Containerd => format!(
                "restart the container with `nerdctl run --shm-size={mib}m ...` (or `--ipc=host`)"
            ),
            Runtime::Kubernetes => format!(
                "mount a memory-backed volume at /dev/shm in the pod spec: `volumes: [{{name: dshm, emptyDir: {{medium: Memory, sizeLimit: {mib}Mi}}}}]` and `volumeMounts: [{{name: dshm, mountPath: /dev/shm}}]`"
            ),
        }
    }
}

/// The sentence that explains why /dev/shm cannot be changed from inside, and the lever.
pub fn advice(rt: Runtime, shm_size: Option<u64>, want: u64) -> String {
    let default = match (rt, shm_size) {
        (Runtime::Docker | Runtime::Podman, Some(DOCKER_DEFAULT_SHM)) => format!(
            " (it is {}, {}'s default)",
            HumanBytes(DOCKER_DEFAULT_SHM),
            rt.name()
        ),
        _ => String::new(),
    };
    format!(
        "inside a {} container /dev/shm{default} is set by the container runtime (changing it from inside needs a privileged container, and lasts only until it restarts): {}",
        rt.name(),
        rt.shm_lever(want)
    )
}

/// Why a change was refused inside a container, and the runtime's lever: None outside one.
/// For /dev/shm the lever is the size it should have (the desired size, or the current one).
pub fn denied_advice(d: &crate::spec::Desired, o: &crate::observe::Observed) -> Option<String> {
    let rt = detect_here()?;
    let page = o.host.page_size;
    let current = o
        .live
        .as_ref()
        .and_then(|l| l.size_pages)
        .filter(|p| *p > 0)
        .map(|p| p * page);
    if d.path != "/dev/shm" {
        return Some(format!(
            "inside a {} container its mounts and IPC limits are set by the container runtime: start the container with what it needs (e.g. `--ipc=host`, or `--sysctl fs.mqueue.msg_max=...` with docker or podman run)",
            rt.name()
        ));
    }
    let want = match &d.size {
        Some(crate::spec::SizeTarget::Exact(q) | crate::spec::SizeTarget::AtLeast(q)) => {
            q.pages(&o.host) * page
        }
        None => current.unwrap_or(DOCKER_DEFAULT_SHM),
    };
    Some(advice(rt, current, want))
}

/// The markers, read below `root`; `env` looks up an environment variable.
pub fn detect(root: &Path, env: &dyn Fn(&str) -> Option<String>) -> Option<Runtime> {
    let at = |p: &str| root.join(p.trim_start_matches('/'));
    let text = |p: &str| std::fs::read_to_string(at(p)).unwrap_or_default();
    let cgroup = text("/proc/1/cgroup");
    // Read only when the cheaper markers did not decide.
    let mounts = std::cell::OnceCell::new();
    let mountinfo = || -> &str {
        mounts.get_or_init(|| {
            if root == Path::new("/") {
                mount_markers()
            } else {
                text("/proc/self/mountinfo")
            }
        })
    };
    if env("KUBERNETES_SERVICE_HOST").is_some_and(|v| !v.is_empty())
        || at("/var/run/secrets/kubernetes.io/serviceaccount").is_dir()
        || cgroup.contains("kubepods")
        || mountinfo().contains("/kubelet/pods/")
    {
        return Some(Runtime::Kubernetes);
    }
    if at("/run/.containerenv").exists() || env("container").as_deref() == Some("podman") {
        return Some(Runtime::Podman);
    }
    if at("/.dockerenv").exists()
        || cgroup.contains("/docker/")
        || cgroup.contains("docker-")
        || mountinfo().contains("/docker/containers/")
    {
        return Some(Runtime::Docker);
    }
    if cgroup.contains("containerd")
        || mountinfo().contains("/io.containerd.")
        || mountinfo().contains("/containerd/")
    {
        return Some(Runtime::Containerd);
    }
    None
}

/// The files a runtime bind-mounts into its containers, from its own state directory:
/// Docker's /var/lib/docker/containers/ID/hostname, the kubelet's
/// /var/lib/kubelet/pods/UID/etc-hosts, containerd's sandbox files.
const BIND_MOUNTED: [&str; 4] = [
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/dev/termination-log",
];

/// The text the mount markers are looked for in: the mount roots (mountinfo field 4) of the
/// files runtimes bind-mount, and the root mount's source and options (an overlay's
/// lowerdir= under /var/lib/containerd/io.containerd.snapshotter...), each through
/// statmount(2); the whole of /proc/self/mountinfo where the kernel cannot answer or
/// `SHMGUARD_OBSERVE=mountinfo` says so.
fn mount_markers() -> String {
    use crate::observe::statmount;
    let mounts = statmount::Mounts::new();
    let mut out = Vec::new();
    let fast = mounts.fast()
        && std::iter::once("/").chain(BIND_MOUNTED).all(|p| {
            match statmount::reach(Path::new(p), true) {
                // absent or unreadable: nothing mounted there to look at
                Err(_) => true,
                Ok(None) => false,
                Ok(Some(r)) if !r.mount_root => true,
                Ok(Some(r)) => match statmount::statmount(r.unique_id) {
                    None => false,
                    Some(raw) => {
                        let e = statmount::entry(&raw);
                        for part in [&e.root, &e.source, &e.super_options.join(",").into_bytes()] {
                            out.extend_from_slice(part);
                            out.push(b'\n');
                        }
                        true
                    }
                },
            }
        });
    if fast {
        return String::from_utf8_lossy(&out).into_owned();
    }
    mounts
        .table()
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .unwrap_or_default()
}

/// The runtime this process runs in. `SHMGUARD_CONTAINER_ROOT` points the markers at another
/// root (the end-to-end tests' fake trees).
pub fn detect_here() -> Option<Runtime> {
    let root = std::env::var_os("SHMGUARD_CONTAINER_ROOT").unwrap_or_else(|| "/".into());
    detect(Path::new(&root), &|k| std::env::var(k).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "shmguard-container-{}-{}",
            std::process::id(),
            files.first().map_or("none", |f| f.0).replace('/', "_")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (p, body) in files {
            let f = dir.join(p.trim_start_matches('/'));
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            if p.ends_with('/') {
                std::fs::create_dir_all(&f).unwrap();
            } else {
                std::fs::write(&f, body).unwrap();
            }
        }
        dir
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn each_runtime_is_told_by_its_markers() {
        type Files<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Files, Option<Runtime>); 7] = [
            (&[("/.dockerenv", "")], Some(Runtime::Docker)),
            (
                &[("/proc/1/cgroup", "0::/system.slice/docker-0a1b.scope\n")],
                Some(Runtime::Docker),
            ),
            (
                &[("/run/.containerenv", "engine=\"podman-4.9\"\n")],
                Some(Runtime::Podman),
            ),
            (
                &[("/proc/1/cgroup", "0::/system.slice/containerd.service/x\n")],
                Some(Runtime::Containerd),
            ),
            (
                &[("/var/run/secrets/kubernetes.io/serviceaccount/", "")],
                Some(Runtime::Kubernetes),
            ),
            (
                &[(
                    "/proc/1/cgroup",
                    "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-1.scope\n",
                )],
                Some(Runtime::Kubernetes),
            ),
            (&[("/proc/1/cgroup", "0::/init.scope\n")], None),
        ];
        for (files, want) in cases {
            let root = tree(files);
            assert_eq!(detect(&root, &no_env), want, "{files:?}");
            let _ = std::fs::remove_dir_all(root);
        }
        let empty = tree(&[("/etc/hostname", "h")]);
        let k8s = |k: &str| (k == "KUBERNETES_SERVICE_HOST").then(|| "10.0.0.1".to_string());
        assert_eq!(detect(&empty, &k8s), Some(Runtime::Kubernetes));
        assert_eq!(detect(&empty, &no_env), None);
        let _ = std::fs::remove_dir_all(empty);
    }

    #[test]
    fn the_advice_names_the_runtime_s_lever() {
        let a = advice(Runtime::Docker, Some(DOCKER_DEFAULT_SHM), 200 << 20);
        assert!(a.contains("64M, Docker's default"), "{a}");
        assert!(a.contains("docker run --shm-size=200m"), "{a}");
        assert!(
            a.contains("--ipc=host") && a.contains("shm_size: 200m"),
            "{a}"
        );
        assert!(advice(Runtime::Podman, None, 1 << 30).contains("podman run --shm-size=1024m"));
        let k = advice(Runtime::Kubernetes, None, 1 << 30);
        assert!(
            k.contains("emptyDir: {medium: Memory, sizeLimit: 1024Mi}")
                && k.contains("mountPath: /dev/shm"),
            "{k}"
        );
    }
}
