# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT
"""Unit tests of the action plugin, no SSH: its remote scripts run under the local /bin/sh as
this user, with the "build" a copy of /bin/cat (an ELF file for this CPU that answers with the
request it is sent). Run by tests/e2e/ansible_units.rs (pytest in the ansible venv)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import platform
import shutil
import subprocess

import pytest

from ansible.errors import AnsibleActionFail
from ansible_collections.shmguard.shm.plugins.action import shmguard as plugin

ARCH = plugin.normalise_arch(platform.machine())


class Task(object):
    def __init__(self, args):
        self.args = args
        self.action = 'shmguard.shm.shmguard'
        self.resolved_action = 'shmguard.shm.shmguard'
        self.async_val = 0
        self.check_mode = False
        self.diff = False
        self.no_log = False


class Templar(object):
    def template(self, value):
        return value


class Local(plugin.ActionModule):
    """The plugin with its remote commands run by the local sh; records each command."""

    def __init__(self, args, env=None):
        self._task = Task(args)
        self._templar = Templar()
        self.commands = []
        self.env = dict(os.environ, **(env or {}))

    def _update_module_args(self, module_name, module_args, task_vars):
        module_args['_ansible_check_mode'] = False

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
        self.commands.append(cmd)
        p = subprocess.run(['/bin/sh', '-c', cmd], input=in_data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env, check=False)
        return dict(rc=p.returncode, stdout=p.stdout.decode('utf-8', 'replace'),
                    stderr=p.stderr.decode('utf-8', 'replace'))

    def go(self, **task_vars):
        self.commands = []
        return plugin.ActionModule.run(self, task_vars=task_vars)


@pytest.fixture
def builds(tmp_path, monkeypatch):
    d = tmp_path / 'files'
    d.mkdir()
    shutil.copy('/bin/cat', str(d / ('shmguard-linux-%s' % ARCH)))
    monkeypatch.setattr(plugin, 'BUILDS_DIR', str(d))
    monkeypatch.setattr(plugin.ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    plugin._BUILDS.clear()
    return d


def private(path):
    path.mkdir(mode=0o700)
    os.chmod(str(path), 0o700)
    return str(path)


def test_uploads_once_then_runs_one_command_from_a_private_cache(builds, tmp_path):
    cache = str(tmp_path / 'cache')
    a = Local({'path': '/dev/shm'})
    r = a.go(shmguard_cache_dir=cache)
    assert r['path'] == '/dev/shm', r
    assert r['build']['reason'] == 'missing' and r['build']['uploaded_bytes'] > 0
    assert len(a.commands) == 2
    assert oct(os.stat(cache).st_mode & 0o7777) == '0o700'
    names = os.listdir(cache)
    assert len(names) == 1 and len(names[0]) == 64, names
    r = a.go(shmguard_cache_dir=cache)
    assert r['build'] == dict(arch=ARCH, uploaded_bytes=0, reason='cached'), r
    assert len(a.commands) == 1


def test_a_banner_before_the_marker_is_ignored(builds, tmp_path):
    a = Local({'path': '/dev/shm'})
    real = a._low_level_execute_command

    def banner(cmd, sudoable=True, in_data=None):
        res = real(cmd, sudoable, in_data)
        res['stdout'] = 'Welcome {to} host\nSHMGUARD-0000 RUN x\n' + res['stdout']
        return res
    a._low_level_execute_command = banner
    cache = str(tmp_path / 'cache')
    assert a.go(shmguard_cache_dir=cache)['build']['reason'] == 'missing'
    assert a.go(shmguard_cache_dir=cache)['build']['reason'] == 'cached'


def test_a_writable_parent_fails_before_any_upload_naming_it(builds, tmp_path):
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(str(shared), 0o2775)
    a = Local({})
    r = a.go(shmguard_cache_dir=str(shared / 'cache'))
    assert r['failed'], r
    assert '%s is writable by group or others' % shared in r['msg'], r
    assert 'shmguard_cache_dir' in r['msg'] and len(a.commands) == 1
    assert not os.path.exists(str(shared / 'cache'))
    # The same when the cache exists already.
    private(shared / 'cache')
    r = a.go(shmguard_cache_dir=str(shared / 'cache'))
    assert r['failed'] and 'writable by group or others' in r['msg'] and len(a.commands) == 1, r


def test_a_symbolic_link_on_the_way_fails_before_any_upload(builds, tmp_path):
    real = private(tmp_path / 'real')
    os.symlink(real, str(tmp_path / 'link'))
    a = Local({})
    r = a.go(shmguard_cache_dir=str(tmp_path / 'link'))
    assert r['failed'] and 'resolves to %s' % real in r['msg'] and len(a.commands) == 1, r
    assert os.listdir(real) == []


def test_a_cache_others_can_write_fails(builds, tmp_path):
    cache = private(tmp_path / 'cache')
    os.chmod(cache, 0o777)
    a = Local({})
    r = a.go(shmguard_cache_dir=cache)
    assert r['failed'] and 'is writable by group or others' in r['msg'] and len(a.commands) == 1, r


def test_stale_upload_files_go_and_a_tampered_build_is_replaced(builds, tmp_path):
    cache = str(tmp_path / 'cache')
    a = Local({})
    a.go(shmguard_cache_dir=cache)
    name = os.listdir(cache)[0]
    with open(os.path.join(cache, '.upload.999999999'), 'w') as f:
        f.write('left by a run killed with SIGKILL')
    with open(os.path.join(cache, name), 'ab') as f:
        f.write(b'tampered')
    r = a.go(shmguard_cache_dir=cache)
    assert r['build']['reason'] == 'mismatch' and len(a.commands) == 2, r
    assert os.listdir(cache) == [name]


def test_a_wrong_cpu_fails_before_upload_naming_both(builds, tmp_path):
    cache = str(tmp_path / 'cache')
    a = Local({})
    a.go(shmguard_cache_dir=cache)
    other = 'aarch64' if ARCH == 'x86_64' else 'x86_64'
    raw = bytearray(open(str(builds / ('shmguard-linux-%s' % ARCH)), 'rb').read())
    raw[18:20] = (183 if other == 'aarch64' else 62).to_bytes(2, 'little')
    with open(str(builds / ('shmguard-linux-%s' % other)), 'wb') as f:
        f.write(raw)
    r = a.go(shmguard_cache_dir=cache, shmguard_arch=other)
    assert r['failed'] and 'for %s' % other in r['msg'] and 'its CPU is %s' % ARCH in r['msg'], r
    assert len(a.commands) == 1 and len(os.listdir(cache)) == 1
    assert a.go(shmguard_cache_dir=cache)['build']['reason'] == 'cached'


def test_a_mislabelled_build_fails_on_the_controller(builds, tmp_path):
    with open(str(builds / ('shmguard-linux-%s' % ARCH)), 'wb') as f:
        f.write(b'#!/bin/sh\necho pwned\n')
    with pytest.raises(AnsibleActionFail, match='is no ELF file, not a build for %s' % ARCH):
        Local({}).go(shmguard_cache_dir=str(tmp_path / 'cache'))


def test_no_hashing_tool_is_named_before_any_upload(builds, tmp_path):
    tools = tmp_path / 'bin'
    tools.mkdir()
    for t in ('sh', 'id', 'ls', 'uname', 'od', 'mkdir', 'mv', 'chmod', 'rm', 'gzip', 'mktemp'):
        os.symlink(shutil.which(t), str(tools / t))
    a = Local({}, env=dict(PATH=str(tools)))
    r = a.go(shmguard_cache_dir=str(tmp_path / 'cache'))
    assert r['failed'] and 'no working sha256sum (package coreutils' in r['msg'], r
    assert 'openssl (package openssl)' in r['msg'] and len(a.commands) == 1


def test_async_and_an_unknown_cpu_fail_before_anything_runs(builds):
    a = Local({})
    with pytest.raises(AnsibleActionFail, match='no build for the CPU ppc64le'):
        a.go(shmguard_arch='ppc64le')
    a._task.async_val = 10
    with pytest.raises(AnsibleActionFail, match='does not support async'):
        a.go()
    assert a.commands == []


def test_a_subclass_changes_only_what_the_binary_is_asked(builds, tmp_path):
    class Audit(Local):
        def _shmguard_argv(self):
            return ['-', 'audit; touch pwned']

        def _shmguard_request(self, task_vars):
            return b'{"audit": true}\n'

        def _shmguard_result(self, res, text):
            return dict(asked=text.strip())
    a = Audit({})
    r = a.go(shmguard_cache_dir=str(tmp_path / 'cache'))
    # cat - FILE: the request, then the (missing) file named by the second argument, quoted.
    assert r['asked'] == '{"audit": true}' and r['build']['reason'] == 'missing', r
    assert "./\"$H\" - 'audit; touch pwned'" in a.commands[1]
    r = a.go(shmguard_cache_dir=str(tmp_path / 'cache'))
    assert r['asked'] == '{"audit": true}' and r['build']['reason'] == 'cached', r
    assert not os.path.exists(os.path.join(str(tmp_path / 'cache'), 'pwned'))


def test_cache_dir_must_be_absolute(builds):
    with pytest.raises(AnsibleActionFail, match='shmguard_cache_dir must be an absolute path'):
        Local({}).go(shmguard_cache_dir='cache')


def test_elf_arch_reads_the_machine():
    head = b'\x7fELF\x02\x01\x01' + b'\0' * 11
    assert plugin.elf_arch(head + b'\x3e\x00') == 'x86_64'
    assert plugin.elf_arch(head + b'\xb7\x00') == 'aarch64'
    assert plugin.elf_arch(b'#!/bin/sh\n' + b'\0' * 10) is None


def test_a_cache_path_that_is_a_file_or_a_dangling_link_fails_before_any_upload(builds, tmp_path):
    (tmp_path / 'file').write_text(u'x')
    os.symlink(str(tmp_path / 'nowhere'), str(tmp_path / 'dangling'))
    for name in ('file', 'dangling', 'file/cache'):
        a = Local({})
        r = a.go(shmguard_cache_dir=str(tmp_path / name))
        want = '%s is not a directory' % (tmp_path / name.split('/', maxsplit=1)[0])
        assert r['failed'] and want in r['msg'] and len(a.commands) == 1, r


def test_check_mode_without_a_cache_runs_a_temporary_copy_and_leaves_nothing(builds, tmp_path):
    cache = str(tmp_path / 'cache')
    tmp = private(tmp_path / 'tmp')
    a = Local({'path': '/dev/shm'}, env={'TMPDIR': tmp})
    a._task.check_mode = True
    r = a.go(shmguard_cache_dir=cache)
    assert r['path'] == '/dev/shm', r
    assert r['build']['reason'] == 'check' and r['build']['uploaded_bytes'] > 0, r
    assert 'warnings' not in r, r
    assert not os.path.exists(cache), 'check mode creates no cache'
    assert os.listdir(tmp) == [], 'the temporary copy is removed'


def test_check_mode_uses_an_existing_cache_and_does_not_change_it(builds, tmp_path):
    cache = str(tmp_path / 'cache')
    tmp = private(tmp_path / 'tmp')
    a = Local({'path': '/dev/shm'}, env={'TMPDIR': tmp})
    assert a.go(shmguard_cache_dir=cache)['build']['reason'] == 'missing'
    a._task.check_mode = True
    r = a.go(shmguard_cache_dir=cache)
    assert r['build']['reason'] == 'cached' and len(a.commands) == 1, r
    # Another build (a new collection version): check mode does not replace the cached one.
    before = sorted(os.listdir(cache))
    with open(str(builds / ('shmguard-linux-%s' % ARCH)), 'ab') as f:
        f.write(b'new build')
    r = a.go(shmguard_cache_dir=cache)
    assert r['build']['reason'] == 'check', r
    assert sorted(os.listdir(cache)) == before and os.listdir(tmp) == []


def test_sudo_requiretty_names_the_sudoers_default_and_the_fix(builds, tmp_path):
    a = Local({'path': '/dev/shm'})

    def refused(cmd, sudoable=True, in_data=None):
        return dict(rc=1, stdout='', stderr='sudo: sorry, you must have a tty to run sudo\n')
    a._low_level_execute_command = refused
    r = a.go(shmguard_cache_dir=str(tmp_path / 'cache'), ansible_user='deploy')
    assert r['failed'], r
    assert 'must have a tty' in r['msg'] and 'Defaults requiretty' in r['msg'], r
    assert 'Defaults:deploy !requiretty' in r['msg'], r
