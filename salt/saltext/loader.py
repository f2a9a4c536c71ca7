"""
The saltext-shmguard package's entry points into Salt's loader (``salt.loader`` in the wheel's
entry_points.txt): the directories that hold its execution and state modules and its beacon,
which are the formula's salt/formula/_modules, _states and _beacons/shmguard.py, copied into the
wheel by salt/build-extension. The static shmguard build for the wheel's CPU is in ``bin/``.
"""

import os

PACKAGE = os.path.dirname(os.path.abspath(__file__))


def get_module_dirs():
    """Execution modules: ``shmguard.audit``, ``status``, ``probe``, ``locate``, ..."""
    return [os.path.join(PACKAGE, "modules")]


def get_state_dirs():
    """State modules: ``shmguard.managed``, ``present``, ``ephemeral``, ``absent``."""
    return [os.path.join(PACKAGE, "states")]


def get_beacon_dirs():
    """Beacons: ``shmguard`` (drift of a target on the event bus, from ``shmguard watch``)."""
    return [os.path.join(PACKAGE, "beacons")]
