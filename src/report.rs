//! Report: the result every front end translates — changed, failed, msg, before/after state,
//! one line per action, the diff and the warnings. Built from values; pure: no I/O.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::observe::Observed;
use crate::spec::{Desired, HumanBytes};
use std::borrow::Cow;

/// The result of one shmguard run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Whether something was changed (or, in check mode, would be).
    pub changed: bool,
    /// Whether the run failed; nothing is changed when a parameter or the plan is refused.
    pub failed: bool,
    /// One readable sentence.
    pub msg: String,
    /// The managed mount point.
    pub path: String,
    /// Check mode: nothing was changed, actions and after say what would be done.
    pub check_mode: bool,
    /// The state found before the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<StateView>,
    /// The state after the run (in check mode: the state a real run would leave).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<StateView>,
    /// One line per change, done or (in check mode) to be done.
    pub actions: Vec<String>,
    /// Under diff mode: the live state and each changed file, before and after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<Vec<DiffItem>>,
    pub warnings: Vec<String>,
    /// The copy of fstab (or of the sysctl file) kept when backup is set: the first of backup_files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_file: Option<String>,
    /// Every copy kept when backup is set (fstab and the sysctl file), in the order made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_files: Vec<String>,
}

/// The state of one mount point: live mount, fstab entry, mqueue limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateView {
    /// The path asked for is a symbolic link to this mount point (followed: its state is
    /// shown), as on older Debian and Ubuntu (/dev/shm -> /run/shm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symlink_to: Option<String>,
    pub mounted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fstype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Real mode of the mount root (stat), four octal digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// tmpfs size limit (0: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<SizeView>,
    /// tmpfs inode limit (0: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nr_inodes: Option<u64>,
    /// Per-mount flags of the live mount.
    #[serde(default)]
    pub options: Vec<String>,
    /// The first fstab entry for the mount point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fstab: Option<FstabView>,
    /// Live /proc/sys/fs/mqueue limits (mqueue only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqueue: Option<BTreeMap<String, u64>>,
    /// mqueue limits persisted in sysctl_path (mqueue only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysctl: Option<BTreeMap<String, u64>>,
    /// `status` only: free inodes of the live mount (statvfs; absent when unlimited). Every
    /// shared-memory object and named semaphore takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_inodes: Option<u64>,
    /// `status` only: the fstab file read, when it does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fstab_missing: Option<String>,
    /// What the next boot gives the mount point, predicted from the fstab line and the init
    /// system (nothing is mounted to find out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<BootView>,
}

