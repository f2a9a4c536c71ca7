"""
Read-only shmguard queries for ad-hoc use across a fleet: ``salt '*' shmguard.audit profile=cis``,
``salt '*' shmguard.probe user=nobody``, ``salt '*' shmguard.status``, ``salt '*' shmguard.version``
(the binary's version against this module's), ``salt '*' shmguard.arch`` (the minion's cpuarch
against the architecture in the binary's ELF header), ``salt '*' shmguard.locate`` (which binary
runs, and why).

Everything is computed by the shmguard binary, so ``audit`` and ``probe`` give the CLI's
answers (``shmguard audit`` / ``shmguard probe`` with JSON output): the CLI's document whole,
the checks also keyed by a stable id in ``checks``, an overall ``verdict``, the binary's path
and version, and the CLI's exit code as the job's retcode (2 on drift or a failed probe, 1 on
an error), so ``salt-call`` and ``salt`` exit non-zero on a non-compliant minion.

Which binary runs (the same order for these functions, the shmguard states and the formula):
the ``binary`` argument, else ``shmguard:binary`` from pillar or the minion config
(``config.get``), else the build inside the saltext-shmguard package (when this module is the
extension's), else /usr/local/sbin/shmguard (where the formula salt://shmguard places it).
PATH is never searched: a ``shmguard`` elsewhere on PATH never runs, and a binary given by a
bare name is refused. Under salt-ssh this module runs without pillar; the wrapper
``_wrapper/shmguard.py`` (``salt-run saltutil.sync_all`` on the master) passes the pillar's
``shmguard:binary`` as ``binary``.

With no arguments, ``status``, ``audit`` and ``probe`` use pillar: the mount points
``shmguard:mounts`` declares (with their ``fstab_path``), and ``shmguard:probe`` (``user``,
``bytes``, ``mq_maxmsg``, ``mq_msgsize``) for the probe.
"""

import difflib
import json
import os
import re
import subprocess

from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "shmguard"

# The CLI's exit codes.
_VERDICTS = {
    "audit": {0: "compliant", 2: "drift"},
    "probe": {0: "pass", 2: "fail"},
}


# ELF e_machine values (elf.h) as Salt's cpuarch grain names the machines.
_ELF_MACHINES = {
    3: "i386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390x",
    40: "armv7l",
    62: "x86_64",
    183: "aarch64",
    243: "riscv64",
    258: "loongarch64",
}

# cpuarch words that name the same machine.
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

# Where the formula (salt://shmguard) places the binary when pillar does not say.
_FORMULA_BINARY = "/usr/local/sbin/shmguard"

# How a minion gets a binary, for the messages.
_HOW_TO_PLACE = (
    "install the saltext-shmguard package (salt-pip install saltext-shmguard), or apply the "
    "formula's binary state (salt://shmguard.binary), or set shmguard:binary in pillar to its "
    "absolute path"
)


def __virtual__():
    return __virtualname__


def _extension_build():
    """The build inside the saltext-shmguard package, when this module was loaded from it
    (saltext/shmguard/modules/shmguard.py beside saltext/shmguard/bin/shmguard); else None."""
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.basename(pkg) == "shmguard" and os.path.basename(os.path.dirname(pkg)) == "saltext":
        return os.path.join(pkg, "bin", "shmguard")
    return None


