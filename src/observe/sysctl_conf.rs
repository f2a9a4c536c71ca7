//! SysctlConf: a sysctl.d file (sysctl.d(5): `key = value`, `#`/`;` comments), edited one key
//! at a time with every other byte kept. Pure: no I/O.

use crate::observe::line_file::{LineFile, Shared};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysctlConf {
    pub file: LineFile,
}

/// `fs/mqueue/msg_max` and `fs.mqueue.msg_max` name the same key.
fn normalise_key(k: &[u8]) -> Vec<u8> {
    let k = k.strip_prefix(b"-").unwrap_or(k);
    k.iter()
        .map(|b| if *b == b'/' { b'.' } else { *b })
        .collect()
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map(|e| e + 1)
        .unwrap_or(start);
    &b[start..end.max(start)]
}

impl crate::observe::files::Render for SysctlConf {
    fn render(&self) -> Vec<u8> {
        self.file.render()
    }
}

impl SysctlConf {
    /// Indexes shared bytes without copying them.
    pub fn from_shared(bytes: Shared) -> SysctlConf {
        SysctlConf {
            file: LineFile::from_shared(bytes),
        }
    }

    pub fn parse(bytes: &[u8]) -> SysctlConf {
        SysctlConf {
            file: LineFile::parse(bytes),
        }
    }

    pub fn render(&self) -> Vec<u8> {
        self.file.render()
    }

    /// Index of the last line setting `key` (later lines win in sysctl.d) and its value.
    pub fn find(&self, key: &str) -> Option<(usize, String)> {
        let want = normalise_key(key.as_bytes());
        self.file
            .lines()
            .enumerate()
            .rev()
            .find_map(|(i, (text, _))| {
                let t = trim(text);
                if t.is_empty() || t[0] == b'#' || t[0] == b';' {
                    return None;
                }
                let eq = t.iter().position(|b| *b == b'=')?;
                (normalise_key(trim(&t[..eq])) == want)
                    .then(|| (i, String::from_utf8_lossy(trim(&t[eq + 1..])).into_owned()))
            })
    }

    /// Sets `key` to `value`: rewrites the value on the line that sets it, or appends a line.
    pub fn set(&mut self, key: &str, value: &str) {
        match self.find(key) {
            Some((i, _)) => {
                let text = self.file.text_mut(i);
                let eq = text.iter().position(|b| *b == b'=').unwrap_or(text.len());
                let after = &text[eq + 1..];
                let lead = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
                let start = eq + 1 + lead;
                let end = text
                    .iter()
                    .rposition(|c| !c.is_ascii_whitespace())
                    .map(|e| e + 1)
                    .unwrap_or(start)
                    .max(start);
                text.splice(start..end, value.bytes());
            }
            None => self.file.append(format!("{key} = {value}").into_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_in_either_spelling_and_the_last_one_wins() {
        let c = SysctlConf::parse(b"# c\nfs/mqueue/msg_max=20\n; x\nfs.mqueue.msg_max = 30 \n");
        assert_eq!(c.find("fs.mqueue.msg_max"), Some((3, "30".to_string())));
        assert_eq!(c.find("fs.mqueue.queues_max"), None);
    }

    #[test]
    fn set_rewrites_only_the_value() {
        let mut c = SysctlConf::parse(b"# keep\r\nfs.mqueue.msg_max =  30 \r\nkernel.x = 1");
        c.set("fs.mqueue.msg_max", "64");
        c.set("fs.mqueue.queues_max", "512");
        assert_eq!(
            c.render(),
            b"# keep\r\nfs.mqueue.msg_max =  64 \r\nkernel.x = 1\r\nfs.mqueue.queues_max = 512\r\n"
        );
    }
}
