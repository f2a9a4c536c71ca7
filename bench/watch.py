"""The `shmguard watch` benchmark of bench/run (part `watch`, issue 25): how soon a drift is
reported, how soon Salt repairs it, and what the watcher costs while nothing it cares about
happens. Each figure is printed beside its goal.

Runs ONLY inside the private mount and IPC namespaces bench/run creates (sandbox.py checks), as
root (a remount that drops nodev needs it), with the salt venv's Python (the master's client and
event bus). Every watched mount point is a fresh tmpfs under the scratch directory and every
fstab a scratch file; the host's /dev/shm, /dev/mqueue, /etc/fstab and /etc/sysctl.d are never
named.

1. drift -> event: the watcher (`shmguard watch --policy P --format json`, asleep in poll) and
   one change made by a syscall from here: chmod 0755 of the mount point's root, a remount
   dropping nodev, the fstab replaced by rename. Timed from just before the syscall to the
   `drift` line read from the watcher's stdout; the change is undone (its `compliant` line read)
   and the watcher is asleep again before the next. Median and p95.
2. drift -> repair through Salt: a salt-master and a salt-minion on 127.0.0.1 (high ports picked
   free, each in a PID namespace of its own, stopped by PID), the minion in this mount namespace
   with the repository's formula, beacon (interval 1 s) and reactor. After a chmod 0755 of the
   minion's mount point: the time until the beacon's event is on the master's bus, until the
   reactor's state.apply has made it 1777 again, and until that job's return is on the bus.
3. idle CPU: the watcher's time on a CPU over a quiet minute (default --sysctl-interval 60, so
   its timer may fire once), from /proc/PID/task/*/schedstat (ns on CPU, the first field);
   utime + stime (clock ticks) and context switches beside it.
4. CPU per unrelated mount event in a namespace holding 10,000 more tmpfs mounts: K mount +
   umount pairs on a scratch directory the policy does not name; after each, the watcher is
   left to wake and fall asleep again (one wake-up per event, none coalesced). schedstat delta /
   events, with and without SHMGUARD_OBSERVE=mountinfo (which forces observation through the
   whole /proc/self/mountinfo), and the ratio.
5. beside it, `shmguard apply --check` at those 10,000 mounts with a 10-line fstab: the wall and
   CPU of one process (bench/spawn.c), the shape of the scaling part's 10,000-mount row.
"""

import argparse
import ctypes
import glob
import json
import logging
import math
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import time

from harness import base_env, synthetic_fstab
from salt_master import answering_client, free_port, stop, write
from sandbox import LIBC, MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID, Sandbox, Stopwatch, die, mount, umount
from tables import fmt_ratio, fmt_time, median, table

MS_REMOUNT = 32
FLAGS = MS_NODEV | MS_NOSUID | MS_NOEXEC
OPTIONS = ["nodev", "nosuid", "noexec"]
# Long enough for a loaded machine; only a hang waits this long.
PATIENCE = 60
TICK = os.sysconf("SC_CLK_TCK")


def say(msg):
    print(f"   watch: {msg}", file=sys.stderr, flush=True)


def p95(xs):
    """Nearest-rank 95th percentile."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]


def remount(path, flags):
    if LIBC.mount(None, path.encode(), None, MS_REMOUNT | flags, None) != 0:
        die(f"remount {path}: {os.strerror(ctypes.get_errno())}")


def replace(path, text):
    """Writes `text` next to `path` and renames it over `path`, as editors do."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def task_stats(pid):
    """Of every thread of `pid`: ns on a CPU and times scheduled (schedstat), utime + stime in
    seconds and context switches (stat, status)."""
    ns = runs = switches = voluntary = 0
    for task in glob.glob(f"/proc/{pid}/task/*"):
        with open(f"{task}/schedstat") as f:
            on_cpu, _, slices = f.read().split()
        ns, runs = ns + int(on_cpu), runs + int(slices)
        with open(f"{task}/status") as f:
            for line in f:
                if "ctxt_switches" in line:
                    switches += int(line.split()[1])
                    voluntary += int(line.split()[1]) if line.startswith("voluntary") else 0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    # voluntary switches: it went to sleep (once per wake-up); the others: it was preempted
    return {"cpu": ns / 1e9, "runs": runs, "ticks_cpu": ticks / TICK, "switches": switches, "sleeps": voluntary}