def locate(binary=None):
    """
    Which shmguard binary the shmguard functions and states run on this minion, and why:
    ``binary`` (the path), ``source`` (what named it) and ``looked_at`` (each place tried, in
    order). The order: the ``binary`` argument, else ``shmguard:binary`` from pillar or the minion
    config, else the saltext-shmguard package's build (when the modules come from the
    extension), else /usr/local/sbin/shmguard (the formula's path). PATH is never searched; a
    binary named without an absolute path is refused. ``binary`` is None when none exists.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.locate
    """
    if binary:
        candidates = [(binary, "the binary argument")]
    else:
        configured = __salt__["config.get"]("shmguard:binary")
        if configured:
            candidates = [(configured, "shmguard:binary in pillar or the minion config")]
        else:
            candidates = []
            ext = _extension_build()
            if ext:
                candidates.append((ext, "the saltext-shmguard package's build"))
            candidates.append((_FORMULA_BINARY, "the formula's path"))
    looked_at = []
    for path, source in candidates:
        path = str(path)
        if not os.path.isabs(path):
            raise SaltInvocationError(
                "binary: {!r} (from {}) is not an absolute path: shmguard never searches PATH for "
                "its binary; give its full path, e.g. {}".format(path, source, _FORMULA_BINARY)
            )
        looked_at.append("{} ({})".format(path, source))
        if os.path.isfile(path):
            return {"binary": path, "source": source, "looked_at": looked_at}
    return {"binary": None, "source": None, "looked_at": looked_at}


def _binary(binary):
    found = locate(binary)
    if not found["binary"]:
        raise CommandExecutionError(
            "shmguard binary not found: looked at {}; {}".format(", ".join(found["looked_at"]), _HOW_TO_PLACE)
        )
    return found["binary"]


