//! The next boot, predicted from the fstab file: which way boot applies the entry for a path
//! and the mount it gives. Computed from the line and the init system; nothing is mounted to
//! find out. Pure: no I/O.
//!
//! Two ways, verified against the real mount(8) (util-linux 2.38, the classic mount API):
//! - systemd's PID 1 mounts /dev/shm itself (`mode=01777`, nosuid, nodev, strictatime;
//!   `src/shared/mount-setup.c`, no mount unit) and `systemd-remount-fs.service` then runs
//!   `mount /dev/shm -o remount`: the line's options as a REMOUNT, which replaces the
//!   per-mount flags, keeps the atime flags when the line gives none, applies size= and
//!   nr_inodes=, and ignores mode= (tmpfs), so the mode stays 1777.
//! - everywhere else (other init systems; systemd for /dev/mqueue, whose fstab line replaces
//!   dev-mqueue.mount, and for any other path) boot mounts afresh with exactly the line's
//!   options.

use crate::observe::Observed;
use crate::observe::fstab::Fstab;
use crate::spec::{Atime, Desired, FsType, Host, Mode, MountFlags, OptionBits, Quantity};

/// How the next boot applies the fstab entry of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootPath {
    /// systemd's PID 1 mounts it, then `mount PATH -o remount` applies the line
    SystemdRemount,
    /// mount(8) (or a systemd mount unit) mounts it afresh from the line
    Fresh,
}

impl BootPath {
    /// The way boot applies a line for `path` under this init system.
    pub fn of(systemd: bool, path: &str) -> BootPath {
        if systemd && path == "/dev/shm" {
            BootPath::SystemdRemount
        } else {
            BootPath::Fresh
        }
    }

    /// One sentence for people.
    pub fn describe(self, systemd: bool) -> &'static str {
        match (self, systemd) {
            (BootPath::SystemdRemount, _) => {
                "systemd: PID 1 mounts it (mode 1777, nosuid, nodev), then remounts it with the fstab line's options"
            }
            (BootPath::Fresh, true) => "systemd: mounted afresh from the fstab line",
            (BootPath::Fresh, false) => "mounted afresh from the fstab line (init is not systemd)",
        }
    }
}

/// The per-mount flags systemd's PID 1 gives /dev/shm before the fstab line is applied.
pub const PID1_DEV_SHM: MountFlags = MountFlags {
    read_only: false,
    nosuid: true,
    nodev: true,
    noexec: false,
    atime: Atime::Strictatime,
    nodiratime: false,
};

/// The per-mount flags of systemd's dev-mqueue.mount (`Options=nosuid,nodev,noexec`).
pub const DEV_MQUEUE_UNIT: MountFlags = MountFlags {
    read_only: false,
    nosuid: true,
    nodev: true,
    noexec: true,
    atime: Atime::Relatime,
    nodiratime: false,
};

/// A mount as the next boot will leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootMount {
    pub flags: MountFlags,
    /// mode of the mount root
    pub mode: u32,
    /// tmpfs size in pages (0: unlimited)
    pub size_pages: Option<u64>,
    /// tmpfs inode limit (0: unlimited)
    pub nr_inodes: Option<u64>,
}

/// What the next boot does for a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    pub path: BootPath,
    /// whether the init system is systemd
    pub systemd: bool,
    /// 0-based index of the fstab line boot uses (the first entry for the path)
    pub line: Option<usize>,
    /// the mount boot gives; None: boot does not mount it (from what fstab says)
    pub mount: Option<BootMount>,
}

impl Boot {
    /// One sentence for people: how boot applies the line, or, when boot mounts nothing
    /// (no entry, or one boot skips), that there is no entry.
    pub fn describe(&self) -> &'static str {
        match (&self.mount, self.systemd) {
            (Some(_), _) => self.path.describe(self.systemd),
            (None, true) => "not mounted (no fstab entry, and systemd mounts no other path itself)",
            (None, false) => {
                "no fstab entry; mounted at boot only if the init system or the container runtime does it"
            }
        }
    }
}

/// Value of the last `key=` option.
pub fn option_value<'a>(words: &'a [String], key: &str) -> Option<&'a str> {
    words
        .iter()
        .rev()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// The mount a line with these options gives at boot, applied the given way.
pub fn from_options(words: &[String], path: BootPath, fstype: FsType, host: &Host) -> BootMount {
    let bits = OptionBits::from_words(words.iter().map(String::as_str));
    let tmpfs = fstype == FsType::Tmpfs;
    let size_pages = tmpfs.then(|| {
        option_value(words, "size")
            .and_then(|v| Quantity::parse("size", v, true).ok())
            .map(|q| q.pages(host))
            .unwrap_or_else(|| host.default_tmpfs_pages())
    });
    let nr_inodes = tmpfs.then(|| {
        option_value(words, "nr_inodes")
            .and_then(|v| Quantity::parse("nr_inodes", v, true).ok())
            .map(|q| q.count(host))
            .unwrap_or_else(|| host.default_tmpfs_inodes())
    });
    match path {
        BootPath::SystemdRemount => BootMount {
            flags: bits.remount(PID1_DEV_SHM),
            mode: 0o1777,
            size_pages,
            nr_inodes,
        },
        BootPath::Fresh => BootMount {
            flags: bits.fresh(),
            mode: option_value(words, "mode")
                .filter(|_| tmpfs)
                .and_then(|v| Mode::parse(v).ok())
                .map_or(0o1777, |m| m.0),
            size_pages,
            nr_inodes,
        },
    }
}

