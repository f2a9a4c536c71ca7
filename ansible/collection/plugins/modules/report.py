#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: report
short_description: "Merge the audits of many hosts into one fleet report, on the target"
version_added: "0.2.0"
description:
  - "C(shmguard report) on the target: the audit results of many hosts (what shmguard.shm.audit returned for each) merged into one
      fleet report, returned as text. Nothing on the target changes."
  - "The playbook C(shmguard.shm.audit) merges on the controller when the controller can run the collection's Linux build, and
      with this module on a Linux host when it cannot (a macOS controller, a CPU without a build)."
  - "Hosts that failed or could not be reached count too: their entry is C({failed: true, msg: ...}) or C({unreachable: true, msg: ...})."
  - "Runs through the collection's action plugin, as shmguard.shm.shmguard: the cached build, one remote command once it is cached.
      Python is not needed on the target."
author:
  - shmguard maintainers (@shmguard)
requirements:
  - "The target: Linux on x86_64 or aarch64, a POSIX sh, coreutils or busybox, gzip, and sha256sum or openssl (as shmguard.shm.shmguard)."
options:
  results:
    description:
      - "Host name to that host's shmguard.shm.audit result (the registered result, or the audit JSON document), or to
          C({failed: true, msg: ...}) for a host whose audit failed, or C({unreachable: true, msg: ...}) for one that could not be reached."
    type: dict
    required: true
  format:
    description:
      - "The report's format: a hosts x checks HTML page, JSON, JUnit XML (a testsuite per host) or Prometheus text (a series per host and check)."
    type: str
    choices: [html, json, junit, prometheus]
    default: html
attributes:
  check_mode:
    description: "Can run in check_mode and return changed status prediction without modifying target."
    support: full
    details: "Nothing on the target changes in either mode; in check mode a build that is not cached runs from a temporary copy."
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
- name: Audit every host
  shmguard.shm.audit:
    profile: [cis]
  register: shm_audit

- name: Merge the fleet report on one Linux host
  shmguard.shm.report:
    results: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'shm_audit'))) }}"
    format: json
  run_once: true
  register: fleet
"""

RETURN = r"""
report:
  description: "The fleet report in the format asked for."
  returned: success
  type: str
  sample: '{"summary": {"hosts": 2, "compliant_hosts": 1}, "hosts": []}'
compliant:
  description: "Every host compliant (C(shmguard report) exit code 0); false when a host drifted, errored or was unreachable (exit code 2)."
  returned: success
  type: bool
  sample: false
rc:
  description: "The exit code of C(shmguard report): 0 every host compliant, 2 not every host compliant."
  returned: success
  type: int
  sample: 2
hosts:
  description: "How many hosts the report holds."
  returned: success
  type: int
  sample: 2
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    results=dict(type='dict', required=True),
    format=dict(type='str', choices=['html', 'json', 'junit', 'prometheus'], default='html'),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="shmguard.shm.report runs through its action plugin (plugins/action/report.py), "
                         "which was bypassed: call the module by its FQCN from a playbook or ad-hoc command")


if __name__ == "__main__":
    main()
