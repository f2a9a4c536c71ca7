//! Size and count values (`size`, `min_size`, `nr_inodes`): parse what users write and resolve
//! it to pages or counts with the same arithmetic as the kernel's mm/shmem.c. Pure: no I/O.

use std::fmt;

use crate::spec::ParamError;

/// What the host contributes to `N%` and to the kernel defaults (from sysinfo(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// getpagesize()
    pub page_size: u64,
    /// sysinfo(2) totalram in pages: the kernel's totalram_pages(), what MemTotal shows.
    pub total_ram_pages: u64,
}

impl Host {
    /// tmpfs default `size` when none is given: half of RAM (shmem_default_max_blocks).
    pub fn default_tmpfs_pages(&self) -> u64 {
        self.total_ram_pages / 2
    }

    /// tmpfs default `nr_inodes`: half the RAM pages (shmem_default_max_inodes on 64-bit).
    pub fn default_tmpfs_inodes(&self) -> u64 {
        self.total_ram_pages / 2
    }
}

/// An amount as the user wrote it: absolute, or a percentage of RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// bytes (size) or a count (nr_inodes), suffixes already applied; 0 means unlimited
    Absolute(u64),
    /// `N%` of RAM
    Percent(u64),
}

/// A validated size or count, keeping the user's spelling for fstab and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    pub text: String,
    pub amount: Amount,
}

const SUFFIXES: &str = "kKmMgGtTpPeE";

impl Quantity {
    /// Parses `4G`, `4096m`, `4194304k`, `4294967296`, `50%` or `0`, as the kernel's memparse()
    /// does (suffixes are powers of 1024, either case). `param` names the parameter in errors.
    pub fn parse(param: &'static str, text: &str, allow_percent: bool) -> Result<Self, ParamError> {
        let accepted = if allow_percent {
            "a whole number of bytes, optionally with a k/m/g/t/p/e suffix (either case, powers of 1024), N% of RAM, or 0 for unlimited, e.g. 4G, 4096m, 50%"
        } else {
            "a whole number of bytes, optionally with a k/m/g/t/p/e suffix (either case, powers of 1024), or 0 for unlimited, e.g. 4G, 4096m"
        };
        let bad = || ParamError::new(param, text, accepted);
        let t = text.trim();
        if t.is_empty() {
            return Err(bad());
        }
        if let Some(num) = t.strip_suffix('%') {
            if !allow_percent {
                return Err(bad());
            }
            let n = parse_digits(num).ok_or_else(bad)?;
            return Ok(Quantity {
                text: t.to_string(),
                amount: Amount::Percent(n),
            });
        }
        let (digits, shift) = match t.char_indices().last() {
            Some((i, c)) if SUFFIXES.contains(c) => {
                let power = "kmgtpe".find(c.to_ascii_lowercase()).unwrap_or(0) as u32 + 1;
                (&t[..i], 10 * power)
            }
            _ => (t, 0),
        };
        let n = parse_digits(digits).ok_or_else(bad)?;
        let value = n.checked_mul(1u64 << shift).ok_or_else(|| {
            ParamError::new(param, text, "a value below 16 EiB (it overflows 64 bits)")
        })?;
        Ok(Quantity {
            text: t.to_string(),
            amount: Amount::Absolute(value),
        })
    }

    /// tmpfs blocks (pages) this size means on `host`; 0 is unlimited. Mirrors shmem_parse_one:
    /// `N%` is N * PAGE_SIZE * totalram / 100 bytes, and bytes round up to whole pages.
    pub fn pages(&self, host: &Host) -> u64 {
        let bytes: u128 = match self.amount {
            Amount::Absolute(b) => b as u128,
            Amount::Percent(p) => {
                p as u128 * host.page_size as u128 * host.total_ram_pages as u128 / 100
            }
        };
        let pages = bytes.div_ceil(host.page_size as u128);
        u64::try_from(pages).unwrap_or(u64::MAX)
    }

    /// An inode count; `N%` is read as N% of RAM pages (the kernel default is 50%). The kernel
    /// itself does not accept `%` for nr_inodes, so the count is what reaches it and fstab.
    pub fn count(&self, host: &Host) -> u64 {
        match self.amount {
            Amount::Absolute(n) => n,
            Amount::Percent(p) => (p as u128 * host.total_ram_pages as u128 / 100) as u64,
        }
    }

    pub fn is_percent(&self) -> bool {
        matches!(self.amount, Amount::Percent(_))
    }
}

fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A byte count shown to people: `4G`, `64M`, `11.8G`, `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanBytes(pub u64);

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b == 0 {
            return f.write_str("unlimited");
        }
        const UNITS: [(u64, &str); 5] = [
            (1 << 50, "P"),
            (1 << 40, "T"),
            (1 << 30, "G"),
            (1 << 20, "M"),
            (1 << 10, "K"),
        ];
        for (unit, name) in UNITS {
            if b >= unit {
                return if b % unit == 0 {
                    write!(f, "{}{}", b / unit, name)
                } else {
                    // one decimal, rounded, in integers (no float formatting in the binary)
                    let tenths = (b as u128 * 10 + unit as u128 / 2) / unit as u128;
                    write!(f, "{}.{}{}", tenths / 10, tenths % 10, name)
                };
            }
        }
        write!(f, "{b}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Host = Host {
        page_size: 4096,
        total_ram_pages: 6_170_914, // 24683656 kB
    };

    fn size(t: &str) -> Quantity {
        Quantity::parse("size", t, true).unwrap()
    }

    #[test]
    fn equivalent_spellings_resolve_to_the_same_pages() {
        let want = size("4G").pages(&HOST);
        for t in ["4g", "4096m", "4096M", "4194304k", "4194304K", "4294967296"] {
            assert_eq!(size(t).pages(&HOST), want, "{t}");
        }
        assert_eq!(want, 1_048_576);
    }

    #[test]
    fn bytes_round_up_to_whole_pages() {
        assert_eq!(size("1").pages(&HOST), 1);
        assert_eq!(size("4097").pages(&HOST), 2);
    }

    #[test]
    fn fifty_percent_is_the_kernel_default_on_an_even_host() {
        assert_eq!(size("50%").pages(&HOST), HOST.default_tmpfs_pages());
    }

    #[test]
    fn zero_is_unlimited() {
        assert_eq!(size("0").pages(&HOST), 0);
        assert_eq!(size("0k").pages(&HOST), 0);
    }

    #[test]
    fn bad_spellings_name_the_parameter_and_what_is_accepted() {
        for t in ["", "4X", "4GiB", "1.5G", "-1", "G", "%", "4 G", "0x10"] {
            let e = Quantity::parse("size", t, true).unwrap_err().to_string();
            assert!(e.starts_with("size: "), "{e}");
            assert!(e.contains("k/m/g/t"), "{e}");
        }
    }

    /// Regression (issue 17): the error listed p/e suffixes the README did not. The error, the
    /// parser and the parameter table (README, schema, Ansible and Salt docs) must agree.
    #[test]
    fn the_suffixes_in_the_error_are_the_parsers_and_the_tables() {
        assert_eq!(size("1p").pages(&HOST), (1 << 50) / 4096);
        assert_eq!(size("1E").pages(&HOST), (1 << 60) / 4096);
        let e = Quantity::parse("size", "4X", true).unwrap_err().to_string();
        assert!(e.contains("k/m/g/t/p/e suffix"), "{e}");
        let schema = crate::docs::params_schema();
        for param in ["size", "nr_inodes"] {
            let doc = schema["properties"][param]["description"].as_str().unwrap();
            assert!(doc.contains("k/m/g/t/p/e suffix"), "{param}: {doc}");
        }
    }

    #[test]
    fn percent_is_refused_where_not_allowed() {
        assert!(Quantity::parse("x", "10%", false).is_err());
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let e = Quantity::parse("size", "99999999999e", true).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
        assert!(Quantity::parse("size", "99999999999999999999999", true).is_err());
    }

    #[test]
    fn nr_inodes_percent_is_of_ram_pages() {
        let q = Quantity::parse("nr_inodes", "50%", true).unwrap();
        assert_eq!(q.count(&HOST), HOST.default_tmpfs_inodes());
        assert_eq!(
            Quantity::parse("nr_inodes", "1k", true)
                .unwrap()
                .count(&HOST),
            1024
        );
    }

    #[test]
    fn human_bytes_are_short() {
        assert_eq!(HumanBytes(4 << 30).to_string(), "4G");
        assert_eq!(HumanBytes(64 << 20).to_string(), "64M");
        assert_eq!(HumanBytes(0).to_string(), "unlimited");
        assert_eq!(HumanBytes(1536 << 20).to_string(), "1.5G");
        assert_eq!(HumanBytes(100).to_string(), "100B");
        assert_eq!(HumanBytes(12_341_828 << 10).to_string(), "11.8G");
        assert_eq!(HumanBytes((1 << 30) - 1).to_string(), "1024.0M");
    }
}
