# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT
"""Action plugin of shmguard.shm.shmguard: runs the static shmguard build on the target.

The build for the target's CPU is kept on the target in a content-addressed cache (a
directory only the user running the task can write; each build named by its SHA-256). A task
is ONE remote command when the build is there: a small POSIX sh script checks the directory,
the file's owner and mode and its SHA-256, then execs the build with the module arguments on
stdin. When the build is missing or does not match, a second command receives the arguments
and the gzip-compressed build on stdin, checks it, moves it into place and runs it. Nothing is
written on the target but the cache, and no temporary directory is made.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import hashlib
import json
import os
import shlex

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

# CPU names (uname -m, ansible_facts.architecture, shmguard_arch) -> the build that runs there.
ARCH_ALIASES = {
    'x86_64': 'x86_64',
    'amd64': 'x86_64',
    'aarch64': 'aarch64',
    'arm64': 'aarch64',
}
BUILDS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'files')
ROOT_CACHE = '/var/cache/shmguard'
USER_CACHE = '$HOME/.cache/shmguard'
# First line of the first command's output: the build is missing (then: arch, reason), or
# it runs (then: arch; its JSON result follows).
MISS = 'SHMGUARD-MISS'
RAN = 'SHMGUARD-RUN'

# Per controller process: path -> (mtime, size, sha256, gzip bytes or None).
_BUILDS = {}


def build_path(arch):
    return os.path.join(BUILDS_DIR, 'shmguard-linux-%s' % arch)


def build_digest(arch):
    """SHA-256 of the build for `arch` (cached per process, renewed when the file changes)."""
    path = build_path(arch)
    try:
        st = os.stat(path)
    except OSError:
        raise AnsibleActionFail('shmguard: the %s build is missing from the collection (%s): build it with '
                                'ansible/build-collection' % (arch, path))
    known = _BUILDS.get(path)
    if known and known[0] == st.st_mtime_ns and known[1] == st.st_size:
        return known[2]
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    _BUILDS[path] = (st.st_mtime_ns, st.st_size, digest, None)
    return digest


def build_gzip(arch):
    """The build for `arch`, gzip-compressed, with its SHA-256 (as read now)."""
    path = build_path(arch)
    with open(path, 'rb') as f:
        raw = f.read()
    digest = hashlib.sha256(raw).hexdigest()
    return digest, gzip.compress(raw, 9)


def normalise_arch(value):
    if value is None or value == '':
        return None
    return ARCH_ALIASES.get(str(value).strip().lower(), str(value).strip())


# Shell functions shared by both remote commands. $C is the cache directory, $H the build's
# SHA-256. Everything the target needs: sh, id, ls, mkdir, mv, chmod, rm, gzip and sha256sum
# (or openssl): coreutils or busybox.
PRELUDE = r'''
fail() { printf '{"failed": true, "changed": false, "msg": "%s"}\n' "shmguard: $*"; exit 1; }
sum256() {
  if command -v sha256sum >/dev/null 2>&1; then set -- $(sha256sum < "$1"); echo "$1"
  elif command -v openssl >/dev/null 2>&1; then set -- $(openssl dgst -sha256 -r < "$1"); echo "$1"
  else fail "the target has neither sha256sum nor openssl to check the cached build"; fi
}
# private PATH TYPE: PATH is a TYPE (d or -) owned by this user that no one else can write.
private() {
  set -- "$2" $(ls -ldn "$1" 2>/dev/null)
  [ $# -ge 4 ] || return 1
  case $2 in "$1"????-??-?|"$1"????-??-?.) ;; *) return 1 ;; esac
  [ "$4" = "$(id -u)" ]
}
'''


def cache_dir_expr(cache_dir):
    if cache_dir:
        return 'C=%s' % shlex.quote(cache_dir)
    return 'if [ "$(id -u)" = 0 ]; then C=%s; else C="%s"; fi' % (ROOT_CACHE, USER_CACHE)


def check_dir_script():
    """Fails clearly when the cache directory exists but someone else could write it."""
    return ('if [ -e "$C" ] || [ -L "$C" ]; then private "$C" d || fail "the cache directory $C must be a '
            'directory owned by uid $(id -u) that no one else can write (mode 0700): fix or remove it"; fi\n')


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = dict()
        if self._task.async_val:
            raise AnsibleActionFail('shmguard.shm.shmguard does not support async: a run takes milliseconds; '
                                    'remove async and poll from the task')
        super(ActionModule, self).run(tmp, task_vars)
        del tmp

        arch = self._target_arch(task_vars)
        if arch is not None and arch not in ('x86_64', 'aarch64'):
            raise AnsibleActionFail('shmguard: no build for the CPU %s of this host (from shmguard_arch or '
                                    'ansible_facts.architecture); builds: aarch64, x86_64' % arch)
        cache_dir = task_vars.get('shmguard_cache_dir')
        if cache_dir is not None:
            cache_dir = self._templar.template(cache_dir)

        module_args = dict(self._task.args)
        self._update_module_args(getattr(self._task, 'resolved_action', None) or self._task.action, module_args, task_vars)
        args_json = json.dumps(module_args, separators=(',', ':'))

        res = self._low_level_execute_command(self._run_cached_script(arch, cache_dir), sudoable=True,
                                              in_data=args_json.encode('utf-8'))
        uploaded = 0
        first = res['stdout'].lstrip().split('\n', 1)[0]
        if first.startswith(MISS):
            words = first.split()
            arch, reason = words[1], words[2]
            digest, blob = build_gzip(arch)
            uploaded = len(blob)
            res = self._low_level_execute_command(self._upload_script(digest, cache_dir), sudoable=True,
                                                  in_data=args_json.encode('utf-8') + b'\n' + blob)
        elif first.startswith(RAN):
            arch, reason = first.split()[1], 'cached'
        else:
            return self._parse(res)  # failed before running a build: no build to report
        result = self._parse(res)
        result['build'] = dict(arch=arch, uploaded_bytes=uploaded, reason=reason)
        return result

    def _target_arch(self, task_vars):
        for value in (task_vars.get('shmguard_arch'),
                      (task_vars.get('ansible_facts') or {}).get('architecture'),
                      task_vars.get('ansible_architecture')):
            if value:
                return normalise_arch(self._templar.template(value))
        return None

    def _run_cached_script(self, arch, cache_dir):
        """One command: pick the build (unless known), check the cache, exec the build on stdin."""
        s = PRELUDE + cache_dir_expr(cache_dir) + '\n'
        if arch is None:
            present = [(a, names) for a, names in (('x86_64', 'x86_64|amd64'), ('aarch64', 'aarch64|arm64'))
                       if os.path.exists(build_path(a))]
            cases = ''.join('  %s) A=%s H=%s ;;\n' % (names, a, build_digest(a)) for a, names in present)
            s += ('M=$(uname -m)\ncase $M in\n' + cases +
                  '  *) fail "no build for the CPU $M of this host; builds: %s" ;;\nesac\n'
                  % ', '.join(sorted(p[0] for p in present)))
        else:
            s += 'A=%s H=%s\n' % (arch, build_digest(arch))
        s += check_dir_script()
        s += ('B="$C/$H"\n'
              'if [ ! -e "$B" ]; then echo "%s $A missing"\n'
              'elif ! private "$B" -; then echo "%s $A unsafe"\n'
              'elif [ "$(sum256 "$B")" != "$H" ]; then echo "%s $A mismatch"\n'
              'else echo "%s $A"; exec "$B" -\nfi\n') % (MISS, MISS, MISS, RAN)
        return s

    def _upload_script(self, digest, cache_dir):
        """Second command, only on a miss: stdin is one line of arguments, then the gzip'd build."""
        return (PRELUDE + cache_dir_expr(cache_dir) + '\n' + 'H=%s\n' % digest + check_dir_script() +
                'umask 077\n'
                'IFS= read -r ARGS || fail "no arguments on stdin"\n'
                'mkdir -p "$C" || fail "cannot create the cache directory $C"\n'
                'private "$C" d || fail "the cache directory $C must be owned by uid $(id -u) and writable by no one else"\n'
                'B="$C/$H" T="$C/.upload.$$"\n'
                '[ ! -d "$B" ] || fail "$B is a directory, not a build: remove it"\n'
                'trap \'rm -f "$T"\' EXIT\n'
                'gzip -dc > "$T" || fail "cannot unpack the build into $C (is gzip installed, is there room?)"\n'
                '[ "$(sum256 "$T")" = "$H" ] || fail "the uploaded build does not match its SHA-256 $H"\n'
                'chmod 0700 "$T" && mv -f "$T" "$B" || fail "cannot move the build into $B"\n'
                'trap - EXIT\n'
                # Older builds go: the cache holds the build this collection version runs.
                'for f in "$C"/*; do case ${f##*/} in "$H") ;; ' + '?' * 64 + ') rm -f "$f" ;; esac; done\n'
                'printf \'%s\\n\' "$ARGS" | "$B" -\n')

    def _parse(self, res):
        out = res.get('stdout', '')
        start = out.find('{')
        try:
            result = json.loads(out[start:]) if start >= 0 else None
        except ValueError:
            result = None
        if not isinstance(result, dict):
            return dict(failed=True, changed=False, rc=res.get('rc'),
                        msg='shmguard: the target returned no result (rc %s): %s' % (res.get('rc'), (res.get('stderr') or out).strip()[-2000:]),
                        module_stdout=out, module_stderr=res.get('stderr', ''))
        if res.get('stderr'):
            result.setdefault('module_stderr', res['stderr'])
        return result
