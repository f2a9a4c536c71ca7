//! SshHost: a loopback "host" for Ansible over real SSH — an sshd on 127.0.0.1 and a high port,
//! started inside a Sandbox (private mount and IPC namespaces) that has a fresh tmpfs on
//! /dev/shm, private tmpfs over /run and /var/cache (sshd's privsep dir, shmguard's cache), a
//! scratch fstab and, optionally, an unprivileged user with passwordless sudo (passwd, group,
//! shadow and sudoers bind-mounted in this namespace only). Stopped by PID on drop. The
//! controller (ansible-playbook) runs inside the same namespaces, so it sees the scratch files.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::sandbox::{BIN, Sandbox};

pub const SSHD: &str = "/usr/sbin/sshd";
/// The unprivileged user `with_user` adds (uid 4242, home in the scratch directory).
pub const USER: &str = "shmguard-e2e";

pub struct SshHost {
    pub sb: Sandbox,
    sshd: Child,
    pub port: u16,
    pub fstab: String,
    /// the scratch copy of the collection: ansible_collections/shmguard/shm below this
    pub collections: String,
}

/// A port no one listens on now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn tool(name: &str) -> PathBuf {
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

impl SshHost {
    /// A host whose /dev/shm is a fresh tmpfs mounted with `shm_opts`; `user`: also add the
    /// unprivileged USER with passwordless sudo.
    pub fn new(shm_opts: &str, user: bool) -> SshHost {
        SshHost::with_sshd_config(shm_opts, user, "")
    }