def _elf_arch(path):
    """(the architecture in the ELF header of ``path`` as cpuarch names it, or None; why not)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError as exc:
        return None, "cannot read it: {}".format(exc.strerror or exc)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None, "not an ELF executable (it starts with {!r})".format(head[:8])
    order = "little" if head[5] == 1 else "big"
    machine = int.from_bytes(head[18:20], order)
    return _ELF_MACHINES.get(machine, "ELF machine {}".format(machine)), ""


def arch(binary=None):
    """
    This minion's architecture (grains cpuarch) beside the one the shmguard binary is built for
    (read from its ELF header), whether they match, and what to do about a binary that cannot
    run here (``explanation``). The binary is found as ``shmguard.locate`` finds it.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.arch
    """
    exe = _binary(binary)
    minion = __grains__.get("cpuarch", "unknown")
    built, why = _elf_arch(exe)
    match = built is not None and _ARCH_ALIASES.get(built, built) == _ARCH_ALIASES.get(minion, minion)
    text = "this minion's cpuarch (grains) is {}; the binary is {}.".format(minion, "built for " + built if built else why)
    if not match:
        text += (
            " Place the {} build: the saltext-shmguard wheel for this platform, or the formula, which "
            "serves salt://shmguard/files/<cpuarch>/shmguard by grains['cpuarch'] (salt/build-formula "
            "builds them).".format(minion)
        )
    else:
        text += (
            " The architecture matches: if it cannot run, it is not executable (place it with mode "
            "0755, as the formula's binary state does) or it is damaged or truncated (place it again)."
        )
    return {"binary": exe, "binary_arch": built, "cpuarch": minion, "match": match, "explanation": text}


def _exec(cmd, stdin=None):
    """(exit code, stdout, stderr) of the binary, run directly (no shell, no cmd.run_all: its
    environment handling and logging cost more than shmguard's own work); a binary that cannot
    run here is explained (cpuarch vs ELF)."""
    try:
        proc = subprocess.run(
            cmd,
            input=stdin.encode() if stdin is not None else None,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as exc:
        raise CommandExecutionError(
            "the shmguard binary {} cannot run ({}): {}".format(cmd[0], exc.strerror or exc, arch(binary=cmd[0])["explanation"])
        )
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


# The CLI's options, as the functions' arguments name them.
_FLAGS = {
    "--profile": "profile",
    "--policy": "policy",
    "--fstab-path": "fstab",
    "--root": "root",
    "--user": "user",
    "--bytes": "bytes",
    "--mq-maxmsg": "mq_maxmsg",
    "--mq-msgsize": "mq_msgsize",
    "--program": "program",
}


def _salt_words(fun, text):
    """The CLI's error in this module's words: its function and argument names."""
    text = text.strip()
    text = re.sub(r"\n*For more information, try '--help'\.?", "", text)
    clap = re.match(r"error: invalid value '(.*)' for '(--[a-z-]+)[^']*'(?:\s*\[possible values: ([^\]]*)\])?", text, re.S)
    if clap:
        value, flag, accepted = clap.groups()
        text = "{}: {!r} is not accepted{}".format(
            _FLAGS.get(flag, flag), value, "; accepted: " + accepted if accepted else ""
        )
    text = re.sub(r"^shmguard (audit|probe|status): ", "", text)
    for flag, arg in _FLAGS.items():
        text = text.replace(flag, arg)
    text = re.sub(
        r"Unsupported parameters for \(shmguard\) module: (.*?)\. Supported parameters include: (.*)\.",
        r"unknown key(s) \1; the keys of a policy target are \2.",
        text,
    )
    return "shmguard.{}: {}".format(fun, text)


def _json(fun, cmd, stdin=None):
    """(parsed stdout, exit code); an error without JSON output raises it in Salt's words."""
    code, out, err = _exec(cmd, stdin)
    try:
        return json.loads(out or ""), code
    except ValueError:
        raise CommandExecutionError(_salt_words(fun, err or out or "exit {} without output".format(code)))


def _binary_version(exe):
    """``shmguard --version`` of ``exe`` (once per path, size and mtime in a job)."""
    try:
        st = os.stat(exe)
        key = ("shmguard.version", exe, st.st_size, st.st_mtime)
    except OSError:
        key = None
    cache = __context__.setdefault("shmguard.versions", {})
    if key in cache:
        return cache[key]
    code, out, _ = _exec([exe, "--version"])
    words = out.split()
    found = words[-1] if code == 0 and words else None
    if key:
        cache[key] = found
    return found


def _stable_key(checks, key, entry):
    """``key``, or, when taken (the same check from two sources), ``key (source)``, then
    ``key (source) #2``...: the same keys for the same report on every run."""
    if key not in checks:
        return key
    key = "{} ({})".format(key, entry.get("source") or entry.get("target") or "again")
    n, base = 2, key
    while key in checks:
        key, n = "{} #{}".format(base, n), n + 1
    return key


def _verdict(kind, report, retcode, exe):
    """The CLI's document, whole (remedies, wanted, fstype kept), with the checks also keyed by
    a stable id in ``checks``, a ``verdict``, ``via: salt`` and the binary's path and version;
    sets the retcode."""
    out = dict(report)
    checks = {}
    for target in report.get("targets") or []:
        for check in target.get("checks") or []:
            entry = {"target": target.get("path"), "source": target.get("source")}
            entry.update({k: v for k, v in check.items() if k != "id"})
            checks[_stable_key(checks, check.get("id") or check.get("name"), entry)] = entry
    probe_part = report if kind == "probe" else report.get("probe")
    if isinstance(probe_part, dict):
        for check in probe_part.get("checks") or []:
            # The probe's checks by name and user: shared_memory.root, semaphore.nobody.
            key = "{}.{}".format(check.get("name"), check.get("user") or probe_part.get("user"))
            if kind != "probe":
                key = "probe." + key
            entry = dict(check)
            checks[_stable_key(checks, key, entry)] = entry
    out["checks"] = checks
    out["verdict"] = _VERDICTS[kind].get(retcode, "error")
    out["via"] = "salt"
    out["binary"] = exe
    out["binary_version"] = _binary_version(exe)
    if retcode:
        __context__["retcode"] = retcode
    return out


def version(binary=None):
    """
    This module's shmguard version, the binary's (``shmguard --version``) and whether they match;
    the binary is found as ``shmguard.locate`` finds it.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.version
    """
    exe = _binary(binary)
    found = _binary_version(exe)
    if found != __shmguard_version__:
        __context__["retcode"] = 1
    return {"binary": exe, "binary_version": found, "module_version": __shmguard_version__, "match": found == __shmguard_version__}


def _pillar_mounts():
    """{path: arguments} of pillar ``shmguard:mounts`` (the formula's), or {}."""
    mounts = __salt__["config.get"]("shmguard:mounts") or {}
    out = {}
    if isinstance(mounts, dict):
        for path, args in mounts.items():
            args = dict(args or {})
            out[str(args.pop("name", path))] = args
    return out


def _unknown(fun, given, accepted):
    """Refuses arguments ``fun`` does not take, in Salt's words, with the closest one."""
    unknown = sorted(k for k in given if not k.startswith("__") and k not in accepted)
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, accepted, n=1)
            if close:
                hints.append("{} (did you mean {}?)".format(k, close[0]))
            else:
                hints.append(k)
        raise SaltInvocationError(
            "shmguard.{}: unknown argument(s) {}; its arguments are {}".format(fun, ", ".join(hints), ", ".join(accepted))
        )


