//! Params: the parameter table every front end shares (Ansible args, Salt kwargs, CLI flags).
//! Its doc comments and schema attributes are the single source for the JSON Schema, the
//! Ansible sidecar doc and the README table (`crate::docs` renders them; a test checks they
//! are fresh). Values are read as leniently as Ansible reads them. Pure: no I/O.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// Parameters of one shmguard target.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "shmguard parameters")]
pub struct Params {
    /// Mount point to manage. Must be absolute.
    #[serde(
        default,
        alias = "name",
        deserialize_with = "de_path",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = "/dev/shm", "x-aliases" = ["name"]))]
    pub path: Option<String>,

    /// Filesystem type. Defaults to mqueue for /dev/mqueue and tmpfs for any other path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-default" = "by path"))]
    pub fstype: Option<FsType>,

    /// mounted: the live mount and the fstab entry; present: the fstab entry only; ephemeral:
    /// the live mount only; absent (or absent_from_fstab, as ansible.posix.mount calls it):
    /// remove the fstab entry (never unmounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "mounted", "x-choice-aliases" = {"absent_from_fstab": "absent"}))]
    pub state: Option<State>,

    /// Octal mode of the mount root, as a quoted string ("1777" or "01777"). Set live with
    /// chmod (the kernel ignores mode= on remount) and, for tmpfs, in fstab as mode= (left out
    /// for 1777, the tmpfs default). Unmanaged when omitted.
    #[serde(
        default,
        deserialize_with = "de_mode",
        skip_serializing_if = "Option::is_none"
    )]
    pub mode: Option<String>,

    /// tmpfs size limit: bytes, a k/m/g/t/p/e suffix (either case, powers of 1024), N% of RAM,
    /// or 0 for unlimited. 4G, 4096m and 4194304k are the same size. Unmanaged when omitted.
    #[serde(
        default,
        deserialize_with = "de_size",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<StringOrInt>")]
    pub size: Option<String>,

    /// tmpfs minimum size, same syntax as size: grow to it when smaller, never shrink.
    /// Mutually exclusive with size.
    #[serde(
        default,
        deserialize_with = "de_min_size",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<StringOrInt>")]
    pub min_size: Option<String>,

    /// tmpfs inode limit: a count with an optional k/m/g/t/p/e suffix, N% of RAM pages (the kernel
    /// default is 50%), or 0 for unlimited. Unmanaged when omitted.
    #[serde(
        default,
        deserialize_with = "de_nr_inodes",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<StringOrInt>")]
    pub nr_inodes: Option<String>,

    /// Mount flags that must hold live and in fstab: nodev, nosuid, noexec, ro, noatime,
    /// relatime, strictatime, nodiratime, or their opposites rw, dev, suid, exec, diratime.
    /// A comma-separated string is accepted too. Without ro, a read-only live mount is drift:
    /// it is remounted read-write (mount and filesystem) before anything else, and an ro in
    /// the fstab line is dropped.
    #[serde(
        default,
        deserialize_with = "de_options",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(extend("default" = []))]
    pub options: Vec<String>,

    /// mqueue only: /proc/sys/fs/mqueue/queues_max (0 to 2147483647), set live and persisted
    /// in sysctl_path.
    #[serde(
        default,
        deserialize_with = "de_queues_max",
        skip_serializing_if = "Option::is_none"
    )]
    pub queues_max: Option<i64>,

    /// mqueue only: /proc/sys/fs/mqueue/msg_max (1 to 65536), set live and persisted in
    /// sysctl_path.
    #[serde(
        default,
        deserialize_with = "de_msg_max",
        skip_serializing_if = "Option::is_none"
    )]
    pub msg_max: Option<i64>,

    /// mqueue only: /proc/sys/fs/mqueue/msgsize_max (128 to 16777216), set live and persisted
    /// in sysctl_path.
    #[serde(
        default,
        deserialize_with = "de_msgsize_max",
        skip_serializing_if = "Option::is_none"
    )]
    pub msgsize_max: Option<i64>,

    /// sysctl.d file that persists the mqueue limits.
    #[serde(
        default,
        deserialize_with = "de_sysctl_path",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = "/etc/sysctl.d/90-shmguard-mqueue.conf"))]
    pub sysctl_path: Option<String>,

    /// The init system that boots this host, which decides what the fstab line does at the
    /// next boot. systemd mounts /dev/shm itself (mode 1777, nosuid, nodev) and then remounts
    /// it with the line's options; other init systems, and systemd for every other path, mount
    /// afresh from the line. auto: systemd when /run/systemd/system exists (set it when
    /// managing an image or a chroot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "auto"))]
    pub init: Option<Init>,

    /// fstab file to manage. A missing one is created (mode 0644, with the entry) by mounted
    /// and present, as ansible.posix.mount does; never in a missing directory (an error).
    #[serde(
        default,
        alias = "fstab",
        deserialize_with = "de_fstab_path",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = "/etc/fstab", "x-aliases" = ["fstab"]))]
    pub fstab_path: Option<String>,

    /// Keep a timestamped copy of fstab (and of sysctl_path) before changing it; its path is
    /// returned as backup_file.
    #[serde(
        default,
        deserialize_with = "de_backup",
        skip_serializing_if = "std::ops::Not::not"
    )]
    #[schemars(extend("default" = false))]
    pub backup: bool,

    /// With backup: how many of shmguard's own copies of each file to keep beside it (those
    /// named FILE.PID.TIMESTAMP~), the newest; older ones are removed once the new copy is on
    /// disk. 0 keeps them all. Other files are never touched.
    #[serde(
        default,
        deserialize_with = "de_backup_keep",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = 5))]
    pub backup_keep: Option<i64>,
}