    /// `new`, with `extra` appended to sshd_config (salt-ssh copies with scp, whose protocol is
    /// SFTP: `Subsystem sftp internal-sftp`).
    pub fn with_sshd_config(shm_opts: &str, user: bool, extra: &str) -> SshHost {
        assert!(
            std::path::Path::new(SSHD).exists(),
            "{SSHD} not found: apt-get install openssh-server (with a policy-rc.d that exits 101 so no service starts; tests/deps does this as root)"
        );
        crate::sandbox::require_real_root();
        let sb = Sandbox::new();
        sb.tmpfs_over("/dev/shm", shm_opts);
        let d = sb.path("");
        // /var/cache holds the cached build and, during an upload, the new one beside it: the
        // debug build the tests ship is over 32 MB, so 64m was too small for two of them.
        sb.sh(&format!(
            "set -e; mount -n -t tmpfs -o mode=755,size=16m run /run; mkdir -m 755 /run/sshd; \
             mount -n -t tmpfs -o mode=755,size=256m cache /var/cache; \
             ssh-keygen -q -t ed25519 -N '' -f {d}/hostkey; ssh-keygen -q -t ed25519 -N '' -f {d}/id; \
             cp {d}/id.pub {d}/authorized_keys; chmod 644 {d}/authorized_keys"
        ));
        if user {
            assert!(
                std::path::Path::new("/usr/bin/sudo").exists(),
                "sudo not found: apt-get install sudo (tests/deps does this as root)"
            );
            sb.sh(&format!(
                "set -e; for f in passwd group shadow; do cp /etc/$f {d}/$f; done; \
                 echo '{USER}:x:4242:4242::{d}/home:/bin/sh' >> {d}/passwd; echo '{USER}:x:4242:' >> {d}/group; \
                 echo '{USER}:*:19000:0:99999:7:::' >> {d}/shadow; \
                 for f in passwd group shadow; do mount --bind {d}/$f /etc/$f; done; \
                 printf 'Defaults !requiretty\\nroot ALL=(ALL:ALL) ALL\\n{USER} ALL=(ALL:ALL) NOPASSWD: ALL\\n' > {d}/sudoers; \
                 chmod 440 {d}/sudoers; mount --bind {d}/sudoers /etc/sudoers; \
                 mkdir -m 755 {d}/home; chown 4242:4242 {d}/home"
            ));
        }
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nLogLevel VERBOSE\nMaxSessions 100\nMaxStartups 100\n{extra}"
        );
        sb.file("sshd_config", config.as_bytes());
        let sshd = sb
            .command(SSHD)
            .args([
                "-D",
                "-f",
                &format!("{d}/sshd_config"),
                "-E",
                &format!("{d}/sshd.log"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not listen on 127.0.0.1:{port}: {}",
                String::from_utf8_lossy(&sb.read(&format!("{d}/sshd.log")))
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let fstab = sb.file("fstab", b"# scratch fstab (shmguard e2e)\n");
        let collections = sb.path("collections");
        let coll = format!("{collections}/ansible_collections/shmguard/shm");
        let src = format!("{}/ansible/collection", env!("CARGO_MANIFEST_DIR"));
        sb.sh(&format!(
            "set -e; mkdir -p {coll}; cp -r {src}/. {coll}/; rm -f {coll}/files/shmguard-linux-*; \
             cp {BIN} {coll}/files/shmguard-linux-x86_64; chmod 644 {coll}/files/shmguard-linux-x86_64"
        ));
        SshHost {
            sb,
            sshd,
            port,
            fstab,
            collections,
        }
    }

    /// The collection's x86_64 build (the test binary), for tests that change it.
    pub fn build_path(&self) -> String {
        format!(
            "{}/ansible_collections/shmguard/shm/files/shmguard-linux-x86_64",
            self.collections
        )
    }

    /// Sessions sshd has started with a command so far (each remote command Ansible runs).
    pub fn remote_commands(&self) -> usize {
        String::from_utf8_lossy(&self.sb.read(&self.sb.path("sshd.log")))
            .matches("Starting session: command")
            .count()
    }

    /// An inventory for this host; `user`: connect as USER instead of root; `vars`: more host vars.
    pub fn inventory(&self, user: bool, vars: &str) -> String {
        let d = self.sb.path("");
        let who = if user { USER } else { "root" };
        let text = format!(
            "target ansible_host=127.0.0.1 ansible_port={} ansible_user={who} ansible_ssh_private_key_file={d}/id \
             ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' \
             ansible_remote_tmp={d}/remote-tmp {vars}\n",
            self.port
        );
        self.sb.file("inventory", text.as_bytes())
    }

    /// Writes a one-task playbook (`task` is the YAML of the task's keys under `- name: enforce`).
    pub fn playbook(&self, play_keys: &str, task: &str) -> String {
        let text = format!(
            "- hosts: all\n  gather_facts: false\n{play_keys}  tasks:\n    - name: enforce\n{task}"
        );
        self.sb.file("site.yml", text.as_bytes())
    }

    /// Runs ansible-playbook inside the sandbox; returns the output, its text and the task's
    /// result (the tree callback's file for the host).
    pub fn ansible_playbook(
        &self,
        inventory: &str,
        pb: &str,
        extra: &[&str],
    ) -> (Output, String, serde_json::Value) {
        self.ansible_playbook_of(&tool("ansible-playbook"), inventory, pb, extra)
    }

    /// ansible_playbook with the given ansible-playbook executable (another ansible-core).
    pub fn ansible_playbook_of(
        &self,
        program: &std::path::Path,
        inventory: &str,
        pb: &str,
        extra: &[&str],
    ) -> (Output, String, serde_json::Value) {
        self.ansible_playbook_env(program, inventory, pb, extra, &[])
    }

    /// ansible_playbook_of with more environment variables for ansible-playbook (the controller).
    pub fn ansible_playbook_env(
        &self,
        program: &std::path::Path,
        inventory: &str,
        pb: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> (Output, String, serde_json::Value) {
        let tmp = self.sb.path("ansible-tmp");
        let tree = self.sb.path("tree");
        self.sb.sh(&format!("rm -rf {tree}"));
        let out = self
            .sb
            .command(program.to_str().unwrap())
            .args(["-i", inventory, pb])
            .args(extra)
            .env("ANSIBLE_HOME", &tmp)
            .env("ANSIBLE_LOCAL_TEMP", format!("{tmp}/local"))
            .env("ANSIBLE_SSH_CONTROL_PATH_DIR", format!("{tmp}/cp"))
            .env("ANSIBLE_COLLECTIONS_PATH", &self.collections)
            .env("ANSIBLE_PIPELINING", "1")
            // Masters end soon after the run, so no ssh process outlives the test for long.
            .env(
                "ANSIBLE_SSH_ARGS",
                "-C -o ControlMaster=auto -o ControlPersist=2s",
            )
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .env("ANSIBLE_DEPRECATION_WARNINGS", "0")
            .env("ANSIBLE_CALLBACKS_ENABLED", "ansible.builtin.tree")
            .env("ANSIBLE_CALLBACK_TREE_DIR", &tree)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let text = output_text(&out);
        let result = serde_json::from_slice(&self.sb.read(&format!("{tree}/target")))
            .unwrap_or(serde_json::Value::Null);
        (out, text, result)
    }

    /// `sh -c script` inside the host's namespaces.
    pub fn sh(&self, script: &str) -> String {
        self.sb.sh(script)
    }
}

impl Drop for SshHost {
    fn drop(&mut self) {
        // Stopped by its PID (nsenter execs sshd, so the child is sshd itself).
        let _ = self.sshd.kill();
        let _ = self.sshd.wait();
    }
}

/// A program's stdout then stderr, as text.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `f` and returns its value with the remote commands sshd started meanwhile.
pub fn counting<T>(host: &SshHost, f: impl FnOnce() -> T) -> (T, usize) {
    let before = host.remote_commands();
    let v = f();
    (v, host.remote_commands() - before)
}
