//! The mounts shmguard looks at, one at a time: statx(2) gives the unique id of the mount a path
//! reaches (STATX_MNT_ID_UNIQUE, Linux 6.8) and whether the path is a mount's root
//! (STATX_ATTR_MOUNT_ROOT); statmount(2) (Linux 6.8) gives that one mount's flags, superblock
//! options, type, source and mount point. Each question costs a few syscalls whatever the size
//! of the mount table, where /proc/self/mountinfo makes the kernel print every mount of the
//! namespace (about 24 ms at 10,000 mounts).
//!
//! `Mounts` answers with statmount when the kernel can, and otherwise from mountinfo, read
//! lazily (once, and only when an answer needs it): a kernel without STATX_MNT_ID_UNIQUE, a
//! statmount that fails (ENOSYS before 6.8, EINVAL for a flag it does not know, EPERM from a
//! seccomp filter), or one that cannot say whether an empty field is empty or unknown (before
//! 6.15's STATMOUNT_SUPPORTED_MASK, a mount without options). The hidden environment knob
//! `SHMGUARD_OBSERVE=mountinfo` forces the mountinfo path (the benchmarks and the end-to-end
//! tests compare both).
//!
//! listmount(2) is not used: every question is about the mount one path reaches, never about a
//! mount's children or the whole table.
//!
//! The translation (`entry`, `mount_words`, `super_words`) is pure and gives exactly the
//! `MountInfoEntry` that parsing the mount's mountinfo line gives.

use std::cell::OnceCell;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::libc;

use crate::observe::ObserveError;
use crate::observe::mountinfo::{self, MountInfoEntry};

/// statmount(2) and its request structure, from include/uapi/linux/mount.h (not in libc).
const SYS_STATMOUNT: libc::c_long = 457; // x86_64 and aarch64 alike (the unified table)
const MNT_ID_REQ_SIZE_VER0: u32 = 24;

const STATMOUNT_SB_BASIC: u64 = 0x1;
const STATMOUNT_MNT_BASIC: u64 = 0x2;
const STATMOUNT_MNT_ROOT: u64 = 0x8;
const STATMOUNT_MNT_POINT: u64 = 0x10;
const STATMOUNT_FS_TYPE: u64 = 0x20;
const STATMOUNT_MNT_OPTS: u64 = 0x80;
const STATMOUNT_FS_SUBTYPE: u64 = 0x100;
const STATMOUNT_SB_SOURCE: u64 = 0x200;
const STATMOUNT_SUPPORTED_MASK: u64 = 0x1000;

/// Always in the answer when the kernel knows them (never empty).
const REQUIRED: u64 = STATMOUNT_SB_BASIC
    | STATMOUNT_MNT_BASIC
    | STATMOUNT_MNT_ROOT
    | STATMOUNT_MNT_POINT
    | STATMOUNT_FS_TYPE;
/// Strings the kernel leaves out of the answer's mask when they are empty (since 6.13).
const OPTIONAL: u64 = STATMOUNT_MNT_OPTS | STATMOUNT_SB_SOURCE | STATMOUNT_FS_SUBTYPE;

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR_ATIME: u64 = 0x70;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_IDMAP: u64 = 0x10_0000;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x20_0000;

pub const SB_RDONLY: u32 = 0x1;
pub const SB_SYNCHRONOUS: u32 = 0x10;
pub const SB_MANDLOCK: u32 = 0x40;
pub const SB_DIRSYNC: u32 = 0x80;
pub const SB_LAZYTIME: u32 = 1 << 25;

const STATX_MNT_ID_UNIQUE: u32 = 0x4000;
const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;

/// struct mnt_id_req, its first published size (mnt_ns_id 0 is this namespace anyway).
#[repr(C)]
struct MntIdReq {
    size: u32,
    spare: u32,
    mnt_id: u64,
    param: u64,
}

