//! Steps for the fstab entry: edit the options of the entry boot uses for the mount point
//! (the first one libmount reads; keeping its spec, unknown options and the rest of the line),
//! repair a line boot would skip, add a line when there is none, or remove the entries for
//! state=absent. The line written carries every per-mount flag of the enforced state, so that
//! both ways of booting (see `plan::boot`) reproduce it. Pure: no I/O.

use crate::observe::fstab::{Fstab, format_line, format_options};
use crate::plan::boot::{BootPath, PID1_DEV_SHM, from_options};
use crate::plan::live::{inodes_text, wanted_pages};
use crate::plan::{Plan, PlanError, replace_file};
use crate::spec::{
    Atime, Desired, Flag, FsType, Host, Mode, MountFlags, OptionBits, Quantity, SizeTarget, State,
};

/// Index of the last `key=` word.
fn find_key(words: &[String], key: &str) -> Option<usize> {
    words
        .iter()
        .rposition(|w| w.strip_prefix(key).is_some_and(|r| r.starts_with('=')))
}

fn value_of<'a>(words: &'a [String], key: &str) -> Option<&'a str> {
    find_key(words, key).map(|i| &words[i][key.len() + 1..])
}

/// Replaces the last `key=` word, or appends one.
fn set_key(words: &mut Vec<String>, key: &str, value: &str) {
    let word = format!("{key}={value}");
    match find_key(words, key) {
        Some(i) => words[i] = word,
        None => words.push(word),
    }
}

/// One decision of the per-mount flags: the words that make it, and how to read it.
struct Group {
    words: &'static [&'static str],
    get: fn(&MountFlags) -> Option<&'static str>,
}

/// For each group: the word that states the flags' value (None: nothing to say, the default
/// of both boot ways once no word of the group is left).
const GROUPS: [Group; 6] = [
    Group {
        words: &["ro", "rw"],
        get: |f| f.read_only.then_some("ro"),
    },
    Group {
        words: &["nosuid", "suid"],
        get: |f| f.nosuid.then_some("nosuid"),
    },
    Group {
        words: &["nodev", "dev"],
        get: |f| f.nodev.then_some("nodev"),
    },
    Group {
        words: &["noexec", "exec"],
        get: |f| f.noexec.then_some("noexec"),
    },
    Group {
        words: &[
            "noatime",
            "atime",
            "relatime",
            "norelatime",
            "strictatime",
            "nostrictatime",
        ],
        get: |f| {
            Some(match f.atime {
                Atime::Relatime => "relatime",
                Atime::Noatime => "noatime",
                Atime::Strictatime => "strictatime",
            })
        },
    },
    Group {
        words: &["nodiratime", "diratime"],
        get: |f| f.nodiratime.then_some("nodiratime"),
    },
];

/// The word that turns a group's flag off again after `user`/`owner` turned it on.
fn off_word(g: &Group) -> &'static str {
    g.words[1]
}

/// The ways of booting a line must be right for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ways {
    /// a fresh mount from the line
    pub fresh: bool,
    /// systemd's remount of PID 1's /dev/shm with the line
    pub remount: bool,
}

impl Ways {
    /// What the flags give each way that counts, compared by `same`.
    fn hold(self, words: &[String], same: impl Fn(MountFlags) -> bool) -> bool {
        let bits = OptionBits::from_words(words.iter().map(String::as_str));
        (!self.fresh || same(bits.fresh())) && (!self.remount || same(bits.remount(PID1_DEV_SHM)))
    }
}

/// Whether the words give `target` every way that counts.
fn gives(words: &[String], target: MountFlags, ways: Ways) -> bool {
    ways.hold(words, |f| f == target)
}

/// Edits the flag words of an options column so that both ways of booting give `target`:
/// a group that does not hold loses its words and gets the one word that says its value.
fn set_flags(words: &mut Vec<String>, target: MountFlags, ways: Ways) {
    // An atime word decides nodiratime on a remount too: a second pass settles it.
    for g in GROUPS.iter().chain(&GROUPS) {
        if gives(words, target, ways) {
            return;
        }
        let holds = |w: &[String]| ways.hold(w, |f| (g.get)(&f) == (g.get)(&target));
        if holds(words) {
            continue;
        }
        words.retain(|w| !g.words.contains(&w.as_str()));
        if !holds(words) {
            words.push((g.get)(&target).unwrap_or(off_word(g)).to_string());
        }
    }
}

