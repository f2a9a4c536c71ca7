//! Desired: a checked target built from Params. Every value is validated here, before anything
//! is observed or changed, so bad input can never half-apply. Pure: no I/O.

use std::path::PathBuf;

use crate::spec::ParamError;
use crate::spec::flags::{self, Flag};
use crate::spec::mode::Mode;
use crate::spec::params::{self, FsType, Init, Params, State};
use crate::spec::size::{Amount, Quantity};

/// How big the tmpfs must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeTarget {
    /// `size`: exactly this
    Exact(Quantity),
    /// `min_size`: at least this, never shrink
    AtLeast(Quantity),
}

/// /proc/sys/fs/mqueue limits to hold (None: unmanaged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MqueueLimits {
    pub queues_max: Option<u64>,
    pub msg_max: Option<u64>,
    pub msgsize_max: Option<u64>,
}

impl MqueueLimits {
    /// (sysctl leaf name, wanted value) for each managed limit.
    pub fn managed(&self) -> Vec<(&'static str, u64)> {
        [
            ("queues_max", self.queues_max),
            ("msg_max", self.msg_max),
            ("msgsize_max", self.msgsize_max),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// normalised absolute mount point
    pub path: String,
    pub fstype: FsType,
    pub state: State,
    pub mode: Option<Mode>,
    pub size: Option<SizeTarget>,
    pub nr_inodes: Option<Quantity>,
    pub flags: Vec<Flag>,
    pub mqueue: MqueueLimits,
    pub fstab_path: PathBuf,
    pub sysctl_path: PathBuf,
    pub backup: bool,
    /// with backup: how many of shmguard's backups of a file to keep (0: all)
    pub backup_keep: u32,
    /// the init system that boots the host (auto: found out by observe)
    pub init: Init,
    /// the fstab line takes the live mount's flags that were not asked for, so boot keeps
    /// them (audit's single-property checks turn this off to judge one property alone)
    pub mirror_live: bool,
    /// a read-only live mount is drift unless `ro` is asked for: it is remounted read-write
    /// (audit's single-property checks turn this off and judge it as a check of its own)
    pub writable: bool,
    /// the path as given, when it was a symbolic link followed to `path` (see observe::link)
    pub link_from: Option<String>,
    /// why the path, a symbolic link, was not followed
    pub link_refused: Option<String>,
    /// things worth saying about the request itself
    pub warnings: Vec<String>,
}

impl Desired {
    pub fn from_params(p: &Params) -> Result<Desired, ParamError> {
        let path = normalise_path("path", p.path.as_deref().unwrap_or(params::DEFAULT_PATH))?;
        let fstype = p.fstype.unwrap_or(if path == "/dev/mqueue" {
            FsType::Mqueue
        } else {
            FsType::Tmpfs
        });
        let state = p.state.unwrap_or(State::Mounted);
        let mut warnings = Vec::new();

        let tmpfs_only = [
            ("size", &p.size),
            ("min_size", &p.min_size),
            ("nr_inodes", &p.nr_inodes),
        ];
        let mqueue_only = [
            ("queues_max", p.queues_max),
            ("msg_max", p.msg_max),
            ("msgsize_max", p.msgsize_max),
        ];
        match fstype {
            FsType::Mqueue => {
                if let Some((name, Some(v))) = tmpfs_only.iter().find(|(_, v)| v.is_some()) {
                    return Err(ParamError::new(
                        *name,
                        v.as_str(),
                        "no value with fstype mqueue: size, min_size and nr_inodes are tmpfs options",
                    ));
                }
            }
            FsType::Tmpfs => {
                if let Some((name, Some(v))) = mqueue_only.iter().find(|(_, v)| v.is_some()) {
                    return Err(ParamError::new(
                        *name,
                        v.to_string(),
                        "no value with fstype tmpfs: queues_max, msg_max and msgsize_max are mqueue limits (use fstype: mqueue)",
                    ));
                }
            }
        }

        let mode = p.mode.as_deref().map(Mode::parse).transpose()?;
        let size = match (&p.size, &p.min_size) {
            (Some(_), Some(m)) => {
                return Err(ParamError::new(
                    "min_size",
                    m,
                    "either size or min_size, not both",
                ));
            }
            (Some(s), None) => Some(SizeTarget::Exact(Quantity::parse("size", s, true)?)),
            (None, Some(m)) => Some(SizeTarget::AtLeast(Quantity::parse("min_size", m, true)?)),
            (None, None) => None,
        };
        if let Some(SizeTarget::AtLeast(q)) = &size {
            if matches!(q.amount, Amount::Absolute(0) | Amount::Percent(0)) {
                return Err(ParamError::new(
                    "min_size",
                    &q.text,
                    "a size above 0 (0 means unlimited, which is not a minimum; use size: 0)",
                ));
            }
        }
        let nr_inodes = p
            .nr_inodes
            .as_deref()
            .map(|t| Quantity::parse("nr_inodes", t, true))
            .transpose()?;
        let flags = flags::parse_list(&p.options)?;

        let mqueue = MqueueLimits {
            queues_max: limit("queues_max", p.queues_max, 0, i32::MAX as i64)?,
            msg_max: limit("msg_max", p.msg_max, 1, 65_536)?,
            msgsize_max: limit("msgsize_max", p.msgsize_max, 128, 16_777_216)?,
        };
        let fstab_path = PathBuf::from(normalise_path(
            "fstab_path",
            p.fstab_path.as_deref().unwrap_or(params::DEFAULT_FSTAB),
        )?);
        let sysctl_path = PathBuf::from(normalise_path(
            "sysctl_path",
            p.sysctl_path.as_deref().unwrap_or(params::DEFAULT_SYSCTL),
        )?);

        if let Some(m) = mode {
            if m.is_world_writable() && !m.is_sticky() {
                warnings.push(format!("mode {m} makes {path} world-writable without the sticky bit: any user can delete or replace other users' shared memory and semaphores; 1777 is the safe world-writable mode"));
            } else if !m.is_world_writable() {
                warnings.push(format!("mode {m} lets only its owner create objects in {path}: Python multiprocessing and sem_open fail for other users with PermissionError (EACCES); 1777 is the usual mode"));
            }
            if fstype == FsType::Mqueue && m != Mode(0o1777) && state.persistent() {
                warnings.push(format!("mqueue takes no mode= mount option, so mode {m} is set live only: a fresh mqueue mount (e.g. at boot) starts at 1777"));
            }
        }
        // The noexec warning is about code mapped from shared memory: nothing maps code from
        // a message queue, so it is given for tmpfs only.
        for f in flags.iter().filter(|_| fstype == FsType::Tmpfs) {
            if let Some(w) = f.warning() {
                warnings.push(w.to_string());
            }
        }
        if state == State::Absent {
            let ignored: Vec<&str> = [
                ("mode", p.mode.is_some()),
                ("size", p.size.is_some()),
                ("min_size", p.min_size.is_some()),
                ("nr_inodes", p.nr_inodes.is_some()),
                ("options", !p.options.is_empty()),
                ("queues_max", p.queues_max.is_some()),
                ("msg_max", p.msg_max.is_some()),
                ("msgsize_max", p.msgsize_max.is_some()),
            ]
            .into_iter()
            .filter(|(_, given)| *given)
            .map(|(n, _)| n)
            .collect();
            if !ignored.is_empty() {
                warnings.push(format!(
                    "state=absent only removes the fstab entry; ignored: {}",
                    ignored.join(", ")
                ));
            }
        }

        let backup_keep = match p.backup_keep {
            None => params::DEFAULT_BACKUP_KEEP,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= 100_000)
                .ok_or_else(|| {
                    ParamError::new(
                        "backup_keep",
                        n.to_string(),
                        "a whole number from 0 (keep every backup) to 100000",
                    )
                })?,
        };
        // (a front end that fills in defaults passes 5 without being asked: no warning then)
        if backup_keep != params::DEFAULT_BACKUP_KEEP && !p.backup {
            warnings.push(
                "backup_keep has no effect without backup: no copy is made, none is removed"
                    .to_string(),
            );
        }

        Ok(Desired {
            path,
            fstype,
            state,
            mode,
            size,
            nr_inodes,
            flags,
            mqueue,
            fstab_path,
            sysctl_path,
            backup: p.backup,
            backup_keep,
            init: p.init.unwrap_or(Init::Auto),
            mirror_live: true,
            writable: true,
            link_from: None,
            link_refused: None,
            warnings,
        })
    }
}

fn limit(
    name: &'static str,
    v: Option<i64>,
    min: i64,
    max: i64,
) -> Result<Option<u64>, ParamError> {
    match v {
        None => Ok(None),
        Some(v) if (min..=max).contains(&v) => Ok(Some(v as u64)),
        Some(v) => Err(ParamError::new(
            name,
            v.to_string(),
            format!("a whole number from {min} to {max} (the kernel's range)"),
        )),
    }
}

/// An absolute path without `.`/`..` components, repeated or trailing slashes.
fn normalise_path(param: &'static str, text: &str) -> Result<String, ParamError> {
    let example = match param {
        "fstab_path" => params::DEFAULT_FSTAB,
        "sysctl_path" => params::DEFAULT_SYSCTL,
        _ => params::DEFAULT_PATH,
    };
    let accepted =
        format!("an absolute path other than / without . or .. components, e.g. {example}");
    if !text.starts_with('/') || text.contains('\0') {
        return Err(ParamError::new(param, text, &accepted));
    }
    let parts: Vec<&str> = text.split('/').filter(|c| !c.is_empty()).collect();
    if parts.is_empty() || parts.iter().any(|c| *c == "." || *c == "..") {
        return Err(ParamError::new(param, text, &accepted));
    }
    Ok(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desired(v: serde_json::Value) -> Result<Desired, String> {
        let p: Params = serde_json::from_value(v).map_err(|e| e.to_string())?;
        Desired::from_params(&p).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_dev_shm_tmpfs_mounted() {
        let d = desired(json!({})).unwrap();
        assert_eq!(d.path, "/dev/shm");
        assert_eq!(d.fstype, FsType::Tmpfs);
        assert_eq!(d.state, State::Mounted);
        assert_eq!(d.fstab_path, PathBuf::from("/etc/fstab"));
    }

    #[test]
    fn backup_keep_defaults_to_5_and_refuses_what_is_not_a_count() {
        assert_eq!(desired(json!({"backup": true})).unwrap().backup_keep, 5);
        assert_eq!(
            desired(json!({"backup": true, "backup_keep": "0"}))
                .unwrap()
                .backup_keep,
            0
        );
        let e = desired(json!({"backup_keep": -1})).unwrap_err();
        assert!(e.contains("backup_keep"), "{e}");
        assert!(e.contains("from 0"), "{e}");
        assert!(desired(json!({"backup_keep": "many"})).is_err());
        let d = desired(json!({"backup_keep": 3})).unwrap();
        assert!(d.warnings[0].contains("no effect without backup"), "{d:?}");
        assert!(
            desired(json!({"backup_keep": 5}))
                .unwrap()
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn dev_mqueue_defaults_to_the_mqueue_fstype() {
        assert_eq!(
            desired(json!({"path": "/dev/mqueue/"})).unwrap().fstype,
            FsType::Mqueue
        );
    }

    #[test]
    fn paths_are_normalised_and_relative_ones_refused() {
        assert_eq!(
            desired(json!({"path": "//dev//shm/"})).unwrap().path,
            "/dev/shm"
        );
        for bad in ["dev/shm", "/", "/dev/../etc", ""] {
            let e = desired(json!({ "path": bad })).unwrap_err();
            assert!(e.starts_with("path: "), "{e}");
        }
    }

    /// Regression (issue 17): the fstab_path error's example was "/dev/shm".
    #[test]
    fn a_path_error_gives_an_example_of_its_own_kind() {
        for (param, example) in [
            ("path", params::DEFAULT_PATH),
            ("fstab_path", params::DEFAULT_FSTAB),
            ("sysctl_path", params::DEFAULT_SYSCTL),
        ] {
            let e = desired(json!({ param: "relative/file" })).unwrap_err();
            assert!(e.starts_with(&format!("{param}: ")), "{e}");
            assert!(e.ends_with(&format!("e.g. {example}")), "{e}");
        }
    }

    /// Regression (issue 17): nothing maps code from a message queue, so noexec on mqueue
    /// gets no warning about JITs; on tmpfs it does.
    #[test]
    fn the_noexec_warning_is_for_shared_memory_only() {
        let jit = |v| {
            desired(v)
                .unwrap()
                .warnings
                .iter()
                .any(|w| w.contains("some JITs"))
        };
        assert!(jit(json!({"options": ["nodev", "noexec"]})));
        assert!(!jit(
            json!({"path": "/dev/mqueue", "options": ["nodev", "noexec"]})
        ));
    }

    #[test]
    fn size_and_min_size_exclude_each_other() {
        let e = desired(json!({"size": "1G", "min_size": "2G"})).unwrap_err();
        assert!(e.contains("either size or min_size"), "{e}");
    }

    #[test]
    fn tmpfs_values_are_refused_for_mqueue_and_back() {
        let e = desired(json!({"path": "/dev/mqueue", "size": "1G"})).unwrap_err();
        assert!(
            e.starts_with("size: ") && e.contains("fstype mqueue"),
            "{e}"
        );
        let e = desired(json!({"msg_max": 20})).unwrap_err();
        assert!(
            e.starts_with("msg_max: ") && e.contains("fstype tmpfs"),
            "{e}"
        );
    }

    #[test]
    fn mqueue_limits_are_range_checked() {
        let e = desired(json!({"path": "/dev/mqueue", "msgsize_max": 64})).unwrap_err();
        assert!(e.contains("from 128 to 16777216"), "{e}");
    }

    #[test]
    fn world_writable_without_sticky_warns() {
        let d = desired(json!({"mode": "0777"})).unwrap();
        assert!(
            d.warnings.iter().any(|w| w.contains("sticky")),
            "{:?}",
            d.warnings
        );
        assert!(
            desired(json!({"mode": "1777"}))
                .unwrap()
                .warnings
                .is_empty()
        );
    }
}
