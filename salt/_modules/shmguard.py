"""
Read-only shmguard queries for ad-hoc use: ``salt '*' shmguard.status``,
``salt '*' shmguard.audit profile=cis``, ``salt '*' shmguard.probe user=nobody``.

Everything is computed by the shmguard binary; see the shmguard state module for where the
binary is looked up.
"""

import json

import salt.utils.path
from salt.exceptions import CommandExecutionError

__virtualname__ = "shmguard"


def __virtual__():
    return __virtualname__


def _binary(binary):
    exe = salt.utils.path.which(binary or __salt__["config.get"]("shmguard:binary") or "shmguard")
    if not exe:
        raise CommandExecutionError(
            "shmguard binary not found: pass binary=, set shmguard:binary in the minion config "
            "or pillar, or put shmguard on PATH"
        )
    return exe


def _json(cmd, stdin=None):
    res = __salt__["cmd.run_all"](cmd, python_shell=False, stdin=stdin, ignore_retcode=True, output_loglevel="quiet")
    try:
        return json.loads(res.get("stdout") or "")
    except ValueError:
        raise CommandExecutionError(
            "shmguard gave no JSON (exit {}): {}".format(res.get("retcode"), (res.get("stderr") or "").strip())
        )


def status(*paths, **kwargs):
    """
    Current state of mount points (default /dev/shm and /dev/mqueue): mounted, fstype, mode,
    size, nr_inodes, options, the fstab entry, mqueue limits.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.status
        salt '*' shmguard.status /dev/shm fstab_path=/etc/fstab
    """
    cmd = [_binary(kwargs.get("binary")), "status", "--json"]
    if kwargs.get("fstab_path"):
        cmd += ["--fstab-path", kwargs["fstab_path"]]
    return _json(cmd + list(paths))


def audit(name=None, profile=None, probe=False, binary=None, **kwargs):
    """
    Judge the system against a policy without changing anything: the parameters of the
    shmguard.managed state for one target, and/or built-in profiles (cis, multiprocessing,
    default). Returns shmguard's audit report: ``compliant``, ``summary``, and per target the
    ``checks`` with status, detail and references; with ``probe=True`` also the functional probe.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.audit profile=cis
        salt '*' shmguard.audit /dev/shm mode=1777 size=4G options=nodev,nosuid,noexec
        salt '*' shmguard.audit profile=multiprocessing probe=True
    """
    cmd = [_binary(binary), "audit", "--format", "json"]
    params = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    stdin = None
    if name is not None or params:
        params["name"] = name or "/dev/shm"
        if isinstance(params.get("mode"), int):
            # Salt's YAML loader strips leading zeros (0755 -> 755): the digits are the octal
            # mode, as `shmguard salt` reads them for states.
            params["mode"] = str(params["mode"])
        cmd += ["--policy", "-"]
        stdin = json.dumps(params)
    for p in [profile] if isinstance(profile, str) else (profile or []):
        cmd += ["--profile", p]
    if probe:
        cmd.append("--probe")
    return _json(cmd, stdin=stdin)


def probe(user=None, bytes=None, binary=None):  # pylint: disable=redefined-builtin
    """
    Do what real programs do with /dev/shm and /dev/mqueue (shared memory, named semaphores
    as Python's SemLock, message queues, reserving ``bytes``, executable mappings), as ``user``
    or the minion's user; each check passes or fails with errno and a remedy.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.probe user=nobody bytes=1G
    """
    cmd = [_binary(binary), "probe", "--format", "json"]
    if user:
        cmd += ["--user", str(user)]
    if bytes:
        cmd += ["--bytes", str(bytes)]
    return _json(cmd)
