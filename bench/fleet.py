"""The fleet benchmark of bench/run (part `fleet`): the real ansible-playbook over real SSH to N
loopback "hosts", one shmguard task (the shmguard.shm collection) against ansible.posix.mount +
ansible.builtin.file enforcing the same policy. Forks 10, pipelining on, ControlPersist.

Each host is an sshd on 127.0.0.1 and a high port, started inside its OWN private mount and IPC
namespaces (unshare) where it first mounts a fresh tmpfs on /dev/shm (stacked: nothing of the
host's is ever remounted), a private /run (sshd's privsep dir, mount's utab) and a private
/var/cache (shmguard's cache); its fstab is a scratch file. Before every drifted run each host
gets a new fresh tmpfs on /dev/shm and a fresh fstab; the compliant run follows it unchanged
(each tool on the state it leaves itself). sshds are stopped by PID, the SSH masters with
`ssh -O exit`.

Reported: medians and ratios (peer / shmguard) of the playbook's wall time, the remote commands
per host (sshd's "Starting session: command" log lines) and the bytes each host's sshd received
(tcp_info bytes_received of its connections, SSH-compressed as Ansible's default -C sends them),
for the first run on an empty host (the build is uploaded) and for later runs.
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

from tables import table

SIZE, MODE, FLAGS = "128m", "1777", ["nodev", "nosuid", "noexec"]
OPTS = ",".join(FLAGS + ["size=" + SIZE, "mode=" + MODE])
DRIFTED_SHM = "size=64m,mode=755"
BASE_FSTAB = (
    "# site fstab (shmguard fleet bench)\n"
    "UUID=0a1b2c3d-0000-4000-8000-000000000001 / ext4 errors=remount-ro 0 1\n"
)
SSHD = "/usr/sbin/sshd"


def die(msg):
    print(f"fleet: {msg}", file=sys.stderr)
    sys.exit(1)


def sh(cmd, **kw):
    p = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)
    if p.returncode != 0:
        die(f"{cmd} failed: {p.stdout}{p.stderr}")
    return p.stdout


class Host:
    def __init__(self, i, d, port):
        self.name = f"h{i:02d}"
        self.dir = f"{d}/{self.name}"
        self.port = port
        self.fstab = f"{self.dir}/fstab"
        os.makedirs(self.dir)
        cfg = (f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nPidFile {self.dir}/sshd.pid\n"
               f"AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n"
               "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
               "LogLevel VERBOSE\nMaxSessions 100\nMaxStartups 100\n")
        with open(f"{self.dir}/sshd_config", "w") as f:
            f.write(cfg)
        setup = (f"set -e; mount -n -t tmpfs -o {DRIFTED_SHM} tmpfs /dev/shm; "
                 "mount -n -t tmpfs -o mode=755,size=16m run /run; mkdir -m 755 /run/sshd /run/mount; "
                 "mount -n -t tmpfs -o mode=755,size=64m cache /var/cache; "
                 f"exec {SSHD} -D -f {self.dir}/sshd_config -E {self.dir}/sshd.log")
        # unshare execs sh, which execs sshd: the PID is sshd's.
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--ipc", "sh", "-c", setup],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def inside(self, script):
        return sh(["nsenter", "--target", str(self.proc.pid), "--mount", "--ipc", "--", "sh", "-c", script])

    def reset_drifted(self):
        """A new fresh tmpfs on this host's /dev/shm (stacked over the last one) and a fresh fstab."""
        self.inside(f"mount -n -t tmpfs -o {DRIFTED_SHM} tmpfs /dev/shm")
        with open(self.fstab, "w") as f:
            f.write(BASE_FSTAB)

    def commands(self):
        try:
            with open(f"{self.dir}/sshd.log") as f:
                return f.read().count("Starting session: command")
        except FileNotFoundError:
            return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def bytes_received(ports):
    """{port: bytes received} over the established TCP connections to these local ports."""
    out = sh(["ss", "-Htin", "state", "established"])
    got = {p: 0 for p in ports}
    cur = None
    for line in out.splitlines():
        m = re.match(r"\s*\d+\s+\d+\s+127\.0\.0\.1:(\d+)\s", line)
        if m:
            cur = int(m.group(1)) if int(m.group(1)) in got else None
            continue
        b = re.search(r"bytes_received:(\d+)", line)
        if b and cur is not None:
            got[cur] += int(b.group(1))
            cur = None
    return got


