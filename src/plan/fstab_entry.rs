//! Steps for the fstab entry: edit the options of the first entry for the mount point (keeping
//! its spec, unknown options and the rest of the line), add a line when there is none, or
//! remove the entries for state=absent. Pure: no I/O.

use crate::observe::fstab::{Fstab, format_line};
use crate::plan::live::{inodes_text, wanted_pages};
use crate::plan::{Plan, PlanError, check_readable, replace_file};
use crate::spec::{Desired, FsType, Host, Mode, MountFlags, Quantity, SizeTarget, State};

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

/// The options column the desired state wants, starting from the one in the file. Values are
/// compared by meaning (4G = 4096m; no size= is the default), so equal spellings are kept.
pub(super) fn edit_options(current: &[String], d: &Desired, host: &Host) -> Vec<String> {
    let mut words: Vec<String> = current.to_vec();
    for flag in &d.flags {
        if MountFlags::from_fstab_words(words.iter().map(String::as_str)).satisfies(*flag) {
            continue;
        }
        words.retain(|w| !flag.opposite_words().contains(&w.as_str()));
        if !MountFlags::from_fstab_words(words.iter().map(String::as_str)).satisfies(*flag) {
            words.push(flag.name().to_string());
        }
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
    check_readable("fstab_path", &plan.expected.fstab)?;
    // Edited in place and put back (or replaced by the step): a 100k-line fstab is not copied.
    let mut doc: Fstab = std::mem::take(&mut plan.expected.fstab.doc);
    let entries = doc.entries_at(d.path.as_bytes());
    let shown = plan.expected.fstab.path.display().to_string();
    let mut summaries = Vec::new();
    match (d.state, entries.first()) {
        (State::Ephemeral, _) => unreachable!("returned above"),
        (State::Absent, _) => {
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
        }
        (_, None) => {
            let options = edit_options(&[], d, &host).join(",");
            let line = format_line(
                doc.separator(),
                d.fstype.word().as_bytes(),
                d.path.as_bytes(),
                d.fstype.word(),
                &options,
            );
            summaries.push(format!(
                "add to {shown}: {}",
                String::from_utf8_lossy(&line)
            ));
            doc.file.append(line);
        }
        (_, Some(&first)) => {
            let entry = doc.entry(first).expect("entries_at returns entries");
            if entries.len() > 1 {
                let rest: Vec<String> = entries[1..].iter().map(|i| (i + 1).to_string()).collect();
                plan.warnings.push(format!(
                    "{shown} has {} more entries for {} (line {}); only the first, line {}, is managed: remove the others, the last one wins at boot",
                    entries.len() - 1,
                    d.path,
                    rest.join(", "),
                    first + 1
                ));
            }
            if entry.vfstype != d.fstype.word() {
                doc.set_field(first, 2, d.fstype.word().as_bytes());
                summaries.push(format!(
                    "{shown} line {}: type {} -> {}",
                    first + 1,
                    entry.vfstype,
                    d.fstype.word()
                ));
            }
            let options = edit_options(&entry.options, d, &host);
            if options != entry.options {
                let before = if entry.options.is_empty() {
                    "(none)".to_string()
                } else {
                    entry.options.join(",")
                };
                doc.set_field(first, 3, options.join(",").as_bytes());
                summaries.push(format!(
                    "{shown} line {}: options {before} -> {}",
                    first + 1,
                    options.join(",")
                ));
            }
        }
    }
    if summaries.is_empty() {
        plan.expected.fstab.doc = doc;
        return Ok(());
    }
    let after = doc.file.clone();
    let step = replace_file(
        &mut plan.expected.fstab,
        "fstab_path",
        doc,
        after,
        d.backup,
        summaries.join("; "),
    )?;
    plan.steps.push(step);
    Ok(())
}
