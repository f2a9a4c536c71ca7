//! LineFile: a text file kept as raw lines with their own endings, so an edit to one line
//! leaves every other byte as it was (CRLF, non-UTF-8, no final newline). The file's bytes are
//! held once, shared; a line owns bytes only once it is edited, so parsing and cloning a
//! 100k-line fstab cost a pass over it, not an allocation per line. Pure: no I/O.

use std::fmt;
use std::sync::Arc;

/// A file's bytes as read, shared by its FileState, its LineFile and a plan's steps: cloning
/// them is a reference count, not a copy of a large fstab.
pub type Shared = Arc<Vec<u8>>;

/// A line ending: `\n`, `\r\n`, or for a last line without newline `\r` or nothing. A lone
/// `\r` at the very end is read as the line's ending, not as part of its last field: appending
/// a line adds `\n` after it, which makes it a CRLF ending, so reading it that way from the
/// start keeps an append from changing which entries the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eol {
    Lf,
    CrLf,
    Cr,
    None,
}

impl Eol {
    fn bytes(self) -> &'static [u8] {
        match self {
            Eol::Lf => b"\n",
            Eol::CrLf => b"\r\n",
            Eol::Cr => b"\r",
            Eol::None => b"",
        }
    }
}

/// Where a line's bytes are: a range of the shared source, or an edited copy in `owned`.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// offset in the source, or index in `owned`
    at: usize,
    len: u32,
    owned: bool,
    eol: Eol,
}

#[derive(Clone, Default)]
pub struct LineFile {
    src: Shared,
    lines: Vec<Line>,
    owned: Vec<Vec<u8>>,
}

impl LineFile {
    pub fn parse(bytes: &[u8]) -> LineFile {
        LineFile::from_shared(Arc::new(bytes.to_vec()))
    }

    /// Indexes the lines of `src` without copying it.
    pub fn from_shared(src: Shared) -> LineFile {
        let bytes: &[u8] = &src;
        let mut lines = Vec::with_capacity(bytes.len() / 48 + 1);
        let mut start = 0;
        let mut push = |start: usize, end: usize, eol: Eol| {
            let len = u32::try_from(end - start).expect("a line shorter than 4 GiB");
            lines.push(Line {
                at: start,
                len,
                owned: false,
                eol,
            });
        };
        for nl in memchr::memchr_iter(b'\n', bytes) {
            let cr = nl > start && bytes[nl - 1] == b'\r';
            if cr {
                push(start, nl - 1, Eol::CrLf)
            } else {
                push(start, nl, Eol::Lf)
            }
            start = nl + 1;
        }
        if start < bytes.len() {
            let end = bytes.len();
            if bytes[end - 1] == b'\r' {
                push(start, end - 1, Eol::Cr)
            } else {
                push(start, end, Eol::None)
            }
        }
        LineFile {
            src,
            lines,
            owned: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line `i` without its ending.
    pub fn text(&self, i: usize) -> &[u8] {
        let l = self.lines[i];
        if l.owned {
            &self.owned[l.at]
        } else {
            &self.src[l.at..l.at + l.len as usize]
        }
    }

    /// Line `i`'s ending.
    pub fn eol(&self, i: usize) -> &'static [u8] {
        self.lines[i].eol.bytes()
    }

    /// Line `i` to edit in place (the rest of the file is untouched).
    pub fn text_mut(&mut self, i: usize) -> &mut Vec<u8> {
        if !self.lines[i].owned {
            let copy = self.text(i).to_vec();
            self.owned.push(copy);
            self.lines[i] = Line {
                at: self.owned.len() - 1,
                len: 0,
                owned: true,
                eol: self.lines[i].eol,
            };
        }
        &mut self.owned[self.lines[i].at]
    }

    /// Every line with its ending.
    pub fn lines(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&[u8], &'static [u8])> + ExactSizeIterator + '_ {
        (0..self.lines.len()).map(|i| (self.text(i), self.eol(i)))
    }

    /// Writes the file's bytes to `w`, line by line (no whole-file buffer).
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        for (text, eol) in self.lines() {
            w.write_all(text)?;
            w.write_all(eol)?;
        }
        Ok(())
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.src.len() + 256);
        for (text, eol) in self.lines() {
            out.extend_from_slice(text);
            out.extend_from_slice(eol);
        }
        out
    }

    /// Appends a line, ending the current last line first if it had no newline. The new line
    /// takes the file's line ending.
    pub fn append(&mut self, text: Vec<u8>) {
        let eol = self
            .lines
            .iter()
            .rev()
            .map(|l| l.eol)
            .find(|e| matches!(e, Eol::Lf | Eol::CrLf))
            .unwrap_or(Eol::Lf);
        if let Some(last) = self.lines.last_mut() {
            match last.eol {
                Eol::None => last.eol = eol,
                Eol::Cr => last.eol = Eol::CrLf,
                _ => {}
            }
        }
        self.owned.push(text);
        self.lines.push(Line {
            at: self.owned.len() - 1,
            len: 0,
            owned: true,
            eol,
        });
    }

    /// Whether line `i` ends with a newline (the last line may not).
    pub fn terminated(&self, i: usize) -> bool {
        matches!(self.lines[i].eol, Eol::Lf | Eol::CrLf)
    }

    /// Inserts a line before line `idx`, with the file's line ending.
    pub fn insert(&mut self, idx: usize, text: Vec<u8>) {
        let eol = self
            .lines
            .iter()
            .map(|l| l.eol)
            .find(|e| matches!(e, Eol::Lf | Eol::CrLf))
            .unwrap_or(Eol::Lf);
        self.owned.push(text);
        self.lines.insert(
            idx,
            Line {
                at: self.owned.len() - 1,
                len: 0,
                owned: true,
                eol,
            },
        );
    }

    pub fn remove(&mut self, idx: usize) {
        self.lines.remove(idx);
    }
}

impl PartialEq for LineFile {
    fn eq(&self, other: &Self) -> bool {
        self.lines().eq(other.lines())
    }
}

impl Eq for LineFile {}

impl fmt::Debug for LineFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.lines().map(|(t, e)| (String::from_utf8_lossy(t), e)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messy_bytes_round_trip() {
        for bytes in [
            &b""[..],
            b"\n",
            b"a",
            b"a\r\n\r\nb",
            b"\xff\xfe\n\tx \r\n",
            b"a\n\n",
            b"x /dev/shm\r",
            b"\r",
        ] {
            assert_eq!(LineFile::parse(bytes).render(), bytes);
        }
    }

    #[test]
    fn append_ends_an_unterminated_last_line_with_the_files_ending() {
        let mut f = LineFile::parse(b"a\r\nb");
        f.append(b"c".to_vec());
        assert_eq!(f.render(), b"a\r\nb\r\nc\r\n");
        let mut f = LineFile::default();
        f.append(b"c".to_vec());
        assert_eq!(f.render(), b"c\n");
    }

    #[test]
    fn a_trailing_cr_without_newline_is_the_line_ending() {
        let f = LineFile::parse(b"x /dev/shm\r");
        assert_eq!(f.text(0), b"x /dev/shm");
        let mut f = f;
        f.append(b"y".to_vec());
        assert_eq!(f.render(), b"x /dev/shm\r\ny\n");
    }

    #[test]
    fn an_edit_changes_only_its_line_and_clones_stay_apart() {
        let f = LineFile::parse(b"a\nb\nc");
        let mut g = f.clone();
        g.text_mut(1).extend_from_slice(b"2");
        assert_eq!(g.render(), b"a\nb2\nc");
        assert_eq!(f.render(), b"a\nb\nc");
        assert_ne!(f, g);
    }
}
