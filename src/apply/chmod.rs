//! chmod of a mount root through a descriptor opened with O_NOFOLLOW, after checking that it
//! is the directory of the mount that was observed: a path swapped for a link or another
//! directory between observing and changing is refused, never followed.

use std::os::fd::AsFd;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::{Mode, SFlag, fchmod, fstat};

pub fn chmod_mount_root(path: &str, dev: Option<(u32, u32)>, mode: u32) -> Result<(), String> {
    let fd = open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("open {path} without following links: {} ({e:?})", e.desc()))?;
    let st = fstat(fd.as_fd()).map_err(|e| e.desc().to_string())?;
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFDIR {
        return Err(format!("{path} is not a directory"));
    }
    if let Some((major, minor)) = dev {
        let found = (
            nix::sys::stat::major(st.st_dev) as u32,
            nix::sys::stat::minor(st.st_dev) as u32,
        );
        if found != (major, minor) {
            return Err(format!(
                "{path} is now device {}:{}, not the {major}:{minor} that was observed; it changed while shmguard ran, nothing was done to it",
                found.0, found.1
            ));
        }
    }
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode)).map_err(|e| format!("{} ({e:?})", e.desc()))
}
