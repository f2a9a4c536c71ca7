//! Fstab: an fstab file as bytes, line by line, so that editing one entry leaves every other
//! byte alone (comments, tabs, CRLF, non-UTF-8, no final newline). Lines are read by
//! util-linux libmount's rules (`tab_parse.c`), which is what mount(8), systemd and so the next
//! boot use: a line whose first word starts with `#` is a comment; otherwise words split on
//! spaces and tabs; fields 1-4 are words whatever they hold (a `#` in one is data), `\ooo`
//! escapes decoded in each; fields 5 and 6, when present, must be integers; anything after
//! field 6 is ignored; fewer than 3 fields or a bad field 5/6 make the line a parse error that
//! boot skips. A NUL byte ends what libmount reads of a line (its strings end there): in the
//! last line, without a newline after it (the NUL tail a crash can leave), the line is what
//! stands before it; in a line that has a newline, libmount cannot find the newline and
//! reports a parse error. Either way the bytes are kept as they are. Mount points also match
//! through the host's links (`aliases`, found by observe: libmount canonicalises the target).
//! Parse, find, edit, render. Pure: no I/O (reading the file is in `observe::files`).

use std::borrow::Cow;
use std::ops::Range;

use crate::observe::line_file::{LineFile, Shared};
use crate::observe::mountinfo::{escape, unescape};

/// A parsed fstab (fstab(5)): lines kept verbatim, fields found on demand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fstab {
    pub file: LineFile,
    /// other spellings of the managed mount point that reach it through the host's symbolic
    /// links (`/run/shm` where it links to `/dev/shm`, or the reverse), normalised: a line
    /// naming one is that path's entry, as libmount canonicalises mount points
    pub aliases: Vec<Vec<u8>>,
}

/// What libmount reads of a line's text: the bytes before the first NUL.
pub fn readable(text: &[u8]) -> &[u8] {
    match memchr::memchr(0, text) {
        Some(at) => &text[..at],
        None => text,
    }
}

/// The readable fields of one entry, as libmount reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// fstab line number, 1-based
    pub line: usize,
    /// field 1, unescaped
    pub spec: Vec<u8>,
    /// field 2, unescaped, as written (`/dev//shm/` stays; see `same_mount_point`)
    pub file: Vec<u8>,
    /// field 3, unescaped
    pub vfstype: String,
    /// field 4, unescaped, split on commas outside double quotes (empty when missing)
    pub options: Vec<String>,
    /// fields 5 and 6
    pub freq: Option<String>,
    pub passno: Option<String>,
    /// the whole line as it is in the file
    pub text: Vec<u8>,
}

/// How libmount reads one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// blank, or a comment (first word starts with `#`)
    Skipped,
    /// an entry
    Entry,
    /// a parse error: libmount reports it and boot skips the line; the reason is for people
    Rejected(String),
}

/// Byte ranges of every blank-separated word of a line (spaces and tabs, as libmount splits).
fn words(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
            i += 1;
        }
        if i >= text.len() {
            return None;
        }
        let start = i;
        while i < text.len() && text[i] != b' ' && text[i] != b'\t' {
            i += 1;
        }
        Some(start..i)
    })
}

/// The field ranges of a line libmount reads as an entry: its first six words.
fn field_spans(text: &[u8]) -> Vec<Range<usize>> {
    words(text).take(6).collect()
}

/// Whether a word is what libmount's `next_s32` accepts: `strtol` digits with an optional
/// sign, ending the word.
fn is_number(word: &[u8]) -> bool {
    let digits = word
        .strip_prefix(b"+")
        .or_else(|| word.strip_prefix(b"-"))
        .unwrap_or(word);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// How libmount reads a line (its text without the line ending, up to a NUL).
pub fn classify(text: &[u8]) -> LineKind {
    let text = readable(text);
    let spans = field_spans(text);
    match spans.first() {
        None => return LineKind::Skipped,
        Some(r) if text[r.start] == b'#' => return LineKind::Skipped,
        _ => {}
    }
    if spans.len() < 3 {
        return LineKind::Rejected(format!(
            "{} field{} where libmount needs at least 3 (spec, mount point, type)",
            spans.len(),
            if spans.len() == 1 { "" } else { "s" }
        ));
    }
    for (n, name) in [(4, "5 (dump)"), (5, "6 (pass)")] {
        if let Some(r) = spans.get(n) {
            if !is_number(&text[r.clone()]) {
                return LineKind::Rejected(format!(
                    "field {name} is `{}`, not a number",
                    String::from_utf8_lossy(&text[r.clone()])
                ));
            }
        }
    }
    LineKind::Entry
}

/// A mount point as libmount compares paths: repeated slashes, `.` components and a trailing
/// slash do not count (`/dev//shm/` is `/dev/shm`).
pub fn normal_mount_point(raw: &[u8]) -> Cow<'_, [u8]> {
    let clean = raw.starts_with(b"/")
        && !raw.windows(2).any(|w| w == b"//")
        && !raw.windows(3).any(|w| w == b"/./")
        && !raw.ends_with(b"/.")
        && (raw.len() == 1 || !raw.ends_with(b"/"));
    if clean || !raw.starts_with(b"/") {
        return Cow::Borrowed(raw);
    }
    let parts: Vec<&[u8]> = raw
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    let mut out = Vec::with_capacity(raw.len());
    for p in &parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Cow::Owned(out)
}

