"""The measurements of bench/run: shmguard beside ansible.posix.mount + ansible.builtin.file
and beside Salt's mount.mounted + file.directory, and the binary's observe + plan cost as the
mount table and fstab grow. Prints tables of medians and ratios (peer / shmguard).

Runs ONLY inside the private mount and IPC namespaces bench/run creates (sandbox.py checks):
a fresh tmpfs covers the scratch directory, and every tool is pointed at a fresh tmpfs below it
(scratch/shm) and at scratch fstab files. The host's /dev/shm, /dev/mqueue, /etc/fstab and
/etc/sysctl.d are never named.

Timing: each run goes through bench/spawn.c: wall time around posix_spawn + wait4; CPU time is
user + system of the command and of every descendant it waited for; peak RSS is ru_maxrss, the
largest single process of the tree. Set-up (fresh tmpfs, fresh fstab) is done before the clock
starts; after each run shmguard --check says whether the policy holds (not timed either).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import time

from sandbox import MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID, LIBC, Sandbox, Stopwatch, die, mount, mount_points
from tables import fmt_time, measured, median, notes, ratios, table, yes

# The policy every tool enforces: mode, size, flags, persisted in fstab.
SIZE, MODE, FLAGS = "128m", "1777", ["nodev", "nosuid", "noexec"]
OPTS = ",".join(FLAGS + ["size=" + SIZE, "mode=" + MODE])
# (mount flags, data) of the fresh tmpfs at scratch/shm before each run.
STATES = {
    # a container-style /dev/shm: 64M, 0755, none of the flags
    "drifted": (0, "size=64m,mode=755"),
    "compliant": (MS_NODEV | MS_NOSUID | MS_NOEXEC, f"size={SIZE},mode={MODE}"),
}
STATE_TEXT = {
    "drifted": "drifted: fresh tmpfs size=64m mode=0755 without nodev/nosuid/noexec, no fstab entry",
    "compliant": "compliant: fresh tmpfs already as wanted, fstab as the tool itself leaves it",
}
BASE_FSTAB = (
    "# site fstab (shmguard bench)\n"
    "UUID=0a1b2c3d-0000-4000-8000-000000000001 / ext4 errors=remount-ro 0 1\n"
    "UUID=0a1b2c3d-0000-4000-8000-000000000002 /boot ext4 defaults 0 2\n"
)


def base_env(extra=None):
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    env.update(extra or {})
    return env


def synthetic_fstab(lines, path):
    """The shape benches/scaling.rs uses: comments, UUID entries, other tmpfs, a commented-out
    /dev/shm line, and the managed entry last (drifted: defaults)."""
    out = ["# synthetic fstab (shmguard bench)\n", "#tmpfs /dev/shm tmpfs defaults 0 0\n"]
    for i in range(2, max(lines - 1, 2)):
        if i % 10 == 0:
            out.append(f"# volume {i}\n")
        elif i % 10 == 3:
            out.append(f"tmpfs\t/mnt/scratch{i}\ttmpfs\tnodev,nosuid,size=1g\t0\t0\n")
        else:
            out.append(f"UUID=3f0c{i:08x}-7a1e-4c1d-9a59-1b2c3d4e5f60 /srv/vol{i} ext4 defaults,noatime 0 2\n")
    out.append(f"tmpfs {path} tmpfs defaults 0 0\n")
    return "".join(out)


def module_changed(r):
    """`changed` of a module's JSON result (Python payload or binary module)."""
    try:
        res = json.loads(r.out[r.out.index("{"):])
    except ValueError:
        die(f"module gave no JSON result:\n{r.out}")
    if res.get("failed"):
        die(f"module failed: {r.out}")
    return bool(res.get("changed"))


def recap_changed(r):
    """Whether ansible-playbook's recap counts a change; a failed play stops the bench."""
    for line in r.out.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            if "failed=0" not in line or "unreachable=0" not in line:
                die(f"ansible-playbook failed:\n{r.out}")
            return int(line.split("changed=")[1].split()[0]) > 0
    die(f"no play recap in ansible-playbook output:\n{r.out}")


def salt_duration(r):
    """The sum of Salt's own `duration` (ms) of the states of a salt-call --out=json result."""
    return sum(float(st.get("duration") or 0) for st in json.loads(r.out)["local"].values())