def schedules(pid):
    """How often the threads of `pid` were put on a CPU (schedstat's third field)."""
    n = 0
    for task in glob.glob(f"/proc/{pid}/task/*"):
        with open(f"{task}/schedstat") as f:
            n += int(f.read().split()[2])
    return n


def asleep_in_poll(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read()
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state == "S" and "poll" in wchan


def wait_asleep(pid, what):
    t0 = time.monotonic()
    while not asleep_in_poll(pid):
        if time.monotonic() - t0 > PATIENCE:
            die(f"{what} (pid {pid}) never went to sleep in poll")
        time.sleep(0.001)


class Watch:
    """A running `shmguard watch --format json`; its lines are read here as they come."""

    def __init__(self, binary, policy, env, log):
        with open(log, "wb") as err:
            self.proc = subprocess.Popen([binary, "watch", "--policy", policy, "--format", "json"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env)
        self.fd, self.buf, self.log = self.proc.stdout.fileno(), b"", log

    def line(self):
        deadline = time.monotonic() + PATIENCE
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                die(f"no line from shmguard watch within {PATIENCE} s")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                with open(self.log) as f:
                    die(f"shmguard watch ended (exit {self.proc.wait()}): {f.read()}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def expect(self, kind, failing=None):
        """The next event is `kind`; with `failing`, a check id ending so is among its failing."""
        e = self.line()
        if e.get("event") != kind or (failing and not any(c.endswith(failing) for c in e.get("failing", []))):
            die(f"expected {kind} ({failing or 'compliant'}) from shmguard watch, got {e}")
        return e

    def asleep(self):
        wait_asleep(self.proc.pid, "shmguard watch")

    def stats(self):
        return task_stats(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            die("shmguard watch did not end on SIGTERM")
        if code != 0:
            die(f"shmguard watch ended with {code} on SIGTERM")


class WatchBench:
    def __init__(self, a):
        self.a = a
        self.sb = Sandbox(a.scratch, a.host_ns)
        self.clock = Stopwatch(a.spawn)
        self.results = {}
        self.rows = []
        # fstab in a directory of its own: the watcher watches fstab's directory, and the
        # mount points made here (mkdir) must not wake it through that watch.
        self.fstab = self.sb.path("etc/fstab")
        self.fstab_text = f"tmpfs {self.sb.shm} tmpfs {','.join(OPTIONS)},mode=1777 0 0\n"
        self.sb.write("etc/fstab", self.fstab_text)
        self.policy = self.sb.write("policy.json", json.dumps(
            {"path": self.sb.shm, "mode": "1777", "options": OPTIONS, "fstab_path": self.fstab}))
        self.sb.fresh_shm(FLAGS, "size=8m,mode=1777")

    def row(self, label, samples, goal=None, limit=None, n=None):
        """One line of the table: median, p95 and n of `samples`, the goal and whether the
        median meets it (not judged on --quick's few runs and small inputs)."""
        m = median(samples)
        met = "" if limit is None else ("-" if self.a.quick else ("yes" if m <= limit else "NO"))
        p = fmt_time(p95(samples)) if len(samples) > 1 else ""
        self.rows.append([label, fmt_time(m), p, n or len(samples), goal or "", met])

    def watch(self, env=None):
        w = Watch(self.a.bin, self.policy, env or base_env(), self.sb.path("watch.err"))
        w.expect("initial")
        w.asleep()
        return w

    # -- 1 and 3: latency, then the same watcher idle

    def part_latency_and_idle(self):
        n = 3 if self.a.quick else self.a.runs
        shm, fstab = self.sb.shm, self.fstab
        drifted_fstab = f"tmpfs {shm} tmpfs defaults 0 0\n"
        kinds = {
            "chmod 0755 of the mount point's root": (
                lambda: os.chmod(shm, 0o755), lambda: os.chmod(shm, 0o1777), ".mode.live"),
            "remount dropping nodev": (
                lambda: remount(shm, MS_NOSUID | MS_NOEXEC), lambda: remount(shm, FLAGS), ".nodev.live"),
            "fstab replaced by rename": (
                lambda: replace(fstab, drifted_fstab), lambda: replace(fstab, self.fstab_text), ".nodev.fstab"),
        }
        w = self.watch()
        samples = {k: {"drift": [], "compliant": []} for k in kinds}
        for i in range(n + (0 if self.a.quick else 1)):  # the first round is a warm-up
            for kind, (drift, undo, check) in kinds.items():
                for step, event, fn in (("drift", "drift", drift), ("compliant", "compliant", undo)):
                    w.asleep()
                    t0 = time.perf_counter()
                    fn()
                    w.expect(event, check if event == "drift" else None)
                    if i or self.a.quick:
                        samples[kind][step].append(time.perf_counter() - t0)
        for kind in kinds:
            self.row(f"drift → `drift` line read: {kind}", samples[kind]["drift"], "≤ 100 ms", 0.100)
        self.results["latency"] = samples

        secs = 3 if self.a.quick else 60
        w.asleep()
        before = w.stats()
        time.sleep(secs)
        after = w.stats()
        w.stop()
        idle = {k: after[k] - before[k] for k in before}
        idle["seconds"] = secs
        self.results["idle"] = idle
        self.row(f"idle watcher, CPU over {secs} s (schedstat)", [idle["cpu"]], "≤ 1 ms", 0.001)
        self.rows.append([f"  utime + stime over {secs} s; context switches", f"{idle['ticks_cpu'] * 1e3:.0f} ms",
                          "", f"{idle['switches']} switches", "", ""])

    # -- 4 and 5: a namespace of many mounts

    def part_many_mounts(self):
        q = self.a.quick
        count = 1000 if q else 10000
        k = 10 if q else self.a.mount_pairs
        rounds = 1 if q else 3
        made = []
        for i in range(count):
            p = self.sb.path(f"m/{i}")
            os.makedirs(p)
            mount("tmpfs", p, "tmpfs", MS_NODEV | MS_NOSUID, "size=1m,mode=700")
            made.append(p)
        scratch = self.sb.path("unrelated")
        os.makedirs(scratch)
        variants = {"default": base_env(), "SHMGUARD_OBSERVE=mountinfo": base_env({"SHMGUARD_OBSERVE": "mountinfo"})}
        per_event = {v: [] for v in variants}
        wakeups = {v: [] for v in variants}
        sleeps = {v: [] for v in variants}
        for r in range(rounds):
            for v, env in (variants.items() if r % 2 == 0 else reversed(variants.items())):
                w = self.watch(env)
                pid = w.proc.pid
                before = w.stats()
                for _ in range(k):
                    for act in (lambda: mount("tmpfs", scratch, "tmpfs", MS_NODEV, "size=1m"),
                                lambda: umount(scratch)):
                        runs = schedules(pid)
                        act()
                        # It wakes (POLLPRI on mountinfo), reads, and sleeps again; a watcher
                        # that does not wake for an unrelated mount is let be after 0.5 s.
                        t0 = time.monotonic()
                        while not (schedules(pid) > runs and asleep_in_poll(pid)):
                            if time.monotonic() - t0 > 0.5 and asleep_in_poll(pid):
                                break
                            time.sleep(0.0005)
                after = w.stats()
                w.stop()
                per_event[v].append((after["cpu"] - before["cpu"]) / (2 * k))
                wakeups[v].append((after["runs"] - before["runs"]) / (2 * k))
                sleeps[v].append((after["sleeps"] - before["sleeps"]) / (2 * k))
        with open("/proc/self/mountinfo") as f:
            total = sum(1 for _ in f)
        for v in variants:
            label = f"CPU per unrelated mount event, {total:,} mounts" if v == "default" else f"  the same, {v}"
            self.row(label, per_event[v], "≤ 0.1 ms", 0.0001, f"{rounds} × {2 * k} events")
        m = {v: median(x) for v, x in per_event.items()}
        self.rows.append(["  ratio mountinfo / default", fmt_ratio(m["SHMGUARD_OBSERVE=mountinfo"] / m["default"]),
                          "", "", "", ""])
        woke, ran = median(sum(sleeps.values(), [])), median(sum(wakeups.values(), []))
        self.rows.append(["  per event: wake-ups (it went to sleep again); times put on a CPU",
                          f"{woke:.1f}", "", f"{ran:.1f}", "", ""])
        self.results["mount_events"] = {"mounts": total, "pairs": k, "cpu_per_event": per_event,
                                        "schedules_per_event": wakeups, "sleeps_per_event": sleeps}

        fstab10 = self.sb.write("etc/fstab-10", synthetic_fstab(10, self.sb.shm))
        argv = [self.a.bin, "apply", "--json", "--path", self.sb.shm, "--mode", "1777", "--size", "128m",
                "--option", ",".join(OPTIONS), "--fstab-path", fstab10, "--check"]
        walls, cpus = [], []
        n = 3 if q else self.a.runs_check
        for i in range(n + (0 if q else 1)):  # the first run is a warm-up
            r = self.clock.run(argv, base_env(), self.sb.path("check.out"))
            res = json.loads(r.out)
            if res.get("failed") or not res.get("changed"):
                die(f"expected a plan with changes (size, fstab): {r.out[:500]}")
            if i or q:
                walls.append(r.wall)
                cpus.append(r.cpu)
        # The shape of the scaling part's 10,000-mount row (its 10-line fstab), here beside the goal.
        self.row(f"`shmguard apply --check`, {total:,} mounts, 10-line fstab: wall", walls, "≤ 5 ms", 0.005)
        self.rows.append(["  its CPU (user + system)", fmt_time(median(cpus)), fmt_time(p95(cpus)), len(cpus), "", ""])
        self.results["check"] = {"mounts": total, "wall": walls, "cpu": cpus}
        for p in reversed(made):
            LIBC.umount2(p.encode(), MNT_DETACH)

    # -- 2: Salt

    def part_salt(self):
        """A salt-master and a minion with the formula, the beacon and the reactor."""
        import salt.config
        import salt.utils.event

        n = 1 if self.a.quick else self.a.runs_salt
        d = self.sb.path("salt")
        shm = self.sb.path("salt/shm")
        os.makedirs(shm)
        mount("tmpfs", shm, "tmpfs", 0, "size=64m,mode=755")  # drifted until the formula runs
        fstab = write(f"{d}/etc/fstab", "# site fstab (shmguard watch bench)\n")
        formula, placed = f"{d}/formula", f"{d}/sbin/shmguard"
        shutil.copytree(os.path.join(self.a.repo, "salt/formula"), formula)
        shutil.rmtree(f"{formula}/shmguard/files", ignore_errors=True)
        os.makedirs(f"{formula}/shmguard/files/x86_64")
        shutil.copy(self.a.bin, f"{formula}/shmguard/files/x86_64/shmguard")
        digest = subprocess.run(["sha256sum", "shmguard"], cwd=f"{formula}/shmguard/files/x86_64",
                                capture_output=True, text=True, check=True).stdout
        write(f"{formula}/shmguard/files/x86_64/shmguard.sha256", digest)
        reactor = f"{d}/reactor/shmguard.sls"
        os.makedirs(os.path.dirname(reactor))
        shutil.copy(os.path.join(self.a.repo, "salt/reactor/shmguard.sls"), reactor)
        write(f"{d}/pillar/top.sls", "base:\n  '*':\n    - shmguard\n")
        write(f"{d}/pillar/shmguard.sls",
              f"shmguard:\n  binary: {placed}\n  mounts:\n    {shm}:\n      mode: \"1777\"\n      size: 128m\n"
              f"      options: [{', '.join(OPTIONS)}]\n      fstab_path: {fstab}\n")
        publish, ret = free_port(), free_port()
        mconf = write(
            f"{d}/master-conf/master",
            f"root_dir: {d}/master-root\ninterface: 127.0.0.1\npublish_port: {publish}\nret_port: {ret}\n"
            f"auto_accept: True\nfile_roots:\n  base:\n    - {formula}\npillar_roots:\n  base:\n    - {d}/pillar\n"
            f"reactor:\n  - 'salt/beacon/*/shmguard/*':\n    - {reactor}\n",
        )
        minion = "bench-watch-minion"
        write(
            f"{d}/minion-conf/minion",
            f"id: {minion}\nroot_dir: {d}/minion-root\nmaster: 127.0.0.1\nmaster_port: {ret}\n"
            f"publish_port: {publish}\nacceptance_wait_time: 1\nrandom_reauth_delay: 0\n"
            "beacons:\n  shmguard:\n    - interval: 1\n",
        )
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        daemons = []
        started = time.monotonic()
        for prog, conf in (("salt-master", f"{d}/master-conf"), ("salt-minion", f"{d}/minion-conf")):
            # A PID namespace each: stopping unshare (by PID) ends the daemon and all it forked,
            # the beacon's shmguard watch among them.
            daemons.append(subprocess.Popen(
                ["unshare", "--pid", "--fork", "--kill-child", f"{self.a.salt_venv}/bin/{prog}", "-c", conf,
                 "-l", "warning"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, env=env))
        bus = None
        client = None
        try:
            key = f"{d}/master-root/etc/salt/pki/master/minions/{minion}"
            while not os.path.exists(key):  # accepted (auto_accept): pinging before prints noise
                if time.monotonic() - started > 120:
                    die(f"the master accepted no key of the minion within 120 s ({key})")
                time.sleep(0.2)
            client = answering_client(mconf, minion, started)
            up = time.monotonic() - started
            say(f"the minion answered after {up:.1f} s")
            sync = client.cmd(minion, "saltutil.sync_all", timeout=120).get(minion)
            if "beacons.shmguard" not in json.dumps(sync):
                die(f"saltutil.sync_all did not bring the beacon: {sync}")
            mopts = salt.config.master_config(mconf)
            bus = salt.utils.event.get_master_event(mopts, mopts["sock_dir"], listen=True)
            first = client.cmd(minion, "state.apply", ["shmguard"], timeout=120).get(minion)
            if not isinstance(first, dict) or any(v.get("result") is not True for v in first.values()):
                die(f"the formula failed: {first}")
            say(f"formula applied after {time.monotonic() - started:.1f} s")
            if stat.S_IMODE(os.stat(shm).st_mode) != 0o1777:
                die(f"the formula left {shm} mode {oct(os.stat(shm).st_mode)}")

            def drain(seconds):
                """The bus's events for `seconds`: (receipt time, tag, data)."""
                out, end = [], time.monotonic() + seconds
                while time.monotonic() < end:
                    ev = bus.get_event(wait=0.005, full=True, no_block=False)
                    if ev:
                        out.append((time.perf_counter(), ev["tag"], ev["data"]))
                return out

            samples = {"event": [], "repaired": [], "returned": []}
            tag = f"salt/beacon/{minion}/shmguard/{shm.lstrip('/')}"
            for i in range(n + (0 if self.a.quick else 1)):  # the first round is a warm-up
                # Quiet: no job running (the last round's, or a repair of the watch's initial
                # verdict), nothing pending on the bus, the beacon's watch asleep.
                while client.cmd(minion, "saltutil.running", timeout=30).get(minion):
                    time.sleep(0.2)
                drain(1.0)
                wait_asleep(self.beacon_watch(placed), "the beacon's shmguard watch")
                t0 = time.perf_counter()
                os.chmod(shm, 0o755)
                seen = {}
                deadline = time.monotonic() + PATIENCE
                while len(seen) < 3:
                    if time.monotonic() > deadline:
                        die(f"no repair through the beacon and reactor within {PATIENCE} s: {seen}")
                    for t, evtag, data in drain(0.005):
                        if evtag == tag and data.get("event") == "drift":
                            seen.setdefault("event", t)
                        elif evtag.startswith("salt/job/") and "/ret/" in evtag and data.get("fun") == "state.apply":
                            seen.setdefault("returned", t)
                    if "repaired" not in seen and stat.S_IMODE(os.stat(shm).st_mode) == 0o1777:
                        seen["repaired"] = time.perf_counter()
                if i or self.a.quick:
                    for k2 in samples:
                        samples[k2].append(seen[k2] - t0)
        finally:
            for c in (bus, client):  # before the master goes: they would try to reconnect
                if c is not None:
                    c.destroy()
            stop(daemons)
            # Salt's client machinery may still log its reconnect attempts to the stopped master.
            logging.disable(logging.CRITICAL)
        self.results["salt"] = dict(samples, minion_up=up)
        self.row("Salt: drift → the beacon's event on the master's bus", samples["event"])
        self.row("Salt: drift → mode 1777 again (the reactor's state.apply)", samples["repaired"], "≤ 5 s", 5.0)
        self.row("Salt: drift → that job's return on the master's bus", samples["returned"])

    def beacon_watch(self, binary):
        """The PID of the beacon's `shmguard watch` (this minion's: its binary is under scratch)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < PATIENCE:
            for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
                try:
                    with open(cmdline, "rb") as f:
                        argv = f.read().split(b"\0")
                except OSError:
                    continue
                if argv[:2] == [binary.encode(), b"watch"]:
                    return int(cmdline.split("/")[2])
            time.sleep(0.2)
        die(f"the beacon started no {binary} watch within {PATIENCE} s")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scratch", required=True)
    p.add_argument("--host-ns", required=True, help='"mnt:[N] ipc:[M]" of the host, to refuse to run there')
    p.add_argument("--spawn", required=True, help="the launcher built from bench/spawn.c")
    p.add_argument("--bin", required=True, help="the static shmguard binary")
    p.add_argument("--repo", required=True)
    p.add_argument("--salt-venv", required=True)
    p.add_argument("--runs", type=int, default=21, help="drifts of each kind timed to their event")
    p.add_argument("--runs-salt", type=int, default=5, help="drifts repaired through Salt")
    p.add_argument("--runs-check", type=int, default=11, help="runs of --check at 10,000 mounts")
    p.add_argument("--mount-pairs", type=int, default=100, help="unrelated mount + umount pairs per round")
    p.add_argument("--quick", action="store_true", help="few runs, 1,000 mounts, a 3 s idle window")
    p.add_argument("--json", help="write the raw samples here")
    a = p.parse_args()
    if os.geteuid() != 0:
        die("the watch part needs root (a remount dropping nodev; salt-master and salt-minion)")
    b = WatchBench(a)
    for part in ("latency_and_idle", "many_mounts", "salt"):
        t0 = time.monotonic()
        getattr(b, "part_" + part)()
        print(f"(watch, {part.replace('_', ' ')}: {time.monotonic() - t0:.0f} s)", flush=True)
    print()
    table(f"shmguard watch: latency, repair through Salt, cost{' (QUICK: few runs, small inputs)' if a.quick else ''}",
          ["", "median", "p95", "n", "goal", "met"], b.rows)
    if a.json:
        os.makedirs(os.path.dirname(a.json), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(b.results, f, indent=1)


if __name__ == "__main__":
    main()