/// The fixed part of struct statmount (512 bytes); the strings follow it, at the offsets the
/// `[str]` fields give.
#[repr(C)]
#[derive(Clone, Copy)]
struct Header {
    size: u32,
    mnt_opts: u32,
    mask: u64,
    sb_dev_major: u32,
    sb_dev_minor: u32,
    sb_magic: u64,
    sb_flags: u32,
    fs_type: u32,
    mnt_id: u64,
    mnt_parent_id: u64,
    mnt_id_old: u32,
    mnt_parent_id_old: u32,
    mnt_attr: u64,
    mnt_propagation: u64,
    mnt_peer_group: u64,
    mnt_master: u64,
    propagate_from: u64,
    mnt_root: u32,
    mnt_point: u32,
    mnt_ns_id: u64,
    fs_subtype: u32,
    sb_source: u32,
    opt_num: u32,
    opt_array: u32,
    opt_sec_num: u32,
    opt_sec_array: u32,
    supported_mask: u64,
    spare: [u64; 45],
}

const HEADER: usize = std::mem::size_of::<Header>();
const _: () = assert!(HEADER == 512);

/// What statx says about the mount a path reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// the mount's unique id (statmount's, not mountinfo's)
    pub unique_id: u64,
    /// the path is the root of that mount (something is mounted on it)
    pub mount_root: bool,
}

/// statx(path) for the mount id; None when the kernel does not give STATX_MNT_ID_UNIQUE or
/// STATX_ATTR_MOUNT_ROOT (before 6.8). `follow`: follow a final symbolic link.
pub fn reach(path: &Path, follow: bool) -> io::Result<Option<Reach>> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    let mut stx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: `c` is a NUL-terminated path that outlives the call; `stx` is a writable statx
    // buffer of the size the kernel fills.
    let r = unsafe {
        libc::statx(
            libc::AT_FDCWD,
            c.as_ptr(),
            flags,
            STATX_MNT_ID_UNIQUE,
            stx.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statx returned 0, so the kernel (or libc's fallback) wrote the structure, which
    // was zeroed before.
    let stx = unsafe { stx.assume_init() };
    if stx.stx_mask & STATX_MNT_ID_UNIQUE == 0
        || stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT == 0
    {
        return Ok(None);
    }
    Ok(Some(Reach {
        unique_id: stx.stx_mnt_id,
        mount_root: stx.stx_attributes & STATX_ATTR_MOUNT_ROOT != 0,
    }))
}

/// What statmount(2) returned for one mount, its strings copied out (None: not in the mask).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Raw {
    pub mnt_id_old: u32,
    pub dev: (u32, u32),
    pub sb_flags: u32,
    pub mnt_attr: u64,
    pub fs_type: Vec<u8>,
    pub fs_subtype: Option<Vec<u8>>,
    pub mnt_root: Vec<u8>,
    pub mnt_point: Vec<u8>,
    pub mnt_opts: Option<Vec<u8>>,
    pub sb_source: Option<Vec<u8>>,
}

/// statmount of the mount with unique id `id`. None: this kernel cannot answer it completely
/// (no statmount, a flag it does not know, a field it cannot vouch for).
pub fn statmount(id: u64) -> Option<Raw> {
    statmount_from(id, 512)
}

/// statmount with a first buffer of `words` u64s (at least the header's 64).
fn statmount_from(id: u64, words: usize) -> Option<Raw> {
    let req = MntIdReq {
        size: MNT_ID_REQ_SIZE_VER0,
        spare: 0,
        mnt_id: id,
        param: REQUIRED | OPTIONAL | STATMOUNT_SUPPORTED_MASK,
    };
    // u64 words: the buffer is aligned for the header. 4 KiB holds any mount shmguard manages;
    // a longer answer (EOVERFLOW) is asked again with a buffer twice the size.
    let mut buf: Vec<u64> = vec![0; words.max(HEADER / 8)];
    // Bounded: an interrupted call is tried again a few times, then mountinfo answers.
    for attempt in 0.. {
        if attempt == 16 {
            return None;
        }
        let bytes = buf.len() * 8;
        // SAFETY: `req` is a valid mnt_id_req of the size it declares; `buf` is writable for
        // `bytes` bytes; the kernel writes no more than that (EOVERFLOW otherwise).
        let r = unsafe {
            libc::syscall(
                SYS_STATMOUNT,
                &req as *const MntIdReq,
                buf.as_mut_ptr(),
                bytes,
                0 as libc::c_uint,
            )
        };
        if r == 0 {
            break;
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::EOVERFLOW) if bytes < 1 << 20 => buf.resize(buf.len() * 2, 0),
            Some(libc::EINTR | libc::EAGAIN) => {}
            // ENOSYS, EINVAL, EPERM, ENOENT (gone meanwhile): mountinfo answers instead.
            _ => return None,
        }
    }
    // SAFETY: the buffer is at least HEADER bytes, u64-aligned, and the kernel filled the
    // header (any bit pattern is a valid Header: plain integers).
    let h: Header = unsafe { std::ptr::read(buf.as_ptr().cast::<Header>()) };
    // SAFETY: a u64 buffer viewed as its bytes, for its whole length.
    let all: &[u8] =
        unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), buf.len() * 8) };
    let used = (h.size as usize).clamp(HEADER, all.len());
    translate(&h, &all[HEADER..used])
}

