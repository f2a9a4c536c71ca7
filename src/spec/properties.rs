//! Property tests of size and mode normalisation: equivalent spellings are one value, the
//! kernel's rounding holds, overflow is an error (never a wrap), and nothing panics.

use proptest::prelude::*;

use crate::spec::mode::Mode;
use crate::spec::size::{Amount, Host, HumanBytes, Quantity};

const HOST: Host = Host {
    page_size: 4096,
    total_ram_pages: 6_170_914,
};

const SUFFIXES: [(char, u32); 6] = [
    ('k', 10),
    ('m', 20),
    ('g', 30),
    ('t', 40),
    ('p', 50),
    ('e', 60),
];

proptest! {
    #[test]
    fn a_suffix_is_the_same_size_as_its_bytes(n in 0u64..1 << 20, i in 0usize..6, upper: bool) {
        let (c, shift) = SUFFIXES[i];
        let c = if upper { c.to_ascii_uppercase() } else { c };
        let with_suffix = Quantity::parse("size", &format!("{n}{c}"), true);
        match n.checked_mul(1 << shift) {
            Some(bytes) => {
                let q = with_suffix.unwrap();
                prop_assert_eq!(q.amount, Amount::Absolute(bytes));
                let plain = Quantity::parse("size", &bytes.to_string(), true).unwrap();
                prop_assert_eq!(q.pages(&HOST), plain.pages(&HOST));
            }
            None => {
                let e = with_suffix.unwrap_err().to_string();
                prop_assert!(e.starts_with("size: ") && e.contains("overflows"), "{}", e);
            }
        }
    }

    #[test]
    fn bytes_round_up_to_whole_pages(bytes: u64) {
        let q = Quantity::parse("size", &bytes.to_string(), true).unwrap();
        prop_assert_eq!(q.pages(&HOST), bytes.div_ceil(HOST.page_size));
    }

    #[test]
    fn any_text_parses_or_names_the_parameter(text in "\\PC{0,24}") {
        for param in ["size", "min_size", "nr_inodes"] {
            if let Err(e) = Quantity::parse(param, &text, true) {
                let msg = e.to_string();
                prop_assert!(msg.starts_with(&format!("{param}: ")), "{}", msg);
            }
        }
        if let Err(e) = Mode::parse(&text) {
            prop_assert!(e.to_string().starts_with("mode: "));
        }
    }

    #[test]
    fn percent_is_a_share_of_ram_and_never_overflows(p: u64, ram in 0u64..1 << 40) {
        let host = Host { page_size: 4096, total_ram_pages: ram };
        let q = Quantity::parse("size", &format!("{p}%"), true).unwrap();
        let want = (p as u128 * ram as u128 / 100).min(u64::MAX as u128) as u64;
        prop_assert!(q.pages(&host).abs_diff(want) <= 1);
        let _ = q.count(&host);
    }

    #[test]
    fn every_mode_spelling_is_one_mode(m in 0u32..=0o7777, zeros in 0usize..2, prefix: bool) {
        let digits = format!("{m:03o}");
        let text = format!("{}{}{digits}", if prefix { "0o" } else { "" }, "0".repeat(zeros));
        if digits.len() + zeros <= 5 {
            prop_assert_eq!(Mode::parse(&text).unwrap(), Mode(m));
        }
        prop_assert_eq!(Mode::parse(&Mode(m).to_string()).unwrap(), Mode(m));
    }

    #[test]
    fn modes_above_07777_are_refused(m in 0o10000u32..0o77777) {
        let text = format!("{m:o}");
        prop_assert!(Mode::parse(&text).is_err());
    }

    #[test]
    fn human_bytes_never_panics(b: u64) {
        prop_assert!(!HumanBytes(b).to_string().is_empty());
    }
}
