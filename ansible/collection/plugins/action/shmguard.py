# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT
"""Action plugin of shmguard.shm.shmguard: runs the static shmguard build on the target.

The build for the target's CPU is kept on the target in a content-addressed cache (each build
named by its SHA-256). A task is ONE remote command when the build is there: a POSIX sh script
enters the cache directory once (cd -P), checks that every directory from / down to it is owned
by root or the task's user and writable by no one else (OpenSSH's StrictModes rule; a
root-owned sticky directory such as /tmp counts as safe, as no one else can rename what it
holds), that the path has no symbolic link on the way, and that the directory is the user's
own (0700); from then on it uses only names relative to the directory it stands in, which no
one else can change. It checks the build's owner, mode, ELF machine and SHA-256 and execs it
with the request on stdin. When the build is missing or does not match, a second command
receives the request and the gzip-compressed build on stdin, unpacks it under a fresh name in
that directory (never following a link; removed on exit, also on SIGHUP/SIGINT/SIGTERM),
checks it and moves it into place. A cache that cannot be made safe fails the task before
anything is uploaded. A user without a usable home gets a per-run private temporary directory
(removed after the run) instead.

What the binary is asked, and how its answer is read, is `_shmguard_argv` (its arguments,
default `-`), `_shmguard_request` (the line sent on its stdin) and `_shmguard_result` (the task
result from its stdout): a subclass (the audit module) overrides those only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import gzip
import hashlib
import json
import os
import posixpath
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
# ELF e_machine of each build (bytes 18-19, little-endian).
ELF_MACHINE = {62: 'x86_64', 183: 'aarch64'}
BUILDS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'files')
ROOT_CACHE = '/var/cache/shmguard'
EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

# Per controller process: path -> (mtime, size, sha256).
_BUILDS = {}


def build_path(arch):
    return os.path.join(BUILDS_DIR, 'shmguard-linux-%s' % arch)


def elf_arch(head):
    """The CPU an ELF file is built for, from its first 20 bytes; None when it is no ELF file."""
    if len(head) < 20 or head[:4] != b'\x7fELF':
        return None
    machine = head[18] | (head[19] << 8) if head[5] == 1 else (head[18] << 8) | head[19]
    return ELF_MACHINE.get(machine, 'ELF machine %d' % machine)


def build_digest(arch):
    """SHA-256 of the build for `arch` (cached per process, renewed when the file changes).

    Fails when the file is not an ELF build for `arch`: a mislabelled build never reaches a host."""
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
        raw = f.read()
    check_elf(raw, arch, path)
    digest = hashlib.sha256(raw).hexdigest()
    _BUILDS[path] = (st.st_mtime_ns, st.st_size, digest)
    return digest


def check_elf(raw, arch, path):
    found = elf_arch(raw[:20])
    if found != arch:
        raise AnsibleActionFail('shmguard: %s is %s, not a build for %s: rebuild the collection with '
                                'ansible/build-collection' % (path, 'an %s build' % found if found else 'no ELF file', arch))


def build_gzip(arch):
    """The build for `arch`, gzip-compressed, with its SHA-256 (as read now)."""
    path = build_path(arch)
    with open(path, 'rb') as f:
        raw = f.read()
    check_elf(raw, arch, path)
    return hashlib.sha256(raw).hexdigest(), gzip.compress(raw, 9)


def normalise_arch(value):
    if value is None or value == '':
        return None
    return ARCH_ALIASES.get(str(value).strip().lower(), str(value).strip())


HEX64 = '[0-9a-f]' * 64
# Shell functions shared by both remote commands. $K is this task's marker: every answer of
# the script starts with a line "$K WORD ...", so output before it (a banner from ~/.bashrc, a
# MOTD) is ignored. $C is the cache directory, $U the user's uid, $H the build's SHA-256, $A
# its CPU. Everything the target needs: sh, id, ls, uname, od, mkdir, mv, chmod, rm, gzip,
# and sha256sum or openssl (coreutils or busybox).
PRELUDE = r'''set -f
LC_ALL=C; export LC_ALL
say() { printf '\n%s %s\n' "$K" "$*"; }
fail() { say FAIL; printf '%s\n' "shmguard: $*"; exit 1; }
U=$(id -u)
arch_of() { case $1 in x86_64|amd64) echo x86_64 ;; aarch64|arm64) echo aarch64 ;; *) echo "$1" ;; esac; }
M=$(arch_of "$(uname -m)")
[ -z "$A" ] || [ "$A" = "$M" ] || fail "the build chosen for this host is for $A (from shmguard_arch or \
ansible_facts.architecture) but its CPU is $M (uname -m): fix shmguard_arch or remove it"
# sum256 FILE: its SHA-256, or nothing when no hashing tool works.
sum256() {
  { sha256sum < "$1" || openssl dgst -sha256 -r < "$1"; } 2>/dev/null | {
    read -r h _ || h=; case $h in @HEX64@) echo "$h" ;; esac; }
}
hashing() {
  [ "$(sum256 /dev/null)" = @EMPTY@ ] || fail "this host has no working sha256sum (package coreutils, or \
busybox) nor openssl (package openssl), needed to check the build by its SHA-256 before running it: install one"
}
# elf FILE: the CPU of an ELF build (bytes 18-19: e_machine, little-endian).
elf() {
  set -- $(od -An -tu1 -j18 -N2 "$1" 2>/dev/null)
  case ${1:-}.${2:-} in 62.0) echo x86_64 ;; 183.0) echo aarch64 ;; *) echo "an unknown CPU (e_machine ${1:-?} ${2:-?})" ;; esac
}
# enter DIR: cd -P into DIR, then say why it (or a directory above it) is not safe, or nothing.
# Run it in $(...): the caller's directory does not change.
enter() {
  cd -P -- "$1" 2>/dev/null || { echo "$1 cannot be entered"; return; }
  P=$(pwd -P) || { echo "the path of $1 cannot be read"; return; }
  [ "$P" = "$1" ] || { echo "$1 resolves to $P (a symbolic link, or . or .. on the way)"; return; }
  set -- /; p=
  IFS=/; for c in ${P#/}; do p=$p/$c; set -- "$@" "$p"; done; unset IFS
  n=$#
  ls -ldn -- "$@" 2>/dev/null | {
    while read -r m _ o _ _ _ _ _ name; do
      n=$((n - 1))
      case $o in 0|"$U") ;; *) echo "$name is owned by uid $o, not by root or uid $U"; return ;; esac
      case $m in
        d????-??-?*) ;;
        d????????t*) [ "$o" = 0 ] || { echo "$name is writable by others (mode $m) and not root's"; return; } ;;
        d*) echo "$name is writable by group or others (mode $m)"; return ;;
        *) echo "$name is not a directory"; return ;;
      esac
    done
    [ "$n" = 0 ] || echo "not every directory on the path of $P can be listed"
  }
}
cache_unsafe() {
  fail "the cache directory $C is not safe: $*; every directory from / down to it must be owned by root or \
uid $U and writable by no one else, without symbolic links: fix that, or set shmguard_cache_dir to such a directory"
}
# own: the directory we stand in is the user's own, mode 0700.
own() {
  set -- $(ls -ldn . 2>/dev/null)
  case ${1:-}.${3:-} in drwx------*."$U") ;; *) cache_unsafe "it is ${1:-?} owned by uid ${3:-?}, not a \
directory of uid $U with mode 0700" ;; esac
}
# The cache directory: shmguard_cache_dir ($G), root's, or the user's (none without a home).
if [ -n "$G" ]; then C=$G
elif [ "$U" = 0 ]; then C=@ROOT@
else case ${HOME:-} in /*) C=${HOME%/}/.cache/shmguard ;; *) C= ;; esac
fi
while :; do case $C in *//*) C=${C%%//*}/${C#*//} ;; *) break ;; esac; done
# open_cache MAKE: cd into the cache, checked, making it when MAKE is 1. Sets NEW=1 when it
# does not exist yet (MAKE 0), and T=1 when the user has no usable home (no home, or one where
# the cache cannot be created) and no shmguard_cache_dir: a per-run temporary directory is used.
open_cache() {
  T= NEW=
  if [ -z "$C" ]; then T=1; return; fi
  if [ ! -d "$C" ]; then
    E=$C
    while [ ! -d "$E" ]; do E=${E%/*}; [ -n "$E" ] || E=/; done
    why=$(enter "$E"); [ -z "$why" ] || cache_unsafe "$why"
    cd -P -- "$E" || fail "cannot enter $E"
    N=${C#"${E%/}"/}; N=${N%%/*}
    [ ! -e "$N" ] && [ ! -L "$N" ] || cache_unsafe "${E%/}/$N is not a directory"
    if [ ! -w . ]; then
      [ -z "$G" ] && [ "$U" != 0 ] && { T=1; return; }
      fail "cannot create the cache directory $C: $E is not writable by uid $U; set shmguard_cache_dir to a \
directory uid $U may create"
    fi
    [ "$1" = 1 ] || { NEW=1; return; }
    mkdir -p -- "${C#"${E%/}"/}" 2>/dev/null || fail "cannot create the cache directory $C"
  fi
  why=$(enter "$C"); [ -z "$why" ] || cache_unsafe "$why"
  cd -P -- "$C" || fail "cannot enter $C"
  own
}
'''


def prelude(marker, arch, cache_dir):
    head = 'K=%s\nA=%s\nG=%s\n' % (marker, arch or '', shlex.quote(cache_dir or ''))
    return head + PRELUDE.replace('@HEX64@', HEX64).replace('@EMPTY@', EMPTY_SHA256).replace('@ROOT@', ROOT_CACHE)


def requiretty_hint(user):
    """What to do when sudo on the target refuses to run without a terminal."""
    who = user or 'USER'
    return ('sudo on this host requires a terminal: its sudoers has the default "Defaults requiretty". shmguard sends the '
            'build and its request on the command\'s stdin, which a terminal would mangle, so it cannot run with one (nor can '
            'Ansible\'s pipelining, which fails the same way). Lift the default for the login user: add '
            '"Defaults:%s !requiretty" with visudo (or remove "Defaults requiretty"), then run again.' % who)


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
        cache_dir = self._cache_dir(task_vars)
        request = self._shmguard_request(task_vars)
        marker = 'SHMGUARD-%s' % binascii.hexlify(os.urandom(8)).decode('ascii')

        check = bool(self._task.check_mode)
        res = self._low_level_execute_command(self._run_cached_script(marker, arch, cache_dir, check), sudoable=True,
                                              in_data=request)
        word, rest, text = self._answer(res, marker)
        uploaded = 0
        if word == 'MISS':
            arch, reason, uid = rest[0], rest[1], rest[2]
            digest, blob = build_gzip(arch)
            uploaded = len(blob)
            # 'uncached': no usable home; 'check': check mode and the build is not cached, so it
            # runs from a per-run temporary copy and the cache is not created nor changed.
            temporary = reason in ('uncached', 'check')
            res = self._low_level_execute_command(self._upload_script(marker, arch, digest, cache_dir, temporary),
                                                  sudoable=True, in_data=request.rstrip(b'\n') + b'\n' + blob)
            word, rest, text = self._answer(res, marker)
        elif word == 'RUN':
            arch, reason = rest[0], 'cached'
        if word == 'FAIL':
            return dict(failed=True, changed=False, msg=text.strip() or 'shmguard: the target failed', rc=res.get('rc'))
        if word != 'RUN':
            out = res.get('stdout', '')
            said = (res.get('stderr') or out).strip()
            msg = 'shmguard: the target returned no result (rc %s): %s' % (res.get('rc'), said[-2000:])
            if 'must have a tty' in said or 'requiretty' in said:
                msg += '\n' + requiretty_hint(self._login_user(task_vars))
            return dict(failed=True, changed=False, rc=res.get('rc'), msg=msg,
                        module_stdout=out, module_stderr=res.get('stderr', ''))
        result = self._shmguard_result(res, text)
        result['build'] = dict(arch=arch, uploaded_bytes=uploaded, reason=reason)
        if reason == 'uncached':
            result.setdefault('warnings', []).append(
                'shmguard: uid %s has no usable home directory, so the build was uploaded to a temporary directory '
                'removed after the run; set shmguard_cache_dir to a directory that user owns to keep it cached'
                % uid)
        return result

    # What the binary is asked, and how its answer is read: the methods a subclass overrides.

    def _shmguard_argv(self):
        """The build's arguments after its name: `-` reads the request from stdin."""
        return ['-']

    def _shmguard_request(self, task_vars):
        """The bytes sent to the build on stdin (one line): the module arguments as JSON."""
        module_args = dict(self._task.args)
        self._update_module_args(getattr(self._task, 'resolved_action', None) or self._task.action, module_args, task_vars)
        return json.dumps(module_args, separators=(',', ':')).encode('utf-8') + b'\n'

    def _shmguard_result(self, res, text):
        """The task result from the build's stdout (`text`, after the marker line) and the raw `res`."""
        try:
            result = json.loads(text)
        except ValueError:
            start = text.find('{')
            try:
                result = json.JSONDecoder().raw_decode(text[start:])[0] if start >= 0 else None
            except ValueError:
                result = None
        if not isinstance(result, dict):
            return dict(failed=True, changed=False, rc=res.get('rc'),
                        msg='shmguard: the build returned no JSON result (rc %s): %s'
                        % (res.get('rc'), (res.get('stderr') or text).strip()[-2000:]),
                        module_stdout=text, module_stderr=res.get('stderr', ''))
        if res.get('stderr'):
            result.setdefault('module_stderr', res['stderr'])
        return result

    def _login_user(self, task_vars):
        for value in (task_vars.get('ansible_user'), task_vars.get('ansible_ssh_user'),
                      getattr(getattr(self, '_play_context', None), 'remote_user', None)):
            if value:
                return str(self._templar.template(value))
        return None

    # The cache, the upload and the checks.

    def _argv_words(self):
        return ' '.join(shlex.quote(a) for a in self._shmguard_argv())

    def _target_arch(self, task_vars):
        for value in (task_vars.get('shmguard_arch'),
                      (task_vars.get('ansible_facts') or {}).get('architecture'),
                      task_vars.get('ansible_architecture')):
            if value:
                return normalise_arch(self._templar.template(value))
        return None

    def _cache_dir(self, task_vars):
        value = task_vars.get('shmguard_cache_dir')
        if value is None or value == '':
            return None
        value = str(self._templar.template(value))
        if not value.startswith('/') or '\n' in value:
            raise AnsibleActionFail('shmguard: shmguard_cache_dir must be an absolute path on the target, got %r'
                                    % value)
        return posixpath.normpath(value)

    @staticmethod
    def _answer(res, marker):
        """(word, words after it, the text after the marker line) of the script's answer; the
        word is None when the marker is missing (output before it is ignored)."""
        out = res.get('stdout', '')
        at = out.rfind('\n' + marker + ' ')
        if at < 0:
            if not out.startswith(marker + ' '):
                return None, [], out
            at = -1
        line, text = (out[at + 1:].split('\n', 1) + [''])[:2]
        words = line.split()[1:]
        return (words[0] if words else None), words[1:], text

    def _run_cached_script(self, marker, arch, cache_dir, check=False):
        """One command: pick the build (unless known), check the cache, exec the build on stdin.

        In check mode a build that is not cached (no cache yet, or another build in it) is not
        put there: the answer is MISS check, and the upload runs it from a temporary copy."""
        s = prelude(marker, arch, cache_dir)
        if arch is None:
            present = [a for a in ('x86_64', 'aarch64') if os.path.exists(build_path(a))]
            cases = ''.join('  %s) H=%s ;;\n' % (a, build_digest(a)) for a in present)
            s += ('A=$M\ncase $A in\n' + cases + '  *) fail "no build for the CPU $A of this host; builds: %s" ;;\nesac\n'
                  % ', '.join(sorted(present)))
        else:
            s += 'H=%s\n' % build_digest(arch)
        s += 'CK=%s\n' % ('1' if check else '')
        s += ('open_cache 0\n'
              'miss() { hashing; [ -z "$T" ] && [ -n "$CK" ] && set -- check; say MISS "$A" "$1" "$U"; exit 0; }\n'
              '[ -z "$T" ] || miss uncached\n'
              '[ -z "$NEW" ] && [ -e "$H" ] || miss missing\n'
              'set -- $(ls -ln -- "$H" 2>/dev/null)\n'
              'case ${1:-}.${3:-} in -????-??-?*."$U") ;; *) miss unsafe ;; esac\n'
              'S=$(sum256 "$H")\n'
              '[ -n "$S" ] || hashing\n'
              '[ "$S" = "$H" ] || miss mismatch\n'
              'E=$(elf "$H"); [ "$E" = "$A" ] || fail "the cached build $C/$H is for $E, not $A"\n'
              'say RUN "$A"\nexec ./"$H" %s\n' % self._argv_words())
        return s

    def _upload_script(self, marker, arch, digest, cache_dir, uncached):
        """Second command, only on a miss: stdin is one line of request, then the gzip'd build."""
        s = prelude(marker, arch, cache_dir) + 'H=%s\n' % digest
        # Private files while unpacking; the build runs with the user's own umask.
        s += 'O=$(umask); umask 077\n'
        s += 'IFS= read -r ARGS || fail "no request on stdin"\n'
        if uncached:
            # A private directory for this run only, removed when the script ends for any reason.
            s += ('D=$(mktemp -d "${TMPDIR:-/tmp}/shmguard.XXXXXXXX") || fail "cannot create a temporary directory"\n'
                  'trap \'cd / && rm -rf -- "$D"\' EXIT\n'
                  'C=$D\ncd -P -- "$D" || fail "cannot enter $D"\nown\n')
        else:
            s += ('open_cache 1\n'
                  # Temporary files of runs that died with SIGKILL (no trap ran): their shell is gone.
                  'set +f; for f in .upload.*; do [ -e "$f" ] || [ -L "$f" ] || continue\n'
                  '  kill -0 "${f#.upload.}" 2>/dev/null || rm -f -- "$f"; done; set -f\n'
                  '[ ! -d "$H" ] || fail "$C/$H is a directory, not a build: remove it"\n'
                  'W=.upload.$$\n'
                  'trap \'rm -f -- "$W"\' EXIT\n')
        s += ('trap \'exit 129\' HUP; trap \'exit 130\' INT; trap \'exit 143\' TERM; trap \'exit 141\' PIPE\n'
              'W=${W:-.upload.$$}\nrm -f -- "$W"\nset -C\n'
              'gzip -dc > "$W" || fail "cannot unpack the build into $C (is gzip installed, is there room?)"\n'
              'set +C\n'
              'E=$(elf "$W"); [ "$E" = "$A" ] || fail "the build sent for $A is for $E; this host\'s CPU is $M (uname -m)"\n'
              'S=$(sum256 "$W"); [ -n "$S" ] || hashing\n'
              '[ "$S" = "$H" ] || fail "the uploaded build does not match its SHA-256 $H"\n'
              'chmod 0700 -- "$W" && mv -f -- "$W" "$H" || fail "cannot move the build into $C/$H"\n')
        if not uncached:
            # Older builds go: the cache holds the build this collection version runs.
            s += ('trap - EXIT\n'
                  'set +f; for f in ' + HEX64 + '; do [ "$f" = "$H" ] || [ ! -f "$f" ] || rm -f -- "$f"; done; set -f\n')
        s += 'umask "$O"\nsay RUN "$A"\nprintf \'%%s\\n\' "$ARGS" | ./"$H" %s\n' % self._argv_words()
        return s