/// The header and string area into `Raw`, deciding what an absent optional string means.
fn translate(h: &Header, strings: &[u8]) -> Option<Raw> {
    if h.mask & REQUIRED != REQUIRED {
        return None;
    }
    // Which optional strings this kernel knows: from 6.15 it says so; before that, a string
    // missing from the answer is unknown or empty, and only mountinfo can tell.
    let known = if h.mask & STATMOUNT_SUPPORTED_MASK != 0 {
        h.supported_mask
    } else {
        h.mask
    };
    let str_at = |bit: u64, off: u32| -> Option<Vec<u8>> {
        if h.mask & bit == 0 {
            return None;
        }
        let s = strings.get(off as usize..)?;
        let end = s.iter().position(|b| *b == 0).unwrap_or(s.len());
        Some(s[..end].to_vec())
    };
    let fs_type = str_at(STATMOUNT_FS_TYPE, h.fs_type)?;
    // Only FUSE sets a subtype; elsewhere its absence says nothing.
    let needs_subtype = fs_type.starts_with(b"fuse");
    let must_know = STATMOUNT_MNT_OPTS
        | STATMOUNT_SB_SOURCE
        | if needs_subtype {
            STATMOUNT_FS_SUBTYPE
        } else {
            0
        };
    if known & must_know != must_know {
        return None;
    }
    Some(Raw {
        mnt_id_old: h.mnt_id_old,
        dev: (h.sb_dev_major, h.sb_dev_minor),
        sb_flags: h.sb_flags,
        mnt_attr: h.mnt_attr,
        fs_subtype: str_at(STATMOUNT_FS_SUBTYPE, h.fs_subtype),
        mnt_root: str_at(STATMOUNT_MNT_ROOT, h.mnt_root)?,
        mnt_point: str_at(STATMOUNT_MNT_POINT, h.mnt_point)?,
        mnt_opts: str_at(STATMOUNT_MNT_OPTS, h.mnt_opts),
        sb_source: str_at(STATMOUNT_SB_SOURCE, h.sb_source),
        fs_type,
    })
}

/// mountinfo field 6 for these MOUNT_ATTR_* bits, as fs/proc_namespace.c prints it: `rw` or
/// `ro`, then nosuid, nodev, noexec, noatime, nodiratime, relatime, nosymfollow, idmapped
/// (strictatime is the absence of an atime word).
pub fn mount_words(attr: u64) -> Vec<String> {
    let atime = attr & MOUNT_ATTR_ATIME;
    let words = [
        (attr & MOUNT_ATTR_NOSUID != 0, "nosuid"),
        (attr & MOUNT_ATTR_NODEV != 0, "nodev"),
        (attr & MOUNT_ATTR_NOEXEC != 0, "noexec"),
        (atime == MOUNT_ATTR_NOATIME, "noatime"),
        (attr & MOUNT_ATTR_NODIRATIME != 0, "nodiratime"),
        (atime == 0, "relatime"),
        (attr & MOUNT_ATTR_NOSYMFOLLOW != 0, "nosymfollow"),
        (attr & MOUNT_ATTR_IDMAP != 0, "idmapped"),
    ];
    let rw = if attr & MOUNT_ATTR_RDONLY != 0 {
        "ro"
    } else {
        "rw"
    };
    std::iter::once(rw)
        .chain(words.iter().filter(|(on, _)| *on).map(|(_, w)| *w))
        .map(String::from)
        .collect()
}