class Fleet:
    def __init__(self, a):
        self.a = a
        d = self.dir = a.scratch
        sh(f"ssh-keygen -q -t ed25519 -N '' -f {d}/hostkey && ssh-keygen -q -t ed25519 -N '' -f {d}/id "
           f"&& cp {d}/id.pub {d}/authorized_keys")
        base = 20000 + (os.getpid() % 20000)
        self.hosts = [Host(i + 1, d, base + i) for i in range(a.hosts)]
        for h in self.hosts:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", h.port), timeout=1).close()
                    break
                except OSError:
                    pass
                if h.proc.poll() is not None:
                    die(f"sshd of {h.name} ended: {h.proc.stderr.read().decode()}")
                time.sleep(0.02)
            else:
                die(f"sshd of {h.name} does not listen on {h.port}")
        # The collection, as ansible-galaxy installs it from the tarball.
        self.colls = f"{d}/collections"
        sh([a.galaxy, "collection", "install", "-p", self.colls, a.tarball])
        lines = ["[fleet]"]
        for h in self.hosts:
            lines.append(f"{h.name} ansible_host=127.0.0.1 ansible_port={h.port} fstab={h.fstab}")
        lines += ["[fleet:vars]", "ansible_user=root", f"ansible_ssh_private_key_file={d}/id",
                  f"ansible_python_interpreter={a.python}", f"ansible_remote_tmp={d}/remote-tmp"]
        self.inventory = self.write("inventory", "\n".join(lines) + "\n")
        cfg = ("[defaults]\nforks = 10\nhost_key_checking = False\ngathering = explicit\n"
               "[ssh_connection]\npipelining = True\n"
               "ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s "
               "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n"
               f"control_path_dir = {d}/cp\n")
        self.env = {
            "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
            "ANSIBLE_CONFIG": self.write("ansible.cfg", cfg), "ANSIBLE_HOME": f"{d}/ansible-home",
            "ANSIBLE_LOCAL_TEMP": f"{d}/local", "ANSIBLE_COLLECTIONS_PATH": self.colls,
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_DEPRECATION_WARNINGS": "0",
        }
        head = "- name: /dev/shm policy\n  hosts: fleet\n  gather_facts: false\n  tasks:\n"
        self.playbooks = {
            "shmguard": self.write("shmguard.yml", head + (
                "    - name: /dev/shm mode, size, flags, fstab\n      shmguard.shm.shmguard:\n"
                f"        path: /dev/shm\n        mode: \"{MODE}\"\n        size: {SIZE}\n"
                f"        options: [{', '.join(FLAGS)}]\n        fstab: \"{{{{ fstab }}}}\"\n")),
            "peer": self.write("peer.yml", head + (
                "    - name: Mounted with size and flags, persisted in fstab\n      ansible.posix.mount:\n"
                f"        path: /dev/shm\n        src: tmpfs\n        fstype: tmpfs\n        opts: {OPTS}\n"
                "        state: mounted\n        fstab: \"{{ fstab }}\"\n"
                "    - name: Mode 1777\n      ansible.builtin.file:\n"
                f"        path: /dev/shm\n        state: directory\n        mode: \"{MODE}\"\n")),
        }
        self.tasks = {"shmguard": 1, "peer": 2}

    def write(self, name, text):
        p = f"{self.dir}/{name}"
        with open(p, "w") as f:
            f.write(text)
        return p

    def play(self, tool, expect_changed):
        """One ansible-playbook run of `tool` on every host: wall seconds, commands and bytes per host."""
        ports = [h.port for h in self.hosts]
        c0, b0 = [h.commands() for h in self.hosts], bytes_received(ports)
        t0 = time.monotonic()
        p = subprocess.run([self.a.playbook, "-i", self.inventory, self.playbooks[tool]], env=self.env,
                           capture_output=True, text=True)
        wall = time.monotonic() - t0
        c1, b1 = [h.commands() for h in self.hosts], bytes_received(ports)
        recap = [ln for ln in p.stdout.splitlines() if re.match(r"h\d\d\s+:", ln)]
        if p.returncode != 0 or len(recap) != len(self.hosts) or any("failed=0" not in ln or "unreachable=0" not in ln for ln in recap):
            die(f"{tool} playbook failed:\n{p.stdout}{p.stderr}")
        changed = [int(ln.split("changed=")[1].split()[0]) > 0 for ln in recap]
        if any(c != expect_changed for c in changed):
            die(f"{tool}: expected changed={expect_changed} on every host:\n{p.stdout}")
        cmds = [b - a for a, b in zip(c0, c1)]
        sent = [b1[p] - b0.get(p, 0) if b1[p] >= b0.get(p, 0) else b1[p] for p in ports]
        return {"wall": wall, "commands": statistics.median(cmds), "bytes": statistics.median(sent)}

    def policy_holds(self):
        """shmguard --check on every host: nothing left to do."""
        for h in self.hosts:
            out = h.inside(f"{self.a.bin} apply --json --check --path /dev/shm --mode {MODE} --size {SIZE} "
                           f"--option {','.join(FLAGS)} --fstab-path {h.fstab}")
            if json.loads(out)["actions"]:
                return False
        return True

    def run(self):
        res = {t: {"first": None, "drifted": [], "compliant": [], "holds": True} for t in self.playbooks}
        for t in self.playbooks:  # the first run on fresh hosts: shmguard uploads its build here
            for h in self.hosts:
                h.reset_drifted()
            res[t]["first"] = self.play(t, True)
            res[t]["holds"] &= self.policy_holds()
        for i in range(self.a.runs):
            for t in self.playbooks:
                for h in self.hosts:
                    h.reset_drifted()
                res[t]["drifted"].append(self.play(t, True))
                res[t]["compliant"].append(self.play(t, False))
                if i == 0:
                    res[t]["holds"] &= self.policy_holds()
        return res

    def stop(self):
        for sock in os.listdir(f"{self.dir}/cp") if os.path.isdir(f"{self.dir}/cp") else []:
            subprocess.run(["ssh", "-o", f"ControlPath={self.dir}/cp/{sock}", "-O", "exit", "x"], capture_output=True)
        for h in self.hosts:
            h.stop()


