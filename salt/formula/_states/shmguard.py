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

(With the saltext-shmguard package installed, the build comes with it: no include needed.)

The formula's own states (one per mount point in pillar ``shmguard:mounts``) have the IDs
``shmguard-<path>`` (``shmguard-/dev/shm``) with the path as their ``name``, so a ``/dev/shm:``
state of your own, as above, does not collide with them ("Detected conflicting IDs"); refer to
the formula's as ``- shmguard: shmguard-/dev/shm`` in requisites.

Functions (Salt reserves the ``state`` keyword, so each shmguard state is a function):
``managed`` (live mount and fstab, shmguard's state=mounted), ``present`` (fstab only),
``ephemeral`` (live mount only), ``absent`` (remove the fstab entry; never unmounts).
``sys.state_doc shmguard.managed`` documents every argument.

Which binary runs: the ``binary`` argument, else ``shmguard:binary`` from pillar or the minion
config, else the saltext-shmguard package's build, else /usr/local/sbin/shmguard (the formula's
path); PATH is never searched (``salt '*' shmguard.locate`` shows the choice). Each return
names the binary that ran and its version under ``shmguard``.

- Under ``test=True`` nothing changes; a state that would change something is None with the
  changes it would make. On a minion without the binary yet, the build for its cpuarch is
  fetched into the minion's file cache (``cp.cache_file``, checked against its ``.sha256``;
  nothing is placed on the system) and asked, so the dry run predicts the changes a real run
  would make.
- A binary that cannot run on this minion (another architecture, not executable, damaged)
  fails with the minion's cpuarch and the architecture in the binary's ELF header.