/// The per-mount flags the line must give at boot. A flag the user asked for is as asked;
/// any other is the live mount's (when mounted; `ro` excepted, which only a request puts in
/// fstab), so a line shmguard writes never loses what the running system holds; without a
/// live mount it is what the line gives now, or what boot gives without a line. A security
/// flag (nosuid, nodev, noexec) the line has is never dropped unless asked. A line's `ro` is
/// dropped unless `ro` is asked for, as a read-only live mount is remounted read-write
/// (`Desired::writable`): otherwise every boot would bring the drift back.
pub(super) fn line_target(
    d: &Desired,
    live: Option<&MountFlags>,
    line_now: Option<&MountFlags>,
    base: MountFlags,
) -> MountFlags {
    let mut t = match (live, line_now) {
        (Some(l), now) if d.mirror_live => MountFlags {
            read_only: now.unwrap_or(&base).read_only,
            ..*l
        },
        (_, Some(now)) => *now,
        (_, None) => base,
    };
    if let Some(now) = line_now {
        t.nosuid |= now.nosuid;
        t.nodev |= now.nodev;
        t.noexec |= now.noexec;
    }
    if d.writable && !d.flags.contains(&Flag::Ro) {
        t.read_only = false;
    }
    d.flags.iter().fold(t, |f, fl| f.with(*fl))
}

/// The options column the desired state wants, starting from the one in the file: `flags`
/// (when given: the target flags, and the ways of booting they must hold for), and the
/// desired size, inodes and mode. Values are compared by meaning (4G = 4096m; no size= is the
/// default), so equal spellings are kept.
pub(super) fn edit_options(
    current: &[String],
    d: &Desired,
    host: &Host,
    flags: Option<(MountFlags, Ways)>,
) -> Vec<String> {
    let mut words: Vec<String> = current.to_vec();
    if let Some((target, ways)) = flags {
        // The flags asked for first, in the user's order, then whatever else boot needs.
        for flag in &d.flags {
            if MountFlags::from_fstab_words(words.iter().map(String::as_str)).satisfies(*flag) {
                continue;
            }
            words.retain(|w| !flag.opposite_words().contains(&w.as_str()));
            if !MountFlags::from_fstab_words(words.iter().map(String::as_str)).satisfies(*flag) {
                words.push(flag.name().to_string());
            }
        }
        set_flags(&mut words, target, ways);
    }
    if d.fstype == FsType::Tmpfs {
        if let Some(target) = &d.size {
            let current = value_of(&words, "size")
                .and_then(|v| Quantity::parse("size", v, true).ok())
                .map(|q| q.pages(host))
                .unwrap_or_else(|| host.default_tmpfs_pages());
            if wanted_pages(target, current, host).is_some() {
                let (SizeTarget::Exact(q) | SizeTarget::AtLeast(q)) = target;
                set_key(&mut words, "size", &q.text);
            }
        }
        if let Some(q) = &d.nr_inodes {
            let current = value_of(&words, "nr_inodes")
                .and_then(|v| Quantity::parse("nr_inodes", v, false).ok())
                .map(|c| c.count(host))
                .unwrap_or_else(|| host.default_tmpfs_inodes());
            if current != q.count(host) {
                set_key(&mut words, "nr_inodes", &inodes_text(q, host));
            }
        }
        if let Some(m) = d.mode {
            let current = value_of(&words, "mode")
                .and_then(|v| Mode::parse(v).ok())
                .unwrap_or(Mode(0o1777));
            if current != m {
                set_key(&mut words, "mode", &format!("{:04o}", m.0));
            }
        }
    }
    if words.is_empty() {
        words.push("defaults".to_string());
    }
    // A field that starts with `#` reads as a comment, hiding the rest of the line: keep such
    // words (`dev,#x` once removing `dev` would lead with `#x`), but never first.
    if words.first().is_some_and(|w| w.starts_with('#')) {
        let (hashed, rest): (Vec<String>, Vec<String>) =
            words.into_iter().partition(|w| w.starts_with('#'));
        words = rest.into_iter().chain(hashed).collect();
    }
    words
}