/// Every parameter name with its aliases, in table order. A test checks it against the schema.
pub const NAMES: &[(&str, &[&str])] = &[
    ("path", &["name"]),
    ("fstype", &[]),
    ("state", &[]),
    ("mode", &[]),
    ("size", &[]),
    ("min_size", &[]),
    ("nr_inodes", &[]),
    ("options", &[]),
    ("queues_max", &[]),
    ("msg_max", &[]),
    ("msgsize_max", &[]),
    ("sysctl_path", &[]),
    ("init", &[]),
    ("fstab_path", &["fstab"]),
    ("backup", &[]),
    ("backup_keep", &[]),
];

/// How many backups of a file `backup_keep` keeps when not given.
pub const DEFAULT_BACKUP_KEEP: u32 = 5;

pub const DEFAULT_PATH: &str = "/dev/shm";
pub const DEFAULT_FSTAB: &str = "/etc/fstab";
pub const DEFAULT_SYSCTL: &str = "/etc/sysctl.d/90-shmguard-mqueue.conf";

/// Schema-only stand-in for values that may be written as a string or a number.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum StringOrInt {
    String(String),
    Int(u64),
}

/// A closed set of words with Ansible's wording for a value outside it.
macro_rules! choice_enum {
    ($name:ident, $param:literal, { $($variant:ident => $word:literal $(| $alias:literal)*),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every accepted word, aliases included (AnsibleModule lists them all as choices).
            pub const WORDS: &'static [&'static str] = &[$($word $(, $alias)*),+];

            pub fn word(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            pub fn parse(text: &str) -> Result<Self, String> {
                match text {
                    $($word $(| $alias)* => Ok($name::$variant),)+
                    other => {
                        let mut words = Self::WORDS.to_vec();
                        words.sort_unstable();
                        Err(format!("value of {} must be one of: {}, got: {}", $param, words.join(", "), other))
                    }
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                let text = match &v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

choice_enum!(State, "state", {
    Mounted => "mounted",
    Present => "present",
    Ephemeral => "ephemeral",
    Absent => "absent" | "absent_from_fstab",
});

choice_enum!(FsType, "fstype", {
    Tmpfs => "tmpfs",
    Mqueue => "mqueue",
});

choice_enum!(Init, "init", {
    Auto => "auto",
    Systemd => "systemd",
    Other => "other",
});

impl State {
    /// Whether this state manages the live mount.
    pub fn live(self) -> bool {
        matches!(self, State::Mounted | State::Ephemeral)
    }

    /// Whether this state wants an fstab entry.
    pub fn persistent(self) -> bool {
        matches!(self, State::Mounted | State::Present)
    }
}

/// Per-field deserializers, so a type error names its parameter.
macro_rules! named {
    ($($f:ident: $inner:ident -> $ty:ty = $name:literal;)+) => {$(
        fn $f<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            lenient::$inner($name, d)
        }
    )+};
}

named! {
    de_path: path -> Option<String> = "path";
    de_fstab_path: path -> Option<String> = "fstab_path";
    de_sysctl_path: path -> Option<String> = "sysctl_path";
    de_mode: mode -> Option<String> = "mode";
    de_size: string -> Option<String> = "size";
    de_min_size: string -> Option<String> = "min_size";
    de_nr_inodes: string -> Option<String> = "nr_inodes";
    de_options: list -> Vec<String> = "options";
    de_queues_max: int -> Option<i64> = "queues_max";
    de_msg_max: int -> Option<i64> = "msg_max";
    de_msgsize_max: int -> Option<i64> = "msgsize_max";
    de_backup: bool -> bool = "backup";
    de_backup_keep: int -> Option<i64> = "backup_keep";
}

/// A boolean as AnsibleModule reads one: a JSON bool, or (any case, as a string or a number)
/// yes/no, on/off, true/false, y/n, t/f, 1/0; null is false. Every boolean parameter of the
/// module and of the audit entry goes through it. Else an error naming the parameter, the value
/// and the spellings accepted (Ansible's own wording).
pub fn boolean(name: &str, v: &serde_json::Value) -> Result<bool, String> {
    use serde_json::Value;
    let word = match v {
        Value::Null => return Ok(false),
        Value::Bool(b) => return Ok(*b),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        _ => String::new(),
    };
    match word.as_str() {
        "yes" | "on" | "1" | "1.0" | "true" | "y" | "t" => Ok(true),
        "no" | "off" | "0" | "0.0" | "false" | "n" | "f" => Ok(false),
        _ => Err(format!(
            "{name}: the value {v} is not a valid boolean. Valid booleans include: 'yes', 'on', '1', 'true', 'y', 'no', 'off', '0', 'false', 'n' (any case, or a JSON true/false)"
        )),
    }
}

/// Ansible-style conversions: what AnsibleModule accepts for str, int, bool and list.
mod lenient {
    use serde::{Deserialize, Deserializer, de::Error};
    use serde_json::Value;

    fn type_error<E: Error>(name: &str, v: &Value, want: &str) -> E {
        E::custom(format!("{name}: {v} is not accepted; expected {want}"))
    }

    pub fn string<'de, D: Deserializer<'de>>(name: &str, d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) if n.is_u64() => Ok(Some(n.to_string())),
            other => Err(type_error(
                name,
                &other,
                "a string such as \"4G\" or a whole number of bytes",
            )),
        }
    }

    /// A path must be a string; a number or list is refused naming the parameter (serde's own
    /// "invalid type" message would not say which one).
    pub fn path<'de, D: Deserializer<'de>>(name: &str, d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(type_error(name, &other, "an absolute path as a string")),
        }
    }

    /// Mode must be a string: YAML reads an unquoted 01777 as the decimal 1023 and 1777 as a
    /// decimal that is not the octal mode, so a number is refused rather than guessed.
    pub fn mode<'de, D: Deserializer<'de>>(_name: &str, d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(D::Error::custom(format!(
                "mode: {other} is not accepted; expected an octal mode as a quoted string, e.g. \"1777\" (an unquoted YAML number is read as decimal or octal depending on its leading zero)"
            ))),
        }
    }

    pub fn int<'de, D: Deserializer<'de>>(name: &str, d: D) -> Result<Option<i64>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::Number(n) if n.is_i64() => Ok(n.as_i64()),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
            other => Err(type_error(name, &other, "a whole number")),
        }
    }

    pub fn bool<'de, D: Deserializer<'de>>(name: &str, d: D) -> Result<bool, D::Error> {
        super::boolean(name, &Value::deserialize(d)?).map_err(D::Error::custom)
    }

    pub fn list<'de, D: Deserializer<'de>>(name: &str, d: D) -> Result<Vec<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::String(s) => Ok(s
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()),
            Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.trim().to_string()),
                    other => Err(type_error(name, &other, "a list of flag names")),
                })
                .collect(),
            other => Err(type_error(name, &other, "a list of flag names")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Params, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn name_is_an_alias_of_path() {
        assert_eq!(
            parse(json!({"name": "/x"})).unwrap().path.as_deref(),
            Some("/x")
        );
    }

    #[test]
    fn values_are_read_like_ansible_reads_them() {
        let p = parse(
            json!({"backup": "yes", "queues_max": "512", "options": "nodev, nosuid", "size": 4096}),
        )
        .unwrap();
        assert!(p.backup);
        assert_eq!(p.queues_max, Some(512));
        assert_eq!(p.options, vec!["nodev", "nosuid"]);
        assert_eq!(p.size.as_deref(), Some("4096"));
    }

    #[test]
    fn ansible_posix_mount_names_are_accepted() {
        let p = parse(json!({"state": "absent_from_fstab", "fstab": "/x/fstab"})).unwrap();
        assert_eq!(p.state, Some(State::Absent));
        assert_eq!(p.fstab_path.as_deref(), Some("/x/fstab"));
    }

    #[test]
    fn a_bad_choice_uses_ansibles_wording() {
        let e = parse(json!({"state": "bogus"})).unwrap_err();
        assert_eq!(
            e,
            "value of state must be one of: absent, absent_from_fstab, ephemeral, mounted, present, got: bogus"
        );
    }

    #[test]
    fn an_unquoted_mode_is_refused_with_the_reason() {
        let e = parse(json!({"mode": 1777})).unwrap_err();
        assert!(e.contains("quoted string"), "{e}");
    }

    #[test]
    fn a_path_of_the_wrong_type_names_its_parameter() {
        let e = parse(json!({"fstab_path": ["a"]})).unwrap_err();
        assert!(e.starts_with("fstab_path: [\"a\"] is not accepted"), "{e}");
        let e = parse(json!({"name": 42})).unwrap_err();
        assert!(e.starts_with("path: 42 is not accepted"), "{e}");
    }

    #[test]
    fn a_bad_boolean_is_refused() {
        let e = parse(json!({"backup": "maybe"})).unwrap_err();
        assert!(e.contains("not a valid boolean"), "{e}");
    }
}
