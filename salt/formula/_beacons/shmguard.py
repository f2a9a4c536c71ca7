"""
Beacon ``shmguard``: reports on the minion's event bus when a /dev/shm or /dev/mqueue target
drifts from its policy, within a second of the change, at no cost between changes.

It keeps one long-lived ``shmguard watch --format json`` running and, at each call of the
beacon (every ``interval`` seconds, default 1), reads the lines it printed since, without
blocking. The watch is started at the first call and again when the configuration changed or
when it died: at once the first time, then after 1, 2, 4, ... seconds (at most a minute) while
it keeps dying within a minute of its start, so a watch that cannot run is not started every
second.
Each ``drift``, ``error`` and ``flapping`` line (and an ``initial`` one that is not compliant)
becomes one event tagged ``salt/beacon/<minion id>/shmguard/<path>`` (the mount point without
its leading slash), with the watch's fields: ``event``, ``path``, ``failing`` (check ids),
``remedy`` (the ``shmguard apply`` command that fixes it), ``compliant``, ``time``, ``host``
and, for ``error``/``flapping``, ``error``. The watch never changes anything here (no
``--apply``): the repair is the master's, e.g. a reactor applying the shmguard state
(salt/reactor/shmguard.sls).

Configuration (Salt's list of dicts):

.. code-block:: yaml

    beacons:
      shmguard:
        - mounts:                    # optional: default pillar shmguard:mounts
            /dev/shm:
              mode: "1777"
              options: [nodev, nosuid, noexec]
              fstab_path: /etc/fstab
        - profile: cis               # optional: built-in profile(s) instead of / beside mounts
        - events: [drift, error, flapping]   # optional: which events to send (default)
        - interval: 1

``mounts`` takes the pillar's form (``{path: parameters}``) or a list of targets with ``path``.
Without ``mounts`` and ``profile``, the targets are pillar ``shmguard:mounts``, the formula's.
The policy is written as JSON to the minion's cachedir (never to /etc). The binary is the one
``shmguard.locate`` finds (``binary`` in the config first).
"""

import json
import logging
import os
import subprocess
import time

log = logging.getLogger(__name__)

__virtualname__ = "shmguard"

# Events sent by default; "initial" is sent only when the first verdict is not compliant.
_DEFAULT_EVENTS = ("drift", "error", "flapping")
_ALL_EVENTS = ("initial", "drift", "compliant", "error", "repaired", "flapping")
_KEYS = ("mounts", "profile", "events", "binary", "sysctl_interval", "interval")
# What Salt's beacon machinery itself reads from (or adds to) every beacon's configuration.
_SALT_KEYS = ("enabled", "beacon_module", "disable_during_state_run", "run_once", "_beacon_name")
_FORMULA_BINARY = "/usr/local/sbin/shmguard"

# The running watch: {"proc", "argv", "buf", "log", "started"}; one per minion process.
_WATCH = {}
# Restarts of a watch that keeps dying: {"failures": n, "not_before": monotonic time}. A watch
# that exits at once (a bad policy, a build for another CPU) is started again after 0, 1, 2, 4,
# ... seconds, at most every RETRY_MAX, instead of at every call of the beacon (every second).
_RETRY = {}
RETRY_MAX = 60


def __virtual__():
    return __virtualname__


def _merge(config):
    """Salt's list of one-key dicts as one dict (salt.utils.beacons.list_to_dict)."""
    out = {}
    for item in config:
        out.update(item)
    return out


