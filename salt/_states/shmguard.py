"""
Enforce /dev/shm and /dev/mqueue with the shmguard binary: mode, tmpfs size and inode limit,
mount flags, the fstab entry and mqueue limits, live and persisted, idempotently.

All logic lives in the shmguard binary (the same engine as its Ansible module); this module
only passes the state's arguments to ``shmguard salt`` as JSON and returns its state return.

.. code-block:: yaml

    /dev/shm:
      shmguard.managed:
        - mode: "1777"
        - size: 4G
        - options: [nodev, nosuid, noexec]

Functions (Salt reserves the ``state`` keyword, so each shmguard state is a function):
``managed`` (live mount and fstab, shmguard's state=mounted), ``present`` (fstab only),
``ephemeral`` (live mount only), ``absent`` (remove the fstab entry; never unmounts).

Where the binary is: the ``binary`` argument, else ``shmguard:binary`` from the minion
config or pillar (``config.get``), else ``shmguard`` on PATH.
"""

import json

import salt.utils.path

__virtualname__ = "shmguard"


def __virtual__():
    return __virtualname__


def _binary(binary):
    """The shmguard executable to run, or None."""
    candidate = binary or __salt__["config.get"]("shmguard:binary") or "shmguard"
    return salt.utils.path.which(candidate)


def _run(name, state, binary, kwargs):
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    exe = _binary(binary)
    if not exe:
        ret["comment"] = (
            "shmguard binary not found: set the state's binary argument, or shmguard:binary "
            "in the minion config or pillar, or put shmguard on PATH "
            "(see salt/README.md for distributing it with file.managed)"
        )
        return ret
    args = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    args.update({"name": name, "state": state, "test": bool(__opts__.get("test"))})
    res = __salt__["cmd.run_all"](
        [exe, "salt"],
        python_shell=False,
        stdin=json.dumps(args),
        ignore_retcode=True,
        output_loglevel="quiet",
    )
    try:
        out = json.loads(res.get("stdout") or "")
    except ValueError:
        ret["comment"] = "shmguard ({}) gave no state return (exit {}): {}".format(
            exe, res.get("retcode"), (res.get("stderr") or res.get("stdout") or "").strip()
        )
        return ret
    if not isinstance(out, dict) or "result" not in out:
        ret["comment"] = "shmguard ({}) returned something that is not a state return: {!r}".format(exe, out)
        return ret
    return out


def managed(name, binary=None, **kwargs):
    """
    The live mount and its fstab entry (and, for mqueue, the limits live and in sysctl_path)
    match the arguments: mode, size, min_size, nr_inodes, options, fstype, queues_max,
    msg_max, msgsize_max, fstab_path, sysctl_path, backup. See shmguard's README.
    """
    return _run(name, "mounted", binary, kwargs)


def present(name, binary=None, **kwargs):
    """The fstab entry (and persisted mqueue limits) only; the live mount is left alone."""
    return _run(name, "present", binary, kwargs)


def ephemeral(name, binary=None, **kwargs):
    """The live mount (and live mqueue limits) only; fstab is left alone."""
    return _run(name, "ephemeral", binary, kwargs)


def absent(name, binary=None, **kwargs):
    """No fstab entry for the mount point; the live mount is never unmounted."""
    return _run(name, "absent", binary, kwargs)
