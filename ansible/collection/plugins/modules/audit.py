#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: audit
short_description: "Judge /dev/shm and /dev/mqueue against profiles and policies without changing anything"
version_added: "0.1.0"
description:
  - "C(shmguard audit) on the target: each property of each target live, in fstab, at the next boot and in sysctl.d, and optionally what real
      programs can do (the probe). Read-only: nothing on the target changes, in any mode."
  - "Returns the audit JSON document (schema/audit.schema.json), which C(shmguard report) merges across hosts; the playbook
      C(shmguard.shm.audit) does that on the controller."
  - "Drift does not fail the task (the result says C(compliant: false)); arguments that cannot be audited do."
  - "Runs through the collection's action plugin, as shmguard.shm.shmguard: one remote command per task once the build is cached. Python is not
      needed on the target."
author:
  - shmguard maintainers (@shmguard)
options:
  profile:
    description:
      - "Built-in profiles: cis, multiprocessing, mqueue, default. The default profile when neither profile nor policy is given."
    type: list
    elements: str
    choices: [cis, multiprocessing, mqueue, default]
  policy:
    description:
      - "Policy targets: each a dict of shmguard.shm.shmguard's parameters plus optional C(references) by check key."
    type: list
    elements: dict
  fstab_path:
    description:
      - "Audit this fstab instead of each target's fstab_path (C(shmguard audit --fstab-path))."
    type: str
    aliases: [fstab]
  init:
    description:
      - "The init system that boots the target, which decides what the boot checks predict."
    type: str
    choices: [auto, systemd, other]
  probe:
    description:
      - "Also run the functional probe (shared memory, semaphores, message queues as real programs use them)."
    type: bool
    default: false
  user:
    description:
      - "With probe, run it as this user (name or uid); needs become."
    type: str
  bytes:
    description:
      - "With probe, bytes to reserve in /dev/shm, e.g. 1G."
    type: str
  mq_maxmsg:
    description:
      - "With probe, the messages of the queue the target's programs open (C(shmguard probe --mq-maxmsg)); 10 when omitted."
    type: int
  mq_msgsize:
    description:
      - "With probe, the bytes per message of that queue (C(shmguard probe --mq-msgsize)); 8192 when omitted."
    type: int
  program:
    description:
      - "What the programs make in /dev/shm (C(shmguard audit --program)): the multiprocessing profile's free inodes and space (and the probe's) fail when it cannot be made, warn below the recommended headroom beyond it; probe or not."
      - "C(lock) a multiprocessing.Lock (2 free inodes), C(queue) a Queue (4), C(executor) a ProcessPoolExecutor (6), C(pool) a Pool (7)."
    type: str
    choices: [lock, queue, executor, pool]
    default: pool
attributes:
  check_mode:
    description: "Can run in check_mode and return changed status prediction without modifying target."
    support: full
    details: "An audit never changes anything, in check mode or not."
  diff_mode:
    description: "Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode."
    support: none
"""

EXAMPLES = r"""
- name: CIS audit of /dev/shm
  shmguard.shm.audit:
    profile: [cis]
  register: shm_audit

- name: A site policy, with the probe as nobody
  become: true
  shmguard.shm.audit:
    policy:
      - path: /dev/shm
        mode: "1777"
        options: [nodev, nosuid, noexec]
    probe: true
    user: nobody
"""

RETURN = r"""
compliant:
  description: "Every check passed (warnings count as passed)."
  returned: success
  type: bool
host:
  description: "The target's host name (uname nodename)."
  returned: success
  type: str
time:
  description: "When the audit ran (RFC 3339, UTC)."
  returned: success
  type: str
summary:
  description: "Counts of checks, passed, failed and errors."
  returned: success
  type: dict
targets:
  description: "Each target with its checks (id, name, scope, status, detail, references), what it wants and the command that fixes it."
  returned: success
  type: list
  elements: dict
probe:
  description: "The probe's report, with probe."
  returned: when probe
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    profile=dict(type='list', elements='str', choices=['cis', 'multiprocessing', 'mqueue', 'default']),
    policy=dict(type='list', elements='dict'),
    fstab_path=dict(type='str', aliases=['fstab']),
    init=dict(type='str', choices=['auto', 'systemd', 'other']),
    probe=dict(type='bool', default=False),
    user=dict(type='str'),
    bytes=dict(type='str'),
    mq_maxmsg=dict(type='int'),
    mq_msgsize=dict(type='int'),
    program=dict(type='str', choices=['lock', 'queue', 'executor', 'pool'], default='pool'),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="shmguard.shm.audit runs through its action plugin (plugins/action/audit.py), "
                         "which was bypassed: call the module by its FQCN from a playbook or ad-hoc command")


if __name__ == "__main__":
    main()
