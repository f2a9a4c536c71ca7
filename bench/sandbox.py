"""The bench's sandbox and its stopwatch: refuses to run outside private mount and IPC
namespaces, mounts fresh tmpfs filesystems under the scratch directory only, and runs commands
through the small launcher (bench/spawn.c) that measures them. Standard library only."""

import ctypes
import os
import subprocess
import sys

MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MNT_DETACH = 2
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
LIBC.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(1)


def mount(source, target, fstype, flags, data):
    if LIBC.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode()) != 0:
        die(f"mount {fstype} on {target} ({data}): {os.strerror(ctypes.get_errno())}")


def umount(target):
    if LIBC.umount2(target.encode(), MNT_DETACH) != 0:
        die(f"umount {target}: {os.strerror(ctypes.get_errno())}")


def mount_points():
    """Mount points in this namespace, in mountinfo order (paths here have no escapes)."""
    with open("/proc/self/mountinfo", "rb") as f:
        return [line.split(b" ")[4].decode() for line in f.read().splitlines() if line]


def check_private(scratch, host_ns):
    """Refuses to run unless this process has mount and IPC namespaces of its own and scratch
    is a plain directory outside /dev. host_ns: "mnt:[N] ipc:[M]" from before unshare."""
    for ns in ("mnt", "ipc"):
        mine = os.readlink(f"/proc/self/ns/{ns}")
        if mine in host_ns.split() or f"{ns}:" not in host_ns:
            die(f"not in a private {ns} namespace ({mine}): run bench/run, not this file")
    real = os.path.realpath(scratch)
    if real in ("/", "/tmp") or not real.startswith("/") or real.startswith("/dev") or " " in real:
        die(f"unsafe scratch directory {scratch!r}")
    return real


def private_locks():
    """A private /run/lock in this namespace: shmguard keeps a lock file per managed file under
    /run/lock/shmguard (they stay, by design, until the next boot empties /run), and the
    bench's scratch files are not the host's business."""
    if os.path.isdir("/run/lock"):
        mount("locks", "/run/lock", "tmpfs", 0, "size=1m,mode=1777")


class Sandbox:
    """scratch/ is a tmpfs of its own; scratch/shm is the managed mount, fresh for every run."""

    def __init__(self, scratch, host_ns):
        self.dir = check_private(scratch, host_ns)
        mount("bench", self.dir, "tmpfs", 0, "size=1g,mode=755")
        private_locks()
        # mount(8), which the peers call, keeps x-* options in /run/mount/utab: a private one.
        if os.path.isdir("/run/mount"):
            mount("utab", "/run/mount", "tmpfs", 0, "size=1m,mode=755")
        self.shm = self.path("shm")
        os.makedirs(self.shm)

    def path(self, rel):
        return os.path.join(self.dir, rel)

    def write(self, rel, text):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def fresh_shm(self, flags, data):
        """Unmounts whatever is stacked at scratch/shm, then mounts a new tmpfs there."""
        while self.shm in mount_points():
            umount(self.shm)
        mount("tmpfs", self.shm, "tmpfs", flags, data)
        if self.shm not in mount_points():
            die(f"fresh tmpfs at {self.shm} not visible")


class Run:
    """One execution: wall and CPU seconds, peak RSS bytes, exit code, stdout."""

    def __init__(self, wall, cpu, rss, code, out):
        self.wall, self.cpu, self.rss, self.code, self.out = wall, cpu, rss, code, out


class Stopwatch:
    """Runs commands through bench/spawn.c. From Python itself, ru_maxrss would report at least
    Python's own memory (the high-water mark survives exec); the small launcher does not."""

    def __init__(self, spawn):
        self.spawn = spawn

    def run(self, argv, env, out_path):
        p = subprocess.run([self.spawn, out_path, out_path + ".err"] + argv, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            die(f"launcher failed on {argv}: {p.stderr}")
        wall_ns, user_us, sys_us, rss_kib, code = (int(x) for x in p.stdout.split())
        with open(out_path, "rb") as f:
            out = f.read().decode(errors="replace")
        return Run(wall_ns / 1e9, (user_us + sys_us) / 1e6, rss_kib * 1024, code, out)
