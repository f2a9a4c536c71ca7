//! Fstab: an fstab file as bytes, line by line, so that editing one entry leaves every other
//! byte alone (comments, tabs, CRLF, non-UTF-8, no final newline). Parse, find, edit, render.
//! Pure: no I/O (reading the file is in `observe::files`).

use std::ops::Range;

use crate::observe::line_file::{LineFile, Shared};
use crate::observe::mountinfo::{escape, unescape};

/// A parsed fstab (fstab(5)): lines kept verbatim, fields found on demand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fstab {
    pub file: LineFile,
}

/// The readable fields of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// fstab line number, 1-based
    pub line: usize,
    /// field 1, unescaped
    pub spec: Vec<u8>,
    /// field 2, unescaped
    pub file: Vec<u8>,
    /// field 3
    pub vfstype: String,
    /// field 4, split on commas (empty when the field is missing)
    pub options: Vec<String>,
    /// fields 5 and 6
    pub freq: Option<String>,
    pub passno: Option<String>,
    /// the whole line as it is in the file
    pub text: Vec<u8>,
}

/// Byte ranges of the fields of a line, up to six, before any trailing `#` comment; an
/// iterator, so finding the mount point of each of 100k lines allocates nothing.
fn fields(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
            i += 1;
        }
        if i >= text.len() || text[i] == b'#' {
            return None;
        }
        let start = i;
        while i < text.len() && text[i] != b' ' && text[i] != b'\t' {
            i += 1;
        }
        Some(start..i)
    })
    .take(6)
}

fn field_spans(text: &[u8]) -> Vec<Range<usize>> {
    fields(text).collect()
}

/// Whether an fstab mount-point field names `path` (octal escapes and a trailing slash allowed).
fn same_mount_point(field: &[u8], path: &[u8]) -> bool {
    let trim = |f: &[u8]| -> usize {
        if f.len() > 1 && f.ends_with(b"/") {
            f.len() - 1
        } else {
            f.len()
        }
    };
    if !field.contains(&b'\\') {
        return field[..trim(field)] == *path;
    }
    let f = unescape(field);
    f[..trim(&f)] == *path
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
        }
    }

    /// Indexes shared bytes without copying them.
    pub fn from_shared(bytes: Shared) -> Fstab {
        Fstab {
            file: LineFile::from_shared(bytes),
        }
    }

    pub fn render(&self) -> Vec<u8> {
        self.file.render()
    }

    /// Entry at line index `idx`, if the line is an entry (at least spec and file).
    pub fn entry(&self, idx: usize) -> Option<Entry> {
        if idx >= self.file.len() {
            return None;
        }
        let text = self.file.text(idx);
        let spans = field_spans(text);
        if spans.len() < 2 {
            return None;
        }
        let field = |n: usize| spans.get(n).map(|r| &text[r.clone()]);
        let s = |n: usize| field(n).map(|b| String::from_utf8_lossy(b).into_owned());
        Some(Entry {
            line: idx + 1,
            spec: unescape(field(0)?),
            file: unescape(field(1)?),
            vfstype: s(2).unwrap_or_default(),
            options: s(3)
                .map(|o| {
                    o.split(',')
                        .filter(|x| !x.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            freq: s(4),
            passno: s(5),
            text: text.to_vec(),
        })
    }

    /// Line indexes of the entries whose mount point is `path`, in file order.
    pub fn entries_at(&self, path: &[u8]) -> Vec<usize> {
        // Only a line holding the path's bytes, or an escape, can name it: a SIMD search
        // skips the field scan on the other lines of a large file.
        let finder = memchr::memmem::Finder::new(path);
        (0..self.file.len())
            .filter(|&i| {
                let text = self.file.text(i);
                (finder.find(text).is_some() || memchr::memchr(b'\\', text).is_some())
                    && fields(text)
                        .nth(1)
                        .is_some_and(|r| same_mount_point(&text[r], path))
            })
            .collect()
    }

    /// Replaces field `n` (0-based) of line `idx`; a missing field is added after the last one
    /// (fields in between must exist). Everything else on the line stays.
    pub fn set_field(&mut self, idx: usize, n: usize, value: &[u8]) {
        let line = self.file.text_mut(idx);
        let spans = field_spans(line);
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
            .any(|(text, _)| fields(text).nth(1).is_some() && text.contains(&b'\t'));
        if tabbed { b"\t" } else { b" " }
    }
}

/// An fstab line from its fields, escaping the mount point.
pub fn format_line(sep: &[u8], spec: &[u8], file: &[u8], vfstype: &str, options: &str) -> Vec<u8> {
    let fields: [&[u8]; 6] = [
        &escape(spec),
        &escape(file),
        vfstype.as_bytes(),
        options.as_bytes(),
        b"0",
        b"0",
    ];
    fields.join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/fstab/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn every_fixture_round_trips_byte_for_byte() {
        for name in [
            "arch-genfstab.fstab",
            "cis-hardened.fstab",
            "debian12.fstab",
            "minimal-container.fstab",
            "rhel9.fstab",
            "ubuntu-cloud.fstab",
        ] {
            let bytes = fixture(name);
            assert_eq!(Fstab::parse(&bytes).render(), bytes, "{name}");
        }
    }

    #[test]
    fn messy_bytes_round_trip() {
        let bytes =
            b"# caf\xe9 \xff\r\ntmpfs /dev/shm tmpfs defaults 0 0 # keep\r\n\n\tnone\t/x\ttmpfs"
                .to_vec();
        let f = Fstab::parse(&bytes);
        assert_eq!(f.render(), bytes);
        assert_eq!(f.entries_at(b"/dev/shm"), [1]);
        assert_eq!(f.entries_at(b"/x"), [3]);
    }

    #[test]
    fn cis_hardened_has_a_dev_shm_entry() {
        let f = Fstab::parse(&fixture("cis-hardened.fstab"));
        let idx = f.entries_at(b"/dev/shm");
        assert_eq!(idx.len(), 1);
        let e = f.entry(idx[0]).unwrap();
        assert_eq!(e.spec, b"tmpfs");
        assert_eq!(e.options, ["defaults", "nodev", "nosuid", "noexec"]);
        assert_eq!(e.passno.as_deref(), Some("0"));
    }

    #[test]
    fn commented_out_entries_do_not_count() {
        let f = Fstab::parse(b"#tmpfs /dev/shm tmpfs defaults 0 0\n  # tmpfs /dev/shm tmpfs\n");
        assert!(f.entries_at(b"/dev/shm").is_empty());
    }

    #[test]
    fn escaped_and_trailing_slash_mount_points_match() {
        let f = Fstab::parse(b"tmpfs /mnt/My\\040Disk/ tmpfs defaults\n");
        assert_eq!(f.entries_at(b"/mnt/My Disk"), [0]);
    }

    #[test]
    fn set_field_keeps_the_rest_of_the_line() {
        let mut f = Fstab::parse(b"tmpfs\t/dev/shm  tmpfs\tdefaults\t0 0 # note\r\n");
        f.set_field(0, 3, b"defaults,nodev");
        assert_eq!(
            f.render(),
            b"tmpfs\t/dev/shm  tmpfs\tdefaults,nodev\t0 0 # note\r\n"
        );
    }

    #[test]
    fn a_missing_options_field_is_added() {
        let mut f = Fstab::parse(b"none /dev/shm tmpfs");
        f.set_field(0, 3, b"nodev");
        assert_eq!(f.render(), b"none /dev/shm tmpfs nodev");
    }
}