/// Whether an fstab mount-point field names `path` (a normalised absolute path).
fn same_mount_point(field: &[u8], path: &[u8]) -> bool {
    if field.contains(&b'\\') {
        normal_mount_point(&unescape(field)).as_ref() == path
    } else {
        normal_mount_point(field).as_ref() == path
    }
}

/// Splits an options field on commas, keeping commas inside double quotes (`context="a,b"`),
/// as libmount's option parser does; empty items (`rw,,nodev`) are dropped.
pub fn split_options(field: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in field.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl crate::observe::files::Render for Fstab {
    fn render(&self) -> Vec<u8> {
        self.file.render()
    }
}

impl Fstab {
    pub fn parse(bytes: &[u8]) -> Fstab {
        Fstab {
            file: LineFile::parse(bytes),
            aliases: Vec::new(),
        }
    }

    /// Indexes shared bytes without copying them.
    pub fn from_shared(bytes: Shared) -> Fstab {
        Fstab {
            file: LineFile::from_shared(bytes),
            aliases: Vec::new(),
        }
    }

    /// Adds a line for a new entry: at the end, or before a last line that has a NUL and no
    /// newline (a newline after it would make that line a parse error for libmount).
    pub fn add_entry(&mut self, line: Vec<u8>) {
        let n = self.file.len();
        if n > 0 && !self.file.terminated(n - 1) && self.file.text(n - 1).contains(&0) {
            self.file.insert(n - 1, line);
        } else {
            self.file.append(line);
        }
    }

    pub fn render(&self) -> Vec<u8> {
        self.file.render()
    }

    /// How libmount reads line `idx`.
    pub fn kind(&self, idx: usize) -> LineKind {
        let text = self.file.text(idx);
        if self.file.terminated(idx) && text.contains(&0) {
            return LineKind::Rejected(
                "a NUL byte stands before its newline, so libmount cannot find the line's end"
                    .into(),
            );
        }
        classify(text)
    }

    /// Entry at line index `idx`, if libmount reads the line as one.
    pub fn entry(&self, idx: usize) -> Option<Entry> {
        if idx >= self.file.len() || self.kind(idx) != LineKind::Entry {
            return None;
        }
        let whole = self.file.text(idx);
        let text = readable(whole);
        let spans = field_spans(text);
        let field = |n: usize| spans.get(n).map(|r| unescape(&text[r.clone()]));
        let s = |n: usize| field(n).map(|b| String::from_utf8_lossy(&b).into_owned());
        Some(Entry {
            line: idx + 1,
            spec: field(0)?,
            file: field(1)?,
            vfstype: s(2).unwrap_or_default(),
            options: s(3).map(|o| split_options(&o)).unwrap_or_default(),
            freq: s(4),
            passno: s(5),
            text: whole.to_vec(),
        })
    }

    /// Lines whose second word names `path` (or one of its `aliases`), whatever libmount
    /// makes of them, in file order. Only a line holding the last component of one of them,
    /// or an escape, can name it: a SIMD search skips the word scan on the other lines of a
    /// large file.
    pub fn lines_naming(&self, path: &[u8]) -> Vec<usize> {
        let names: Vec<&[u8]> = std::iter::once(path)
            .chain(self.aliases.iter().map(Vec::as_slice))
            .collect();
        let finders: Vec<memchr::memmem::Finder> = names
            .iter()
            .map(|p| memchr::memmem::Finder::new(p.rsplit(|b| *b == b'/').next().unwrap_or(p)))
            .collect();
        (0..self.file.len())
            .filter(|&i| {
                let text = readable(self.file.text(i));
                (finders.iter().any(|f| f.find(text).is_some())
                    || memchr::memchr(b'\\', text).is_some())
                    && words(text).nth(1).is_some_and(|r| {
                        names.iter().any(|p| same_mount_point(&text[r.clone()], p))
                    })
            })
            .collect()
    }

    /// Line indexes of the entries whose mount point is `path`, in file order: the lines
    /// libmount reads (comments and parse errors are not entries).
    pub fn entries_at(&self, path: &[u8]) -> Vec<usize> {
        self.lines_naming(path)
            .into_iter()
            .filter(|&i| self.kind(i) == LineKind::Entry)
            .collect()
    }

    /// Lines that name `path` but that libmount rejects (boot skips them), with the reason.
    pub fn rejected_at(&self, path: &[u8]) -> Vec<(usize, String)> {
        self.lines_naming(path)
            .into_iter()
            .filter_map(|i| match self.kind(i) {
                LineKind::Rejected(why) => Some((i, why)),
                _ => None,
            })
            .collect()
    }

    /// Where an inline comment starts on line `idx`: the first word from field 3 on that
    /// starts with `#`. libmount reads such a word as data (the type or the options) or fails
    /// on it (fields 5 and 6), so the line does not mean what its author wrote.
    pub fn misplaced_comment(&self, idx: usize) -> Option<usize> {
        let text = readable(self.file.text(idx));
        words(text)
            .take(6)
            .enumerate()
            .skip(2)
            .find(|(_, r)| text[r.start] == b'#')
            .map(|(n, _)| n)
    }

    /// Rewrites line `idx` so that the comment starting at word `at` (see `misplaced_comment`)
    /// comes after field 6: the words before it stay as they are, the missing fields are
    /// filled in (`fstype`, `options`, `0 0`), and the comment follows. Returns whether
    /// libmount then reads the line as an entry.
    pub fn move_comment(&mut self, idx: usize, at: usize, fstype: &[u8], options: &[u8]) -> bool {
        let sep: &'static [u8] = if self.file.text(idx).contains(&b'\t') {
            b"\t"
        } else {
            b" "
        };
        let line = self.file.text_mut(idx);
        let spans: Vec<Range<usize>> = words(readable(line)).collect();
        let (Some(before), Some(comment)) = (spans.get(at.wrapping_sub(1)), spans.get(at)) else {
            return false;
        };
        let comment = line[comment.start..].to_vec();
        let mut fixed = line[..before.end].to_vec();
        let fill: [&[u8]; 4] = [fstype, options, b"0", b"0"];
        for value in &fill[at.saturating_sub(2)..] {
            fixed.extend_from_slice(sep);
            fixed.extend_from_slice(value);
        }
        fixed.extend_from_slice(sep);
        fixed.extend_from_slice(&comment);
        *line = fixed;
        classify(line) == LineKind::Entry
    }

    /// Replaces field `n` (0-based) of line `idx`; a missing field is added after the last one
    /// (fields in between must exist). Everything else on the line stays.
    pub fn set_field(&mut self, idx: usize, n: usize, value: &[u8]) {
        let line = self.file.text_mut(idx);
        let spans = field_spans(readable(line));
        if let Some(r) = spans.get(n) {
            line.splice(r.clone(), value.iter().copied());
        } else if n == spans.len() {
            let at = spans.last().map(|r| r.end).unwrap_or(0);
            let sep: &[u8] = if line.contains(&b'\t') { b"\t" } else { b" " };
            let insert: Vec<u8> = sep.iter().chain(value).copied().collect();
            line.splice(at..at, insert);
        }
    }

    /// The separator new lines use: a tab when the file's entries are tab-separated.
    pub fn separator(&self) -> &'static [u8] {
        let tabbed = self
            .file
            .lines()
            .any(|(text, _)| classify(text) == LineKind::Entry && text.contains(&b'\t'));
        if tabbed { b"\t" } else { b" " }
    }
}

/// An options field from its words: blanks and backslashes escaped so it stays one word.
pub fn format_options(words: &[String]) -> Vec<u8> {
    let joined = words.join(",");
    let mut out = Vec::with_capacity(joined.len());
    for &b in joined.as_bytes() {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            _ => out.push(b),
        }
    }
    out
}

/// An fstab line from its fields, escaping the mount point.
pub fn format_line(sep: &[u8], spec: &[u8], file: &[u8], vfstype: &str, options: &[u8]) -> Vec<u8> {
    let fields: [&[u8]; 6] = [
        &escape(spec),
        &escape(file),
        vfstype.as_bytes(),
        options,
        b"0",
        b"0",
    ];
    fields.join(sep)
}

#[cfg(test)]
#[path = "fstab_tests.rs"]
mod tests;
