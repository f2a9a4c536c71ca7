//! Per-mount flags (`options`): nodev, nosuid, noexec, ro, atime handling and their opposites,
//! how mountinfo field 6 and an fstab options column express them. Pure: no I/O.

use crate::spec::ParamError;

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

    /// What an fstab options column means, read left to right from the defaults as mount(8)
    /// does; `user`/`users` imply noexec,nosuid,nodev and `owner`/`group` imply nosuid,nodev.
    pub fn from_fstab_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut f = MountFlags::default();
        for w in words {
            match w {
                "defaults" => {
                    let atime = f.atime;
                    let nodiratime = f.nodiratime;
                    f = MountFlags {
                        atime,
                        nodiratime,
                        ..MountFlags::default()
                    };
                }
                "user" | "users" => {
                    f.noexec = true;
                    f.nosuid = true;
                    f.nodev = true;
                }
                "owner" | "group" => {
                    f.nosuid = true;
                    f.nodev = true;
                }
                "atime" | "norelatime" | "nostrictatime" => f.atime = Atime::Relatime,
                w => {
                    if let Ok(flag) = Flag::parse(w) {
                        f = f.with(flag);
                    }
                }
            }
        }
        f
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
    fn fstab_words_are_read_left_to_right_from_defaults() {
        let f = MountFlags::from_fstab_words(["defaults", "nodev", "nosuid", "noexec"]);
        assert!(f.nodev && f.nosuid && f.noexec);
        let f = MountFlags::from_fstab_words(["noexec", "defaults"]);
        assert!(!f.noexec, "defaults after noexec turns exec back on");
        let f = MountFlags::from_fstab_words(["user"]);
        assert!(f.noexec && f.nosuid && f.nodev);
        let f = MountFlags::from_fstab_words(["user", "exec"]);
        assert!(!f.noexec);
    }
}
