//! What a target asks for, in words per check key (`mode` -> `1777`), and the one
//! `shmguard apply` command that makes every check of the target pass — shown by the HTML and
//! XCCDF reports as "wanted" and as the command to copy. Pure: no I/O.

use std::collections::BTreeMap;

use crate::spec::{FsType, Params, State};

/// A word for a shell command line, quoted when it needs to be.
fn sh(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-,=:%+@".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The command that converges the target (with the fstab the audit read, when not /etc/fstab).
pub fn apply_command(p: &Params, fstab: Option<&str>) -> String {
    let path = p
        .path
        .clone()
        .unwrap_or_else(|| crate::spec::params::DEFAULT_PATH.into());
    let mut out = format!("shmguard apply --path {}", sh(&path));
    let mut opt = |flag: &str, v: Option<String>| {
        if let Some(v) = v {
            out += &format!(" --{flag} {}", sh(&v));
        }
    };
    opt("fstype", p.fstype.map(|f| f.word().to_string()));
    opt("state", p.state.map(|s| s.word().to_string()));
    opt("mode", p.mode.clone());
    opt("size", p.size.clone());
    opt("min-size", p.min_size.clone());
    opt("nr-inodes", p.nr_inodes.clone());
    opt("queues-max", p.queues_max.map(|v| v.to_string()));
    opt("msg-max", p.msg_max.map(|v| v.to_string()));
    opt("msgsize-max", p.msgsize_max.map(|v| v.to_string()));
    opt(
        "fstab-path",
        fstab.map(String::from).or_else(|| p.fstab_path.clone()),
    );
    opt("sysctl-path", p.sysctl_path.clone());
    opt("init", p.init.map(|i| i.word().to_string()));
    if !p.options.is_empty() {
        out += &format!(" -o {}", sh(&p.options.join(",")));
    }
    out
}

/// The parameters that converge the target, as the module and the Salt state take them:
/// the target's own, with its path always named and the fstab the audit read.
pub fn apply_params(p: &Params, fstab: Option<&str>) -> Params {
    Params {
        path: Some(
            p.path
                .clone()
                .unwrap_or_else(|| crate::spec::params::DEFAULT_PATH.into()),
        ),
        fstab_path: fstab.map(String::from).or_else(|| p.fstab_path.clone()),
        ..p.clone()
    }
}

/// What each check key of the target wants, in words.
pub fn wanted(p: &Params) -> BTreeMap<String, String> {
    let mut w = BTreeMap::new();
    let state = p.state.unwrap_or(State::Mounted);
    let mqueue = p.fstype == Some(FsType::Mqueue)
        || (p.fstype.is_none() && p.path.as_deref() == Some("/dev/mqueue"));
    let fstype = if mqueue { "mqueue" } else { "tmpfs" };
    w.insert("mounted".into(), format!("mounted ({fstype})"));
    w.insert("fstab".into(), format!("an fstab entry ({fstype})"));
    if state == State::Absent {
        w.insert("no-fstab-entry".into(), "no fstab entry".into());
    }
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            w.insert(k.into(), v);
        }
    };
    put("mode", p.mode.clone().map(|m| format!("mode {m}")));
    put("size", p.size.clone().map(|s| format!("size {s}")));
    put(
        "min_size",
        p.min_size.clone().map(|s| format!("size {s} or more")),
    );
    put(
        "nr_inodes",
        p.nr_inodes.clone().map(|n| format!("nr_inodes {n}")),
    );
    put(
        "queues_max",
        p.queues_max.map(|v| format!("queues_max {v}")),
    );
    put("msg_max", p.msg_max.map(|v| format!("msg_max {v}")));
    put(
        "msgsize_max",
        p.msgsize_max.map(|v| format!("msgsize_max {v}")),
    );
    for o in &p.options {
        w.insert(o.clone(), format!("mounted with {o}"));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_quotes_what_a_shell_would_split() {
        let p = Params {
            path: Some("/dev/shm".into()),
            mode: Some("1777".into()),
            size: Some("4G".into()),
            options: vec!["nodev".into(), "nosuid".into()],
            fstab_path: Some("/tmp/my fstab".into()),
            ..Params::default()
        };
        assert_eq!(
            apply_command(&p, None),
            "shmguard apply --path /dev/shm --mode 1777 --size 4G --fstab-path '/tmp/my fstab' -o nodev,nosuid"
        );
        assert_eq!(sh("it's"), "'it'\\''s'");
    }

    #[test]
    fn wanted_names_each_key() {
        let p = Params {
            mode: Some("1777".into()),
            options: vec!["noexec".into()],
            ..Params::default()
        };
        let w = wanted(&p);
        assert_eq!(w["mode"], "mode 1777");
        assert_eq!(w["noexec"], "mounted with noexec");
        assert_eq!(w["mounted"], "mounted (tmpfs)");
    }
}