/// mountinfo's last field: `rw` or `ro` from the superblock, its sync, dirsync, mand, lazytime
/// words, then the filesystem's own options (statmount's mnt_opts, already escaped as
/// mountinfo escapes them).
pub fn super_words(sb_flags: u32, opts: &[u8]) -> Vec<String> {
    let rw = if sb_flags & SB_RDONLY != 0 {
        "ro"
    } else {
        "rw"
    };
    let words = [
        (SB_SYNCHRONOUS, "sync"),
        (SB_DIRSYNC, "dirsync"),
        (SB_MANDLOCK, "mand"),
        (SB_LAZYTIME, "lazytime"),
    ];
    let mut out: Vec<String> = std::iter::once(rw)
        .chain(
            words
                .iter()
                .filter(|(bit, _)| sb_flags & bit != 0)
                .map(|(_, w)| *w),
        )
        .map(String::from)
        .collect();
    out.extend(
        String::from_utf8_lossy(opts)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from),
    );
    out
}

/// The entry mountinfo's line for this mount parses into.
pub fn entry(raw: &Raw) -> MountInfoEntry {
    let mut fstype = String::from_utf8_lossy(&raw.fs_type).into_owned();
    if let Some(sub) = raw.fs_subtype.as_deref().filter(|s| !s.is_empty()) {
        fstype.push('.');
        fstype.push_str(&String::from_utf8_lossy(sub));
    }
    MountInfoEntry {
        mount_id: u64::from(raw.mnt_id_old),
        major: raw.dev.0,
        minor: raw.dev.1,
        root: raw.mnt_root.clone(),
        mount_point: raw.mnt_point.clone(),
        mount_options: mount_words(raw.mnt_attr),
        fstype,
        // mountinfo prints "none" for a mount without a source
        source: raw
            .sb_source
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| b"none".to_vec()),
        super_options: super_words(raw.sb_flags, raw.mnt_opts.as_deref().unwrap_or_default()),
    }
}

/// The mount `path` reaches, through statx and statmount; None when this kernel cannot say.
pub fn reached(path: &Path, follow: bool) -> Option<(Reach, MountInfoEntry)> {
    let r = reach(path, follow).ok()??;
    let raw = statmount(r.unique_id)?;
    Some((r, entry(&raw)))
}

/// Whether `SHMGUARD_OBSERVE=mountinfo` forces the mountinfo path.
fn forced_mountinfo() -> bool {
    std::env::var_os("SHMGUARD_OBSERVE").is_some_and(|v| v == "mountinfo")
}

/// The observer of single mounts: statmount first, mountinfo (read at most once, lazily) when
/// the kernel cannot answer or `SHMGUARD_OBSERVE=mountinfo` says so.
pub struct Mounts {
    fast: bool,
    table: OnceCell<Vec<u8>>,
}

impl Default for Mounts {
    fn default() -> Self {
        Mounts::new()
    }
}

impl Mounts {
    pub fn new() -> Mounts {
        Mounts {
            fast: !forced_mountinfo(),
            table: OnceCell::new(),
        }
    }

    /// Whether statmount may answer (false: the knob forces mountinfo).
    pub fn fast(&self) -> bool {
        self.fast
    }

    /// /proc/self/mountinfo, read on first use.
    pub fn table(&self) -> Result<&[u8], ObserveError> {
        if let Some(t) = self.table.get() {
            return Ok(t);
        }
        let t = mountinfo::read().map_err(|source| ObserveError {
            what: "the mount table".into(),
            path: "/proc/self/mountinfo".into(),
            source,
        })?;
        Ok(self.table.get_or_init(|| t))
    }

