"""The Salt-through-a-master benchmark of bench/run (part `saltmaster`): a real salt-master and
salt-minion on 127.0.0.1 (high ports picked free, configs, keys, caches and logs under the
scratch directory), the minion running in this private mount and IPC namespace, where every
/dev/shm stand-in is a fresh tmpfs mounted under the scratch directory (stacked: nothing of the
host's is ever remounted) and the fstab is a scratch file.

Each run applies, through the master (salt.client.LocalClient, one job per state.apply, as
`salt MINION state.apply SLS` sends it), shmguard's state and Salt's own mount.mounted +
file.directory for the same policy, interleaved (the order alternates between runs): first on a
drifted tmpfs (64M, mode 0755, no flags, no fstab entry: a new tmpfs and a fresh fstab before
each), then again on the state each left (compliant). Reported: medians and ratios (peer /
shmguard) of Salt's own `duration` of the states and of the job's wall time as the master's
client sees it. The daemons are stopped by PID (their process groups) at the end.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

from sandbox import check_private, mount, private_locks
from tables import fmt_ratio, fmt_time, table

SIZE, MODE, FLAGS = "128m", "1777", ["nodev", "nosuid", "noexec"]
OPTS = ",".join(FLAGS + ["size=" + SIZE, "mode=" + MODE])
BASE_FSTAB = "# site fstab (shmguard salt-master bench)\n"


def die(msg):
    print(f"saltmaster: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def stop(daemons):
    """Stops the daemons this bench started, by their process groups: SIGTERM, then SIGKILL for
    one that has not exited within 20 s."""
    for p in daemons:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in daemons:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def answering_client(mconf, minion, started):
    """A master's client once `minion` answers test.ping through it; dies 120 s after
    `started`. A new client each try (the last one's is destroyed): it reads the master's key,
    which the master writes when it has started."""
    import salt.client
    import salt.exceptions

    client = None
    while True:
        try:
            if client is not None:
                client.destroy()
            client = salt.client.LocalClient(c_path=mconf)
            if client.cmd(minion, "test.ping", timeout=5).get(minion) is True:
                return client
        except (salt.exceptions.SaltClientError, salt.exceptions.AuthenticationError):
            pass  # the master is still starting
        if time.monotonic() - started > 120:
            die(f"the minion {minion} did not answer within 120 s")
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--host-ns", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--salt-venv", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    d = check_private(a.scratch, a.host_ns)
    private_locks()

    shm, fstab = f"{d}/shm", f"{d}/fstab"
    os.makedirs(shm)
    for sub in ("_states", "_modules"):
        shutil.copytree(os.path.join(a.repo, "salt", "formula", sub), f"{d}/mods/{sub}")
    publish, ret = free_port(), free_port()
    mconf = write(
        f"{d}/master-conf/master",
        f"root_dir: {d}/master-root\ninterface: 127.0.0.1\npublish_port: {publish}\nret_port: {ret}\n"
        f"auto_accept: True\nfile_roots:\n  base:\n    - {d}/srv\n",
    )
    write(
        f"{d}/minion-conf/minion",
        f"id: bench-minion\nroot_dir: {d}/minion-root\nmaster: 127.0.0.1\nmaster_port: {ret}\n"
        f"publish_port: {publish}\nacceptance_wait_time: 1\nrandom_reauth_delay: 0\n"
        f"states_dirs:\n  - {d}/mods/_states\nmodule_dirs:\n  - {d}/mods/_modules\n"
        f"shmguard:\n  binary: {a.bin}\n",
    )
    write(
        f"{d}/srv/shmguard.sls",
        f"{shm}:\n  shmguard.managed:\n    - mode: \"{MODE}\"\n    - size: {SIZE}\n"
        f"    - options: [{', '.join(FLAGS)}]\n    - fstab_path: {fstab}\n",
    )
    write(
        f"{d}/srv/idiomatic.sls",
        f"{shm}:\n  mount.mounted:\n    - device: tmpfs\n    - fstype: tmpfs\n    - opts: {OPTS}\n"
        f"    - config: {fstab}\n    - persist: True\n    - mkmnt: False\n"
        f"  file.directory:\n    - mode: \"{MODE}\"\n",
    )
    # As on a real minion, the daemons cache the modules' bytecode (__pycache__ beside the
    # copies under scratch; Salt's own modules have theirs from pip): an environment with
    # PYTHONDONTWRITEBYTECODE would make every job compile shmguard's modules from source.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    daemons = []
    for prog, conf in (("salt-master", f"{d}/master-conf"), ("salt-minion", f"{d}/minion-conf")):
        daemons.append(
            subprocess.Popen(
                [f"{a.salt_venv}/bin/{prog}", "-c", conf, "-l", "warning"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, env=env,
            )
        )
    try:
        client = answering_client(mconf, "bench-minion", time.monotonic())

        def apply(sls):
            t = time.perf_counter()
            res = client.cmd("bench-minion", "state.apply", [sls], timeout=120)
            wall = time.perf_counter() - t
            states = res.get("bench-minion")
            if not isinstance(states, dict):
                die(f"state.apply {sls}: {res}")
            bad = [k for k, v in states.items() if v.get("result") is not True]
            if bad:
                die(f"state.apply {sls} failed: {states}")
            return {"wall": wall, "duration": sum(v["duration"] for v in states.values()) / 1000,
                    "changed": any(v["changes"] for v in states.values())}

        samples = {(tool, case): [] for tool in ("shmguard", "idiomatic") for case in ("drifted", "compliant")}
        for tool in ("shmguard", "idiomatic"):  # warm-up: modules loaded, files cached
            mount("tmpfs", shm, "tmpfs", 0, "size=64m,mode=755")
            write(fstab, BASE_FSTAB)
            apply(tool)
        for i in range(a.runs):
            order = ("shmguard", "idiomatic") if i % 2 == 0 else ("idiomatic", "shmguard")
            for tool in order:
                mount("tmpfs", shm, "tmpfs", 0, "size=64m,mode=755")
                write(fstab, BASE_FSTAB)
                samples[(tool, "drifted")].append(apply(tool))
                samples[(tool, "compliant")].append(apply(tool))
    finally:
        stop(daemons)

    glue = python_side(d, a, shm, fstab, max(51, a.runs * 20))

    med = lambda tool, case, k: statistics.median(x[k] for x in samples[(tool, case)])  # noqa: E731
    rows = []
    for case in ("drifted", "compliant"):
        for k, label in (("duration", "Salt's duration of the states"), ("wall", "job wall time via the master")):
            ours, peer = med("shmguard", case, k), med("idiomatic", case, k)
            rows.append([f"{case}: {label}", fmt_time(ours), fmt_time(peer), fmt_ratio(peer / ours)])
    table(
        f"salt-master + salt-minion on 127.0.0.1, state.apply through the master (medians of {a.runs}, interleaved)",
        ["", "shmguard.managed", "mount.mounted + file.directory", "ratio"],
        rows,
    )
    b = statistics.median(glue["binary"])
    m = statistics.median(glue["state"])
    table(
        f"the state's Python side on a compliant tmpfs, in process (medians of {len(glue['state'])}, interleaved)",
        ["", "wall"],
        [["shmguard.managed (the loaded state function)", fmt_time(m)],
         ["`shmguard salt` alone (subprocess.run, the same input)", fmt_time(b)],
         ["the Python side around the binary", fmt_time(m - b)]],
    )
    if a.json:
        os.makedirs(os.path.dirname(a.json), exist_ok=True)
        with open(a.json, "w") as f:
            out = {f"{t}/{c}": v for (t, c), v in samples.items()}
            out["python_side"] = glue
            json.dump(out, f, indent=1)


def python_side(d, a, shm, fstab, runs):
    """Wall of the loaded shmguard.managed function against `shmguard salt` alone with the same
    input, interleaved, on the compliant tmpfs the master runs left: the Python around the binary."""
    import salt.config
    import salt.loader

    opts = salt.config.minion_config(f"{d}/minion-conf/minion")
    opts["test"] = False
    utils = salt.loader.utils(opts)
    funcs = salt.loader.minion_mods(opts, utils=utils)
    managed = salt.loader.states(opts, funcs, utils, {})["shmguard.managed"]
    args = {"mode": MODE, "size": SIZE, "options": FLAGS, "fstab_path": fstab}
    payload = json.dumps(dict(args, name=shm, state="mounted", test=False)).encode()
    managed(shm, **args)  # the last master run may have been the peer's: make it compliant
    out = {"state": [], "binary": []}
    for _ in range(runs):
        t = time.perf_counter()
        r = managed(shm, **args)
        out["state"].append(time.perf_counter() - t)
        if r["result"] is not True or r["changes"]:
            die(f"shmguard.managed on the compliant tmpfs: {r}")
        t = time.perf_counter()
        subprocess.run([a.bin, "salt"], input=payload, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        out["binary"].append(time.perf_counter() - t)
    return out


if __name__ == "__main__":
    main()
