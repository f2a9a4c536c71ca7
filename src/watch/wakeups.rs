//! The watch loop's waiting, the only I/O besides the audit itself: blocks in poll(2) until
//! the kernel says something may have changed — /proc/self/mountinfo's POLLPRI (every mount,
//! umount, remount in this namespace), inotify IN_ATTRIB on each watched mount point's root
//! (chmod, chown), inotify on the watched files' directories (fstab is replaced by rename) —
//! or the sysctl timer expires (mqueue limits have no notification), or SIGTERM / SIGINT
//! arrive (signalfd), or stdout's reader went away. No busy loop, no sleeping.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// Why the loop woke up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// something the audit reads may have changed: audit again
    Changed,
    /// only the mount table changed (mountinfo's POLLPRI; poll itself takes the event, nothing
    /// is read): audit again if a watched mount is not what it was
    Mounts,
    /// SIGTERM, SIGINT, or stdout closed: stop (exit 0)
    Stop,
}

const FILE_EVENTS: AddWatchFlags = AddWatchFlags::IN_MOVED_TO
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_CLOSE_WRITE)
    .union(AddWatchFlags::IN_CREATE)
    .union(AddWatchFlags::IN_DELETE);

/// inotify(7)'s IN_MASK_ADD (linux/inotify.h), which nix does not name: add to the mask of an
/// inode already watched instead of replacing it.
const IN_MASK_ADD: AddWatchFlags = AddWatchFlags::from_bits_retain(0x2000_0000);

pub struct Wakeups {
    mountinfo: File,
    inotify: Inotify,
    signals: SignalFd,
    /// mount points and the watch on their current root
    mounts: Vec<(PathBuf, Option<WatchDescriptor>)>,
    /// watched files: the watch on their directory and their name
    files: Vec<(Option<WatchDescriptor>, OsString)>,
    interval: Duration,
    next_timer: Instant,
}

impl Wakeups {
    /// Watches `mounts` (their roots) and `files` (through their directories); the timer
    /// fires every `interval`. SIGTERM and SIGINT are blocked and read from a signalfd.
    pub fn new(
        mounts: &[PathBuf],
        files: &[PathBuf],
        interval: Duration,
    ) -> Result<Wakeups, String> {
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGTERM);
        mask.add(Signal::SIGINT);
        mask.thread_block()
            .map_err(|e| format!("cannot block SIGTERM and SIGINT: {e}"))?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| format!("signalfd: {e}"))?;
        let mountinfo = File::open("/proc/self/mountinfo")
            .map_err(|e| format!("cannot open /proc/self/mountinfo: {e}"))?;
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(|e| format!("inotify: {e}"))?;
        let mut files_w = Vec::new();
        for f in files {
            let dir = match f.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let Some(name) = f.file_name() else { continue };
            // A directory that does not exist (no sysctl.d) is not watched: nothing to replace.
            // IN_MASK_ADD: a directory that is also a watched mount root keeps both masks.
            let wd = inotify.add_watch(dir, FILE_EVENTS | IN_MASK_ADD).ok();
            files_w.push((wd, name.to_os_string()));
        }
        let mut w = Wakeups {
            mountinfo,
            inotify,
            signals,
            mounts: mounts.iter().map(|p| (p.clone(), None)).collect(),
            files: files_w,
            interval,
            next_timer: Instant::now() + interval,
        };
        w.rewatch_mounts();
        Ok(w)
    }

    /// (Re)adds a watch on each mount point's root: a mount, umount or remount gives the path
    /// another root inode; the watch on the old one is removed.
    fn rewatch_mounts(&mut self) {
        // Following a symlinked mount point (/dev/shm -> /run/shm) to the mount's root, as
        // the audit does.
        let flags = AddWatchFlags::IN_ATTRIB | IN_MASK_ADD;
        for (path, wd) in &mut self.mounts {
            let new = self.inotify.add_watch(path.as_path(), flags).ok();
            if let (Some(old), true) = (*wd, *wd != new) {
                let in_use = self.files.iter().any(|(f, _)| *f == Some(old));
                if !in_use {
                    let _ = self.inotify.rm_watch(old);
                }
            }
            *wd = new;
        }
    }

    /// Whether inotify reported something the audit reads.
    fn relevant_inotify(&mut self) -> bool {
        let events = match self.inotify.read_events() {
            Ok(e) => e,
            Err(Errno::EAGAIN) => return false,
            // Lost events (a full queue) or a read error: audit again to be sure.
            Err(_) => return true,
        };
        let mut relevant = false;
        let mut rewatch = false;
        for e in events {
            if e.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                relevant = true;
            }
            if e.mask
                .intersects(AddWatchFlags::IN_IGNORED | AddWatchFlags::IN_UNMOUNT)
            {
                rewatch = true;
            }
            // A mount root's own attributes (events of files inside it carry their name).
            if e.name.is_none()
                && e.mask.contains(AddWatchFlags::IN_ATTRIB)
                && self.mounts.iter().any(|(_, w)| *w == Some(e.wd))
            {
                relevant = true;
            }
            if let Some(name) = &e.name {
                if self
                    .files
                    .iter()
                    .any(|(w, n)| *w == Some(e.wd) && n == name)
                {
                    relevant = true;
                }
            }
        }
        if rewatch {
            self.rewatch_mounts();
            relevant = true;
        }
        relevant
    }

    /// Blocks until something may have changed, the timer fires, or the watch must stop.
    pub fn wait(&mut self) -> Wake {
        loop {
            let left = self.next_timer.saturating_duration_since(Instant::now());
            let timeout = PollTimeout::try_from(left.as_millis().saturating_add(1))
                .unwrap_or(PollTimeout::MAX);
            let stdout = std::io::stdout();
            let mut fds = [
                PollFd::new(self.mountinfo.as_fd(), PollFlags::POLLPRI),
                PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
                // No events asked: POLLERR / POLLHUP (the reader went away) are always reported.
                PollFd::new(stdout.as_fd(), PollFlags::empty()),
            ];
            match poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                // poll itself failing: nothing can be watched any more
                Err(_) => return Wake::Stop,
            }
            let rev = |i: usize| fds[i].revents().unwrap_or(PollFlags::empty());
            let (mounts, inotify, signals, out) = (rev(0), rev(1), rev(2), rev(3));
            let gone = PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL;
            // A descriptor poll cannot use (POLLNVAL) would wake it forever: stop instead.
            let broken = [mounts, inotify, signals]
                .iter()
                .any(|r| r.contains(PollFlags::POLLNVAL));
            if !signals.is_empty() || out.intersects(gone) || broken {
                return Wake::Stop;
            }
            let mut changed = false;
            let mounts_changed = mounts.intersects(PollFlags::POLLPRI | PollFlags::POLLERR);
            if mounts_changed {
                self.rewatch_mounts();
            }
            if inotify.contains(PollFlags::POLLIN) && self.relevant_inotify() {
                changed = true;
            }
            if Instant::now() >= self.next_timer {
                self.next_timer = Instant::now() + self.interval;
                changed = true;
            }
            if changed {
                return Wake::Changed;
            }
            if mounts_changed {
                return Wake::Mounts;
            }
        }
    }
}
