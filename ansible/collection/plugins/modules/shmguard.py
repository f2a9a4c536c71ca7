#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) shmguard contributors
# MIT License (see LICENSE or https://opensource.org/licenses/MIT)
# SPDX-License-Identifier: MIT
# Generated from src/spec/params.rs and src/report.rs by src/docs.rs:
#   SHMGUARD_BLESS=1 cargo test docs_fresh

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: shmguard
short_description: "Enforce /dev/shm and /dev/mqueue: mode, size, flags, fstab entry, mqueue limits"
version_added: "0.1.0"
description:
  - "Declares the state of a tmpfs (such as /dev/shm) or mqueue mount and makes both the live mount and its fstab entry match it, in one idempotent
      run."
  - "Compares desired, live (mountinfo, stat, statvfs) and fstab state by meaning: 4G, 4096m and 4194304k are the same size; no size= in mountinfo is
      the kernel default; the real mode comes from stat."
  - "A remount keeps every per-mount flag it is not asked to change. fstab is edited in place, one line, and replaced atomically."
  - "A static binary module: no Python is needed on the target."
  - "Runs through the collection's action plugin: the static build for the target's CPU (x86_64 or aarch64) is kept on the target in a
      content-addressed cache and run with the arguments on stdin, one remote command per task; it is uploaded (compressed) only when missing or
      changed. Python is not needed on the target. Before running a build the plugin checks the cache directory and every directory above it, the
      build's owner, mode, ELF CPU and SHA-256, and runs only the file it checked."
author:
  - shmguard maintainers (@shmguard)
requirements:
  - "On the target: Linux on x86_64 or aarch64; a POSIX sh, id, ls, uname, od, mkdir, mktemp, mv, chmod, rm and gzip; sha256sum or openssl (coreutils
      or busybox provide all but openssl). No Python."
  - "On the controller: ansible-core 2.16 or later."
options:
  path:
    description:
      - "Mount point to manage. Must be absolute."
    type: str
    aliases: [name]
    default: "/dev/shm"
  fstype:
    description:
      - "Filesystem type. Defaults to mqueue for /dev/mqueue and tmpfs for any other path."
    type: str
    choices: [tmpfs, mqueue]
  state:
    description:
      - "mounted: the live mount and the fstab entry; present: the fstab entry only; ephemeral: the live mount only; absent (or absent_from_fstab, as
          ansible.posix.mount calls it): remove the fstab entry (never unmounts)."
    type: str
    choices: [mounted, present, ephemeral, absent, absent_from_fstab]
    default: "mounted"
  mode:
    description:
      - "Octal mode of the mount root, as a quoted string (\"1777\" or \"01777\"). Set live with chmod (the kernel ignores mode= on remount) and, for
          tmpfs, in fstab as mode= (left out for 1777, the tmpfs default). Unmanaged when omitted."
    type: str
  size:
    description:
      - "tmpfs size limit: bytes, a k/m/g/t/p/e suffix (either case, powers of 1024), N% of RAM, or 0 for unlimited. 4G, 4096m and 4194304k are the
          same size. Unmanaged when omitted."
    type: str
  min_size:
    description:
      - "tmpfs minimum size, same syntax as size: grow to it when smaller, never shrink. Mutually exclusive with size."
    type: str
  nr_inodes:
    description:
      - "tmpfs inode limit: a count with an optional k/m/g/t/p/e suffix, N% of RAM pages (the kernel default is 50%), or 0 for unlimited. Unmanaged
          when omitted."
    type: str
  options:
    description:
      - "Mount flags that must hold live and in fstab: nodev, nosuid, noexec, ro, noatime, relatime, strictatime, nodiratime, or their opposites rw,
          dev, suid, exec, diratime. A comma-separated string is accepted too. Without ro, a read-only live mount is drift: it is remounted
          read-write (mount and filesystem) before anything else, and an ro in the fstab line is dropped."
    type: list
    elements: str
    default: []
  queues_max:
    description:
      - "mqueue only: /proc/sys/fs/mqueue/queues_max (0 to 2147483647), set live and persisted in sysctl_path."
    type: int
  msg_max:
    description:
      - "mqueue only: /proc/sys/fs/mqueue/msg_max (1 to 65536), set live and persisted in sysctl_path."
    type: int
  msgsize_max:
    description:
      - "mqueue only: /proc/sys/fs/mqueue/msgsize_max (128 to 16777216), set live and persisted in sysctl_path."
    type: int
  sysctl_path:
    description:
      - "sysctl.d file that persists the mqueue limits."
    type: str
    default: "/etc/sysctl.d/90-shmguard-mqueue.conf"
  init:
    description:
      - "The init system that boots this host, which decides what the fstab line does at the next boot. systemd mounts /dev/shm itself (mode 1777,
          nosuid, nodev) and then remounts it with the line's options; other init systems, and systemd for every other path, mount afresh from the
          line. auto: systemd when /run/systemd/system exists (set it when managing an image or a chroot)."
    type: str
    choices: [auto, systemd, other]
    default: "auto"
  fstab_path:
    description:
      - "fstab file to manage. A missing one is created (mode 0644, with the entry) by mounted and present, as ansible.posix.mount does; never in a
          missing directory (an error)."
    type: str
    aliases: [fstab]
    default: "/etc/fstab"
  backup:
    description:
      - "Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is returned as backup_file."
    type: bool
    default: false
  backup_keep:
    description:
      - "With backup: how many of shmguard's own copies of each file to keep beside it (those named FILE.PID.TIMESTAMP~), the newest; older ones are
          removed once the new copy is on disk. 0 keeps them all. Other files are never touched."
    type: int
    default: 5
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
    details: Linux on x86_64 or aarch64 (the collection ships static builds for these two CPUs).
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
    details: A run takes milliseconds; a task with async fails with a message saying so.
  become:
    description: Is usable alongside become keywords.
    support: full