def status(*paths, **kwargs):
    """
    Current state of mount points: mounted, fstype, mode, size, nr_inodes, options, the fstab
    entry, mqueue limits.

    paths
        Mount points (positional). Default: the mount points of pillar ``shmguard:mounts``, each
        with its ``fstab_path``; without that pillar, /dev/shm and /dev/mqueue.

    fstab_path
        The fstab file to read. Default: the pillar mount's ``fstab_path``, else /etc/fstab.

    binary
        The shmguard executable's absolute path. Default: as ``shmguard.locate`` finds it
        (``shmguard:binary`` in pillar, the extension's build, /usr/local/sbin/shmguard; never
        PATH).

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.status
        salt '*' shmguard.status /dev/shm fstab_path=/etc/fstab
    """
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    _unknown("status", kwargs, ["paths", "fstab_path", "binary"])
    exe = _binary(kwargs.get("binary"))
    groups = {}  # fstab_path -> paths
    if paths:
        groups[kwargs.get("fstab_path")] = list(paths)
    else:
        mounts = _pillar_mounts()
        for path, args in sorted(mounts.items()):
            groups.setdefault(kwargs.get("fstab_path") or args.get("fstab_path"), []).append(path)
        if not groups:
            groups[kwargs.get("fstab_path")] = []
    out = {}
    for fstab_path, group in groups.items():
        cmd = [exe, "status", "--format", "json"]
        if fstab_path:
            cmd += ["--fstab-path", str(fstab_path)]
        out.update(_json("status", cmd + [str(p) for p in group])[0])
    return out


def _policy_target(target):
    target = dict(target)
    if isinstance(target.get("mode"), int):
        # Salt's YAML loader strips leading zeros (0755 -> 755): the digits are the octal mode,
        # as the shmguard states read them.
        target["mode"] = str(target["mode"])
    target.pop("binary", None)
    return target


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and "," in value and not value.startswith(("salt://", "/")):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _probe_pillar(user, bytes, mq_maxmsg, mq_msgsize):  # pylint: disable=redefined-builtin
    """The probe's arguments, those not given from pillar ``shmguard:probe``."""
    given = {"user": user, "bytes": bytes, "mq_maxmsg": mq_maxmsg, "mq_msgsize": mq_msgsize}
    if all(v is None for v in given.values()):
        pillar = __salt__["config.get"]("shmguard:probe") or {}
        if isinstance(pillar, dict):
            _unknown("probe (pillar shmguard:probe)", pillar, ["user", "bytes", "mq_maxmsg", "mq_msgsize"])
            given.update({k: v for k, v in pillar.items() if v is not None})
    return given