- A misspelt argument fails before anything runs, naming it and this function's arguments.
- Warnings (a flag the kernel ignores, arguments ``absent`` ignores, a binary whose version is
  not this module's) go to ``warnings``; with ``backup``, the copy's path is in
  ``changes:backup_file``.
- ``watch``: when a watched state changed something and this state had nothing to change,
  ``mod_watch`` runs it again on a fresh observation and says so; it never unmounts or forces a
  remount. To act when shmguard changes something, put ``onchanges`` on the other state.
"""

import difflib
import hashlib
import json
import os
import subprocess

from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "shmguard"


def __virtual__():
    return __virtualname__


# The builds the formula serves, by cpuarch (salt/formula/shmguard/map.jinja says the same).
_BUILDS = ("x86_64", "aarch64")
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def _source():
    """(URL of the build for this minion's cpuarch, URL or ``sha256=<hex>`` of its hash), as the
    formula's binary state takes them: pillar ``shmguard:sources:<cpuarch>`` (a URL, whose hash
    is at URL.sha256, or ``{source: URL, hash: sha256=<hex> or URL}``), else
    salt://shmguard/files/<cpuarch>/shmguard and its .sha256; (None, None) for another cpuarch."""
    cpuarch = __grains__.get("cpuarch", "unknown")
    arch = _ARCH_ALIASES.get(cpuarch, cpuarch)
    sources = __salt__["config.get"]("shmguard:sources") or {}
    given = sources.get(cpuarch) or sources.get(arch) if isinstance(sources, dict) else None
    if isinstance(given, dict):
        src = given.get("source")
        return src, given.get("hash") or given.get("source_hash") or (src + ".sha256" if src else None)
    if given:
        return given, given + ".sha256"
    if arch in _BUILDS:
        src = "salt://shmguard/files/{}/shmguard".format(arch)
        return src, src + ".sha256"
    return None, None


def _cached_build():
    """(path of the build in the minion's file cache, verified against its hash, or None; what
    was done or why not). Only the cache (cachedir/files/...) is written."""
    src, want = _source()
    if not src:
        return None, "this minion's cpuarch {} has no build".format(__grains__.get("cpuarch", "unknown"))
    cached = __salt__["cp.cache_file"](src)
    if not cached:
        return None, "the build {} is not on the master".format(src)
    if want.startswith("sha256="):
        expected = want[len("sha256="):]
    else:
        hash_file = __salt__["cp.cache_file"](want)
        if not hash_file:
            return None, "the build {} has no hash file {} (salt/build-formula writes it)".format(src, want)
        with open(hash_file, encoding="utf-8") as f:
            words = f.read().split()
        expected = words[0] if words else ""
    with open(cached, "rb") as f:
        found = hashlib.sha256(f.read()).hexdigest()
    if found != expected.strip().lower():
        return None, "the cached build {} has sha256 {}, its hash says {}: not run".format(src, found, expected)
    os.chmod(cached, 0o700)
    return cached, "predicted with the build {} from the minion's file cache ({}, sha256 verified)".format(src, cached)


def _would(state, name, params, why):
    args = ", ".join(
        "{}={}".format(k, ",".join(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in sorted(params.items())
    )
    return (
        "{}: once the binary is in place, shmguard would enforce state={} on {}{}. "
        "The changes cannot be predicted before then."
    ).format(why, state, name, " with " + args if args else "")


def _explain(exe, exc):
    """Why ``exe`` could not run here: this minion's cpuarch beside the architecture in the
    binary's ELF header (the execution module's shmguard.arch)."""
    reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
    arch = __salt__.get("shmguard.arch")
    if arch is None:
        return "the shmguard binary {} cannot run ({}) (sync the execution module too, saltutil.sync_all, for why)".format(exe, reason)
    return "the shmguard binary {} cannot run ({}): {}".format(exe, reason, arch(binary=exe)["explanation"])


def _run(state, args):
    name = args.pop("name")
    binary = args.pop("binary")
    # Salt's own keys (__id__, __sls__, ...) start with __; any other extra argument is a mistake,
    # refused here in Salt's words before anything runs.
    extra = sorted(k for k in args.pop("kwargs") if not k.startswith("__"))
    fun = {"mounted": "managed"}.get(state, state)
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if extra:
        accepted = ["name"] + list(args) + ["binary"]
        hints = []
        for k in extra:
            close = difflib.get_close_matches(k, accepted, n=1)
            hints.append("{} (did you mean {}?)".format(k, close[0]) if close else k)
        ret["comment"] = "shmguard.{}: unknown argument(s) {}; its arguments are {}".format(
            fun, ", ".join(hints), ", ".join(accepted)
        )
        return ret
    params = {k: v for k, v in args.items() if v is not None and v is not False}
    test = bool(__opts__.get("test"))
    locate = __salt__.get("shmguard.locate")
    if locate is None:
        ret["comment"] = (
            "shmguard.{} needs the shmguard execution module beside it: sync it (saltutil.sync_all) "
            "or install the saltext-shmguard package".format(fun)
        )
        return ret
    try:
        found = locate(binary)
    except SaltInvocationError as exc:
        ret["comment"] = str(exc)
        return ret
    exe, prefix = found["binary"], ""
    if not exe:
        missing = "shmguard binary not found (looked at {})".format(", ".join(found["looked_at"]))
        if not test:
            ret["comment"] = (
                "{}: install the saltext-shmguard package, or apply the formula's binary state "
                "(salt://shmguard.binary), which places the build for this minion's cpuarch, or set "
                "shmguard:binary in pillar".format(missing)
            )
            return ret
        try:
            exe, how = _cached_build()
        except (CommandExecutionError, OSError, ValueError) as exc:
            exe, how = None, "the build could not be fetched: {}".format(exc)
        if not exe:
            ret["result"] = None
            ret["comment"] = _would(state, name, params, missing + "; " + how)
            return ret
        prefix = "{}; {}.\n".format(missing, how)
    params.update({"name": name, "state": state, "test": test})
    try:
        proc = subprocess.run(
            [exe, "salt"],
            input=json.dumps(params).encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as exc:
        ret["comment"] = _explain(exe, exc)
        return ret
    try:
        out = json.loads(proc.stdout.decode("utf-8", "replace") or "")
    except ValueError:
        ret["comment"] = "shmguard ({}) gave no state return (exit {}): {}".format(
            exe, proc.returncode, (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
        )
        return ret
    if not isinstance(out, dict) or "result" not in out:
        ret["comment"] = "shmguard ({}) returned something that is not a state return: {!r}".format(exe, out)
        return ret
    version = out.pop("shmguard_version", None)
    if version != __shmguard_version__:
        out.setdefault("warnings", []).append(
            "the shmguard binary {} is version {}, this Salt module is {}: place the matching "
            "build (salt://shmguard, or the saltext-shmguard package of this version) and sync the "
            "modules (saltutil.sync_all)".format(
                exe, version or "unknown (it reports none: older than this module)", __shmguard_version__
            )
        )
    backup = out.pop("backup_file", None)
    if backup:
        out["changes"]["backup_file"] = backup
    out["comment"] = prefix + out.get("comment", "")
    out["shmguard"] = {"binary": exe, "version": version}
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
    backup_keep=None,
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
        comma-separated string is accepted too. Without ro, a read-only live mount is drift: it
        is remounted read-write (mount and filesystem) before anything else, and an ro in the
        fstab line is dropped. Default: [] (no flag managed).

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
        fstab file to manage. A missing one is created (mode 0644, with the entry) by mounted
        and present, as ansible.posix.mount does; never in a missing directory (an error).
        Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    backup_keep
        With backup: how many of shmguard's own copies of each file to keep beside it (those
        named FILE.PID.TIMESTAMP~), the newest; older ones are removed once the new copy is on
        disk. 0 keeps them all. Other files are never touched. Default: 5.

    binary
        The shmguard executable's absolute path. Default: shmguard:binary from pillar or the
        minion config (config.get), else the build inside the saltext-shmguard package, else
        /usr/local/sbin/shmguard, where the formula's binary state (salt://shmguard/binary.sls)
        places the build for this minion's cpuarch. PATH is never searched.

    Any other argument fails the state before anything runs, naming it and these.

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
    backup_keep=None,
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
        comma-separated string is accepted too. Without ro, a read-only live mount is drift: it
        is remounted read-write (mount and filesystem) before anything else, and an ro in the
        fstab line is dropped. Default: [] (no flag managed).

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
        fstab file to manage. A missing one is created (mode 0644, with the entry) by mounted
        and present, as ansible.posix.mount does; never in a missing directory (an error).
        Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    backup_keep
        With backup: how many of shmguard's own copies of each file to keep beside it (those
        named FILE.PID.TIMESTAMP~), the newest; older ones are removed once the new copy is on
        disk. 0 keeps them all. Other files are never touched. Default: 5.

    binary
        The shmguard executable's absolute path. Default: shmguard:binary from pillar or the
        minion config (config.get), else the build inside the saltext-shmguard package, else
        /usr/local/sbin/shmguard, where the formula's binary state (salt://shmguard/binary.sls)
        places the build for this minion's cpuarch. PATH is never searched.

    Any other argument fails the state before anything runs, naming it and these.

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
    backup_keep=None,
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
        comma-separated string is accepted too. Without ro, a read-only live mount is drift: it
        is remounted read-write (mount and filesystem) before anything else, and an ro in the
        fstab line is dropped. Default: [] (no flag managed).

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
        fstab file to manage. A missing one is created (mode 0644, with the entry) by mounted
        and present, as ansible.posix.mount does; never in a missing directory (an error).
        Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    backup_keep
        With backup: how many of shmguard's own copies of each file to keep beside it (those
        named FILE.PID.TIMESTAMP~), the newest; older ones are removed once the new copy is on
        disk. 0 keeps them all. Other files are never touched. Default: 5.

    binary
        The shmguard executable's absolute path. Default: shmguard:binary from pillar or the
        minion config (config.get), else the build inside the saltext-shmguard package, else
        /usr/local/sbin/shmguard, where the formula's binary state (salt://shmguard/binary.sls)
        places the build for this minion's cpuarch. PATH is never searched.

    Any other argument fails the state before anything runs, naming it and these.

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
    backup_keep=None,
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
        comma-separated string is accepted too. Without ro, a read-only live mount is drift: it
        is remounted read-write (mount and filesystem) before anything else, and an ro in the
        fstab line is dropped. Default: [] (no flag managed).

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
        fstab file to manage. A missing one is created (mode 0644, with the entry) by mounted
        and present, as ansible.posix.mount does; never in a missing directory (an error).
        Default: /etc/fstab.

    backup
        Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
        returned as backup_file. Default: False.

    backup_keep
        With backup: how many of shmguard's own copies of each file to keep beside it (those
        named FILE.PID.TIMESTAMP~), the newest; older ones are removed once the new copy is on
        disk. 0 keeps them all. Other files are never touched. Default: 5.

    binary
        The shmguard executable's absolute path. Default: shmguard:binary from pillar or the
        minion config (config.get), else the build inside the saltext-shmguard package, else
        /usr/local/sbin/shmguard, where the formula's binary state (salt://shmguard/binary.sls)
        places the build for this minion's cpuarch. PATH is never searched.

    Any other argument fails the state before anything runs, naming it and these.

    Returns Salt's state return; warnings (such as a flag the kernel ignores) go to
    ``warnings``. A ``watch`` requisite re-runs the state after the watched state changed.
    """
    return _run("absent", locals())


# --- end of generated code ---
