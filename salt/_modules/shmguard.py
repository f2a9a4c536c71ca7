"""
Read-only shmguard queries for ad-hoc use across a fleet: ``salt '*' shmguard.audit profile=cis``,
``salt '*' shmguard.probe user=nobody``, ``salt '*' shmguard.status``, ``salt '*' shmguard.version``
(the binary's version against this module's), ``salt '*' shmguard.arch`` (the minion's cpuarch
against the architecture in the binary's ELF header).

Everything is computed by the shmguard binary, so ``audit`` and ``probe`` give the CLI's
answers (``shmguard audit`` / ``shmguard probe`` with JSON output): the checks keyed by check
id, an overall ``verdict``, and the CLI's exit code as the job's retcode (2 on drift or a failed
probe, 1 on an error), so ``salt-call`` and ``salt`` exit non-zero on a non-compliant minion.

Where the binary is: the ``binary`` argument, else ``shmguard:binary`` from the minion config
or pillar (``config.get``), else ``shmguard`` on PATH, else /usr/local/sbin/shmguard (where the
formula salt://shmguard places it). Under salt-ssh this module runs without pillar; the wrapper
salt/_wrapper/shmguard.py (``salt-run saltutil.sync_all`` on the master) passes the pillar's
``shmguard:binary`` as ``binary``.
"""

import json

import salt.utils.path
from salt.exceptions import CommandExecutionError

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


def __virtual__():
    return __virtualname__


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


def arch(binary=None, error=None):
    """
    This minion's architecture (grains cpuarch) beside the one the shmguard binary is built for
    (read from its ELF header), whether they match, and an explanation (of ``error`` when given:
    the shmguard states use it to explain a binary that cannot run).

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.arch
    """
    exe = binary if binary and "/" in binary else _binary(binary)
    minion = __grains__.get("cpuarch", "unknown")
    built, why = _elf_arch(exe)
    match = built is not None and _ARCH_ALIASES.get(built, built) == _ARCH_ALIASES.get(minion, minion)
    reason = str(error or "")
    if "reason: " in reason:
        reason = reason.split("reason: ", 1)[1]
    text = "the shmguard binary {}{}: this minion's cpuarch (grains) is {}; the binary is {}.".format(
        exe, " cannot run ({})".format(reason) if reason else "", minion, "built for " + built if built else why
    )
    if not match:
        text += (
            " Place the {} build: the shmguard formula serves salt://shmguard/files/<cpuarch>/shmguard "
            "by grains['cpuarch'] (salt/shmguard/map.jinja; salt/build-formula builds them).".format(minion)
        )
    elif "ermission" in reason:
        text += " It is not executable: place it with mode 0755 (the formula's binary state does)."
    elif reason:
        text += " The architecture matches, so the file is damaged or truncated: place it again."
    return {"binary": exe, "binary_arch": built, "cpuarch": minion, "match": match, "explanation": text}


# Where the formula (salt://shmguard) places the binary when pillar does not say.
_FORMULA_BINARY = "/usr/local/sbin/shmguard"


def _binary(binary):
    looked_for = binary or __salt__["config.get"]("shmguard:binary")
    if looked_for:
        exe = salt.utils.path.which(looked_for)
    else:
        looked_for = "shmguard on PATH or " + _FORMULA_BINARY
        exe = salt.utils.path.which("shmguard") or salt.utils.path.which(_FORMULA_BINARY)
    if not exe:
        raise CommandExecutionError(
            "shmguard binary not found ({}): pass binary=, set shmguard:binary in the minion "
            "config or pillar, or put shmguard on PATH (the formula salt://shmguard places it)".format(looked_for)
        )
    return exe


def _exec(cmd, stdin=None):
    """cmd.run_all, with an error that cannot run the binary explained (cpuarch vs ELF)."""
    try:
        return __salt__["cmd.run_all"](
            cmd, python_shell=False, stdin=stdin, ignore_retcode=True, output_loglevel="quiet"
        )
    except CommandExecutionError as exc:
        raise CommandExecutionError(arch(binary=cmd[0], error=str(exc))["explanation"])


