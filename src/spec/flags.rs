//! Per-mount flags (`options`): nodev, nosuid, noexec, ro, atime handling and their opposites,
//! how mountinfo field 6 and an fstab options column express them. Pure: no I/O.

use crate::spec::ParamError;

/// The MS_* bits an fstab options column asks mount(2) for, read left to right as libmount's
/// optmap does: each word sets its bit, an inverted word (`rw`, `suid`, `atime`, `norelatime`)
/// clears it, `defaults` does nothing wherever it stands, and `user`/`users` set
/// nosuid,nodev,noexec (`owner`/`group`: nosuid,nodev) as mount(8) does for root too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionBits {
    pub rdonly: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
    pub noatime: bool,
    pub relatime: bool,
    pub strictatime: bool,
    pub nodiratime: bool,
}

impl OptionBits {
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut b = OptionBits::default();
        for w in words {
            match w {
                "ro" => b.rdonly = true,
                "rw" => b.rdonly = false,
                "nosuid" => b.nosuid = true,
                "suid" => b.nosuid = false,
                "nodev" => b.nodev = true,
                "dev" => b.nodev = false,
                "noexec" => b.noexec = true,
                "exec" => b.noexec = false,
                "noatime" => b.noatime = true,
                "atime" => b.noatime = false,
                "relatime" => b.relatime = true,
                "norelatime" => b.relatime = false,
                "strictatime" => b.strictatime = true,
                "nostrictatime" => b.strictatime = false,
                "nodiratime" => b.nodiratime = true,
                "diratime" => b.nodiratime = false,
                "user" | "users" => {
                    b.nosuid = true;
                    b.nodev = true;
                    b.noexec = true;
                }
                "owner" | "group" => {
                    b.nosuid = true;
                    b.nodev = true;
                }
                _ => {}
            }
        }
        b
    }

    /// The kernel's atime choice (fs/namespace.c `path_mount`): strictatime beats noatime,
    /// which beats the relatime default.
    fn atime(&self) -> Atime {
        if self.strictatime {
            Atime::Strictatime
        } else if self.noatime {
            Atime::Noatime
        } else {
            Atime::Relatime
        }
    }

    /// The per-mount flags of a fresh mount with these bits.
    pub fn fresh(&self) -> MountFlags {
        MountFlags {
            read_only: self.rdonly,
            nosuid: self.nosuid,
            nodev: self.nodev,
            noexec: self.noexec,
            atime: self.atime(),
            nodiratime: self.nodiratime,
        }
    }

    /// The per-mount flags after `mount -o remount` with these bits over a mount that has
    /// `base`: mount(2) with MS_REMOUNT replaces the flags (util-linux's classic mount API,
    /// 2.38 and RHEL 9), except that the atime flags are kept when no atime bit is given.
    pub fn remount(&self, base: MountFlags) -> MountFlags {
        let mut f = self.fresh();
        if !(self.noatime || self.relatime || self.strictatime || self.nodiratime) {
            f.atime = base.atime;
            f.nodiratime = base.nodiratime;
        }
        f
    }
}

/// One flag a user can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Ro,
    Rw,
    Nosuid,
    Suid,
    Nodev,
    Dev,
    Noexec,
    Exec,
    Noatime,
    Relatime,
    Strictatime,
    Nodiratime,
    Diratime,
}

/// How access times are updated (one of three, the kernel's MNT_ATIME_MASK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atime {
    Relatime,
    Noatime,
    Strictatime,
}

/// The per-mount flags of one mount, as mountinfo field 6 shows them (or as an fstab options
/// column implies them after `defaults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountFlags {
    pub read_only: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
    pub atime: Atime,
    pub nodiratime: bool,
}

impl Default for MountFlags {
    /// What `defaults` means: rw,suid,dev,exec,relatime.
    fn default() -> Self {
        MountFlags {
            read_only: false,
            nosuid: false,
            nodev: false,
            noexec: false,
            atime: Atime::Relatime,
            nodiratime: false,
        }
    }
}

const ALL: [(Flag, &str); 13] = [
    (Flag::Ro, "ro"),
    (Flag::Rw, "rw"),
    (Flag::Nosuid, "nosuid"),
    (Flag::Suid, "suid"),
    (Flag::Nodev, "nodev"),
    (Flag::Dev, "dev"),
    (Flag::Noexec, "noexec"),
    (Flag::Exec, "exec"),
    (Flag::Noatime, "noatime"),
    (Flag::Relatime, "relatime"),
    (Flag::Strictatime, "strictatime"),
    (Flag::Nodiratime, "nodiratime"),
    (Flag::Diratime, "diratime"),
];