def validate(config):
    """(True, message) when ``config`` is a list of dicts with known keys and values."""
    if not isinstance(config, list) or not all(isinstance(c, dict) for c in config):
        return False, "Configuration for shmguard beacon must be a list of dicts (e.g. [{mounts: {...}}, {interval: 1}])."
    conf = _merge(config)
    unknown = sorted(k for k in conf if k not in _KEYS + _SALT_KEYS)
    if unknown:
        return False, "shmguard beacon: unknown key(s) {}; accepted: {}".format(", ".join(unknown), ", ".join(_KEYS))
    mounts = conf.get("mounts")
    if mounts is not None:
        if isinstance(mounts, list):
            if not all(isinstance(m, dict) and m.get("path") for m in mounts):
                return False, "shmguard beacon: mounts as a list takes targets with a path, e.g. [{path: /dev/shm, mode: '1777'}]"
        elif not isinstance(mounts, dict):
            return False, "shmguard beacon: mounts is {!r}; expected {{path: parameters}} or a list of targets".format(mounts)
    events = conf.get("events", list(_DEFAULT_EVENTS))
    if not isinstance(events, list) or any(e not in _ALL_EVENTS for e in events):
        return False, "shmguard beacon: events is {!r}; expected a list of {}".format(events, ", ".join(_ALL_EVENTS))
    binary = conf.get("binary")
    if binary is not None and not os.path.isabs(str(binary)):
        return False, "shmguard beacon: binary {!r} is not an absolute path".format(binary)
    return True, "Valid beacon configuration"


def _targets(mounts):
    """Policy targets (the shmguard states' parameters) from the pillar's or a list form."""
    if isinstance(mounts, dict):
        items = [dict(args or {}, path=str((args or {}).get("name", path))) for path, args in sorted(mounts.items())]
    else:
        items = [dict(m) for m in mounts or []]
    out = []
    for t in items:
        t.pop("name", None)
        t.pop("binary", None)
        if isinstance(t.get("mode"), int):
            # Salt's YAML drops the leading zero (0755 -> 755): the digits are the octal mode.
            t["mode"] = str(t["mode"])
        out.append(t)
    return out


def _binary(conf):
    if conf.get("binary"):
        return str(conf["binary"])
    locate = __salt__.get("shmguard.locate")  # noqa: F821 (the loader's)
    if locate:
        return locate()["binary"]
    configured = __salt__["config.get"]("shmguard:binary")  # noqa: F821
    path = configured or _FORMULA_BINARY
    return path if os.path.isfile(path) else None


def _argv(conf, exe, cachedir):
    """The watch's command line, writing the policy file it reads."""
    argv = [exe, "watch", "--format", "json"]
    profiles = conf.get("profile") or []
    if isinstance(profiles, str):
        profiles = [p.strip() for p in profiles.split(",") if p.strip()]
    mounts = conf.get("mounts")
    if mounts is None and not profiles:
        mounts = __salt__["config.get"]("shmguard:mounts") or {}  # noqa: F821
    targets = _targets(mounts)
    if targets:
        os.makedirs(cachedir, mode=0o700, exist_ok=True)
        policy = os.path.join(cachedir, "beacon-policy.json")
        text = json.dumps(targets, sort_keys=True)
        try:
            with open(policy, encoding="utf-8") as f:
                same = f.read() == text
        except OSError:
            same = False
        if not same:
            # Written only when it changed (the beacon runs every second); a change restarts
            # the watch (its policy is read once, at its start).
            tmp = policy + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, policy)
        argv += ["--policy", policy]
    for p in profiles:
        argv += ["--profile", str(p)]
    if conf.get("sysctl_interval") is not None:
        argv += ["--sysctl-interval", str(conf["sysctl_interval"])]
    return argv, targets


def _stop():
    proc = _WATCH.pop("proc", None)
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    last = _WATCH.get("last_error")
    _WATCH.clear()
    if last:
        _WATCH["last_error"] = last


def _start(argv, argv_key, cachedir):
    # A profile-only configuration writes no policy file: the directory may not exist yet.
    os.makedirs(cachedir, mode=0o700, exist_ok=True)
    logpath = os.path.join(cachedir, "beacon-watch.log")
    with open(logpath, "wb") as err:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, close_fds=True
        )
    os.set_blocking(proc.stdout.fileno(), False)
    _WATCH.update(proc=proc, argv=argv_key, buf=b"", log=logpath, started=time.monotonic())
    log.info("shmguard beacon: started %s (pid %s)", " ".join(argv), proc.pid)


