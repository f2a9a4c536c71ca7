//! /proc/self/mountinfo: parse its lines (bytes, octal escapes like `\040`) into entries and
//! find the mount visible at a path. Parsing is pure; reading the file is `read()`.

use std::io;

/// One line of mountinfo (proc(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfoEntry {
    /// field 1: mount ID
    pub mount_id: u64,
    /// field 3: major:minor of the superblock's st_dev
    pub major: u32,
    pub minor: u32,
    /// field 4: root of the mount within the filesystem (`/` unless a bind of a subtree)
    pub root: Vec<u8>,
    /// field 5: mount point, unescaped
    pub mount_point: Vec<u8>,
    /// field 6: per-mount flags (`rw,nosuid,nodev,noexec,relatime`)
    pub mount_options: Vec<String>,
    /// field after ` - `: filesystem type
    pub fstype: String,
    /// mount source (`tmpfs`, `shm`, `mqueue`), unescaped
    pub source: Vec<u8>,
    /// last field: superblock options (`rw,size=65536k,nr_inodes=1000,mode=755,inode64`)
    pub super_options: Vec<String>,
}

impl MountInfoEntry {
    /// Value of a superblock option such as `size` in `size=65536k`.
    pub fn super_option(&self, key: &str) -> Option<&str> {
        self.super_options
            .iter()
            .find_map(|o| o.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
    }
}

/// A line that could not be read; parsing goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub number: usize,
    pub text: String,
}

pub fn read() -> io::Result<Vec<u8>> {
    std::fs::read("/proc/self/mountinfo")
}

/// Parses every line; bad lines are returned beside the good entries.
pub fn parse(input: &[u8]) -> (Vec<MountInfoEntry>, Vec<BadLine>) {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in input.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(line) {
            Some(e) => entries.push(e),
            None => bad.push(BadLine {
                number: i + 1,
                text: String::from_utf8_lossy(line).into_owned(),
            }),
        }
    }
    (entries, bad)
}

fn parse_line(line: &[u8]) -> Option<MountInfoEntry> {
    let fields: Vec<&[u8]> = line
        .split(|b| *b == b' ')
        .filter(|f| !f.is_empty())
        .collect();
    let sep = fields.iter().position(|f| *f == b"-")?;
    if sep < 6 || fields.len() < sep + 3 {
        return None;
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let list = |b: &[u8]| {
        text(b)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (major, minor) = {
        let t = text(fields[2]);
        let (a, b) = t.split_once(':')?;
        (a.parse().ok()?, b.parse().ok()?)
    };
    Some(MountInfoEntry {
        mount_id: text(fields[0]).parse().ok()?,
        major,
        minor,
        root: unescape(fields[3]),
        mount_point: unescape(fields[4]),
        mount_options: list(fields[5]),
        fstype: text(fields[sep + 1]),
        source: unescape(fields[sep + 2]),
        super_options: fields.get(sep + 3).map(|f| list(f)).unwrap_or_default(),
    })
}

/// The mount visible at `path`: the last one listed there (later mounts stack on top).
pub fn find<'a>(entries: &'a [MountInfoEntry], path: &[u8]) -> Option<&'a MountInfoEntry> {
    entries.iter().rev().find(|e| e.mount_point == path)
}

/// The mount visible at `path`, straight from the table's bytes: scans from the end, looks
/// only at each line's mount point, and parses just the line that matches — so a table of
/// 10k mounts costs one pass and one parse, not 10k entries.
pub fn find_in(table: &[u8], path: &[u8]) -> Option<MountInfoEntry> {
    let mut end = table.len();
    let lines = memchr::memrchr_iter(b'\n', table)
        .map(Some)
        .chain([None])
        .map(move |nl| {
            let start = nl.map_or(0, |n| n + 1);
            let line = &table[start..end];
            end = nl.unwrap_or(0);
            line
        });
    lines.into_iter().find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let point = line
            .split(|b| *b == b' ')
            .filter(|f| !f.is_empty())
            .nth(4)?;
        let same = if point.contains(&b'\\') {
            unescape(point) == path
        } else {
            point == path
        };
        if same { parse_line(line) } else { None }
    })
}

/// The mount a path reaches: the last mount listed at `path` whose device is `dev` (the
/// st_dev of stat(path)), so a mount stacked on top, or one hidden under a later mount over a
/// parent directory, is told apart. None: the path is a plain directory of its parent.
pub fn find_reached(table: &[u8], path: &[u8], dev: (u32, u32)) -> Option<MountInfoEntry> {
    table
        .split(|b| *b == b'\n')
        .rev()
        .filter(|line| {
            line.split(|b| *b == b' ')
                .filter(|f| !f.is_empty())
                .nth(4)
                .is_some_and(|p| p == path || (p.contains(&b'\\') && unescape(p) == path))
        })
        .filter_map(|line| parse_line(line.strip_suffix(b"\r").unwrap_or(line)))
        .find(|e| (e.major, e.minor) == dev)
}