def audit(profile=None, policy=None, fstab=None, root=None, probe=False, user=None, bytes=None, mq_maxmsg=None, mq_msgsize=None, program=None, binary=None):  # pylint: disable=redefined-builtin,redefined-outer-name
    """
    Judge this minion against policies without changing anything: ``shmguard audit`` with JSON
    output. Returns the CLI's audit document whole (each target with its checks, what is wanted,
    its fstype and the remedy that fixes it), ``via: salt`` (``shmguard report`` then gives
    remedies as Salt states), the binary's path and version, the checks also keyed by check id in
    ``checks`` (each with its status, target, source and detail; ``references``: the benchmark
    items, CIS or STIG, or the programs' needs a check stands for), and an overall ``verdict``:
    compliant, drift or error. The job's retcode is the CLI's exit code: 0 compliant, 2 drift,
    1 error.

    profile
        Built-in profile(s): cis, multiprocessing, mqueue, default (a list, or comma-separated).

    policy
        Policy target(s) with the parameters of the shmguard states (``path``, ``mode``, ``size``,
        ``options``, ...): a dict (one target, e.g. from pillar), a list of dicts, or the path or
        ``salt://`` URL of a JSON policy file you serve (a list of these is accepted too).

    Without profile and policy: the mount points of pillar ``shmguard:mounts`` as the policy
    (what the formula enforces, fstab_path included); without that pillar, the ``default``
    profile.

    fstab
        Audit this fstab file instead of each target's fstab_path (``shmguard audit --fstab-path``).

    root
        Audit the files of an image or chroot at this directory (ROOT/etc/fstab,
        ROOT/<sysctl_path>); no live checks (``shmguard audit --root``).

    probe
        Also run the functional probe and fold it into the report (checks
        ``probe.<name>.<user>``).

    user
        With probe: run the probe as this user (name or uid).

    bytes
        With probe: bytes to reserve in /dev/shm, e.g. 1G.

    mq_maxmsg, mq_msgsize
        The message queue the programs open (default 10 and 8192): the probe opens exactly that
        queue, the mqueue profile checks msg_max and msgsize_max allow it.

    program
        What the programs make in /dev/shm: lock, queue, executor or pool (the default); the
        multiprocessing profile's free inodes and space fail when it cannot be made
        (``shmguard audit --program``).

    binary
        The shmguard executable's absolute path. Default: as ``shmguard.locate`` finds it
        (``shmguard:binary`` in pillar, the extension's build, /usr/local/sbin/shmguard; never
        PATH).

    A check's status is pass, warn (works, with less headroom than recommended; exit 0) or fail.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.audit
        salt '*' shmguard.audit profile=cis
        salt '*' shmguard.audit policy='{path: /dev/shm, mode: "1777", options: [nodev, nosuid, noexec]}'
        salt '*' shmguard.audit policy=/srv/policies/shm.json fstab=/mnt/image/etc/fstab
        salt '*' shmguard.audit profile=multiprocessing probe=True user=nobody
    """
    profiles = [str(p) for p in _as_list(profile)]
    for p in profiles:
        if p not in __shmguard_profiles__:
            close = difflib.get_close_matches(p, __shmguard_profiles__, n=1)
            raise SaltInvocationError(
                "shmguard.audit: profile {!r} is not a built-in profile{}; accepted: {}".format(
                    p, " (did you mean {}?)".format(close[0]) if close else "", ", ".join(__shmguard_profiles__)
                )
            )
    exe = _binary(binary)
    cmd = [exe, "audit", "--format", "json"]
    policies = _as_list(policy)
    if not policies and not profiles:
        policies = [dict(args, path=path) for path, args in sorted(_pillar_mounts().items())]
    inline = []
    for item in policies:
        if isinstance(item, dict):
            inline.append(_policy_target(item))
        elif isinstance(item, str) and item.startswith("salt://"):
            cached = __salt__["cp.cache_file"](item)
            if not cached:
                raise CommandExecutionError("shmguard.audit: policy {} not found on the master".format(item))
            cmd += ["--policy", cached]
        elif isinstance(item, str):
            cmd += ["--policy", item]
        else:
            raise SaltInvocationError(
                "shmguard.audit: policy {!r} is not accepted; expected a dict of state parameters, a list of them, "
                "or the path or salt:// URL of a JSON policy file".format(item)
            )
    stdin = None
    if inline:
        cmd += ["--policy", "-"]
        stdin = json.dumps(inline)
    for p in profiles:
        cmd += ["--profile", p]
    if fstab:
        cmd += ["--fstab-path", str(fstab)]
    if root:
        cmd += ["--root", str(root)]
    if probe:
        cmd.append("--probe")
    if user is not None:
        cmd += ["--user", str(user)]
    if bytes is not None:
        cmd += ["--bytes", str(bytes)]
    cmd += _queue_args(mq_maxmsg, mq_msgsize)
    if program is not None:
        cmd += ["--program", str(program)]
    return _verdict("audit", *_json("audit", cmd, stdin=stdin), exe=exe)