/// Every accepted flag name, for messages and docs.
pub fn accepted_names() -> String {
    ALL.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
}

impl Flag {
    pub fn parse(text: &str) -> Result<Flag, ParamError> {
        let t = text.trim();
        ALL.iter()
            .find(|(_, n)| *n == t)
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                ParamError::new(
                    "options",
                    text,
                    format!("mount flags from: {}", accepted_names()),
                )
            })
    }

    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// Flags that decide the same thing; two of them in one request contradict each other.
    fn group(self) -> u8 {
        match self {
            Flag::Ro | Flag::Rw => 0,
            Flag::Nosuid | Flag::Suid => 1,
            Flag::Nodev | Flag::Dev => 2,
            Flag::Noexec | Flag::Exec => 3,
            Flag::Noatime | Flag::Relatime | Flag::Strictatime => 4,
            Flag::Nodiratime | Flag::Diratime => 5,
        }
    }

    /// The fstab words that say something else about this flag's group (removed when it is set).
    pub fn opposite_words(self) -> &'static [&'static str] {
        match self {
            Flag::Ro => &["rw"],
            Flag::Rw => &["ro"],
            Flag::Nosuid => &["suid"],
            Flag::Suid => &["nosuid"],
            Flag::Nodev => &["dev"],
            Flag::Dev => &["nodev"],
            Flag::Noexec => &["exec"],
            Flag::Exec => &["noexec"],
            Flag::Noatime => &["atime", "relatime", "strictatime"],
            Flag::Relatime => &["noatime", "norelatime", "strictatime"],
            Flag::Strictatime => &["noatime", "relatime", "nostrictatime"],
            Flag::Nodiratime => &["diratime"],
            Flag::Diratime => &["nodiratime"],
        }
    }

    /// Flags that warn: noexec breaks JITs that map from /dev/shm.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            Flag::Noexec => Some(
                "noexec on a shared-memory mount breaks programs that map executable code from it (some JITs, e.g. Chrome, fail with SIGILL); CIS wants it, so check your workloads",
            ),
            _ => None,
        }
    }
}

/// Parses and checks a list of flags: known names, no contradictions, no repeats.
pub fn parse_list(items: &[String]) -> Result<Vec<Flag>, ParamError> {
    let mut out: Vec<Flag> = Vec::new();
    for item in items {
        let flag = Flag::parse(item)?;
        if let Some(other) = out
            .iter()
            .find(|f| f.group() == flag.group() && **f != flag)
        {
            return Err(ParamError::new(
                "options",
                items.join(","),
                format!(
                    "flags that do not contradict each other ({} and {} both given)",
                    other.name(),
                    flag.name()
                ),
            ));
        }
        if !out.contains(&flag) {
            out.push(flag);
        }
    }
    Ok(out)
}

impl MountFlags {
    pub fn satisfies(&self, flag: Flag) -> bool {
        match flag {
            Flag::Ro => self.read_only,
            Flag::Rw => !self.read_only,
            Flag::Nosuid => self.nosuid,
            Flag::Suid => !self.nosuid,
            Flag::Nodev => self.nodev,
            Flag::Dev => !self.nodev,
            Flag::Noexec => self.noexec,
            Flag::Exec => !self.noexec,
            Flag::Noatime => self.atime == Atime::Noatime,
            Flag::Relatime => self.atime == Atime::Relatime,
            Flag::Strictatime => self.atime == Atime::Strictatime,
            Flag::Nodiratime => self.nodiratime,
            Flag::Diratime => !self.nodiratime,
        }
    }

    pub fn with(mut self, flag: Flag) -> Self {
        match flag {
            Flag::Ro => self.read_only = true,
            Flag::Rw => self.read_only = false,
            Flag::Nosuid => self.nosuid = true,
            Flag::Suid => self.nosuid = false,
            Flag::Nodev => self.nodev = true,
            Flag::Dev => self.nodev = false,
            Flag::Noexec => self.noexec = true,
            Flag::Exec => self.noexec = false,
            Flag::Noatime => self.atime = Atime::Noatime,
            Flag::Relatime => self.atime = Atime::Relatime,
            Flag::Strictatime => self.atime = Atime::Strictatime,
            Flag::Nodiratime => self.nodiratime = true,
            Flag::Diratime => self.nodiratime = false,
        }
        self
    }