/// What the next boot gives `path` with this fstab (entries read as libmount reads them).
pub fn predict(fstab: &Fstab, path: &str, fstype: FsType, systemd: bool, host: &Host) -> Boot {
    let how = BootPath::of(systemd, path);
    let line = fstab.entries_at(path.as_bytes()).first().copied();
    let mount = match line.and_then(|i| fstab.entry(i)) {
        Some(e) => Some(from_options(&e.options, how, fstype, host)),
        None if how == BootPath::SystemdRemount => Some(BootMount {
            flags: PID1_DEV_SHM,
            ..from_options(&[], BootPath::Fresh, fstype, host)
        }),
        None if systemd && path == "/dev/mqueue" && fstype == FsType::Mqueue => Some(BootMount {
            flags: DEV_MQUEUE_UNIT,
            mode: 0o1777,
            size_pages: None,
            nr_inodes: None,
        }),
        None => None,
    };
    Boot {
        path: how,
        systemd,
        line,
        mount,
    }
}

/// The prediction for a target's path in an observed (or expected) state.
pub fn of(o: &Observed, d: &Desired) -> Boot {
    predict(&o.fstab.doc, &d.path, d.fstype, o.systemd, &o.host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Host = Host {
        page_size: 4096,
        total_ram_pages: 1 << 20,
    };

    fn at(fstab: &str, path: &str, systemd: bool) -> Option<BootMount> {
        let fstype = if path == "/dev/mqueue" {
            FsType::Mqueue
        } else {
            FsType::Tmpfs
        };
        predict(
            &Fstab::parse(fstab.as_bytes()),
            path,
            fstype,
            systemd,
            &HOST,
        )
        .mount
    }

    #[test]
    fn a_size_only_line_drops_nosuid_nodev_under_systemd() {
        let m = at(
            "tmpfs /dev/shm tmpfs defaults,size=4G 0 0\n",
            "/dev/shm",
            true,
        )
        .unwrap();
        assert!(!m.flags.nosuid && !m.flags.nodev);
        assert_eq!(m.flags.atime, Atime::Strictatime, "atime kept from PID 1");
        assert_eq!(m.size_pages, Some(1 << 20));
    }

    #[test]
    fn mode_is_pid1s_under_systemd_and_the_lines_otherwise() {
        let f = "tmpfs /dev/shm tmpfs mode=0755 0 0\n";
        assert_eq!(at(f, "/dev/shm", true).unwrap().mode, 0o1777);
        assert_eq!(at(f, "/dev/shm", false).unwrap().mode, 0o755);
    }

    #[test]
    fn without_a_line_systemd_still_mounts_dev_shm_and_dev_mqueue() {
        assert_eq!(at("", "/dev/shm", true).unwrap().flags, PID1_DEV_SHM);
        assert_eq!(at("", "/dev/mqueue", true).unwrap().flags, DEV_MQUEUE_UNIT);
        assert_eq!(at("", "/dev/shm", false), None);
        assert_eq!(at("", "/run/shm", true), None);
    }

    #[test]
    fn a_line_boot_skips_is_no_entry() {
        let f = "tmpfs /dev/shm tmpfs defaults,noexec # CIS\n";
        assert_eq!(at(f, "/dev/shm", false), None);
    }

    /// Regression (issue 17): `status --json` said "mounted afresh from the fstab line" for a
    /// path with no entry, while the text said there was none.
    #[test]
    fn without_an_entry_the_description_says_so() {
        let no_entry = |systemd| {
            predict(&Fstab::default(), "/srv/shm", FsType::Tmpfs, systemd, &HOST).describe()
        };
        assert!(
            no_entry(false).starts_with("no fstab entry"),
            "{}",
            no_entry(false)
        );
        assert!(
            no_entry(true).contains("no fstab entry"),
            "{}",
            no_entry(true)
        );
        let f = Fstab::parse(b"tmpfs /srv/shm tmpfs nodev 0 0\n");
        let b = predict(&f, "/srv/shm", FsType::Tmpfs, false, &HOST);
        assert_eq!(b.describe(), BootPath::Fresh.describe(false));
    }

    #[test]
    fn the_first_entry_wins() {
        let f = "tmpfs /dev/shm tmpfs noexec 0 0\ntmpfs /dev/shm tmpfs exec 0 0\n";
        assert!(at(f, "/dev/shm", false).unwrap().flags.noexec);
    }
}