def _json(cmd, stdin=None):
    """(parsed stdout, exit code); an error without JSON output raises it."""
    res = _exec(cmd, stdin)
    try:
        return json.loads(res.get("stdout") or ""), res.get("retcode")
    except ValueError:
        raise CommandExecutionError(
            "shmguard {} gave no JSON (exit {}): {}".format(
                cmd[1], res.get("retcode"), (res.get("stderr") or res.get("stdout") or "").strip()
            )
        )


def _verdict(kind, report, retcode):
    """The CLI's report with ``checks`` keyed by check id and a ``verdict``; sets the retcode."""
    out = {"verdict": _VERDICTS[kind].get(retcode, "error")}
    checks = {}

    def add(key, check, **where):
        entry = dict(where)
        entry.update({k: v for k, v in check.items() if k != "id"})
        if key in checks:
            key = "{} ({})".format(key, where.get("source") or len(checks))
        checks[key] = entry

    for target in report.get("targets") or []:
        for check in target.get("checks") or []:
            add(check.get("id") or check.get("name"), check, target=target.get("path"), source=target.get("source"))
    probe_part = report if kind == "probe" else report.get("probe")
    if isinstance(probe_part, dict):
        for check in probe_part.get("checks") or []:
            key = check.get("id") or check.get("name")
            add(key if kind == "probe" else "probe.{}".format(key), check)
    for k, v in report.items():
        if k not in ("targets", "checks"):
            out[k] = v
    out["checks"] = checks
    if retcode:
        __context__["retcode"] = retcode
    return out


def version(binary=None):
    """
    This module's shmguard version, the binary's (``shmguard --version``) and whether they match.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.version
    """
    exe = _binary(binary)
    res = _exec([exe, "--version"])
    words = (res.get("stdout") or "").split()
    found = words[-1] if words else None
    if found != __shmguard_version__:
        __context__["retcode"] = 1
    return {"binary": exe, "binary_version": found, "module_version": __shmguard_version__, "match": found == __shmguard_version__}


def status(*paths, **kwargs):
    """
    Current state of mount points (default /dev/shm and /dev/mqueue): mounted, fstype, mode,
    size, nr_inodes, options, the fstab entry, mqueue limits.

    paths
        Mount points (positional). Default: /dev/shm /dev/mqueue.

    fstab_path
        The fstab file to read. Default: /etc/fstab.

    binary
        The shmguard executable (see the module doc).

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.status
        salt '*' shmguard.status /dev/shm fstab_path=/etc/fstab
    """
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    unknown = sorted(set(kwargs) - {"fstab_path", "binary"})
    if unknown:
        raise CommandExecutionError(
            "shmguard.status: unknown argument(s) {}; accepted: paths (positional), fstab_path, binary".format(
                ", ".join(unknown)
            )
        )
    cmd = [_binary(kwargs.get("binary")), "status", "--format", "json"]
    if kwargs.get("fstab_path"):
        cmd += ["--fstab-path", kwargs["fstab_path"]]
    return _json(cmd + list(paths))[0]


