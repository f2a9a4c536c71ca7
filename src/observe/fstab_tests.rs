//! Tests of `observe::fstab`: fixtures round trip byte for byte; lines, NUL bytes, escapes,
//! options and aliases are read as libmount reads them; edits keep the rest of the line.

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

#[test]
fn lines_are_read_by_libmounts_rules() {
    assert_eq!(classify(b"  # c"), LineKind::Skipped);
    assert_eq!(classify(b" \t"), LineKind::Skipped);
    assert_eq!(classify(b"tmpfs /x tmpfs"), LineKind::Entry);
    assert_eq!(
        classify(b"tmpfs /x tmpfs a +1 -2 junk # c"),
        LineKind::Entry
    );
    assert_eq!(classify(b"tmpfs /x #t #o"), LineKind::Entry);
    assert!(matches!(classify(b"bug"), LineKind::Rejected(_)));
    assert!(matches!(classify(b"a b"), LineKind::Rejected(_)));
    assert!(matches!(classify(b"a /x t o # c"), LineKind::Rejected(_)));
    assert!(matches!(classify(b"a /x t o 0 1x"), LineKind::Rejected(_)));
    assert!(matches!(classify(b"a /x t o +"), LineKind::Rejected(_)));
}

#[test]
fn mount_points_compare_as_paths_and_escapes_decode_everywhere() {
    let f =
        Fstab::parse(b"tmpfs /dev//shm/ tmpfs nodev\\054nosuid\n\\164mpfs /dev/./shm tmpfs x\n");
    assert_eq!(f.entries_at(b"/dev/shm"), [0, 1]);
    assert_eq!(f.entry(0).unwrap().options, ["nodev", "nosuid"]);
    assert_eq!(f.entry(1).unwrap().spec, b"tmpfs");
    let f = Fstab::parse(b"x /a\\000b t o\n");
    assert_eq!(f.entry(0).unwrap().file, b"/a");
}

#[test]
fn issue_18_a_nul_tail_ends_the_last_line_and_a_nul_before_a_newline_rejects_it() {
    let bytes = b"tmpfs /a tmpfs defaults 0 0\ntmpfs /dev/shm tmpfs nodev 0 0\0\0junk\0\0".to_vec();
    let mut f = Fstab::parse(&bytes);
    assert_eq!(f.entries_at(b"/dev/shm"), [1]);
    assert_eq!(f.entry(1).unwrap().passno.as_deref(), Some("0"));
    f.set_field(1, 3, b"nodev,nosuid");
    assert_eq!(
        f.render(),
        b"tmpfs /a tmpfs defaults 0 0\ntmpfs /dev/shm tmpfs nodev,nosuid 0 0\0\0junk\0\0"
    );
    let f = Fstab::parse(b"tmpfs /dev/shm tmpfs nodev\0 0 0\n");
    assert!(f.entries_at(b"/dev/shm").is_empty());
    assert_eq!(f.rejected_at(b"/dev/shm").len(), 1);
    let mut f = Fstab::parse(b"tmpfs /a tmpfs defaults 0 0\n\0\0\0");
    f.add_entry(b"tmpfs /dev/shm tmpfs nodev 0 0".to_vec());
    assert_eq!(
        f.render(),
        b"tmpfs /a tmpfs defaults 0 0\ntmpfs /dev/shm tmpfs nodev 0 0\n\0\0\0"
    );
}

#[test]
fn issue_18_a_line_naming_an_alias_is_the_path_s_entry() {
    let mut f = Fstab::parse(b"tmpfs /run/shm tmpfs defaults,size=10% 0 0\n");
    assert!(f.entries_at(b"/dev/shm").is_empty());
    f.aliases = vec![b"/run/shm".to_vec()];
    assert_eq!(f.entries_at(b"/dev/shm"), [0]);
}

#[test]
fn quoted_commas_stay_in_one_option() {
    assert_eq!(
        split_options("rw,context=\"a,b\",,nodev"),
        ["rw", "context=\"a,b\"", "nodev"]
    );
}

#[test]
fn a_misplaced_comment_moves_after_field_six() {
    for (before, after) in [
        (
            "tmpfs /dev/shm tmpfs nodev # CIS",
            "tmpfs /dev/shm tmpfs nodev 0 0 # CIS",
        ),
        (
            "tmpfs /dev/shm tmpfs nodev 0 #x",
            "tmpfs /dev/shm tmpfs nodev 0 0 #x",
        ),
        (
            "tmpfs /dev/shm # old",
            "tmpfs /dev/shm tmpfs defaults 0 0 # old",
        ),
    ] {
        let mut f = Fstab::parse(before.as_bytes());
        let at = f.misplaced_comment(0).unwrap();
        assert!(f.move_comment(0, at, b"tmpfs", b"defaults"), "{before}");
        assert_eq!(f.render(), after.as_bytes());
    }
}