def _died(now):
    """Counts a death of the watch: one that ran less than RETRY_MAX seconds adds to the delay
    before the next start, one that ran longer starts the count again."""
    ran = now - _WATCH.get("started", now)
    failures = _RETRY.get("failures", 0) + 1 if ran < RETRY_MAX else 1
    delay = 0 if failures == 1 else min(RETRY_MAX, 2 ** (failures - 2))
    _RETRY.update(failures=failures, not_before=now + delay)


def _read_lines():
    proc = _WATCH["proc"]
    fd = proc.stdout.fileno()
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    buf = _WATCH["buf"] + b"".join(chunks)
    *lines, _WATCH["buf"] = buf.split(b"\n")
    return lines


def _tag(path):
    """The mount point without its leading slash; ``beacon`` for the beacon's own errors."""
    return str(path).strip("/") or "beacon"


def _error_event(path, message):
    """An error event, sent once while the same error persists (not at every call)."""
    if _WATCH.get("last_error") == message:
        return None
    _WATCH["last_error"] = message
    return {"tag": _tag(path), "event": "error", "path": path, "failing": [], "remedy": None, "error": message}


def beacon(config):
    """One event per drift, error or flapping line the watch printed since the last call."""
    conf = _merge(config)
    wanted = set(conf.get("events") or _DEFAULT_EVENTS)
    cachedir = os.path.join(__opts__["cachedir"], "shmguard")  # noqa: F821
    try:
        exe = _binary(conf)
    except Exception as exc:  # pylint: disable=broad-except
        # locate refuses a relative shmguard:binary: an event, not a traceback every second.
        _stop()
        ev = _error_event("", "shmguard beacon: {}".format(exc))
        return [ev] if ev else []
    if not exe:
        _stop()
        ev = _error_event("", "shmguard binary not found: apply salt://shmguard.binary, install saltext-shmguard, or set shmguard:binary")
        return [ev] if ev else []
    argv, targets = _argv(conf, exe, cachedir)
    argv_key = argv + [json.dumps(targets, sort_keys=True)]
    if not targets and "--profile" not in argv:
        _stop()
        ev = _error_event("", "shmguard beacon: no targets: configure mounts or profile, or pillar shmguard:mounts")
        return [ev] if ev else []
    events = []
    proc = _WATCH.get("proc")
    if proc is not None and _WATCH.get("argv") != argv_key:
        _stop()
        _RETRY.clear()
        proc = None
    if proc is not None and proc.poll() is not None:
        _died(time.monotonic())
        lines = _read_lines()
        events += _events(lines, wanted)
        try:
            with open(_WATCH["log"], "rb") as f:
                why = f.read()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            why = ""
        ev = _error_event(
            "",
            "shmguard watch exited with {}: {} (started again, after a growing delay of up to {} s while it keeps exiting)".format(
                proc.returncode, why, RETRY_MAX
            ),
        )
        _stop()
        if ev:
            _WATCH["last_error"] = ev["error"]
            events.append(ev)
        proc = None
    if proc is None and time.monotonic() < _RETRY.get("not_before", 0):
        return events
    if proc is None:
        try:
            _start(argv, argv_key, cachedir)
        except OSError as exc:
            # Not executable, another CPU's build (ENOEXEC), the cachedir unwritable.
            _stop()
            _died(time.monotonic())
            ev = _error_event("", "shmguard beacon: cannot start {}: {}".format(" ".join(argv), exc))
            return events + ([ev] if ev else [])
    lines = _read_lines()
    if lines:
        # The watch works again: the next failure is news.
        _WATCH.pop("last_error", None)
    events += _events(lines, wanted)
    return events


def _events(lines, wanted):
    out = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            ev = json.loads(line.decode("utf-8", "replace"))
        except ValueError:
            log.warning("shmguard beacon: not a JSON line from shmguard watch: %r", line)
            continue
        kind = ev.get("event")
        if kind == "initial" and ev.get("compliant") is False and "drift" in wanted:
            pass
        elif kind not in wanted:
            continue
        data = {k: v for k, v in ev.items() if k != "tag"}
        data["tag"] = _tag(ev.get("path", ""))
        out.append(data)
    return out


def close(config):  # pylint: disable=unused-argument
    """Stops the watch when the beacon is disabled, deleted or the minion stops."""
    _stop()
    _RETRY.clear()