def _policy_target(target):
    target = dict(target)
    if isinstance(target.get("mode"), int):
        # Salt's YAML loader strips leading zeros (0755 -> 755): the digits are the octal mode,
        # as the shmguard states read them.
        target["mode"] = str(target["mode"])
    return target


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and "," in value and not value.startswith(("salt://", "/")):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def audit(profile=None, policy=None, fstab=None, root=None, probe=False, user=None, bytes=None, mq_maxmsg=None, mq_msgsize=None, binary=None):  # pylint: disable=redefined-builtin,redefined-outer-name
    """
    Judge this minion against policies without changing anything: ``shmguard audit`` with JSON
    output. Returns the CLI's report with ``checks`` keyed by check id (each with its status,
    target, source, detail and references), ``compliant``, ``summary`` and an overall
    ``verdict``: compliant, drift or error. The job's retcode is the CLI's exit code: 0
    compliant, 2 drift, 1 error.

    profile
        Built-in profile(s): cis, multiprocessing, default (a list, or comma-separated). Default:
        the ``default`` profile when neither profile nor policy is given.

    policy
        Policy target(s) with the parameters of the shmguard states (``path``, ``mode``, ``size``,
        ``options``, ...): a dict (one target, e.g. from pillar), a list of dicts, or the path or
        ``salt://`` URL of a JSON policy file (a list of these is accepted too).

    fstab
        Audit this fstab file instead of each target's fstab_path (``shmguard audit --fstab-path``).

    root
        Audit the files of an image or chroot at this directory (ROOT/etc/fstab,
        ROOT/<sysctl_path>); no live checks (``shmguard audit --root``).

    probe
        Also run the functional probe and fold it into the report (checks ``probe.<name>``).

    user
        With probe: run the probe as this user (name or uid).

    bytes
        With probe: bytes to reserve in /dev/shm, e.g. 1G.

    mq_maxmsg, mq_msgsize
        The message queue the programs open (default 10 and 8192): the probe opens exactly that
        queue, the mqueue profile checks msg_max and msgsize_max allow it.

    binary
        The shmguard executable (see the module doc).

    A check's status is pass, warn (works, with less headroom than recommended; exit 0) or fail.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.audit profile=cis
        salt '*' shmguard.audit policy='{path: /dev/shm, mode: "1777", options: [nodev, nosuid, noexec]}'
        salt '*' shmguard.audit policy=salt://shmguard/policy.json fstab=/mnt/image/etc/fstab
        salt '*' shmguard.audit profile=multiprocessing probe=True user=nobody
    """
    cmd = [_binary(binary), "audit", "--format", "json"]
    inline = []
    for item in _as_list(policy):
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
            raise CommandExecutionError(
                "shmguard.audit: policy {!r} is not accepted; expected a dict of state parameters, a list of them, "
                "or the path or salt:// URL of a JSON policy file".format(item)
            )
    stdin = None
    if inline:
        cmd += ["--policy", "-"]
        stdin = json.dumps(inline)
    for p in _as_list(profile):
        cmd += ["--profile", str(p)]
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
    return _verdict("audit", *_json(cmd, stdin=stdin))


def _queue_args(mq_maxmsg, mq_msgsize):
    """``--mq-maxmsg``/``--mq-msgsize`` for the CLI, for those given."""
    args = []
    if mq_maxmsg is not None:
        args += ["--mq-maxmsg", str(mq_maxmsg)]
    if mq_msgsize is not None:
        args += ["--mq-msgsize", str(mq_msgsize)]
    return args


def probe(user=None, bytes=None, mq_maxmsg=None, mq_msgsize=None, binary=None):  # pylint: disable=redefined-builtin
    """
    Do what real programs do with /dev/shm and /dev/mqueue (shared memory, named semaphores as
    Python's SemLock, message queues, reserving ``bytes``, executable mappings), as ``user`` or
    the minion's user: ``shmguard probe`` with JSON output. Returns the CLI's report with
    ``checks`` keyed by check and an overall ``verdict``: pass, fail or error. The job's retcode
    is the CLI's exit code: 0 pass, 2 a check failed, 1 error.

    user
        Run as this user (name or uid); needs root.

    bytes
        Reserve this many bytes of real pages in /dev/shm, e.g. 1G (plus a header page and, beside
        them, the semaphores of a ProcessPoolExecutor(4)).

    mq_maxmsg, mq_msgsize
        Open a message queue of this shape (default 10 messages of 8192 bytes).

    binary
        The shmguard executable (see the module doc).

    A check's status is pass, warn (works, with less headroom than recommended; exit 0) or fail.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.probe user=nobody bytes=1G
        salt '*' shmguard.probe user=nobody mq_maxmsg=64 mq_msgsize=65536
    """
    cmd = [_binary(binary), "probe", "--format", "json"]
    if user is not None:
        cmd += ["--user", str(user)]
    if bytes is not None:
        cmd += ["--bytes", str(bytes)]
    cmd += _queue_args(mq_maxmsg, mq_msgsize)
    return _verdict("probe", *_json(cmd))


# --- generated by src/docs.rs from src/spec/params.rs (SHMGUARD_BLESS=1 cargo test docs_fresh); do not edit ---
# The shmguard release this module belongs to; a binary reporting another version gets a warning.
__shmguard_version__ = "0.2.0"
# --- end of generated code ---