    /// The mount `path` reaches when it is mounted on `path` itself; `dev` is stat(path)'s
    /// device. None: the path is a plain directory of its parent's mount, or the mount on it
    /// is covered (by a later mount over a parent) — the mount reached is not at the path.
    pub fn reached(
        &self,
        path: &[u8],
        dev: (u32, u32),
    ) -> Result<Option<MountInfoEntry>, ObserveError> {
        if self.fast {
            let p = Path::new(std::ffi::OsStr::from_bytes(path));
            // A device other than stat's (a btrfs subvolume reports its own) is left to
            // mountinfo, which matches by stat's device as before.
            if let Some((_, e)) = reached(p, true).filter(|(_, e)| (e.major, e.minor) == dev) {
                return Ok((e.mount_point == path).then_some(e));
            }
        }
        Ok(mountinfo::find_reached(self.table()?, path, dev))
    }

    /// The mount visible at `path` (followed), if one is mounted there.
    pub fn at(&self, path: &[u8]) -> Result<Option<MountInfoEntry>, ObserveError> {
        if self.fast {
            let p = Path::new(std::ffi::OsStr::from_bytes(path));
            if let Some((_, e)) = reached(p, true) {
                return Ok((e.mount_point == path).then_some(e));
            }
        }
        Ok(mountinfo::find_in(self.table()?, path))
    }