    /// From mountinfo field 6 (`rw,nosuid,nodev,noexec,relatime`): an absent atime word is
    /// strictatime, because the kernel always prints noatime or relatime otherwise.
    pub fn from_mountinfo(words: &[String]) -> Self {
        let mut f = MountFlags {
            atime: Atime::Strictatime,
            ..MountFlags::default()
        };
        for w in words {
            match w.as_str() {
                "ro" => f.read_only = true,
                "nosuid" => f.nosuid = true,
                "nodev" => f.nodev = true,
                "noexec" => f.noexec = true,
                "noatime" => f.atime = Atime::Noatime,
                "relatime" => f.atime = Atime::Relatime,
                "nodiratime" => f.nodiratime = true,
                _ => {}
            }
        }
        f
    }

    /// What an fstab options column gives on a fresh mount (see `OptionBits`).
    pub fn from_fstab_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        OptionBits::from_words(words).fresh()
    }

    /// The words for a status line: `rw,nosuid,nodev,noexec,relatime`.
    pub fn words(&self) -> Vec<String> {
        let mut v = vec![if self.read_only { "ro" } else { "rw" }.to_string()];
        for (on, w) in [
            (self.nosuid, "nosuid"),
            (self.nodev, "nodev"),
            (self.noexec, "noexec"),
        ] {
            if on {
                v.push(w.to_string());
            }
        }
        v.push(
            match self.atime {
                Atime::Relatime => "relatime",
                Atime::Noatime => "noatime",
                Atime::Strictatime => "strictatime",
            }
            .to_string(),
        );
        if self.nodiratime {
            v.push("nodiratime".to_string());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn contradicting_flags_are_refused() {
        let e = parse_list(&s(&["noexec", "exec"])).unwrap_err().to_string();
        assert!(e.contains("noexec and exec"), "{e}");
        assert!(parse_list(&s(&["noatime", "relatime"])).is_err());
    }

    #[test]
    fn unknown_flag_lists_what_is_accepted() {
        let e = parse_list(&s(&["nodev", "nosuidd"]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("options: \"nosuidd\""), "{e}");
        assert!(e.contains("nodev, dev"), "{e}");
    }

    #[test]
    fn mountinfo_without_atime_word_is_strictatime() {
        let f = MountFlags::from_mountinfo(&s(&["rw", "nosuid", "nodev"]));
        assert!(f.nosuid && f.nodev && !f.noexec);
        assert_eq!(f.atime, Atime::Strictatime);
    }

    #[test]
    fn defaults_sets_nothing_wherever_it_stands() {
        let f = MountFlags::from_fstab_words(["defaults", "nodev", "nosuid", "noexec"]);
        assert!(f.nodev && f.nosuid && f.noexec);
        let f = MountFlags::from_fstab_words(["nodev", "nosuid", "noexec", "defaults"]);
        assert!(
            f.nodev && f.nosuid && f.noexec,
            "libmount's defaults is a placeholder"
        );
        let f = MountFlags::from_fstab_words(["user"]);
        assert!(f.noexec && f.nosuid && f.nodev);
        let f = MountFlags::from_fstab_words(["user", "exec"]);
        assert!(!f.noexec);
    }

    #[test]
    fn atime_follows_the_kernels_priority_not_the_word_order() {
        let atime = |w: &[&str]| MountFlags::from_fstab_words(w.iter().copied()).atime;
        assert_eq!(atime(&["strictatime", "noatime"]), Atime::Strictatime);
        assert_eq!(atime(&["relatime", "noatime"]), Atime::Noatime);
        assert_eq!(atime(&["noatime", "atime"]), Atime::Relatime);
        assert_eq!(atime(&[]), Atime::Relatime);
    }

    #[test]
    fn a_remount_replaces_flags_but_keeps_atime_when_none_is_given() {
        let pid1 = MountFlags {
            nosuid: true,
            nodev: true,
            atime: Atime::Strictatime,
            ..MountFlags::default()
        };
        let f = OptionBits::from_words(["defaults", "size=4G"]).remount(pid1);
        assert!(
            !f.nosuid && !f.nodev,
            "remount drops what the line does not say"
        );
        assert_eq!(f.atime, Atime::Strictatime);
        let f = OptionBits::from_words(["nodiratime"]).remount(pid1);
        assert_eq!((f.atime, f.nodiratime), (Atime::Relatime, true));
    }
}
