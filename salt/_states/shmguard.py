"""
Enforce /dev/shm and /dev/mqueue with the shmguard binary: mode, tmpfs size and inode limit,
mount flags, the fstab entry and mqueue limits, live and persisted, idempotently.

All logic lives in the shmguard binary (the same engine as its Ansible module and CLI); this
module passes the state's arguments to ``shmguard salt`` as JSON and returns its state return.

.. code-block:: yaml

    include:
      - shmguard          # the formula: places the build for this minion's cpuarch

    /dev/shm:
      shmguard.managed:
        - mode: "1777"
        - size: 4G
        - options: [nodev, nosuid, noexec]
        - require:
          - sls: shmguard

The formula's own states (one per mount point in pillar ``shmguard:mounts``) have the IDs
``shmguard-<path>`` (``shmguard-/dev/shm``) with the path as their ``name``, so a ``/dev/shm:``
state of your own, as above, does not collide with them ("Detected conflicting IDs"); refer to
the formula's as ``- shmguard: shmguard-/dev/shm`` in requisites.

Functions (Salt reserves the ``state`` keyword, so each shmguard state is a function):
``managed`` (live mount and fstab, shmguard's state=mounted), ``present`` (fstab only),
``ephemeral`` (live mount only), ``absent`` (remove the fstab entry; never unmounts).
``sys.state_doc shmguard.managed`` documents every argument.

Where the binary is: the ``binary`` argument, else ``shmguard:binary`` from the minion config
or pillar (``config.get``), else ``shmguard`` on PATH, else /usr/local/sbin/shmguard (where the
formula salt://shmguard places it).

- Under ``test=True`` nothing changes; a state that would change something is None with the
  changes it would make. Before the binary is on the minion, that is None with what would run.
- A binary that cannot run on this minion (another architecture, not executable, damaged)
  fails with the minion's cpuarch and the architecture in the binary's ELF header.
- Warnings (a flag the kernel ignores, arguments ``absent`` ignores, a binary whose version is
  not this module's) go to ``warnings``.
- ``watch``: when a watched state changed something and this state had nothing to change,
  ``mod_watch`` runs it again on a fresh observation and says so; it never unmounts or forces a
  remount. To act when shmguard changes something, put ``onchanges`` on the other state.
"""

import json

import salt.utils.path
from salt.exceptions import CommandExecutionError

__virtualname__ = "shmguard"


def __virtual__():
    return __virtualname__


# Where the formula (salt://shmguard) places the binary when pillar does not say.
_FORMULA_BINARY = "/usr/local/sbin/shmguard"


def _binary(binary):
    """(the shmguard executable or None, what was looked for)."""
    candidate = binary or __salt__["config.get"]("shmguard:binary")
    if candidate:
        return salt.utils.path.which(candidate), candidate
    return salt.utils.path.which("shmguard") or salt.utils.path.which(_FORMULA_BINARY), "shmguard on PATH or " + _FORMULA_BINARY


def _explain(exe, exc):
    """Why ``exe`` could not run here, from the execution module (this minion's cpuarch, the
    architecture in the binary's ELF header)."""
    arch = __salt__.get("shmguard.arch")
    if arch is None:
        return "cannot run the shmguard binary {}: {} (sync salt/_modules too, saltutil.sync_all, for the reason)".format(exe, exc)
    return arch(binary=exe, error=str(exc))["explanation"]