notes:
  - "Host variable shmguard_arch (x86_64, amd64, aarch64 or arm64): the CPU whose build runs on the host. Default: ansible_facts.architecture when
      facts were gathered, else uname -m in the same remote command. Any other CPU fails the task before anything runs; a value that does not match
      the host's uname -m fails it before any upload, naming both CPUs."
  - "Host variable shmguard_cache_dir (an absolute path on the target): the cache directory. Default: /var/cache/shmguard when the task runs as root,
      else ~/.cache/shmguard of the user the task runs as (the become_user with become, else the connection user); the cache belongs to that user.
      The directory must be that user's own with mode 0700, and every directory from / down to it owned by root or that user and writable by no one
      else (OpenSSH's StrictModes rule; a root-owned sticky directory such as /tmp is accepted), with no symbolic link on the way. Otherwise the task
      fails before anything is uploaded, naming the directory and why."
  - "A user without a usable home (such as nobody, or a home the user cannot write) and no shmguard_cache_dir gets a private temporary directory for
      the run, removed when it ends: the build is uploaded on every such run, with a warning saying so."
  - "Each build is named by its SHA-256 and checked (owner, mode, ELF CPU, SHA-256) before every run; the cache holds the build of this collection
      version only. Clean it with ansible.builtin.file state=absent on that directory. ansible-lint does not check the arguments of modules that have
      an action plugin, such as this one."
  - "Output a login shell prints before the plugin's own (a banner from ~/.bashrc, a MOTD) is ignored."
  - "state=absent (alias absent_from_fstab) removes the fstab entry and never unmounts."
seealso:
  - module: ansible.posix.mount
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: /dev/shm usable by every user, 4G, CIS flags, persisted in fstab
  shmguard.shm.shmguard:
    path: /dev/shm
    mode: "1777"
    size: 4G
    options: [nodev, nosuid, noexec]
    backup: true

- name: Make sure /dev/shm is at least 8G for the training job, never shrink it
  shmguard.shm.shmguard:
    min_size: 8G
    state: ephemeral

- name: /dev/mqueue with room for more queues
  shmguard.shm.shmguard:
    path: /dev/mqueue
    mode: "1777"
    options: [nodev, nosuid, noexec]
    queues_max: 512

- name: Drop the /dev/shm line from fstab, as ansible.posix.mount state=absent_from_fstab would
  shmguard.shm.shmguard:
    path: /dev/shm
    state: absent_from_fstab
    fstab: /etc/fstab

- name: Audit only (check mode), see the would-be diff
  shmguard.shm.shmguard:
    mode: "1777"
    options: [nodev, nosuid, noexec]
  check_mode: true
  diff: true
"""

RETURN = r"""
actions:
  description: "One line per change, done or (in check mode) to be done."
  type: list
  returned: always
  elements: str
  sample: ["remount /dev/shm: size 64M -> 4G, add nodev, nosuid, noexec", "chmod /dev/shm 0755 -> 1777"]
after:
  description: "The state after the run (in check mode: the state a real run would leave)."
  type: dict
  returned: when available
  contains:
    boot:
      description: "What the next boot gives the mount point, predicted from the fstab line and the init system (nothing is mounted to find out)."
      type: dict
      returned: success
      contains:
        describe:
          description: "The same, for people; when boot mounts nothing, that there is no fstab entry."
          type: str
          returned: success
        how:
          description: "How boot applies the fstab line: `systemd-remount` (systemd's PID 1 mounts /dev/shm, then remounts it with the line's
              options) or `fresh` (mounted afresh from the line)."
          type: str
          returned: success
        line:
          description: "1-based fstab line boot uses (the first entry for the mount point)."
          type: int
          returned: success
          sample: 3
        mode:
          description: "Mode of the mount root after boot."
          type: str
          returned: success
          sample: "1777"
        mounted:
          description: "Whether boot mounts it at all (as far as fstab and the init system say)."
          type: bool
          returned: success
          sample: true
        nr_inodes:
          description: "tmpfs inode limit (0: unlimited)."
          type: int
          returned: success
          sample: 1048576
        options:
          description: "Per-mount flags after boot."
          type: list
          returned: success
          elements: str
          sample: ["rw", "nosuid", "nodev", "noexec", "relatime"]
        size:
          description: "tmpfs size limit (0: unlimited)."
          type: dict
          returned: success
          contains:
            bytes:
              description: "The limit in bytes."
              type: int
              returned: success
              sample: 4294967296
            human:
              description: "e.g. 4G, 64M, unlimited"
              type: str
              returned: success
              sample: "4G"
        systemd:
          description: "Whether the init system is systemd (detected, or the `init` parameter)."
          type: bool
          returned: success
    fstab:
      description: "The first fstab entry for the mount point."
      type: dict
      returned: success
      contains:
        line:
          description: "1-based line number"
          type: int
          returned: success
          sample: 3
        options:
          description: "The options."
          type: str
          returned: success
        spec:
          description: "fstab field 1: the device or source."
          type: str
          returned: success
          sample: "tmpfs"
        text:
          description: "the whole line as in the file"
          type: str
          returned: success
          sample: "tmpfs /dev/shm tmpfs nodev,nosuid,noexec,size=4G 0 0"
        vfstype:
          description: "fstab field 3: the filesystem type."
          type: str
          returned: success
          sample: "tmpfs"
    fstype:
      description: "Filesystem type of the live mount."
      type: str
      returned: success
      sample: "tmpfs"
    mode:
      description: "Real mode of the mount root (stat), four octal digits."
      type: str
      returned: success
      sample: "1777"
    mounted:
      description: "Whether a filesystem is mounted at the path."
      type: bool
      returned: success
      sample: true
    mqueue:
      description: "Live /proc/sys/fs/mqueue limits (mqueue only)."
      type: dict
      returned: success
      sample: {"msg_max": 10, "msgsize_max": 8192, "queues_max": 256}
    nr_inodes:
      description: "tmpfs inode limit (0: unlimited)."
      type: int
      returned: success
      sample: 1048576
    options:
      description: "Per-mount flags of the live mount."
      type: list
      returned: success
      elements: str
      sample: ["rw", "nosuid", "nodev", "noexec", "relatime"]
    size:
      description: "tmpfs size limit (0: unlimited)."
      type: dict
      returned: success
      contains:
        bytes:
          description: "The limit in bytes."
          type: int
          returned: success
          sample: 4294967296
        human:
          description: "e.g. 4G, 64M, unlimited"
          type: str
          returned: success
          sample: "4G"
    source:
      description: "Source (device) field of the live mount."
      type: str
      returned: success
      sample: "tmpfs"
    symlink_to:
      description: "The path asked for is a symbolic link to this mount point (followed: its state is shown), as on older Debian and Ubuntu (/dev/shm
          -> /run/shm)."
      type: str
      returned: success
    sysctl:
      description: "mqueue limits persisted in sysctl_path (mqueue only)."
      type: dict
      returned: success
      sample: {"msg_max": 10, "msgsize_max": 8192, "queues_max": 256}