pub(super) fn plan(d: &Desired, plan: &mut Plan) -> Result<(), PlanError> {
    if d.state == State::Ephemeral {
        return Ok(());
    }
    let host = plan.expected.host;
    // A missing fstab is created with the entry (root:root 0644), as ansible.posix.mount
    // does, by the states that want one; never where its directory is missing too (a typo).
    let create = !plan.expected.fstab.exists();
    if create && (d.state == State::Absent || !plan.expected.fstab.dir_exists) {
        return Err(PlanError::FileMissing {
            param: "fstab_path",
            path: plan.expected.fstab.path.display().to_string(),
            what: if plan.expected.fstab.dir_exists {
                ""
            } else {
                ", nor does its directory"
            },
        });
    }
    // Edited in place and put back (or replaced by the step): a 100k-line fstab is not copied.
    let mut doc: Fstab = std::mem::take(&mut plan.expected.fstab.doc);
    let path = d.path.as_bytes();
    let entries = doc.entries_at(path);
    let rejected = doc.rejected_at(path);
    let shown = plan.expected.fstab.path.display().to_string();
    let mut summaries = Vec::new();
    if d.state == State::Absent {
        for &i in entries.iter().rev() {
            doc.file.remove(i);
        }
        if !entries.is_empty() {
            let lines: Vec<String> = entries.iter().map(|i| (i + 1).to_string()).collect();
            summaries.push(format!(
                "remove the {} entry for {} from {shown} (line {})",
                d.fstype.word(),
                d.path,
                lines.join(", ")
            ));
        }
        for (i, why) in &rejected {
            plan.warnings.push(format!(
                "{shown} line {} names {} but boot skips it ({why}); left as it is",
                i + 1,
                d.path
            ));
        }
    } else {
        // The line boot uses: the first entry; else a line boot skips, repaired.
        let managed = match (entries.first(), rejected.first()) {
            (Some(&i), _) => Some(i),
            (None, Some((i, why))) => {
                let Some(at) = doc.misplaced_comment(*i) else {
                    return Err(PlanError::FstabLineUnclear {
                        path: shown,
                        line: i + 1,
                        why: format!("boot skips it ({why})"),
                    });
                };
                repair(&mut doc, *i, at, d, &shown, why, &mut summaries)?;
                Some(*i)
            }
            (None, None) => None,
        };
        if let Some(i) = managed {
            if let Some(at) = doc.misplaced_comment(i) {
                let why = "a word starting with # stands in a field libmount reads";
                repair(&mut doc, i, at, d, &shown, why, &mut summaries)?;
            }
            let options = doc
                .entry(i)
                .map(|e| e.options.join(","))
                .unwrap_or_default();
            if options.matches('"').count() % 2 == 1 {
                return Err(PlanError::FstabLineUnclear {
                    path: shown,
                    line: i + 1,
                    why:
                        "its options have an unclosed double quote, after which libmount drops them"
                            .into(),
                });
            }
        }
        for (i, why) in rejected.iter().filter(|(i, _)| Some(*i) != managed) {
            plan.warnings.push(format!(
                "{shown} line {} names {} but boot skips it ({why}); it is not the managed entry",
                i + 1,
                d.path
            ));
        }
        if entries.len() > 1 {
            let rest: Vec<String> = entries[1..].iter().map(|i| (i + 1).to_string()).collect();
            plan.warnings.push(format!(
                "{shown} has {} more entries for {} (line {}); only the first, line {}, is managed and used at boot (mount(8) and systemd take the first): remove the others",
                entries.len() - 1,
                d.path,
                rest.join(", "),
                entries[0] + 1
            ));
        }
        edit_entry(d, &host, managed, &mut doc, plan, &shown, &mut summaries);
        if let Some(m) = d.mode.filter(|m| m.0 != 0o1777) {
            if BootPath::of(plan.expected.systemd, &d.path) == BootPath::SystemdRemount {
                plan.warnings.push(format!(
                    "mode {m} does not survive a reboot here: systemd's PID 1 mounts {} with mode 1777 and then only remounts it with the fstab line, and tmpfs ignores mode= on a remount; set the mode again after boot (e.g. a systemd-tmpfiles line `z {} {:04o}`)",
                    d.path, d.path, m.0
                ));
            }
        }
    }
    if summaries.is_empty() {
        plan.expected.fstab.doc = doc;
        return Ok(());
    }
    if create {
        summaries.insert(0, format!("create {shown} (mode 0644)"));
    }
    let after = doc.file.clone();
    let step = replace_file(
        &mut plan.expected.fstab,
        "fstab_path",
        doc,
        after,
        d.backup.then_some(d.backup_keep),
        summaries.join("; "),
    )?;
    plan.steps.push(step);
    Ok(())
}