def salt_changed(r):
    """Whether any state of a salt-call --out=json result has changes; a failed state stops."""
    try:
        states = json.loads(r.out)["local"]
    except (ValueError, KeyError, TypeError):
        die(f"salt-call gave no state result:\n{r.out}")
    if any(s.get("result") is False for s in states.values()):
        die(f"a salt state failed:\n{json.dumps(states, indent=1)}")
    return any(s.get("changes") for s in states.values())


class Bench:
    def __init__(self, a):
        self.a = a
        self.sb = Sandbox(a.scratch, a.host_ns)
        self.clock = Stopwatch(a.spawn)
        self.fstab = self.sb.path("fstab")
        self.results = {}
        self.converged_fstab = {}  # (part, tool) -> the fstab it leaves: its compliant fstab
        self.ansible_env = base_env(
            {
                "ANSIBLE_CONFIG": self.sb.write("ansible/ansible.cfg", "[defaults]\n"),
                "ANSIBLE_HOME": self.sb.path("ansible/home"),
                "ANSIBLE_LOCAL_TEMP": self.sb.path("ansible/local"),
                "ANSIBLE_REMOTE_TEMP": self.sb.path("ansible/remote"),
                "ANSIBLE_PYTHON_INTERPRETER": a.python,
                "ANSIBLE_PIPELINING": "0",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_DEPRECATION_WARNINGS": "0",
            }
        )

    def run(self, argv, env, name="step"):
        return self.clock.run(argv, env, self.sb.path(f"{name}.out"))

    def shmguard_apply(self, fstab, extra):
        return [self.a.bin, "apply", "--json", "--path", self.sb.shm, "--mode", MODE, "--size", SIZE,
                "--option", ",".join(FLAGS), "--fstab-path", fstab] + extra

    # -- one measured step

    def reset(self, key, state):
        """A fresh tmpfs at scratch/shm and a fresh fstab: drifted, or compliant as `key` left it."""
        self.sb.fresh_shm(*STATES[state])
        if state == "drifted":
            text = BASE_FSTAB
        else:
            text = self.converged_fstab.get(key) or BASE_FSTAB + f"tmpfs {self.sb.shm} tmpfs {OPTS} 0 0\n"
        with open(self.fstab, "w") as f:
            f.write(text)

    def policy_left(self):
        """What shmguard --check still finds to do on the live mount and fstab (empty: holds)."""
        r = self.run(self.shmguard_apply(self.fstab, ["--check"]), base_env(), "check")
        try:
            return json.loads(r.out)["actions"]
        except (ValueError, KeyError):
            die(f"policy check gave no result: {r.out}")

    def step(self, key, state, cmds, changed, detail=None):
        """Fresh state, the commands in order (their costs add up), then the outcome; `detail`
        reads a figure out of each run's output (Salt's own state durations)."""
        self.reset(key, state)
        runs = [self.run(argv, env) for argv, env in cmds]
        did_change = any([changed(r) for r in runs])
        left = self.policy_left()
        if state == "drifted" and key not in self.converged_fstab:
            with open(self.fstab) as f:
                self.converged_fstab[key] = f.read()
        return {
            "wall": sum(r.wall for r in runs),
            "cpu": sum(r.cpu for r in runs),
            "rss": max(r.rss for r in runs),
            "parts": [{"wall": r.wall, "cpu": r.cpu, "rss": r.rss} for r in runs],
            "changed": did_change,
            "holds": not left,
            "left": left,
            **({"detail": sum(detail(r) for r in runs)} if detail else {}),
        }

    def compare(self, part, tools, changed, runs, detail=None):
        """tools: {"shmguard"|"peer": [(argv, env)...]}, on the drifted then the compliant state:
        a warm-up round (it also records the fstab each tool leaves, its compliant fstab), then
        `runs` rounds with the tools interleaved. Returns {state: {tool: [sample]}}."""
        out = self.results.setdefault(part, {})
        for state in ("drifted", "compliant"):
            samples = {t: [] for t in tools}
            for i in range(runs + (0 if self.a.quick else 1)):
                for t, cmds in tools.items():
                    s = self.step((part, t), state, cmds, changed, detail)
                    if i or self.a.quick:
                        samples[t].append(s)
            out[state] = samples
        return out

    def pair_table(self, res, title, ours, theirs, n):
        rows = []
        for state in ("drifted", "compliant"):
            sg, peer = res[state]["shmguard"], res[state]["peer"]
            for name, samples in ((ours, sg), (theirs, peer)):
                rows.append([f"{state}: {name}"] + measured(samples) + [yes(samples, "changed"), yes(samples, "holds")])
            rows.append([f"{state}: ratio"] + ratios(peer, sg) + ["", ""])
        table(f"{title} (median of {n})", ["", "wall", "CPU", "peak RSS", "changed", "policy holds"], rows)
        notes(res, {"shmguard": ours, "peer": theirs}, self.sb.dir)

    # -- Ansible

    def playbooks(self):
        """The policy as one shmguard task, and as the idiomatic ansible.posix.mount + file."""
        shm, fstab = self.sb.shm, self.fstab
        head = "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        ours = self.sb.write(
            "ansible/pb/shmguard.yml",
            head + "    - name: /dev/shm policy (mode, size, flags, fstab)\n      shmguard:\n"
            f"        path: {shm}\n        mode: \"{MODE}\"\n        size: {SIZE}\n"
            f"        options: [{', '.join(FLAGS)}]\n        fstab_path: {fstab}\n",
        )
        theirs = self.sb.write(
            "ansible/pb/idiomatic.yml",
            head + "    - name: mounted with size and flags, persisted in fstab\n"
            "      ansible.posix.mount:\n"
            f"        path: {shm}\n        src: tmpfs\n        fstype: tmpfs\n        opts: {OPTS}\n"
            f"        state: mounted\n        fstab: {fstab}\n"
            "    - name: mode 1777\n      ansible.builtin.file:\n"
            f"        path: {shm}\n        state: directory\n        mode: \"{MODE}\"\n",
        )
        # Installed as users do: ansible/install.sh puts the static binary in library/.
        if not os.path.exists(self.sb.path("ansible/pb/library/shmguard")):
            install = os.path.join(self.a.repo, "ansible/install.sh")
            p = subprocess.run([install, self.sb.path("ansible/pb")], env=dict(os.environ, SHMGUARD_BIN=self.a.bin),
                               capture_output=True, text=True)
            if p.returncode != 0:
                die(f"ansible/install.sh failed: {p.stdout}{p.stderr}")
        return ours, theirs

    def ansible_playbook(self, pb, extra_env=None):
        argv = [os.path.join(self.a.ansible_venv, "bin/ansible-playbook"), "-i", "localhost,", "-c", "local", pb]
        return argv, dict(self.ansible_env, **(extra_env or {}))

    def capture_payloads(self):
        """Runs each playbook once keeping the remote files: the exact payloads (and, for the
        binary module, the args file) Ansible ships to a target. Returns {name: file}."""
        ours, theirs = self.playbooks()
        found = {}
        for pb, names in ((theirs, ("mount", "file")), (ours, ("shmguard",))):
            self.reset(None, "drifted")
            keep = self.sb.path("ansible/keep-" + os.path.basename(pb))
            argv, env = self.ansible_playbook(pb, {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TEMP": keep})
            r = self.run(argv, env, "capture")
            if r.code != 0:
                die(f"ansible-playbook {pb} failed:\n{r.out}")
            for name in names:
                files = glob.glob(f"{keep}/ansible-tmp-*/AnsiballZ_{name}*")
                if len(files) != 1:
                    die(f"kept payload AnsiballZ_{name} not found under {keep}: {files}")
                found[name] = files[0]
        found["args"] = os.path.join(os.path.dirname(found["shmguard"]), "args")
        return found

    def part_module(self):
        """One module execution as Ansible runs it on the target, the payloads run directly."""
        p = self.capture_payloads()
        tools = {
            "shmguard": [([p["shmguard"], p["args"]], base_env())],
            "peer": [([self.a.python, p["mount"]], base_env()), ([self.a.python, p["file"]], base_env())],
        }
        res = self.compare("module", tools, module_changed, self.a.runs)
        size = {k: os.path.getsize(v) for k, v in p.items()}
        shipped = {"shmguard": size["shmguard"] + size["args"], "mount": size["mount"], "file": size["file"]}
        both = shipped["mount"] + shipped["file"]
        for state in ("drifted", "compliant"):
            sg, pair = res[state]["shmguard"], res[state]["peer"]

            def part(i):
                return lambda x, k: x["parts"][i][k]

            rows = [
                ["shmguard (static binary + args)"] + measured(sg)
                + [f"{shipped['shmguard']:,}", yes(sg, "changed"), yes(sg, "holds")],
                ["ansible.posix.mount"] + measured(pair, part(0)) + [f"{shipped['mount']:,}", "", ""],
                ["ansible.builtin.file"] + measured(pair, part(1)) + [f"{shipped['file']:,}", "", ""],
                ["mount + file"] + measured(pair) + [f"{both:,}", yes(pair, "changed"), yes(pair, "holds")],
                ["ratio (mount + file) / shmguard"] + ratios(pair, sg)
                + [f"x{both / shipped['shmguard']:.2f}", "", ""],
            ]
            table(
                f"One module execution on the target, {STATE_TEXT[state]} (median of {self.a.runs})",
                ["", "wall", "CPU", "peak RSS", "bytes shipped", "changed", "policy holds"],
                rows,
            )
        notes(res, {"shmguard": "shmguard", "peer": "ansible.posix.mount + ansible.builtin.file"}, self.sb.dir)
        self.results["shipped"] = shipped

    def part_playbook(self):
        """One ansible-playbook run of the whole policy against localhost."""
        ours, theirs = self.playbooks()
        tools = {"shmguard": [self.ansible_playbook(ours)], "peer": [self.ansible_playbook(theirs)]}
        res = self.compare("playbook", tools, recap_changed, self.a.runs_slow)
        self.pair_table(res, "ansible-playbook, the whole policy on localhost", "1 shmguard task",
                        "2 tasks: mount + file", self.a.runs_slow)

    # -- Salt

    def salt_minion(self):
        """A masterless minion under scratch with shmguard's Salt modules; two SLS files."""
        shm, fstab = self.sb.shm, self.fstab
        # Copies: Salt compiles the modules and would leave __pycache__ in the repository.
        for d in ("_states", "_modules"):
            shutil.copytree(os.path.join(self.a.repo, "salt", "formula", d), self.sb.path(f"salt/{d}"))
        conf = self.sb.write(
            "salt/conf/minion",
            f"id: bench-minion\nfile_client: local\nroot_dir: {self.sb.path('salt/root')}\n"
            f"file_roots:\n  base:\n    - {self.sb.path('salt/srv')}\n"
            f"states_dirs:\n  - {self.sb.path('salt/_states')}\n"
            f"module_dirs:\n  - {self.sb.path('salt/_modules')}\n"
            f"shmguard:\n  binary: {self.a.bin}\nlog_level: quiet\n",
        )
        self.sb.write(
            "salt/srv/shmguard.sls",
            f"{shm}:\n  shmguard.managed:\n    - mode: \"{MODE}\"\n    - size: {SIZE}\n"
            f"    - options: [{', '.join(FLAGS)}]\n    - fstab_path: {fstab}\n",
        )
        self.sb.write(
            "salt/srv/idiomatic.sls",
            f"{shm}:\n  mount.mounted:\n    - device: tmpfs\n    - fstype: tmpfs\n    - opts: {OPTS}\n"
            f"    - config: {fstab}\n    - persist: True\n    - mkmnt: False\n"
            f"  file.directory:\n    - mode: \"{MODE}\"\n",
        )
        return os.path.dirname(conf)

    def part_salt(self):
        """One salt-call --local state.apply of the policy."""
        conf = self.salt_minion()

        def salt_call(sls):
            exe = os.path.join(self.a.salt_venv, "bin/salt-call")
            return [exe, "--local", "-c", conf, "--out=json", "state.apply", sls], base_env()

        tools = {"shmguard": [salt_call("shmguard")], "peer": [salt_call("idiomatic")]}
        res = self.compare("salt", tools, salt_changed, self.a.runs_slow, detail=salt_duration)
        self.pair_table(res, "salt-call --local state.apply", "shmguard.managed",
                        "mount.mounted + file.directory", self.a.runs_slow)
        rows = []
        for state in ("drifted", "compliant"):
            ms = {t: median([x["detail"] for x in res[state][t]]) for t in ("shmguard", "peer")}
            rows.append([state, f"{ms['shmguard']:.2f} ms", f"{ms['peer']:.2f} ms",
                         f"x{ms['peer'] / ms['shmguard']:.1f}" if ms["shmguard"] else "-"])
        table(f"Salt's own `duration` of the states (median of {self.a.runs_slow})",
              ["", "shmguard.managed", "mount.mounted + file.directory", "ratio"], rows)

    # -- scaling

    def part_scaling(self):
        """The real binary in check mode: observe (the kernel's mountinfo, a real fstab file) and
        plan, process start included. The tables show the CPU time added over a baseline (the
        mounts this namespace already has, a 10-line fstab), per mount and per line: linear
        growth is a steady per-unit cost, x10 the added cost for x10 the input. Per-unit figures
        use CPU time because wall time on a busy machine also counts waiting for a core."""
        q, n = self.a.quick, self.a.runs_scaling
        mounts = [10, 100] if q else [100, 1000, 10000]
        lines = [100, 1000] if q else [1000, 10000, 100000]
        small = 10
        made = []

        def set_mounts(k):
            """k extra tmpfs mounts under scratch/m (each its own superblock)."""
            while len(made) > k:
                LIBC.umount2(made.pop().encode(), MNT_DETACH)
            while len(made) < k:
                p = self.sb.path(f"m/{len(made)}")
                os.makedirs(p, exist_ok=True)
                mount("tmpfs", p, "tmpfs", MS_NODEV | MS_NOSUID, "size=1m,mode=700")
                made.append(p)

        fstab = [None]

        def set_lines(k):
            fstab[0] = self.sb.write(f"fstab-{k}", synthetic_fstab(k or small, self.sb.shm))

        def measure():
            walls, cpus = [], []
            for i in range(n + (0 if q else 1)):  # the first run is a warm-up
                r = self.run(self.shmguard_apply(fstab[0], ["--check"]), base_env(), "scale")
                res = json.loads(r.out)
                if not res.get("changed") or res.get("failed"):
                    die(f"expected a plan with changes: {r.out[:500]}")
                if i or q:
                    walls.append(r.wall)
                    cpus.append(r.cpu)
            return median(walls), median(cpus)

        def sweep(sizes, setup):
            setup(0)
            w0, c0 = measure()
            rows, prev = [["baseline", fmt_time(w0), fmt_time(c0), "", "", ""]], None
            for k in sizes:
                setup(k)
                w, c = measure()
                added = c - c0
                rows.append([f"{k:,}", fmt_time(w), fmt_time(c), fmt_time(added), f"{added / k * 1e6:.2f} µs",
                             f"x{added / prev:.1f} for x10" if prev and prev > 0 else "-"])
                prev = added
            setup(0)
            return rows

        self.sb.fresh_shm(*STATES["drifted"])
        set_lines(0)
        base = len(mount_points())
        head = ["wall", "CPU", "added CPU"]
        table(f"Scaling, real binary with --check (observe + plan): tmpfs mounts added to the {base} this "
              f"namespace lists; fstab {small} lines (median of {n})",
              ["mounts added"] + head + ["per mount", "growth"], sweep(mounts, set_mounts))
        table(f"Scaling, real binary with --check (observe + plan): fstab lines, over a {small}-line "
              f"baseline; {base} mounts (median of {n})",
              ["fstab lines"] + head + ["per line", "growth"], sweep(lines, set_lines))
        set_mounts(mounts[-1])
        set_lines(lines[-1])
        w, c = measure()
        set_mounts(0)
        target = "-" if q else ("met" if w < 0.020 else "NOT met")
        table(f"Scaling, real binary with --check: both at once (median of {n})",
              ["mounts", "fstab lines", "wall", "CPU", "target < 20 ms"],
              [[f"{base + mounts[-1]:,}", f"{lines[-1]:,}", fmt_time(w), fmt_time(c), target]])
        self.results["scaling"] = {"both_wall": w, "both_cpu": c}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scratch", required=True)
    p.add_argument("--host-ns", required=True, help='"mnt:[N] ipc:[M]" of the host, to refuse to run there')
    p.add_argument("--spawn", required=True, help="the launcher built from bench/spawn.c")
    p.add_argument("--bin", required=True, help="the static shmguard binary")
    p.add_argument("--repo", required=True)
    p.add_argument("--python", required=True, help="the target's Python, which runs Ansible payloads")
    p.add_argument("--ansible-venv")
    p.add_argument("--salt-venv")
    p.add_argument("--runs", type=int, default=15, help="runs of one module execution")
    p.add_argument("--runs-slow", type=int, default=5, help="runs of ansible-playbook and salt-call")
    p.add_argument("--runs-scaling", type=int, default=21, help="runs of each scaling case")
    p.add_argument("--quick", action="store_true", help="one run of each, tiny inputs, no warm-up")
    p.add_argument("--parts", default="module,playbook,salt,scaling")
    p.add_argument("--json", help="write the raw samples here")
    a = p.parse_args()
    b = Bench(a)
    for part in a.parts.split(","):
        t0 = time.monotonic()
        getattr(b, "part_" + part)()
        print(f"({part}: {time.monotonic() - t0:.0f} s)\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(b.results, f, indent=1)


if __name__ == "__main__":
    main()