def _queue_args(mq_maxmsg, mq_msgsize):
    """``--mq-maxmsg``/``--mq-msgsize`` for the CLI, for those given."""
    args = []
    if mq_maxmsg is not None:
        args += ["--mq-maxmsg", str(mq_maxmsg)]
    if mq_msgsize is not None:
        args += ["--mq-msgsize", str(mq_msgsize)]
    return args


def probe(user=None, bytes=None, mq_maxmsg=None, mq_msgsize=None, program=None, binary=None):  # pylint: disable=redefined-builtin
    """
    Do what real programs do with /dev/shm and /dev/mqueue (shared memory, named semaphores as
    Python's SemLock, message queues, reserving ``bytes``, executable mappings), as ``user`` or
    the minion's user: ``shmguard probe`` with JSON output. Returns the CLI's report whole, its
    checks also keyed by name and user in ``checks`` (``semaphore.nobody``: the same keys on
    every run), the binary's path and version, and an overall ``verdict``: pass, fail or error.
    The job's retcode is the CLI's exit code: 0 pass, 2 a check failed, 1 error.

    With none of the arguments below: pillar ``shmguard:probe`` gives them (user, bytes,
    mq_maxmsg, mq_msgsize).

    user
        Run as this user (name or uid); needs root.

    bytes
        Reserve this many bytes of real pages in /dev/shm, e.g. 1G (plus a header page and, beside
        them, the semaphores of ``program``).

    mq_maxmsg, mq_msgsize
        Open a message queue of this shape (default 10 messages of 8192 bytes).

    program
        What the programs make in /dev/shm: lock, queue, executor or pool (the default); free
        inodes and space fail when it cannot be made (``shmguard probe --program``).

    binary
        The shmguard executable's absolute path. Default: as ``shmguard.locate`` finds it
        (``shmguard:binary`` in pillar, the extension's build, /usr/local/sbin/shmguard; never
        PATH).

    A check's status is pass, warn (works, with less headroom than recommended; exit 0) or fail.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.probe user=nobody bytes=1G
        salt '*' shmguard.probe user=nobody mq_maxmsg=64 mq_msgsize=65536
    """
    args = _probe_pillar(user, bytes, mq_maxmsg, mq_msgsize)
    exe = _binary(binary)
    cmd = [exe, "probe", "--format", "json"]
    if args["user"] is not None:
        cmd += ["--user", str(args["user"])]
    if args["bytes"] is not None:
        cmd += ["--bytes", str(args["bytes"])]
    cmd += _queue_args(args["mq_maxmsg"], args["mq_msgsize"])
    if program is not None:
        cmd += ["--program", str(program)]
    return _verdict("probe", *_json("probe", cmd), exe=exe)


# --- generated by src/docs.rs from src/spec/params.rs (SHMGUARD_BLESS=1 cargo test docs_fresh); do not edit ---
# The shmguard release this module belongs to; a binary reporting another version gets a warning.
__shmguard_version__ = "0.2.0"
# The built-in audit profiles (shmguard audit --profile).
__shmguard_profiles__ = ("cis", "multiprocessing", "mqueue", "default",)
# --- end of generated code ---
