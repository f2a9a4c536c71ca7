//! LineFile: a text file kept as raw lines with their own endings, so an edit to one line
//! leaves every other byte as it was (CRLF, non-UTF-8, no final newline). Pure: no I/O.

/// One line: its bytes without the line ending, and the ending it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: Vec<u8>,
    /// `\n`, `\r\n`, or for a last line without newline `\r` or empty. A lone `\r` at the
    /// very end is read as the line's ending, not as part of its last field: appending a line
    /// adds `\n` after it, which makes it a CRLF ending, so reading it that way from the start
    /// keeps an append from changing which entries the file holds.
    pub eol: &'static [u8],
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineFile {
    pub lines: Vec<Line>,
}

impl LineFile {
    pub fn parse(bytes: &[u8]) -> LineFile {
        let mut lines = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (line, has_eol, next) = match rest.iter().position(|b| *b == b'\n') {
                Some(n) => (&rest[..n], true, &rest[n + 1..]),
                None => (rest, false, &rest[rest.len()..]),
            };
            let (text, eol): (&[u8], &'static [u8]) = match (has_eol, line.strip_suffix(b"\r")) {
                (true, Some(t)) => (t, b"\r\n"),
                (true, None) => (line, b"\n"),
                (false, Some(t)) => (t, b"\r"),
                (false, None) => (line, b""),
            };
            lines.push(Line {
                text: text.to_vec(),
                eol,
            });
            rest = next;
        }
        LineFile { lines }
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|l| l.text.len() + 2).sum());
        for l in &self.lines {
            out.extend_from_slice(&l.text);
            out.extend_from_slice(l.eol);
        }
        out
    }

    /// Appends a line, ending the current last line first if it had no newline. The new line
    /// takes the file's line ending.
    pub fn append(&mut self, text: Vec<u8>) {
        let eol: &'static [u8] = match self.lines.iter().rev().find(|l| l.eol.ends_with(b"\n")) {
            Some(l) => l.eol,
            None => b"\n",
        };
        if let Some(last) = self.lines.last_mut() {
            match last.eol {
                b"" => last.eol = eol,
                b"\r" => last.eol = b"\r\n",
                _ => {}
            }
        }
        self.lines.push(Line { text, eol });
    }

    pub fn remove(&mut self, idx: usize) {
        self.lines.remove(idx);
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
            b"a\r",
            b"\r",
            b"a\n\r\r",
        ] {
            assert_eq!(LineFile::parse(bytes).render(), bytes);
        }
    }

    /// Found by fuzzing (fuzz/corpus/fstab/regression-trailing-cr): `x /dev/shm\r` with no
    /// newline read as a line for `/dev/shm\r`; appending the newline then made it a second
    /// /dev/shm entry.
    #[test]
    fn a_trailing_cr_without_newline_is_a_line_ending() {
        let mut f = LineFile::parse(b"x /dev/shm\r");
        assert_eq!(f.lines[0].text, b"x /dev/shm");
        f.append(b"y".to_vec());
        assert_eq!(f.render(), b"x /dev/shm\r\ny\n");
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
}