backup_file:
  description: "The copy of fstab (or of the sysctl file) kept when backup is set: the first of backup_files."
  type: str
  returned: when available
  sample: "/etc/fstab.4127.2026-11-27T10:00:00Z~"
backup_files:
  description: "Every copy kept when backup is set (fstab and the sysctl file), in the order made."
  type: list
  returned: when available
  elements: str
  sample: ["/etc/fstab.4127.2026-11-27T10:00:00Z~", "/etc/sysctl.d/90-shmguard-mqueue.conf.4127.2026-11-27T10:00:00Z~"]
before:
  description: "The state found before the run."
  type: dict
  returned: when available
  contains:
    boot:
      description: "What the next boot gives the mount point, predicted from the fstab line and the init system (nothing is mounted to find out)."
      type: dict
      returned: success
      contains:
        describe:
          description: "The same, for people; when boot mounts nothing, that there is no fstab entry."
          type: str
          returned: success
        how:
          description: "How boot applies the fstab line: `systemd-remount` (systemd's PID 1 mounts /dev/shm, then remounts it with the line's
              options) or `fresh` (mounted afresh from the line)."
          type: str
          returned: success
        line:
          description: "1-based fstab line boot uses (the first entry for the mount point)."
          type: int
          returned: success
          sample: 3
        mode:
          description: "Mode of the mount root after boot."
          type: str
          returned: success
          sample: "1777"
        mounted:
          description: "Whether boot mounts it at all (as far as fstab and the init system say)."
          type: bool
          returned: success
          sample: true
        nr_inodes:
          description: "tmpfs inode limit (0: unlimited)."
          type: int
          returned: success
          sample: 1048576
        options:
          description: "Per-mount flags after boot."
          type: list
          returned: success
          elements: str
          sample: ["rw", "nosuid", "nodev", "noexec", "relatime"]
        size:
          description: "tmpfs size limit (0: unlimited)."
          type: dict
          returned: success
          contains:
            bytes:
              description: "The limit in bytes."
              type: int
              returned: success
              sample: 4294967296
            human:
              description: "e.g. 4G, 64M, unlimited"
              type: str
              returned: success
              sample: "4G"
        systemd:
          description: "Whether the init system is systemd (detected, or the `init` parameter)."
          type: bool
          returned: success
    fstab:
      description: "The first fstab entry for the mount point."
      type: dict
      returned: success
      contains:
        line:
          description: "1-based line number"
          type: int
          returned: success
          sample: 3
        options:
          description: "The options."
          type: str
          returned: success
        spec:
          description: "fstab field 1: the device or source."
          type: str
          returned: success
          sample: "tmpfs"
        text:
          description: "the whole line as in the file"
          type: str
          returned: success
          sample: "tmpfs /dev/shm tmpfs nodev,nosuid,noexec,size=4G 0 0"
        vfstype:
          description: "fstab field 3: the filesystem type."
          type: str
          returned: success
          sample: "tmpfs"
    fstype:
      description: "Filesystem type of the live mount."
      type: str
      returned: success
      sample: "tmpfs"
    mode:
      description: "Real mode of the mount root (stat), four octal digits."
      type: str
      returned: success
      sample: "1777"
    mounted:
      description: "Whether a filesystem is mounted at the path."
      type: bool
      returned: success
      sample: true
    mqueue:
      description: "Live /proc/sys/fs/mqueue limits (mqueue only)."
      type: dict
      returned: success
      sample: {"msg_max": 10, "msgsize_max": 8192, "queues_max": 256}
    nr_inodes:
      description: "tmpfs inode limit (0: unlimited)."
      type: int
      returned: success
      sample: 1048576
    options:
      description: "Per-mount flags of the live mount."
      type: list
      returned: success
      elements: str
      sample: ["rw", "nosuid", "nodev", "noexec", "relatime"]
    size:
      description: "tmpfs size limit (0: unlimited)."
      type: dict
      returned: success
      contains:
        bytes:
          description: "The limit in bytes."
          type: int
          returned: success
          sample: 4294967296
        human:
          description: "e.g. 4G, 64M, unlimited"
          type: str
          returned: success
          sample: "4G"
    source:
      description: "Source (device) field of the live mount."
      type: str
      returned: success
      sample: "tmpfs"
    symlink_to:
      description: "The path asked for is a symbolic link to this mount point (followed: its state is shown), as on older Debian and Ubuntu (/dev/shm
          -> /run/shm)."
      type: str
      returned: success
    sysctl:
      description: "mqueue limits persisted in sysctl_path (mqueue only)."
      type: dict
      returned: success
      sample: {"msg_max": 10, "msgsize_max": 8192, "queues_max": 256}
