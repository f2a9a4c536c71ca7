"""
The shmguard execution module under salt-ssh, with the pillar's ``shmguard:binary``.

salt-ssh runs an execution module on the target with ``salt-call --local`` and sends the
target's pillar only with state functions (``state.apply`` ships it in its tarball), so there
``config.get('shmguard:binary')`` sees no pillar and ``salt-ssh host shmguard.status`` would
look for the binary on PATH. This wrapper runs on the master, where salt-ssh compiled the
target's pillar: it looks up ``shmguard:binary`` (``config.get``: the target's pillar, then the
master config) and calls the same function of the execution module on the target with
``binary=`` set, unless the call passes ``binary`` itself. Results and retcodes are the
execution module's (``shmguard.audit`` exits 2 on drift, as on a minion).

Put salt/ in the master's file_roots and run ``salt-run saltutil.sync_all`` (or
``saltutil.sync_wrapper``) on the master once, and after each update.
"""

import salt.client.ssh.wrapper

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
    """``shmguard.status`` on the target (see the execution module)."""
    return _on_target("status", *paths, **kwargs)


def audit(*args, **kwargs):
    """``shmguard.audit`` on the target (see the execution module)."""
    return _on_target("audit", *args, **kwargs)


def probe(*args, **kwargs):
    """``shmguard.probe`` on the target (see the execution module)."""
    return _on_target("probe", *args, **kwargs)


def version(*args, **kwargs):
    """``shmguard.version`` on the target (see the execution module)."""
    return _on_target("version", *args, **kwargs)


def arch(*args, **kwargs):
    """``shmguard.arch`` on the target (see the execution module)."""
    return _on_target("arch", *args, **kwargs)