/// The mount the next boot gives, as predicted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BootView {
    /// How boot applies the fstab line: `systemd-remount` (systemd's PID 1 mounts /dev/shm,
    /// then remounts it with the line's options) or `fresh` (mounted afresh from the line).
    pub how: String,
    /// The same, for people; when boot mounts nothing, that there is no fstab entry.
    pub describe: String,
    /// Whether the init system is systemd (detected, or the `init` parameter).
    pub systemd: bool,
    /// 1-based fstab line boot uses (the first entry for the mount point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Whether boot mounts it at all (as far as fstab and the init system say).
    pub mounted: bool,
    /// Mode of the mount root after boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<SizeView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nr_inodes: Option<u64>,
    /// Per-mount flags after boot.
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SizeView {
    pub bytes: u64,
    /// e.g. 4G, 64M, unlimited
    pub human: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FstabView {
    /// 1-based line number
    pub line: usize,
    pub spec: String,
    pub vfstype: String,
    pub options: String,
    /// the whole line as in the file
    pub text: String,
}

/// One before/after pair in Ansible's diff format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiffItem {
    pub before_header: String,
    pub after_header: String,
    pub before: String,
    pub after: String,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl StateView {
    pub fn of(o: &Observed, d: &Desired) -> StateView {
        let mut v = StateView {
            symlink_to: d.link_from.as_ref().map(|_| d.path.clone()),
            ..StateView::default()
        };
        if let Some(live) = &o.live {
            v.mounted = true;
            v.fstype = Some(live.fstype.clone());
            v.source = Some(lossy(&live.source));
            v.mode = Some(format!("{:04o}", live.mode));
            v.size = live.size_pages.map(|p| size_view(p, &o.host));
            v.nr_inodes = live.nr_inodes;
            v.options = live.flags.words();
        }
        v.fstab = o
            .fstab
            .doc
            .entries_at(d.path.as_bytes())
            .first()
            .and_then(|i| o.fstab.doc.entry(*i))
            .map(|e| FstabView {
                line: e.line,
                spec: lossy(&e.spec),
                vfstype: e.vfstype,
                options: e.options.join(","),
                text: lossy(&e.text),
            });
        if let Some(sysctl) = &o.sysctl {
            v.mqueue = Some(o.mqueue_limits.clone());
            let persisted = crate::observe::MQUEUE_LIMITS
                .iter()
                .filter_map(|n| {
                    let (_, val) = sysctl.doc.find(&format!("fs.mqueue.{n}"))?;
                    Some((n.to_string(), val.parse().ok()?))
                })
                .collect();
            v.sysctl = Some(persisted);
        }
        v.boot = Some(BootView::of(&crate::plan::boot::of(o, d), &o.host));
        v
    }

    /// The boot part as lines of text, for diffs and the human CLI.
    pub fn boot_text(&self) -> String {
        let Some(b) = &self.boot else {
            return String::new();
        };
        let mut s = format!("boot: {}\n", b.describe);
        if !b.mounted {
            return s;
        }
        if let Some(m) = &b.mode {
            s += &format!("boot mode: {m}\n");
        }
        if let Some(size) = &b.size {
            s += &format!("boot size: {}\n", size.human);
        }
        if let Some(n) = b.nr_inodes {
            s += &format!("boot nr_inodes: {}\n", inodes_word(n));
        }
        s += &format!("boot options: {}\n", b.options.join(","));
        s
    }

    /// The live part as lines of text, for diffs and the human CLI.
    pub fn live_text(&self) -> String {
        let link = match &self.symlink_to {
            Some(t) => format!("symlink to {t}\n"),
            None => String::new(),
        };
        if !self.mounted {
            return link + "mounted: no\n";
        }
        let mut s = format!(
            "{link}mounted: yes\nfstype: {}\n",
            self.fstype.as_deref().unwrap_or("?")
        );
        if let Some(m) = &self.mode {
            s += &format!("mode: {m}\n");
        }
        if let Some(size) = &self.size {
            s += &format!("size: {}\n", size.human);
        }
        if let Some(n) = self.nr_inodes {
            s += &format!("nr_inodes: {}\n", inodes_word(n));
        }
        s += &format!("options: {}\n", self.options.join(","));
        if let Some(n) = self.free_inodes {
            s += &format!("free inodes: {n}\n");
        }
        for (k, v) in self.mqueue.iter().flatten() {
            s += &format!("fs.mqueue.{k}: {v}\n");
        }
        s
    }
}

fn inodes_word(n: u64) -> String {
    if n == 0 {
        "unlimited".to_string()
    } else {
        n.to_string()
    }
}

fn size_view(pages: u64, host: &crate::spec::Host) -> SizeView {
    let bytes = pages * host.page_size;
    SizeView {
        bytes,
        human: HumanBytes(bytes).to_string(),
    }
}

impl BootView {
    pub fn of(b: &crate::plan::boot::Boot, host: &crate::spec::Host) -> BootView {
        use crate::plan::boot::BootPath;
        let mut v = BootView {
            how: match b.path {
                BootPath::SystemdRemount => "systemd-remount",
                BootPath::Fresh => "fresh",
            }
            .to_string(),
            describe: b.describe().to_string(),
            systemd: b.systemd,
            line: b.line.map(|i| i + 1),
            ..BootView::default()
        };
        if let Some(m) = &b.mount {
            v.mounted = true;
            v.mode = Some(format!("{:04o}", m.mode));
            v.size = m.size_pages.map(|p| size_view(p, host));
            v.nr_inodes = m.nr_inodes;
            v.options = m.flags.words();
        }
        v
    }
}

/// The diff: the live state, then each file whose bytes differ.
pub fn diff(path: &str, before: &Observed, after: &Observed, d: &Desired) -> Vec<DiffItem> {
    let (b, a) = (StateView::of(before, d), StateView::of(after, d));
    let header = format!("{path} (live)");
    let mut items = vec![DiffItem {
        before_header: header.clone(),
        after_header: header,
        before: b.live_text(),
        after: a.live_text(),
    }];
    if b.boot_text() != a.boot_text() {
        let header = format!("{path} (next boot)");
        items.push(DiffItem {
            before_header: header.clone(),
            after_header: header,
            before: b.boot_text(),
            after: a.boot_text(),
        });
    }
    let mut file = |p: &std::path::Path, old: Option<Cow<'_, [u8]>>, new: Option<Cow<'_, [u8]>>| {
        if old != new {
            let h = p.display().to_string();
            let shown = |c: &Option<Cow<'_, [u8]>>| match c {
                Some(_) => h.clone(),
                None => format!("{h} (absent)"),
            };
            items.push(DiffItem {
                before_header: shown(&old),
                after_header: shown(&new),
                before: lossy(old.as_deref().unwrap_or_default()),
                after: lossy(new.as_deref().unwrap_or_default()),
            });
        }
    };
    file(
        &before.fstab.path,
        before.fstab.current(),
        after.fstab.current(),
    );
    if let (Some(s0), Some(s1)) = (&before.sysctl, &after.sysctl) {
        file(&s0.path, s0.current(), s1.current());
    }
    items
}
