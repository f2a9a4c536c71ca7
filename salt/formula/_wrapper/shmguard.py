"""
The shmguard execution module under salt-ssh, with the pillar's ``shmguard:binary``.

salt-ssh runs an execution module on the target with ``salt-call --local`` and sends the
target's pillar only with state functions (``state.apply`` ships it in its tarball), so there
``config.get('shmguard:binary')`` sees no pillar and ``salt-ssh host shmguard.status`` would
look for the binary on PATH. This wrapper runs on the master, where salt-ssh compiled the
target's pillar: it looks up ``shmguard:binary`` (``config.get``: the target's pillar, then the
master config) and calls the same function of the execution module on the target with
``binary=`` set, unless the call passes ``binary`` itself. Results and retcodes are the
execution module's (``shmguard.audit`` exits 2 on drift, as on a minion). A ``salt://``
policy for ``shmguard.audit`` is copied to the target first (``cp.cache_file``).

Put salt/formula in the master's file_roots and run ``salt-run saltutil.sync_all`` (or
``saltutil.sync_wrapper``) on the master once, and after each update.
"""

import salt.client.ssh.wrapper
from salt.exceptions import CommandExecutionError

__virtualname__ = "shmguard"


def __virtual__():
    return __virtualname__


def _on_target(fun, *args, **kwargs):
    """``shmguard.<fun>`` of the execution module on the target, with the pillar's binary."""
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    if not kwargs.get("binary"):
        binary = __salt__["config.get"]("shmguard:binary")
        if binary:
            kwargs["binary"] = binary
    # Here __salt__ is salt-ssh's FunctionWrapper for this target, in which shmguard.* names
    # this wrapper; the same wrapper without wrapper functions runs them on the target.
    here = __salt__
    target = salt.client.ssh.wrapper.FunctionWrapper(
        here.opts,
        wfuncs={},
        mods=here.mods,
        fsclient=here.fsclient,
        minion_opts=here.minion_opts,
        **here.kwargs
    )
    try:
        return target["shmguard." + fun](*args, **kwargs)
    except salt.client.ssh.wrapper.SSHCommandExecutionError as exc:
        # A report with a non-zero retcode (drift, a failed probe, another version) is a
        # result, not an error: keep both, as the execution module does on a minion.
        if isinstance(exc.result, dict):
            __context__["retcode"] = exc.retcode
            return exc.result
        raise


def status(*paths, **kwargs):
    """``shmguard.status`` on the target (see the execution module); without paths, those of
    the pillar's ``shmguard:mounts`` (compiled here, on the master), each with its fstab_path."""
    mounts = __salt__["config.get"]("shmguard:mounts") or {}
    if paths or not isinstance(mounts, dict) or not mounts:
        return _on_target("status", *paths, **kwargs)
    groups = {}
    for path, args in sorted(mounts.items()):
        args = args or {}
        groups.setdefault(kwargs.get("fstab_path") or args.get("fstab_path"), []).append(args.get("name", path))
    out = {}
    for fstab_path, group in groups.items():
        extra = dict(kwargs, fstab_path=fstab_path) if fstab_path else dict(kwargs)
        out.update(_on_target("status", *group, **extra))
    return out


def _on_target_path(policy):
    """A ``salt://`` policy file copied to the target (the target has no master to ask)."""
    if isinstance(policy, (list, tuple)):
        return [_on_target_path(p) for p in policy]
    if isinstance(policy, str) and policy.startswith("salt://"):
        cached = __salt__["cp.cache_file"](policy)
        if not cached:
            raise CommandExecutionError("shmguard.audit: policy {} not found on the master".format(policy))
        return cached
    return policy


def audit(profile=None, policy=None, fstab=None, root=None, probe=False, user=None, bytes=None, mq_maxmsg=None, mq_msgsize=None, binary=None):  # pylint: disable=redefined-builtin,redefined-outer-name
    """``shmguard.audit`` on the target (see the execution module); a ``salt://`` policy is
    copied to the target first. Without profile and policy, the pillar's ``shmguard:mounts``
    (compiled here, on the master) are the policy."""
    if profile is None and policy is None:
        mounts = __salt__["config.get"]("shmguard:mounts") or {}
        if isinstance(mounts, dict) and mounts:
            policy = [dict(args or {}, path=(args or {}).get("name", path)) for path, args in sorted(mounts.items())]
            for target in policy:
                target.pop("name", None)
    kwargs = {
        "profile": profile,
        "policy": _on_target_path(policy),
        "fstab": fstab,
        "root": root,
        "probe": probe or None,
        "user": user,
        "bytes": bytes,
        "mq_maxmsg": mq_maxmsg,
        "mq_msgsize": mq_msgsize,
        "binary": binary,
    }
    return _on_target("audit", **{k: v for k, v in kwargs.items() if v is not None})


def probe(*args, **kwargs):
    """``shmguard.probe`` on the target (see the execution module); without arguments, the
    pillar's ``shmguard:probe`` (compiled here, on the master) gives them."""
    given = {k: v for k, v in kwargs.items() if not k.startswith("__") and k != "binary"}
    if not args and not given:
        pillar = __salt__["config.get"]("shmguard:probe") or {}
        if isinstance(pillar, dict):
            kwargs.update({k: v for k, v in pillar.items() if v is not None})
    return _on_target("probe", *args, **kwargs)


def version(*args, **kwargs):
    """``shmguard.version`` on the target (see the execution module)."""
    return _on_target("version", *args, **kwargs)


def locate(*args, **kwargs):
    """``shmguard.locate`` on the target (see the execution module)."""
    return _on_target("locate", *args, **kwargs)


def arch(*args, **kwargs):
    """``shmguard.arch`` on the target (see the execution module)."""
    return _on_target("arch", *args, **kwargs)
