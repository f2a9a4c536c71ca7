//! Sandbox: private mount and IPC namespaces (and a user namespace when not root) held open
//! by a sleeping process; every command runs inside them through nsenter. Tests mount FRESH
//! tmpfs/mqueue filesystems under a scratch directory before shmguard may remount anything,
//! so the host's /dev/shm, /dev/mqueue, /etc/fstab, sysctl.d and /run/lock are never touched.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_shmguard");

/// The parent of shmguard's lock directory (`shmguard::apply::LOCK_DIR`), private per sandbox.
const LOCKS: &str = "/run/lock";

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct Sandbox {
    holder: Child,
    pub dir: PathBuf,
    userns: bool,
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// For tests that need a second user (switching to `nobody`, a file owned by uid 1000): a user
/// namespace maps only the caller, so they need real root. Their names say `another_user`;
/// tests/run leaves them out, with a notice, when it is not run as root; run directly, such a
/// test fails saying why.
pub fn require_real_root() {
    assert!(
        is_root(),
        "this test needs a second user and so real root: run `sudo ./tests/run`"
    );
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = std::env::temp_dir().join(format!(
            "shmguard-e2e-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let userns = !is_root();
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--ipc"]);
        if userns {
            cmd.args(["--user", "--map-root-user"]);
        }
        // The holder proves it is inside before the tests use it: it prints once its namespaces exist.
        cmd.args(["sh", "-c", "echo ready; exec sleep 600"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut holder = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run unshare ({e}): install util-linux (unshare, nsenter); these tests need private mount namespaces")
        });
        let mut first = [0u8; 6];
        let ok = std::io::Read::read_exact(holder.stdout.as_mut().unwrap(), &mut first).is_ok();
        if !ok {
            let out = holder.wait_with_output().unwrap();
            panic!(
                "unshare could not create private namespaces: {}\nThese tests need mount rights: run them as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0).",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let sb = Sandbox {
            holder,
            dir,
            userns,
        };
        // Make the scratch directory itself a private tmpfs: nothing below it can reach the host.
        // /run/lock too, where shmguard keeps its lock files (/run/lock/shmguard): the host's
        // is never written. (Without a /run/lock shmguard locks the files' directories.)
        sb.sh(&format!(
            "mount -t tmpfs -o size=256m,mode=755 sandbox {} && \
             if [ -d {LOCKS} ]; then mount -t tmpfs -o size=1m,mode=1777 sandbox-lock {LOCKS}; fi",
            sb.dir.display()
        ));
        sb
    }

    /// The lock file shmguard takes for the managed file `managed` (in the sandbox's /run/lock).
    pub fn lock_file(&self, managed: &str) -> String {
        let name = shmguard::apply::lock_name(std::path::Path::new(managed));
        format!("{}/{name}", shmguard::apply::LOCK_DIR)
    }

    pub fn path(&self, rel: &str) -> String {
        self.dir.join(rel).display().to_string()
    }

    /// A command that runs inside the sandbox's namespaces.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("--target")
            .arg(self.holder.id().to_string())
            .args(["--mount", "--ipc"]);
        if self.userns {
            c.args(["--user", "--preserve-credentials"]);
        }
        c.arg("--").arg(program);
        c
    }

    /// Runs a shell script inside; panics with its output when it fails.
    pub fn sh(&self, script: &str) -> String {
        let out = self.command("sh").args(["-c", script]).output().unwrap();
        assert!(
            out.status.success(),
            "sandbox script failed: {script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Mounts a fresh tmpfs at `rel` with `opts` (creating the directory).
    pub fn tmpfs(&self, rel: &str, opts: &str) -> String {
        let p = self.path(rel);
        self.sh(&format!(
            "mkdir -p {p} && mount -t tmpfs -o {opts} tmpfs {p}"
        ));
        p
    }

    /// Mounts a fresh tmpfs over an absolute path such as /dev/shm — inside the sandbox's own
    /// mount namespace only, so the host's mount there is untouched.
    pub fn tmpfs_over(&self, path: &str, opts: &str) {
        assert!(
            path.starts_with("/dev/") && !path.contains(".."),
            "only /dev/shm and /dev/mqueue"
        );
        self.sh(&format!("mount -t tmpfs -o {opts} tmpfs {path}"));
    }

    /// Gives the sandbox a private /dev: a fresh tmpfs over /dev (inside this mount namespace
    /// only) with the host's null, zero, urandom and tty bound back in, and empty shm/ and
    /// mqueue/ mount points — so /dev/mqueue exists even where the host has none, without a
    /// mkdir on the real /dev.
    pub fn private_dev(&self) {
        let saved = self.path("hostdev");
        self.sh(&format!(
            "set -e; mkdir -p {saved}; mount --rbind /dev {saved}; mount -t tmpfs -o mode=755,size=1m sandbox-dev /dev; \
             for n in null zero full random urandom tty; do touch /dev/$n; mount --bind {saved}/$n /dev/$n; done; \
             mkdir /dev/shm /dev/mqueue"
        ));
    }

    /// Mounts a fresh mqueue (its own, in this IPC namespace) at `rel`.
    pub fn mqueue(&self, rel: &str, opts: &str) -> String {
        let p = self.path(rel);
        self.sh(&format!(
            "mkdir -p {p} && mount -t mqueue -o {opts} mqueue {p}"
        ));
        p
    }

    /// Runs `program ARGS` inside with `input` on its stdin; returns the output.
    pub fn run_with_input(&self, program: &str, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Writes a scratch file (fstab, sysctl) and returns its path.
    pub fn file(&self, rel: &str, bytes: &[u8]) -> String {
        let p = self.dir.join(rel);
        let script = format!("cat > '{}'", p.display());
        let out = self.run_with_input("sh", &["-c", &script], bytes);
        assert!(out.status.success(), "{out:?}");
        p.display().to_string()
    }

    pub fn read(&self, path: &str) -> Vec<u8> {
        self.command("cat").arg(path).output().unwrap().stdout
    }

    /// The mountinfo line of the mount at `path`, as the sandbox sees it.
    pub fn mountinfo(&self, path: &str) -> String {
        let all = String::from_utf8(self.read("/proc/self/mountinfo")).unwrap();
        all.lines()
            .rfind(|l| l.split(' ').nth(4) == Some(path))
            .unwrap_or("")
            .to_string()
    }

    pub fn mode(&self, path: &str) -> String {
        self.sh(&format!("stat -c %a {path}")).trim().to_string()
    }

    /// Mountinfo, modes and files of the sandbox, to prove a run changed nothing.
    pub fn snapshot(&self, paths: &[&str], files: &[&str]) -> String {
        let mut s = String::new();
        for p in paths {
            s += &format!("{}\n{}\n", self.mountinfo(p), self.mode(p));
        }
        for f in files {
            s += &format!("{f}: {:?}\n", self.read(f));
        }
        s += &self.sh("cat /proc/sys/fs/mqueue/queues_max /proc/sys/fs/mqueue/msg_max /proc/sys/fs/mqueue/msgsize_max");
        s
    }

    /// `shmguard ARGS...` inside; returns the output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(BIN).args(args).output().unwrap()
    }

    /// `shmguard apply ... --json`: the parsed result.
    pub fn apply(&self, args: &[&str]) -> Value {
        let mut all = vec!["apply", "--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// The smallest run that writes fstab: `apply --state present -o nodev` for `path`.
    pub fn add_nodev_entry(&self, path: &str, fstab: &str) -> Value {
        self.apply(&[
            "--path",
            path,
            "--state",
            "present",
            "-o",
            "nodev",
            "--fstab-path",
            fstab,
        ])
    }

    /// Runs the binary as Ansible does: `shmguard ARGS_FILE`.
    pub fn module(&self, args: &Value) -> Value {
        let file = self.file(
            &format!("args-{}.json", COUNTER.fetch_add(1, Ordering::Relaxed)),
            args.to_string().as_bytes(),
        );
        let out = self.run(&[&file]);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
