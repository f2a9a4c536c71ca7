//! Observed: what the system holds now — the live mount (mountinfo, stat, statvfs), the fstab
//! and sysctl files, the mqueue limits and the host's RAM. `observe()` is the only reader of the
//! system; the parsers it uses are pure.

pub mod container;
pub mod files;
pub mod fstab;
pub mod line_file;
pub mod link;
pub mod live;
pub mod mountinfo;
pub mod privilege;
pub mod statmount;
pub mod sysctl_conf;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::spec::{Desired, FsType, Host, Init};

pub use files::FileState;
pub use fstab::Fstab;
pub use live::{LiveMount, PathKind, Usage};
pub use sysctl_conf::SysctlConf;

/// Everything the planner needs to know about the system, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub host: Host,
    /// lstat of the managed path
    pub path_kind: PathKind,
    /// the mount visible at the path, if any
    pub live: Option<LiveMount>,
    pub fstab: FileState<Fstab>,
    /// the sysctl.d file (mqueue only)
    pub sysctl: Option<FileState<SysctlConf>>,
    /// /proc/sys/fs/mqueue/* of this IPC namespace (mqueue only)
    pub mqueue_limits: BTreeMap<String, u64>,
    /// whether systemd boots this host (the `init` parameter, or for `auto` whether
    /// /run/systemd/system exists, as sd_booted(3) decides)
    pub systemd: bool,
}

/// A failure to read the system, naming what could not be read.
#[derive(Debug)]
pub struct ObserveError {
    pub what: String,
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl fmt::Display for ObserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read {} {}: {}",
            self.what,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for ObserveError {}

pub const MQUEUE_LIMITS: [&str; 3] = ["queues_max", "msg_max", "msgsize_max"];
const MQUEUE_PROC: &str = "/proc/sys/fs/mqueue";

/// The target with its path followed when it is a symbolic link that only root controls (the
/// fstab entry, the mount and every step are then the real mount point's); an unsafe link is
/// kept, with the reason, for the planner to refuse.
pub fn follow_link(desired: &Desired) -> Result<Desired, ObserveError> {
    let mut d = desired.clone();
    match link::resolve(&desired.path)? {
        link::Link::None => {}
        link::Link::Followed { target } => {
            d.link_from = Some(std::mem::replace(&mut d.path, target));
        }
        link::Link::Unsafe { target, why } => {
            d.link_refused = Some(format!("it points to {target}, but {why}"));
        }
    }
    Ok(d)
}

/// Reads the state the desired target talks about.
pub fn observe(desired: &Desired) -> Result<Observed, ObserveError> {
    let host = live::host();
    // One mount at a time (statmount); the whole table only when the kernel cannot answer,
    // read once: the kernel builds it on every read, at a few µs per mount.
    let mounts = statmount::Mounts::new();
    let (path_kind, live) = live::observe(&desired.path, &host, &mounts)?;
    let mut fstab = files::read(
        "fstab_path",
        &desired.fstab_path,
        Fstab::from_shared,
        &mounts,
    )?;
    fstab.doc.aliases = link::fstab_aliases(&fstab.doc, &desired.path, desired.fstype.word());
    let (sysctl, mqueue_limits) = if desired.fstype == FsType::Mqueue {
        let sysctl = files::read(
            "sysctl_path",
            &desired.sysctl_path,
            SysctlConf::from_shared,
            &mounts,
        )?;
        (Some(sysctl), read_mqueue_limits()?)
    } else {
        (None, BTreeMap::new())
    };
    let systemd = match desired.init {
        Init::Systemd => true,
        Init::Other => false,
        Init::Auto => std::path::Path::new("/run/systemd/system").is_dir(),
    };
    Ok(Observed {
        host,
        systemd,
        path_kind,
        live,
        fstab,
        sysctl,
        mqueue_limits,
    })
}

fn read_mqueue_limits() -> Result<BTreeMap<String, u64>, ObserveError> {
    let mut out = BTreeMap::new();
    for name in MQUEUE_LIMITS {
        let path = PathBuf::from(MQUEUE_PROC).join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Ok(v) = text.trim().parse() {
                    out.insert(name.to_string(), v);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ObserveError {
                    what: "mqueue limit".into(),
                    path,
                    source,
                });
            }
        }
    }
    Ok(out)
}
