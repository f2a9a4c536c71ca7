"""
Read-only shmguard queries for ad-hoc use: ``salt '*' shmguard.status``,
``salt '*' shmguard.audit mode=1777 options=nodev,nosuid,noexec``.

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


def audit(name="/dev/shm", binary=None, **kwargs):
    """
    Compare a mount point with the desired state without changing anything. Takes the
    parameters of the shmguard.managed state; returns ``compliant`` (bool), the ``changes``
    a real run would make and a ``comment``.

    CLI Example:

    .. code-block:: bash

        salt '*' shmguard.audit /dev/shm mode=1777 size=4G options=nodev,nosuid,noexec
    """
    args = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    args.update({"name": name, "test": True})
    ret = _json([_binary(binary), "salt"], stdin=json.dumps(args))
    if ret.get("result") is False:
        raise CommandExecutionError(ret.get("comment"))
    return {"compliant": ret.get("result") is True, "changes": ret.get("changes", {}), "comment": ret.get("comment", "")}
