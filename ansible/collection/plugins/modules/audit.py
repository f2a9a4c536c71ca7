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
version_added: "0.2.0"
description:
  - "C(shmguard audit) on the target: each property of each target live, in fstab, at the next boot and in sysctl.d, and optionally what real
      programs can do (the probe). Read-only: nothing on the target changes, in any mode."
  - "Returns the audit JSON document, whose JSON Schema the collection ships as C(docs/audit.schema.json) (schema/audit.schema.json
      in the shmguard repository). C(shmguard report) merges it across hosts; the playbook C(shmguard.shm.audit) does that for a fleet."
  - "Drift does not fail the task (the result says C(compliant: false)); arguments that cannot be audited do."
  - "Runs through the collection's action plugin, as shmguard.shm.shmguard: one remote command per task once the build is cached (in
      C(/var/cache/shmguard) for root, else C(~/.cache/shmguard) of the user the task runs as). Python is not needed on the target."
author:
  - shmguard maintainers (@shmguard)
requirements:
  - "The target: Linux on x86_64 or aarch64, a POSIX sh, coreutils or busybox (id, ls, uname, od, mkdir, mktemp, mv, chmod, rm), gzip,
      and sha256sum or openssl. No Python."
  - "With O(probe) and O(user): become (root), to run the probe as that user."
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
      - "What the programs make in /dev/shm (C(shmguard audit --program)), probe or not."
      - "The multiprocessing profile's free inodes and space (and the probe's) fail when it cannot be made,
         and warn below the recommended headroom beyond it."
      - "C(lock) a multiprocessing.Lock (2 free inodes), C(queue) a Queue (4), C(executor) a ProcessPoolExecutor (6), C(pool) a Pool (7)."
    type: str
    choices: [lock, queue, executor, pool]
    default: pool
attributes:
  check_mode:
    description: "Can run in check_mode and return changed status prediction without modifying target."
    support: full
    details: "An audit never changes anything, in check mode or not; in check mode a build that is not cached runs from a temporary copy
      removed after the run, so nothing is left on the target."
  diff_mode:
    description: "Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode."
    support: none
  platform:
    description: "Target OS/families that can be operated against."
    support: full
    platforms: posix
    details: "Linux on x86_64 or aarch64."
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
  sample: false
host:
  description: "The target's host name (uname nodename)."
  returned: success
  type: str
  sample: "web-1"
time:
  description: "When the audit ran (RFC 3339, UTC)."
  returned: success
  type: str
  sample: "2026-12-05T22:00:00Z"
summary:
  description: "Counts of the checks: every check is passed, warned or failed; errors are targets that could not be audited."
  returned: success
  type: dict
  contains:
    checks:
      description: "Every check, the targets' and the probe's (checks = passed + warned + failed)."
      type: int
      sample: 12
    passed:
      description: "Checks that passed."
      type: int
      sample: 11
    warned:
      description: "Checks that pass with too little headroom."
      type: int
      sample: 0
    failed:
      description: "Checks that failed."
      type: int
      sample: 1
    errors:
      description: "Targets that could not be audited (an unreadable file, a bad parameter)."
      type: int
      sample: 0
targets:
  description: "Each target of the profiles and policies, with its checks."
  returned: success
  type: list
  elements: dict
  contains:
    source:
      description: "Where the target comes from."
      type: str
      sample: "profile cis"
    path:
      description: "The mount point."
      type: str
      sample: "/dev/shm"
    fstype:
      description: "tmpfs or mqueue."
      type: str
      sample: "tmpfs"
    error:
      description: "Why the target could not be audited; null when it was."
      type: str
      sample: null
    remedy:
      description: "The C(shmguard apply) command that makes every check of the target pass; null when all pass."
      type: str
      sample: "shmguard apply --path /dev/shm -o nodev,nosuid,noexec"
    wanted:
      description: "What the target asks for, by check key."
      type: dict
      sample: {"noexec": "noexec"}
    usage:
      description: "How full the live mount is (statvfs); null when it is not mounted."
      type: dict
      sample: {"used_bytes": 0, "size_bytes": 67108864, "free_inodes": 16381}
    checks:
      description: "One entry per property and scope."
      type: list
      elements: dict
      contains:
        id:
          description: "Stable id: path, property, scope."
          type: str
          sample: "dev-shm.noexec.live"
        name:
          description: "Readable name."
          type: str
          sample: "/dev/shm noexec (live)"
        scope:
          description: "live (the running mount), fstab, sysctl, or boot (what the next boot gives)."
          type: str
          sample: "live"
        status:
          description: "pass, warn or fail."
          type: str
          sample: "fail"
        detail:
          description: "What differs and what C(shmguard apply) would do about it."
          type: str
          sample: "noexec missing from the live mount"
        references:
          description: "Compliance references (CIS, STIG ids)."
          type: list
          elements: str
          sample: ["CIS RHEL9 v2.0.0 1.1.2.2.4", "STIG RHEL-09-231115"]
probe:
  description: "The functional probe's report (shared memory, semaphores, message queues as real programs use them), with O(probe)."
  returned: when probe
  type: dict
  sample: {"checks": []}
build:
  description: "Which build ran and whether it was uploaded, as for shmguard.shm.shmguard."
  returned: success
  type: dict
  contains:
    arch:
      description: "The build's CPU: x86_64 or aarch64."
      type: str
      sample: "x86_64"
    uploaded_bytes:
      description: "Bytes of compressed build sent by this task; 0 when the cached build ran."
      type: int
      sample: 0
    reason:
      description: "cached, or why it was uploaded: missing, mismatch, unsafe, uncached (no usable home), check (check mode, not cached)."
      type: str
      sample: "cached"
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
