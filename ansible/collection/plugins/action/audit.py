# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT
"""Action plugin of shmguard.shm.audit: the shmguard.shm.shmguard action plugin (the cached
build, one remote command per task), sending the build its audit entry instead of the module's.

The only hook it relies on is ActionBase._update_module_args, which the parent calls on the task's
arguments before they go to the target: the audit adds ``_shmguard_entry: audit`` there, and the
binary's Ansible entry (src/frontend/ansible.rs) dispatches on it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.shmguard.shm.plugins.action.shmguard import ActionModule as ShmguardAction


class ActionModule(ShmguardAction):

    def _update_module_args(self, module_name, module_args, task_vars, *args, **kwargs):
        super(ActionModule, self)._update_module_args(module_name, module_args, task_vars, *args, **kwargs)
        module_args['_shmguard_entry'] = 'audit'