check_mode:
  description: "Check mode: nothing was changed, actions and after say what would be done."
  type: bool
  returned: always
  sample: false
diff:
  description: "Under diff mode: the live state and each changed file, before and after."
  type: list
  returned: when available
  elements: dict
  contains:
    after:
      description: "The content, before or after."
      type: str
      returned: success
    after_header:
      description: "What the content is: the live mount or the file's path."
      type: str
      returned: success
    before:
      description: "The content, before or after."
      type: str
      returned: success
    before_header:
      description: "What the content is: the live mount or the file's path."
      type: str
      returned: success
msg:
  description: "One readable sentence."
  type: str
  returned: always
  sample: "/dev/shm: 2 changes made"
path:
  description: "The managed mount point."
  type: str
  returned: always
  sample: "/dev/shm"
build:
  description: "Which build of shmguard ran on the target, added by the action plugin."
  type: dict
  returned: success
  contains:
    arch:
      description: "The build's CPU: x86_64 or aarch64."
      type: str
      returned: success
      sample: "x86_64"
    uploaded_bytes:
      description: "Bytes of compressed build sent to the target by this task; 0 when the cached build was run."
      type: int
      returned: success
      sample: 0
    reason:
      description: "cached (the build was in the cache and matched its SHA-256), or why it was uploaded: missing, mismatch (changed build or tampered
          file), unsafe (file writable by others, or not a regular file of the user), uncached (the user has no usable home: uploaded to a temporary
          directory removed after the run), or check (check mode and the build was not cached: run from a temporary directory removed after the run,
          the cache left as it was)."
      type: str
      returned: success
      sample: "cached"
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    path=dict(type="str", aliases=["name"], default="/dev/shm"),
    fstype=dict(type="str", choices=["tmpfs", "mqueue"]),
    state=dict(
        type="str",
        choices=["mounted", "present", "ephemeral", "absent", "absent_from_fstab"],
        default="mounted",
    ),
    mode=dict(type="str"),
    size=dict(type="str"),
    min_size=dict(type="str"),
    nr_inodes=dict(type="str"),
    options=dict(type="list", elements="str", default=[]),
    queues_max=dict(type="int"),
    msg_max=dict(type="int"),
    msgsize_max=dict(type="int"),
    sysctl_path=dict(type="str", default="/etc/sysctl.d/90-shmguard-mqueue.conf"),
    init=dict(type="str", choices=["auto", "systemd", "other"], default="auto"),
    fstab_path=dict(type="str", aliases=["fstab"], default="/etc/fstab"),
    backup=dict(type="bool", default=False),
    backup_keep=dict(type="int", default=5),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="shmguard.shm.shmguard runs through its action plugin (plugins/action/shmguard.py), "
                         "which was bypassed: call the module by its FQCN from a playbook or ad-hoc command")


if __name__ == "__main__":
    main()