def _would(state, name, params, looked_for):
    args = ", ".join(
        "{}={}".format(k, ",".join(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in sorted(params.items())
    )
    return (
        "shmguard binary not found ({}): once it is in place, shmguard would enforce state={} on {}{}. "
        "The changes cannot be predicted before then. The formula's binary state (salt://shmguard) places it."
    ).format(looked_for, state, name, " with " + args if args else "")


def _run(state, args):
    name = args.pop("name")
    exe, looked_for = _binary(args.pop("binary"))
    # Salt's own keys (__id__, __sls__, ...) start with __; any other extra argument goes to
    # the binary, which refuses it by name with the accepted ones.
    extra = {k: v for k, v in args.pop("kwargs").items() if not k.startswith("__")}
    params = {k: v for k, v in args.items() if v is not None and v is not False}
    params.update(extra)
    test = bool(__opts__.get("test"))
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if not exe:
        if test:
            ret["result"] = None
            ret["comment"] = _would(state, name, params, looked_for)
            return ret
        ret["comment"] = (
            "shmguard binary not found ({}): set the state's binary argument, or shmguard:binary "
            "in the minion config or pillar, or put shmguard on PATH; the formula's binary state "
            "(salt://shmguard) places the build for this minion's cpuarch".format(looked_for)
        )
        return ret
    params.update({"name": name, "state": state, "test": test})
    try:
        res = __salt__["cmd.run_all"](
            [exe, "salt"],
            python_shell=False,
            stdin=json.dumps(params),
            ignore_retcode=True,
            output_loglevel="quiet",
        )
    except CommandExecutionError as exc:
        ret["comment"] = _explain(exe, exc)
        return ret
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
    version = out.pop("shmguard_version", None)
    if version != __shmguard_version__:
        out.setdefault("warnings", []).append(
            "the shmguard binary {} is version {}, this Salt module is {}: place the matching "
            "build (salt://shmguard) and sync the modules (saltutil.sync_all)".format(
                exe, version or "unknown (it reports none: older than this module)", __shmguard_version__
            )
        )
    return out


def mod_watch(name, sfun=None, **kwargs):
    """
    Called by Salt when a state this one ``watch``-es made changes and this state itself had
    nothing to change: runs ``sfun`` (managed, present, ephemeral or absent) again on a fresh
    observation of the live mount and fstab, and says that a watch triggered it. It never
    unmounts or forces a remount (a tmpfs keeps its files only while mounted).
    """
    fun = {"managed": managed, "present": present, "ephemeral": ephemeral, "absent": absent}.get(sfun)
    if fun is None:
        return {
            "name": name,
            "result": False,
            "changes": {},
            "comment": "shmguard.{} cannot be watched: watch works on shmguard.managed, present, ephemeral and absent".format(sfun),
        }
    # Salt leaves out its runtime and requisite keywords; its own __reqs__ starts with __. All
    # else is the state's arguments, a misspelt one included: it fails again, as it did.
    ret = fun(name, **{k: v for k, v in kwargs.items() if not k.startswith("__")})
    ret["comment"] = "Re-checked because a watched state changed. " + ret["comment"]
    return ret


# The functions below are generated from shmguard's parameter table.
# --- generated by src/docs.rs from src/spec/params.rs (SHMGUARD_BLESS=1 cargo test docs_fresh); do not edit ---
# The shmguard release this module belongs to; a binary reporting another version gets a warning.
__shmguard_version__ = "0.2.0"


def managed(
    name,
    fstype=None,
    mode=None,
    size=None,
    min_size=None,
    nr_inodes=None,
    options=None,
    queues_max=None,
    msg_max=None,
    msgsize_max=None,
    sysctl_path=None,
    init=None,
    fstab_path=None,
    backup=False,
    binary=None,
    **kwargs
):
    """
    The live mount and its fstab entry (and, for mqueue, the limits live and in sysctl_path)
    match the arguments (shmguard's state=mounted).

    .. code-block:: yaml

        /dev/shm:
          shmguard.managed:
            - mode: "1777"
            - size: 4G
            - options: [nodev, nosuid, noexec]

    name
        Mount point to manage. Must be absolute. The state's ID when not given.

    fstype
        Filesystem type. Defaults to mqueue for /dev/mqueue and tmpfs for any other path. One
        of: tmpfs, mqueue.

    mode
        Octal mode of the mount root, as a quoted string ("1777" or "01777"). Set live with
        chmod (the kernel ignores mode= on remount) and, for tmpfs, in fstab as mode= (left out
        for 1777, the tmpfs default). Unmanaged when omitted. In Salt an unquoted mode is read
        as its digits (1777 as "1777").

    size
        tmpfs size limit: bytes, a k/m/g/t/p/e suffix (either case, powers of 1024), N% of RAM,
        or 0 for unlimited. 4G, 4096m and 4194304k are the same size. Unmanaged when omitted.

    min_size
        tmpfs minimum size, same syntax as size: grow to it when smaller, never shrink. Mutually
        exclusive with size.

    nr_inodes
        tmpfs inode limit: a count with an optional k/m/g/t/p/e suffix, N% of RAM pages (the
        kernel default is 50%), or 0 for unlimited. Unmanaged when omitted.

    options
        Mount flags that must hold live and in fstab: nodev, nosuid, noexec, ro, noatime,
        relatime, strictatime, nodiratime, or their opposites rw, dev, suid, exec, diratime. A
        comma-separated string is accepted too. Default: [] (no flag managed).

    queues_max
        mqueue only: /proc/sys/fs/mqueue/queues_max (0 to 2147483647), set live and persisted in
        sysctl_path.

    msg_max
        mqueue only: /proc/sys/fs/mqueue/msg_max (1 to 65536), set live and persisted in
        sysctl_path.

    msgsize_max
        mqueue only: /proc/sys/fs/mqueue/msgsize_max (128 to 16777216), set live and persisted
        in sysctl_path.

    sysctl_path
        sysctl.d file that persists the mqueue limits. Default:
        /etc/sysctl.d/90-shmguard-mqueue.conf.

    init
        The init system that boots this host, which decides what the fstab line does at the next
        boot. systemd mounts /dev/shm itself (mode 1777, nosuid, nodev) and then remounts it
        with the line's options; other init systems, and systemd for every other path, mount
        afresh from the line. auto: systemd when /run/systemd/system exists (set it when
        managing an image or a chroot). One of: auto, systemd, other. Default: auto.

    fstab_path
        fstab file to manage. Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    binary
        The shmguard executable. Default: shmguard:binary from the minion config or pillar
        (config.get), else shmguard on PATH, else /usr/local/sbin/shmguard, where the formula's
        binary state (salt://shmguard/binary.sls) places the build for this minion's cpuarch.

    Any other argument fails the state, naming it and the accepted ones.

    Returns Salt's state return; warnings (such as a flag the kernel ignores) go to
    ``warnings``. A ``watch`` requisite re-runs the state after the watched state changed.
    """
    return _run("mounted", locals())


def present(
    name,
    fstype=None,
    mode=None,
    size=None,
    min_size=None,
    nr_inodes=None,
    options=None,
    queues_max=None,
    msg_max=None,
    msgsize_max=None,
    sysctl_path=None,
    init=None,
    fstab_path=None,
    backup=False,
    binary=None,
    **kwargs
):
    """
    The fstab entry (and the mqueue limits in sysctl_path) match the arguments; the live mount
    is left alone (shmguard's state=present).

    .. code-block:: yaml

        /dev/shm:
          shmguard.present:
            - mode: "1777"
            - size: 4G
            - options: [nodev, nosuid, noexec]

    name
        Mount point to manage. Must be absolute. The state's ID when not given.

    fstype
        Filesystem type. Defaults to mqueue for /dev/mqueue and tmpfs for any other path. One
        of: tmpfs, mqueue.

    mode
        Octal mode of the mount root, as a quoted string ("1777" or "01777"). Set live with
        chmod (the kernel ignores mode= on remount) and, for tmpfs, in fstab as mode= (left out
        for 1777, the tmpfs default). Unmanaged when omitted. In Salt an unquoted mode is read
        as its digits (1777 as "1777").

    size
        tmpfs size limit: bytes, a k/m/g/t/p/e suffix (either case, powers of 1024), N% of RAM,
        or 0 for unlimited. 4G, 4096m and 4194304k are the same size. Unmanaged when omitted.

    min_size
        tmpfs minimum size, same syntax as size: grow to it when smaller, never shrink. Mutually
        exclusive with size.

    nr_inodes
        tmpfs inode limit: a count with an optional k/m/g/t/p/e suffix, N% of RAM pages (the
        kernel default is 50%), or 0 for unlimited. Unmanaged when omitted.

    options
        Mount flags that must hold live and in fstab: nodev, nosuid, noexec, ro, noatime,
        relatime, strictatime, nodiratime, or their opposites rw, dev, suid, exec, diratime. A
        comma-separated string is accepted too. Default: [] (no flag managed).

    queues_max
        mqueue only: /proc/sys/fs/mqueue/queues_max (0 to 2147483647), set live and persisted in
        sysctl_path.

    msg_max
        mqueue only: /proc/sys/fs/mqueue/msg_max (1 to 65536), set live and persisted in
        sysctl_path.

    msgsize_max
        mqueue only: /proc/sys/fs/mqueue/msgsize_max (128 to 16777216), set live and persisted
        in sysctl_path.

    sysctl_path
        sysctl.d file that persists the mqueue limits. Default:
        /etc/sysctl.d/90-shmguard-mqueue.conf.

    init
        The init system that boots this host, which decides what the fstab line does at the next
        boot. systemd mounts /dev/shm itself (mode 1777, nosuid, nodev) and then remounts it
        with the line's options; other init systems, and systemd for every other path, mount
        afresh from the line. auto: systemd when /run/systemd/system exists (set it when
        managing an image or a chroot). One of: auto, systemd, other. Default: auto.

    fstab_path
        fstab file to manage. Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    binary
        The shmguard executable. Default: shmguard:binary from the minion config or pillar
        (config.get), else shmguard on PATH, else /usr/local/sbin/shmguard, where the formula's
        binary state (salt://shmguard/binary.sls) places the build for this minion's cpuarch.

    Any other argument fails the state, naming it and the accepted ones.

    Returns Salt's state return; warnings (such as a flag the kernel ignores) go to
    ``warnings``. A ``watch`` requisite re-runs the state after the watched state changed.
    """
    return _run("present", locals())


def ephemeral(
    name,
    fstype=None,
    mode=None,
    size=None,
    min_size=None,
    nr_inodes=None,
    options=None,
    queues_max=None,
    msg_max=None,
    msgsize_max=None,
    sysctl_path=None,
    init=None,
    fstab_path=None,
    backup=False,
    binary=None,
    **kwargs
):
    """
    The live mount (and the live mqueue limits) match the arguments; fstab is left alone
    (shmguard's state=ephemeral).

    .. code-block:: yaml

        /dev/shm:
          shmguard.ephemeral:
            - mode: "1777"
            - size: 4G
            - options: [nodev, nosuid, noexec]

    name
        Mount point to manage. Must be absolute. The state's ID when not given.

    fstype
        Filesystem type. Defaults to mqueue for /dev/mqueue and tmpfs for any other path. One
        of: tmpfs, mqueue.

    mode
        Octal mode of the mount root, as a quoted string ("1777" or "01777"). Set live with
        chmod (the kernel ignores mode= on remount) and, for tmpfs, in fstab as mode= (left out
        for 1777, the tmpfs default). Unmanaged when omitted. In Salt an unquoted mode is read
        as its digits (1777 as "1777").

    size
        tmpfs size limit: bytes, a k/m/g/t/p/e suffix (either case, powers of 1024), N% of RAM,
        or 0 for unlimited. 4G, 4096m and 4194304k are the same size. Unmanaged when omitted.

    min_size
        tmpfs minimum size, same syntax as size: grow to it when smaller, never shrink. Mutually
        exclusive with size.

    nr_inodes
        tmpfs inode limit: a count with an optional k/m/g/t/p/e suffix, N% of RAM pages (the
        kernel default is 50%), or 0 for unlimited. Unmanaged when omitted.

    options
        Mount flags that must hold live and in fstab: nodev, nosuid, noexec, ro, noatime,
        relatime, strictatime, nodiratime, or their opposites rw, dev, suid, exec, diratime. A
        comma-separated string is accepted too. Default: [] (no flag managed).

    queues_max
        mqueue only: /proc/sys/fs/mqueue/queues_max (0 to 2147483647), set live and persisted in
        sysctl_path.

    msg_max
        mqueue only: /proc/sys/fs/mqueue/msg_max (1 to 65536), set live and persisted in
        sysctl_path.

    msgsize_max
        mqueue only: /proc/sys/fs/mqueue/msgsize_max (128 to 16777216), set live and persisted
        in sysctl_path.

    sysctl_path
        sysctl.d file that persists the mqueue limits. Default:
        /etc/sysctl.d/90-shmguard-mqueue.conf.

    init
        The init system that boots this host, which decides what the fstab line does at the next
        boot. systemd mounts /dev/shm itself (mode 1777, nosuid, nodev) and then remounts it
        with the line's options; other init systems, and systemd for every other path, mount
        afresh from the line. auto: systemd when /run/systemd/system exists (set it when
        managing an image or a chroot). One of: auto, systemd, other. Default: auto.

    fstab_path
        fstab file to manage. Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    binary
        The shmguard executable. Default: shmguard:binary from the minion config or pillar
        (config.get), else shmguard on PATH, else /usr/local/sbin/shmguard, where the formula's
        binary state (salt://shmguard/binary.sls) places the build for this minion's cpuarch.

    Any other argument fails the state, naming it and the accepted ones.

    Returns Salt's state return; warnings (such as a flag the kernel ignores) go to
    ``warnings``. A ``watch`` requisite re-runs the state after the watched state changed.
    """
    return _run("ephemeral", locals())


def absent(
    name,
    fstype=None,
    mode=None,
    size=None,
    min_size=None,
    nr_inodes=None,
    options=None,
    queues_max=None,
    msg_max=None,
    msgsize_max=None,
    sysctl_path=None,
    init=None,
    fstab_path=None,
    backup=False,
    binary=None,
    **kwargs
):
    """
    No fstab entry for the mount point; the live mount is never unmounted (shmguard's
    state=absent).

    .. code-block:: yaml

        /dev/shm:
          shmguard.absent:
            - backup: true

    name
        Mount point to manage. Must be absolute. The state's ID when not given.

    fstype
        Filesystem type. Defaults to mqueue for /dev/mqueue and tmpfs for any other path. One
        of: tmpfs, mqueue.

    mode
        Octal mode of the mount root, as a quoted string ("1777" or "01777"). Set live with
        chmod (the kernel ignores mode= on remount) and, for tmpfs, in fstab as mode= (left out
        for 1777, the tmpfs default). Unmanaged when omitted. In Salt an unquoted mode is read
        as its digits (1777 as "1777").

    size
        tmpfs size limit: bytes, a k/m/g/t/p/e suffix (either case, powers of 1024), N% of RAM,
        or 0 for unlimited. 4G, 4096m and 4194304k are the same size. Unmanaged when omitted.

    min_size
        tmpfs minimum size, same syntax as size: grow to it when smaller, never shrink. Mutually
        exclusive with size.

    nr_inodes
        tmpfs inode limit: a count with an optional k/m/g/t/p/e suffix, N% of RAM pages (the
        kernel default is 50%), or 0 for unlimited. Unmanaged when omitted.

    options
        Mount flags that must hold live and in fstab: nodev, nosuid, noexec, ro, noatime,
        relatime, strictatime, nodiratime, or their opposites rw, dev, suid, exec, diratime. A
        comma-separated string is accepted too. Default: [] (no flag managed).

    queues_max
        mqueue only: /proc/sys/fs/mqueue/queues_max (0 to 2147483647), set live and persisted in
        sysctl_path.

    msg_max
        mqueue only: /proc/sys/fs/mqueue/msg_max (1 to 65536), set live and persisted in
        sysctl_path.

    msgsize_max
        mqueue only: /proc/sys/fs/mqueue/msgsize_max (128 to 16777216), set live and persisted
        in sysctl_path.

    sysctl_path
        sysctl.d file that persists the mqueue limits. Default:
        /etc/sysctl.d/90-shmguard-mqueue.conf.

    init
        The init system that boots this host, which decides what the fstab line does at the next
        boot. systemd mounts /dev/shm itself (mode 1777, nosuid, nodev) and then remounts it
        with the line's options; other init systems, and systemd for every other path, mount
        afresh from the line. auto: systemd when /run/systemd/system exists (set it when
        managing an image or a chroot). One of: auto, systemd, other. Default: auto.

    fstab_path
        fstab file to manage. Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    binary
        The shmguard executable. Default: shmguard:binary from the minion config or pillar
        (config.get), else shmguard on PATH, else /usr/local/sbin/shmguard, where the formula's
        binary state (salt://shmguard/binary.sls) places the build for this minion's cpuarch.

    Any other argument fails the state, naming it and the accepted ones.

    Returns Salt's state return; warnings (such as a flag the kernel ignores) go to
    ``warnings``. A ``watch`` requisite re-runs the state after the watched state changed.
    """
    return _run("absent", locals())


# --- end of generated code ---
