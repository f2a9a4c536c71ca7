//! The name of a managed file's lock file under /run/lock/shmguard: the file's absolute path
//! made one readable file name (`/etc/fstab` -> `etc-fstab.lock`). Pure: no I/O.
//!
//! Two paths may map to one name (`/etc/a-b` and `/etc/a/b`): their runs then wait for each
//! other, which is harmless; what matters is that one path always maps to one name, so
//! runs on the same file always take the same lock.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Longest file name Linux file systems take (NAME_MAX).
const NAME_MAX: usize = 255;

/// The lock file name for the managed file at `path`.
pub fn lock_name(path: &Path) -> String {
    let bytes = path.as_os_str().as_bytes();
    let mut name: String = bytes
        .strip_prefix(b"/")
        .unwrap_or(bytes)
        .iter()
        .map(|&b| match b {
            b'/' => '-',
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => b as char,
            _ => '_',
        })
        .collect();
    if name.len() + ".lock".len() > NAME_MAX {
        // Keep the end (the file's own name) and tell long paths apart by a hash of all of it.
        let tail = &name[name.len() - 200..];
        name = format!("{:016x}-{tail}", fnv1a(bytes));
    }
    name + ".lock"
}

/// FNV-1a, 64 bits: stable across builds (std's hasher is not), so every shmguard version
/// names the lock of a long path the same way.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_becomes_one_readable_name() {
        assert_eq!(lock_name(Path::new("/etc/fstab")), "etc-fstab.lock");
        assert_eq!(
            lock_name(Path::new("/etc/sysctl.d/90-shmguard-mqueue.conf")),
            "etc-sysctl.d-90-shmguard-mqueue.conf.lock"
        );
        assert_eq!(lock_name(Path::new("/srv/a b\n/f")), "srv-a_b_-f.lock");
    }

    #[test]
    fn a_long_path_gets_a_short_name_that_tells_it_apart() {
        let long = |c: &str| format!("/{}/{c}/fstab", "d".repeat(300));
        let (a, b) = (
            lock_name(Path::new(&long("a"))),
            lock_name(Path::new(&long("b"))),
        );
        assert!(a.len() <= NAME_MAX && a.ends_with("-a-fstab.lock"), "{a}");
        assert_ne!(a, b);
        assert_eq!(a, lock_name(Path::new(&long("a"))), "stable");
    }
}