/// Moves a comment that boot would read as a field to after field 6. Refused when that does
/// not make the line an entry boot reads (a NUL byte before its newline, say): a half-repaired
/// line would be edited and still skipped, and a second line added beside it.
fn repair(
    doc: &mut Fstab,
    i: usize,
    at: usize,
    d: &Desired,
    shown: &str,
    why: &str,
    summaries: &mut Vec<String>,
) -> Result<(), PlanError> {
    if !doc.move_comment(i, at, d.fstype.word().as_bytes(), b"defaults") || doc.entry(i).is_none() {
        return Err(PlanError::FstabLineUnclear {
            path: shown.to_string(),
            line: i + 1,
            why: format!("boot skips it ({why})"),
        });
    }
    summaries.push(format!(
        "edit {shown} line {}: boot does not read it as written ({why}): moved the comment after field 6",
        i + 1
    ));
    Ok(())
}

/// Adds the entry, or edits the type and options of entry `managed`.
fn edit_entry(
    d: &Desired,
    host: &Host,
    managed: Option<usize>,
    doc: &mut Fstab,
    plan: &mut Plan,
    shown: &str,
    summaries: &mut Vec<String>,
) {
    let both = Ways {
        fresh: true,
        remount: d.path == "/dev/shm" && d.fstype == FsType::Tmpfs,
    };
    let this_way = BootPath::of(plan.expected.systemd, &d.path);
    let base = super::boot::predict(
        &Fstab::default(),
        &d.path,
        d.fstype,
        plan.expected.systemd,
        host,
    )
    .mount
    .map_or(MountFlags::default(), |m| m.flags);
    let live = plan.expected.live.as_ref().map(|l| l.flags);
    let entry = managed.and_then(|i| doc.entry(i));
    let line_now = entry
        .as_ref()
        .map(|e| from_options(&e.options, this_way, d.fstype, host).flags);
    let target = line_target(d, live.as_ref(), line_now.as_ref(), base);
    // Flags taken from the live mount must hold on both ways of booting; without a live mount
    // to keep, the line only has to give them the way this host boots.
    let ways = if live.is_some() && d.mirror_live {
        both
    } else {
        Ways {
            fresh: this_way == BootPath::Fresh,
            remount: this_way == BootPath::SystemdRemount,
        }
    };
    let Some(e) = entry else {
        let options = edit_options(&[], d, host, Some((target, ways)));
        let line = format_line(
            doc.separator(),
            d.fstype.word().as_bytes(),
            d.path.as_bytes(),
            d.fstype.word(),
            &format_options(&options),
        );
        summaries.push(format!(
            "add to {shown}: {}",
            String::from_utf8_lossy(&line)
        ));
        doc.add_entry(line);
        return;
    };
    let i = e.line - 1;
    if e.vfstype != d.fstype.word() {
        doc.set_field(i, 2, d.fstype.word().as_bytes());
        summaries.push(format!(
            "edit {shown} line {}: type {} -> {}",
            e.line,
            e.vfstype,
            d.fstype.word()
        ));
    }
    // A line that already gives the target flags the way this host boots is left alone;
    // one that is edited is made right for both ways.
    let flags = (line_now != Some(target)).then_some((target, ways));
    let options = edit_options(&e.options, d, host, flags);
    if options != e.options {
        let before = if e.options.is_empty() {
            "(none)".to_string()
        } else {
            e.options.join(",")
        };
        doc.set_field(i, 3, &format_options(&options));
        summaries.push(format!(
            "edit {shown} line {}: options {before} -> {}",
            e.line,
            options.join(",")
        ));
    }
}
