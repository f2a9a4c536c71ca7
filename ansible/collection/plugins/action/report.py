# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT
"""Action plugin of shmguard.shm.report: the shmguard.shm.shmguard action plugin (the cached
build, one remote command), asking the build `report --format FORMAT -` with the hosts' audit
results as one JSON line on stdin, and returning its stdout, the report, as text.

The audit playbook uses it on a Linux host when the controller cannot run the build itself.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.errors import AnsibleActionFail
from ansible_collections.shmguard.shm.plugins.action.shmguard import ActionModule as ShmguardAction

FORMATS = ('html', 'json', 'junit', 'prometheus')


class ActionModule(ShmguardAction):

    def run(self, tmp=None, task_vars=None):
        args = self._task.args
        unknown = sorted(set(args) - {'results', 'format'})
        if unknown:
            raise AnsibleActionFail('shmguard.shm.report: unsupported parameters: %s (supported: format, results)'
                                    % ', '.join(unknown))
        results = args.get('results')
        if not isinstance(results, dict):
            raise AnsibleActionFail('shmguard.shm.report: results must be a dict of host names to audit results, got %s'
                                    % type(results).__name__)
        fmt = args.get('format') or 'html'
        if fmt not in FORMATS:
            raise AnsibleActionFail('shmguard.shm.report: format %r is not one of %s' % (fmt, ', '.join(FORMATS)))
        self._report_format = fmt
        self._report_hosts = len(results)
        return super(ActionModule, self).run(tmp, task_vars)

    def _shmguard_argv(self):
        return ['report', '--format', self._report_format, '-']

    def _shmguard_request(self, task_vars):
        # One line: json.dumps escapes the newlines inside strings.
        return json.dumps(self._task.args['results'], separators=(',', ':'), default=str).encode('utf-8') + b'\n'

    def _shmguard_result(self, res, text):
        rc = res.get('rc')
        if rc not in (0, 2):
            return dict(failed=True, changed=False, rc=rc,
                        msg='shmguard report failed (rc %s): %s' % (rc, (res.get('stderr') or text).strip()[-2000:]))
        # failed=False: Ansible takes a result with a non-zero rc and no `failed` for a failure,
        # and rc 2 (not every host compliant) is a report, not a failure.
        return dict(changed=False, failed=False, report=text, compliant=rc == 0, hosts=self._report_hosts, rc=rc)
