//! chmod of a mount root through a descriptor opened with O_NOFOLLOW and verified to be the
//! root of the tmpfs/mqueue mount that was observed (`mount_root`): a path swapped for a link
//! or another directory between observing and changing is refused, never followed.

use nix::sys::stat::{Mode, fchmod};

use crate::apply::mount_root::open_mount_root;

pub fn chmod_mount_root(path: &str, dev: Option<(u32, u32)>, mode: u32) -> Result<(), String> {
    let fd = open_mount_root(path, dev)?;
    fchmod(&fd, Mode::from_bits_truncate(mode)).map_err(|e| format!("{} ({e:?})", e.desc()))
}