/// Undoes the octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash) as
/// libmount's `unmangle` does: `\ooo` is any three octal digits, a value over 255 wraps to a
/// byte (`\777` is 0xff), and a decoded `\000` ends the field (libmount's strings end there).
pub fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\'
            && i + 3 < field.len()
            && field[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (u32::from(field[i + 1] - b'0') * 64
                + u32::from(field[i + 2] - b'0') * 8
                + u32::from(field[i + 3] - b'0')) as u8;
            if v == 0 {
                break;
            }
            out.push(v);
            i += 4;
            continue;
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

/// The inverse of `unescape` for fstab and mountinfo fields.
pub fn escape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for &b in raw {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' | b'#' => {
                out.extend_from_slice(format!("\\{b:03o}").as_bytes())
            }
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEMD: &[u8] = include_bytes!("../../tests/fixtures/mountinfo/systemd-host.mountinfo");
    const DOCKER: &[u8] =
        include_bytes!("../../tests/fixtures/mountinfo/docker-container.mountinfo");

    #[test]
    fn systemd_host_dev_shm_has_no_size_and_keeps_its_flags() {
        let (entries, bad) = parse(SYSTEMD);
        assert!(bad.is_empty(), "{bad:?}");
        let shm = find(&entries, b"/dev/shm").unwrap();
        assert_eq!(shm.fstype, "tmpfs");
        assert_eq!(shm.mount_options, ["rw", "nosuid", "nodev"]);
        assert_eq!(shm.super_option("size"), None);
        assert_eq!(shm.super_options, ["rw", "inode64"]);
        assert_eq!((shm.major, shm.minor), (0, 25));
        assert_eq!(find(&entries, b"/dev/mqueue").unwrap().fstype, "mqueue");
    }

    #[test]
    fn escaped_space_in_a_mount_point_is_unescaped() {
        let (entries, _) = parse(SYSTEMD);
        assert!(find(&entries, b"/mnt/My Disk").is_some());
    }

    #[test]
    fn docker_dev_shm_is_64m_with_source_shm() {
        let (entries, _) = parse(DOCKER);
        let shm = find(&entries, b"/dev/shm").unwrap();
        assert_eq!(shm.source, b"shm");
        assert_eq!(shm.super_option("size"), Some("65536k"));
    }

    #[test]
    fn the_last_mount_at_a_path_is_the_visible_one() {
        let text = b"25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=100k\n30 25 0:27 / /dev/shm rw,nodev - tmpfs tmpfs rw,size=200k\n";
        let (entries, _) = parse(text);
        assert_eq!(find(&entries, b"/dev/shm").unwrap().mount_id, 30);
    }

    #[test]
    fn find_in_the_bytes_agrees_with_find_in_the_parsed_table() {
        for table in [SYSTEMD, DOCKER] {
            let (entries, _) = parse(table);
            for e in &entries {
                assert_eq!(
                    find_in(table, &e.mount_point).as_ref(),
                    find(&entries, &e.mount_point),
                    "{:?}",
                    e.mount_point
                );
            }
        }
        assert_eq!(find_in(SYSTEMD, b"/nowhere"), None);
    }

    #[test]
    fn garbage_lines_are_reported_not_fatal() {
        let (entries, bad) = parse(b"garbage\n\xff\xfe\n25 24 0:23 / /x rw - tmpfs t rw\n");
        assert_eq!(entries.len(), 1);
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].number, 1);
    }

    #[test]
    fn escape_round_trips() {
        let raw = b"/mnt/a b\\c\td";
        assert_eq!(unescape(&escape(raw)), raw);
        assert_eq!(escape(b"/mnt/My Disk"), b"/mnt/My\\040Disk");
    }

    #[test]
    fn the_reached_mount_is_matched_by_device() {
        let text = b"25 24 0:23 / /dev/shm rw - tmpfs a rw\n30 25 0:27 / /dev/shm rw - tmpfs b rw\n31 20 0:40 / /dev rw - tmpfs c rw\n";
        assert_eq!(
            find_reached(text, b"/dev/shm", (0, 27)).unwrap().mount_id,
            30
        );
        assert_eq!(
            find_reached(text, b"/dev/shm", (0, 23)).unwrap().mount_id,
            25
        );
        assert_eq!(
            find_reached(text, b"/dev/shm", (0, 40)),
            None,
            "covered by /dev"
        );
    }

    #[test]
    fn escapes_decode_as_libmount_does() {
        assert_eq!(unescape(b"a\\777b"), b"a\xffb");
        assert_eq!(unescape(b"a\\000b"), b"a");
        assert_eq!(unescape(b"a\\054b\\08"), b"a,b\\08");
    }
}