def med(samples, k):
    return statistics.median(s[k] for s in samples)


def report(res, a):
    rows = []
    for state in ("drifted", "compliant"):
        sg, peer = res["shmguard"][state], res["peer"][state]
        for name, tool, s in (("1 shmguard task", "shmguard", sg), ("mount + file (2 tasks)", "peer", peer)):
            rows.append([f"{state}: {name}", f"{med(s, 'wall'):.2f} s", f"{med(s, 'commands'):g}",
                         f"{med(s, 'bytes'):,.0f}", "yes" if res[tool]["holds"] else "NO"])
        ratio = med(peer, "wall") / med(sg, "wall")
        rows.append([f"{state}: ratio peer / shmguard", f"x{ratio:.2f}", "", "", ""])
        res[f"ratio_{state}"] = ratio
    table(f"Fleet: ansible-playbook over SSH to {a.hosts} loopback hosts (own mount namespaces), forks 10, "
          f"pipelining, ControlPersist (median of {a.runs})",
          ["", "wall", "remote commands per host", "bytes sent per host", "policy holds"], rows)
    first = [[name, f"{res[t]['first']['wall']:.2f} s", f"{res[t]['first']['commands']:g}",
              f"{res[t]['first']['bytes']:,.0f}"]
             for name, t in (("1 shmguard task", "shmguard"), ("mount + file (2 tasks)", "peer"))]
    table("Fleet: the first run on fresh hosts (shmguard uploads its build once; no cache yet)",
          ["", "wall", "remote commands per host", "bytes sent per host"], first)
    per_task = {t: med(res[t]["compliant"], "commands") / n for t, n in (("shmguard", 1), ("peer", 2))}
    print(f"remote commands per host per task (compliant): shmguard {per_task['shmguard']:g}, "
          f"ansible.posix.mount/file {per_task['peer']:g}")
    for state, target in (("compliant", 2.0), ("drifted", 1.8)):
        r = res[f"ratio_{state}"]
        print(f"target {state} >= x{target}: x{r:.2f} {'met' if r >= target else 'NOT met'}")
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scratch", required=True, help="a private tmpfs directory (bench/run makes it)")
    p.add_argument("--hosts", type=int, default=20)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--playbook", required=True, help="ansible-playbook of a venv with ansible.posix")
    p.add_argument("--galaxy", required=True)
    p.add_argument("--tarball", required=True, help="the collection built by ansible/build-collection")
    p.add_argument("--bin", required=True, help="shmguard, to check the policy holds afterwards")
    p.add_argument("--python", required=True, help="the targets' Python (for the peer's modules)")
    p.add_argument("--json")
    a = p.parse_args()
    if os.geteuid() != 0:
        die("needs root (each host's sshd runs in its own mount namespace)")
    if not os.path.exists(SSHD):
        die(f"{SSHD} not found: tests/deps installs openssh-server")
    f = Fleet(a)
    try:
        res = f.run()
    finally:
        f.stop()
    report(res, a)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