    /// Whether something is mounted on the file `real` itself (a canonical path; a final
    /// symbolic link is not followed): statx's STATX_ATTR_MOUNT_ROOT, else mountinfo lists
    /// the path as a mount point.
    pub fn is_mount_point(&self, real: &Path) -> Result<bool, ObserveError> {
        if self.fast {
            if let Ok(Some(r)) = reach(real, false) {
                return Ok(r.mount_root);
            }
        }
        Ok(mountinfo::find_in(self.table()?, real.as_os_str().as_bytes()).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Atime, MountFlags};

    fn line(mi: &[u8]) -> MountInfoEntry {
        let (mut e, bad) = mountinfo::parse(mi);
        assert!(bad.is_empty());
        e.remove(0)
    }

    #[test]
    fn mount_attr_bits_give_mountinfo_s_field_6() {
        let s = |v: &[&str]| v.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(mount_words(0), s(&["rw", "relatime"]));
        assert_eq!(
            mount_words(
                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC
            ),
            s(&["ro", "nosuid", "nodev", "noexec", "relatime"])
        );
        assert_eq!(
            mount_words(MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME),
            s(&["rw", "noatime", "nodiratime"])
        );
        assert_eq!(mount_words(MOUNT_ATTR_STRICTATIME), s(&["rw"]));
        assert_eq!(
            mount_words(MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_IDMAP),
            s(&["rw", "nosymfollow", "idmapped"])
        );
        // the MountFlags every bit stands for
        let cases = [
            (
                0,
                MountFlags {
                    atime: Atime::Relatime,
                    ..MountFlags::default()
                },
            ),
            (
                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_STRICTATIME,
                MountFlags {
                    read_only: true,
                    noexec: true,
                    atime: Atime::Strictatime,
                    ..MountFlags::default()
                },
            ),
            (
                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME,
                MountFlags {
                    nosuid: true,
                    nodev: true,
                    atime: Atime::Noatime,
                    nodiratime: true,
                    ..MountFlags::default()
                },
            ),
        ];
        for (attr, want) in cases {
            let f = MountFlags::from_mountinfo(&mount_words(attr));
            assert_eq!(f, want, "{attr:#x}");
        }
    }

    #[test]
    fn superblock_flags_and_options_give_mountinfo_s_last_field() {
        assert_eq!(
            super_words(0, b"size=65536k,nr_inodes=1000,mode=1777,inode64"),
            [
                "rw",
                "size=65536k",
                "nr_inodes=1000",
                "mode=1777",
                "inode64"
            ]
        );
        assert_eq!(super_words(SB_RDONLY, b""), ["ro"]);
        assert_eq!(
            super_words(SB_SYNCHRONOUS | SB_DIRSYNC | SB_LAZYTIME, b"a"),
            ["rw", "sync", "dirsync", "lazytime", "a"]
        );
    }

    fn raw() -> Raw {
        Raw {
            mnt_id_old: 30,
            dev: (0, 27),
            sb_flags: 0,
            mnt_attr: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            fs_type: b"tmpfs".to_vec(),
            fs_subtype: None,
            mnt_root: b"/".to_vec(),
            mnt_point: b"/dev/my shm".to_vec(),
            mnt_opts: Some(b"size=65536k,inode64".to_vec()),
            sb_source: Some(b"shm".to_vec()),
        }
    }

    #[test]
    fn a_statmount_answer_is_the_entry_its_mountinfo_line_parses_into() {
        assert_eq!(
            entry(&raw()),
            line(b"30 25 0:27 / /dev/my\\040shm rw,nosuid,nodev,relatime shared:7 - tmpfs shm rw,size=65536k,inode64\n")
        );
        let mq = Raw {
            mnt_attr: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME,
            sb_flags: SB_RDONLY,
            fs_type: b"mqueue".to_vec(),
            mnt_point: b"/dev/mqueue".to_vec(),
            mnt_opts: None,
            sb_source: None,
            ..raw()
        };
        assert_eq!(
            entry(&mq),
            line(b"30 25 0:27 / /dev/mqueue ro,noatime - mqueue none ro\n")
        );
        let fuse = Raw {
            fs_type: b"fuse".to_vec(),
            fs_subtype: Some(b"sshfs".to_vec()),
            ..raw()
        };
        assert_eq!(entry(&fuse).fstype, "fuse.sshfs");
    }

    fn header(mask: u64, supported: u64) -> Header {
        // SAFETY: Header is plain integers; all zeroes is a valid value.
        let mut h: Header = unsafe { std::mem::zeroed() };
        h.mask = mask;
        h.supported_mask = supported;
        h.fs_type = 0;
        h.mnt_root = 6;
        h.mnt_point = 6;
        h
    }

    #[test]
    fn an_absent_string_is_empty_only_where_the_kernel_vouches_for_it() {
        let strings = b"tmpfs\0/\0";
        // 6.15+: supported_mask says mnt_opts and sb_source are known; absent means empty
        let h = header(REQUIRED | STATMOUNT_SUPPORTED_MASK, REQUIRED | OPTIONAL);
        let r = translate(&h, strings).unwrap();
        assert_eq!((r.mnt_opts, r.sb_source), (None, None));
        assert_eq!(r.fs_type, b"tmpfs");
        // before 6.15: an absent string could be a field the kernel does not know
        assert_eq!(translate(&header(REQUIRED, 0), strings), None);
        assert!(
            translate(
                &header(REQUIRED | STATMOUNT_MNT_OPTS | STATMOUNT_SB_SOURCE, 0),
                b"tmpfs\0/\0"
            )
            .is_some()
        );
        // a kernel that did not give a required field
        assert_eq!(
            translate(&header(REQUIRED & !STATMOUNT_MNT_POINT, 0), strings),
            None
        );
    }

    #[test]
    fn a_buffer_too_small_for_the_strings_is_grown_until_they_fit() {
        // The mount this test runs in, read-only. Before Linux 6.8 there is no statmount: the
        // fallback's answer (None) is then what both give.
        let big = reach(Path::new("/"), true)
            .ok()
            .flatten()
            .and_then(|r| statmount(r.unique_id));
        let small = reach(Path::new("/"), true)
            .ok()
            .flatten()
            .and_then(|r| statmount_from(r.unique_id, HEADER / 8));
        assert_eq!(small, big);
        if let Some(raw) = big {
            assert_eq!(raw.mnt_point, b"/");
            assert!(!raw.fs_type.is_empty());
        }
    }
}
